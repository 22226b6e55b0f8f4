"""Placing ops on an xPU or on Logic-PIM by arithmetic intensity (Duplex's Op/B rule).

Duplex (MICRO'24) runs each layer on the processor suited to its Op/B: operations
whose FLOPs per byte moved are low (decode attention with grouped-query heads,
MoE experts with few tokens each, GEMVs) go to processing units on the HBM logic
dies, which read the DRAM dies at a multiple of the bandwidth the xPU sees; the
rest go to the xPU. Here an op's intensity is ``Op.flops_per_byte``: its FLOPs
(2 per MAC; the vector kinds' operation counts) over its compulsory bytes (each
operand read once, the output written once). For fp16 that is about the number
of tokens sharing each weight -- 1 for a GEMV, the query group size (4-8) for
GQA decode attention, the tokens per expert for an MoE expert.

The rule: an op goes to Logic-PIM when its intensity is strictly below the
threshold, else to the xPU. The threshold comes from the mapping key
``placement_threshold_flops_per_byte`` or else from the system's spec
(``placement_threshold_flops_per_byte``, default 32: see
``arch/logicpim/spec.py`` for its justification from Duplex's Op/B figures).
The mapping key ``processor`` ("xpu" or "logic_pim") forces every op to one
side. A Duplex system's ``op_cost(op, mapping)`` applies the same rule (``arch``
may not import ``mappers``); :func:`place_workload` reports both, so a
disagreement is visible.

:func:`crossover_flops_per_byte` gives the intensity below which Logic-PIM
beats a memory-bound xPU: a threshold above it sends ops to Logic-PIM that would
run faster on the xPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from arch.contract import Accelerator
from workloads.graph import Workload
from workloads.op import Op

XPU, PIM = "xpu", "logic_pim"
PROCESSORS = (XPU, PIM)
THRESHOLD_KEY = "placement_threshold_flops_per_byte"
PROCESSOR_KEY = "processor"


def intensity_flops_per_byte(op: Op) -> float:
    """FLOPs per compulsory byte of ``op`` (Duplex's Op/B)."""
    return op.flops_per_byte


def place(op: Op, threshold_flops_per_byte: float) -> str:
    """``"logic_pim"`` if ``op``'s intensity is below the threshold, else ``"xpu"``."""
    check_threshold(threshold_flops_per_byte)
    return PIM if intensity_flops_per_byte(op) < threshold_flops_per_byte else XPU


def check_threshold(value, key: str = THRESHOLD_KEY) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{key} = {value!r}: expected a number of FLOPs per byte >= 0")
    return float(value)


def placement_mapping(threshold_flops_per_byte: float | None = None, processor: str | None = None,
                      base: Mapping | None = None) -> dict:
    """A mapping with the placement keys set (checked), on top of ``base``."""
    mapping = dict(base or {})
    if threshold_flops_per_byte is not None:
        mapping[THRESHOLD_KEY] = check_threshold(threshold_flops_per_byte)
    if processor is not None:
        if processor not in PROCESSORS:
            raise ValueError(f"{PROCESSOR_KEY} = {processor!r}: expected one of {PROCESSORS}")
        mapping[PROCESSOR_KEY] = processor
    return mapping


def threshold_of(accel: Accelerator, mapping: Mapping | None = None) -> float:
    """The threshold in effect: the mapping key, else the system spec's value."""
    mapping = mapping or {}
    if THRESHOLD_KEY in mapping:
        return check_threshold(mapping[THRESHOLD_KEY])
    value = getattr(accel.spec, THRESHOLD_KEY, None)
    if value is None:
        raise ValueError(f"{accel.kind}: the spec has no {THRESHOLD_KEY} and the mapping sets none")
    return check_threshold(value, f"spec {THRESHOLD_KEY}")


@dataclass(frozen=True)
class Placement:
    """Where one op goes: by the rule, and the unit the system's cost model chose."""

    op: str
    flops_per_byte: float
    processor: str
    unit: str

    @property
    def agrees(self) -> bool:
        """Whether the system's unit belongs to the processor the rule picked."""
        return self.unit.startswith(self.processor)


def place_workload(workload: Workload, accel: Accelerator, mapping: Mapping | None = None) -> tuple[Placement, ...]:
    """Each op of ``workload``: its intensity, the rule's processor and the system's unit."""
    mapping = mapping or {}
    forced = mapping.get(PROCESSOR_KEY)
    threshold = threshold_of(accel, mapping)
    rows = []
    for op in workload.ops:
        processor = forced or place(op, threshold)
        rows.append(Placement(op.name, intensity_flops_per_byte(op), processor, accel.op_cost(op, mapping).unit))
    return tuple(rows)


def crossover_flops_per_byte(pim_peak_flops_per_s: float, external_bandwidth_bytes_per_s: float) -> float:
    """Intensity below which Logic-PIM at its compute peak beats an xPU held to the external bandwidth.

    A memory-bound xPU takes ``bytes / B_ext``; Logic-PIM takes at least
    ``flops / P_pim`` (and ``bytes / B_int``, smaller since ``B_int > B_ext``), so
    Logic-PIM wins while ``flops / bytes < P_pim / B_ext``.
    """
    if pim_peak_flops_per_s <= 0 or external_bandwidth_bytes_per_s <= 0:
        raise ValueError("pim_peak_flops_per_s and external_bandwidth_bytes_per_s must be > 0, got "
                         f"{pim_peak_flops_per_s!r}, {external_bandwidth_bytes_per_s!r}")
    return pim_peak_flops_per_s / external_bandwidth_bytes_per_s
