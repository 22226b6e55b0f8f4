"""Choosing the unit that runs an op, among those a system offers.

A model lists the units that can run an op (``candidate_units``, preferred
first; a unit inside or beside a memory is ``near_memory``); the rule of the
system's :class:`~arch.mapping_options.MappingOptions` picks one
(:class:`~arch.mapping_options.PlacementRule`):

* ``first``: the model's first candidate;
* ``intensity``: Duplex's (MICRO'24) Op/B dispatch -- an op whose FLOPs per
  compulsory byte (``Op.flops_per_byte``: each operand read once, the output
  written once; for fp16 about the tokens sharing each weight: 1 for a GEMV,
  the query group size for GQA decode attention, the tokens per expert for an
  MoE expert) is strictly below ``placement_threshold_flops_per_byte`` goes to a
  near-memory unit, the rest to the host;
* ``kv_near_memory``: NeuPIMs' split -- GEMMs whose B operand is the KV cache
  (decode attention) go to a near-memory unit, the rest to the host;
* ``host`` / ``near_memory``: every op to that side when it can run there.

When the chosen side has no candidate, the op goes to the other side's first
candidate. :func:`crossover_flops_per_byte` gives the intensity below which a
near-memory unit beats a memory-bound host: a threshold above it sends ops to
the near-memory side that would run faster on the host.
"""

from __future__ import annotations

from dataclasses import dataclass

from arch.contract import Accelerator, MappingOptions, PlacementRule, Unit, unsupported_message
from workloads.graph import Workload
from workloads.op import Op, OpKind, Operand


class UnsupportedOpError(ValueError):
    """The system has no unit that can run an op."""


class PlacementError(ValueError):
    """The placement options cannot be applied (e.g. the intensity rule without a threshold)."""


def choose_unit(accel: Accelerator, op: Op, options: MappingOptions) -> str:
    """The unit that runs ``op`` under ``options.placement`` (module docstring)."""
    candidates = accel.candidate_units(op)
    if not candidates:
        raise UnsupportedOpError(unsupported_message(accel.kind, op))
    near_memory = _near_memory_units(accel)
    near = [c for c in candidates if c in near_memory]
    host = [c for c in candidates if c not in near_memory]
    if _wants_near_memory(op, options):
        return (near or host)[0]
    if options.placement is PlacementRule.FIRST:
        return candidates[0]
    return (host or near)[0]


def _wants_near_memory(op: Op, options: MappingOptions) -> bool:
    rule = options.placement
    if rule is PlacementRule.NEAR_MEMORY:
        return True
    if rule is PlacementRule.KV_NEAR_MEMORY:
        return op.kind is OpKind.GEMM and op.b_operand == Operand.KV
    if rule is PlacementRule.INTENSITY:
        threshold = options.placement_threshold_flops_per_byte
        if threshold is None:
            raise PlacementError("mapping.placement: 'intensity' needs placement_threshold_flops_per_byte "
                                 "(FLOPs per byte below which an op goes to a near-memory unit)")
        return op.flops_per_byte < threshold
    return False


def _near_memory_units(accel: Accelerator) -> frozenset[str]:
    cached = accel.__dict__.get("_near_memory_units")
    if cached is None:
        cached = accel.__dict__["_near_memory_units"] = frozenset(u.name for u in accel.units() if u.near_memory)
    return cached


@dataclass(frozen=True)
class Placement:
    """Where one op goes and why: its intensity and the unit chosen."""

    op: str
    flops_per_byte: float
    unit: Unit

    @property
    def near_memory(self) -> bool:
        return self.unit.near_memory


def place_workload(workload: Workload, accel: Accelerator, options: MappingOptions) -> tuple[Placement, ...]:
    """Each whole op of ``workload`` with the unit :func:`choose_unit` gives it."""
    units = {u.name: u for u in accel.units()}
    return tuple(Placement(op.name, op.flops_per_byte, units[choose_unit(accel, op, options)])
                 for op in workload.ops)


def crossover_flops_per_byte(pim_peak_flops_per_s: float, external_bandwidth_bytes_per_s: float) -> float:
    """Intensity below which a near-memory unit at its compute peak beats a host held to the external bandwidth.

    A memory-bound host takes ``bytes / B_ext``; the near-memory unit takes at
    least ``flops / P_pim`` (and ``bytes / B_int``, smaller since ``B_int > B_ext``), so
    it wins while ``flops / bytes < P_pim / B_ext``.
    """
    if pim_peak_flops_per_s <= 0 or external_bandwidth_bytes_per_s <= 0:
        raise ValueError("pim_peak_flops_per_s and external_bandwidth_bytes_per_s must be > 0, got "
                         f"{pim_peak_flops_per_s!r}, {external_bandwidth_bytes_per_s!r}")
    return pim_peak_flops_per_s / external_bandwidth_bytes_per_s
