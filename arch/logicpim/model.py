"""Duplex: a systolic xPU plus processing units on the HBM logic dies (Logic-PIM).

Faithfulness, stated:

* Each task (an op, or a part of one the mapper split off) runs on one
  processor, chosen by its arithmetic intensity (``Op.flops_per_byte``: FLOPs
  over compulsory bytes): below the placement threshold on Logic-PIM, otherwise
  on the xPU -- Duplex's per-layer Op/B dispatch. All-reduces run on the xPU.
  The model only offers both units (``candidate_units``); the mapper chooses
  (:mod:`mappers.placement`, rule ``intensity`` with the spec's threshold by
  default; ``mapping: {placement: host | near_memory}`` forces one side).
* xPU ops cost exactly what :class:`arch.systolic.model.SystolicArray` says for
  the xPU spec with the system's external HBM bandwidth, composed by
  :class:`arch.compose.Hosted` (units ``xpu_*``, components and action keys
  ``xpu.*``); they move their bytes over ``hbm``.
* Logic-PIM ops: GEMM cycles from :mod:`arch.logicpim.kernel` at the units'
  clock, converted to the system (xPU) clock; vector ops take
  ``ceil(lane ops / (units of a slice x lanes))``. Operands are read once over ``logic_die``,
  whose bandwidth is ``internal_bandwidth_multiple`` x the external one: the
  activations are broadcast to the units by the logic die and held in their
  buffers (re-read once per round of tiles when one instance's rows do not fit).
* Logic-PIM's units are grouped into as many slices as the xPU has cores (the
  spec requires an even split), so the mapper splits a GEMM over slices exactly
  as over xPU cores; each slice's cost uses its share of the units, for GEMMs
  and element-wise ops alike (the mapper cuts a vector op's rows over the
  slices). Each task, a
  whole op or a part the mapper split off, is placed by its own Op/B, so parts
  of an op near the threshold can land on different processors.
* Both paths are timed alike: every transfer on ``hbm`` and ``logic_die`` runs
  at the fraction of peak the ``dram`` preset's FR-FCFS controller attains on a
  sequential read stream (:mod:`arch.logicpim.timing`; ``dram: null`` = peak),
  with the same per-transfer latency (``hbm_latency_cycles``) and the same
  engine pipelining (at most 64 double-buffered steps per task).
* Not captured: the two paths reach the same DRAM banks, but the engine contends
  ``hbm`` and ``logic_die`` separately, so an xPU op and a Logic-PIM op that
  overlap each get their full bandwidth (listing an xPU op's bytes on both
  memories would report them twice and double them in the mapper's split
  estimate); Duplex's expert/attention co-processing (splitting one layer
  across both processors); DRAM timing per access pattern (one
  sequential-stream factor for every op) and power-limited command issue
  beyond the spec's internal bandwidth multiple.
"""

from __future__ import annotations

import dataclasses
import math
from functools import cached_property

from arch.compose import Hosted, merged_components
from arch.contract import (Accelerator, Component, MappingOptions, Memory, MemoryKind, OpCost, PlacementRule,
                           Traffic, Unit, check_capacity)
from arch.logicpim.energy import logic_pim_components
from arch.logicpim.kernel import PIM_GEMM, pim_gemm_kernel, pim_gemm_kernel_py
from arch.logicpim.spec import DuplexSpec
from arch.logicpim.timing import stream_efficiency
from arch.systolic.model import SystolicArray, UnsupportedDtypeError
from arch.systolic.options import SystolicMappingOptions
from arch.systolic.spec import SystolicSpec
from workloads.op import VECTOR_FLOPS_PER_ELEMENT, Op, OpKind

XPU, PIM = "xpu", "logic_pim"
PROCESSORS = (XPU, PIM)
MAX_STEPS_PER_OP = 64     # pipelined steps the engine simulates per op
STEP_BYTES = 1 << 20      # Logic-PIM streams its operands in 1 MiB steps (engine granularity)
VECTOR_KINDS = frozenset(VECTOR_FLOPS_PER_ELEMENT)
PIM_KINDS = frozenset({OpKind.GEMM}) | VECTOR_KINDS


class DuplexSystem(Accelerator):
    kind = "duplex"
    spec_type = DuplexSpec
    mapping_options_type = SystolicMappingOptions  # the xPU's per-op choices
    spec: DuplexSpec

    # -- composition ------------------------------------------------------------
    @cached_property
    def xpu_spec(self) -> SystolicSpec:
        return self.spec.xpu_spec()

    @cached_property
    def xpu(self) -> SystolicArray:
        return SystolicArray(self.xpu_spec, self.tech)

    @cached_property
    def hosted(self) -> Hosted:
        """The xPU's units, components and costs, named ``xpu_*`` / ``xpu.*``; its DRAM is ``hbm``."""
        return Hosted(self.xpu, XPU, (("dram", "hbm"),))

    @property
    def clock_hz(self) -> float:
        return float(self.xpu_spec.clock_hz)

    @property
    def pim_cycle_ratio(self) -> float:
        """System (xPU) cycles per logic-PIM cycle."""
        return self.clock_hz / self.spec.logic_pim.clock_hz

    # -- description ------------------------------------------------------------
    def units(self) -> tuple[Unit, ...]:
        return self.hosted.units() + (Unit(PIM, PIM_KINDS, self.slices, near_memory=True),)

    @property
    def slices(self) -> int:
        """Logic-PIM slices: one per xPU core, so GEMMs split alike on both processors."""
        return self.xpu_spec.cores

    @property
    def units_per_slice(self) -> int:
        return self.spec.logic_pim.units // self.slices

    def candidate_units(self, op: Op) -> tuple[str, ...]:
        return self.hosted.candidate_units(op) + ((PIM,) if op.kind in PIM_KINDS else ())

    def resolve_unit(self, op: Op, unit: str | None) -> str:
        if unit is not None and unit != PIM and self.hosted.host_unit(unit) is not None:
            return unit  # the xPU's own checks (e.g. a missing link) give its messages
        return super().resolve_unit(op, unit)

    def memories(self) -> tuple[Memory, ...]:
        spec = self.spec
        return (Memory("hbm", spec.hbm_bandwidth_bytes_per_s / self.clock_hz, 1, spec.hbm_latency_cycles,
                       spec.hbm_capacity_bytes, MemoryKind.DRAM),
                Memory("logic_die", spec.internal_bandwidth_bytes_per_s / self.clock_hz, 1,
                       spec.hbm_latency_cycles, kind=MemoryKind.DRAM))

    def components(self) -> tuple[Component, ...]:
        return merged_components(self.hosted.components(),
                                 logic_pim_components(self.spec.logic_pim, self.tech_library()))

    def default_mapping(self, phase: str, batch: int) -> dict:
        """Duplex's Op/B rule with the spec's threshold."""
        return {"placement": PlacementRule.INTENSITY,
                "placement_threshold_flops_per_byte": self.spec.placement_threshold_flops_per_byte}

    def peak_macs_per_cycle(self, op: Op | None = None) -> int:
        pim = self.spec.logic_pim
        return self.xpu.peak_macs_per_cycle() + int(pim.units * pim.macs_per_cycle_per_unit / self.pim_cycle_ratio)

    @classmethod
    def kernel_twins(cls):
        examples = tuple((m, n, k, c, u, lanes, w) for m, n, k, c in ((1, 4096, 4096, 1), (4, 1025, 128, 512),
                                                                      (77, 300, 129, 3), (1, 1, 1, 1))
                         for u, lanes, w in ((80, 64, 16), (1, 8, 8), (7, 3, 5)))
        return (("pim_gemm_kernel", pim_gemm_kernel, pim_gemm_kernel_py, examples),)

    def notes(self) -> tuple[str, ...]:
        return (
            f"Ops below {self.spec.placement_threshold_flops_per_byte:g} FLOP/byte run on Logic-PIM, "
            "the rest on the xPU; one layer is never split across both (no co-processing).",
            self._paths_note(),
            *(f"xPU: {note}" for note in self.xpu.notes()),
        )

    def _paths_note(self) -> str:
        derating = ("both paths at peak bandwidth (dram: null)" if self.spec.dram is None else
                    f"both paths at {self.stream_efficiency:.3f} of peak, the {self.spec.dram} controller's "
                    "sequential-stream efficiency (row activates, refresh)")
        return (f"Memory paths: {derating}; the two paths are contended separately, so concurrent xPU and "
                "Logic-PIM ops do not share DRAM bank bandwidth.")

    def check_workload(self, workload, options=None) -> None:
        """Raise :class:`CapacityError` naming ``hbm_capacity_bytes`` if weights and KV cache do not fit."""
        check_capacity(workload, self.spec.hbm_capacity_bytes, "hbm_capacity_bytes", "the HBM")

    # -- costs ----------------------------------------------------------------
    def mapping_space(self, op: Op, unit: str) -> tuple[dict, ...]:
        host_unit = self.hosted.host_unit(unit)
        return ({},) if host_unit is None else self.xpu.mapping_space(op, host_unit)

    def unit_cost(self, op: Op, unit: str, options: MappingOptions) -> OpCost:
        if unit == PIM:
            return self.pim_cost(op)
        return self._external(self.hosted.cost(op, unit, options))

    def xpu_cost(self, op: Op) -> OpCost:
        """The systolic xPU's cost of ``op`` on its first candidate unit, in this system's names."""
        return self._external(self.hosted.cost(op, self.hosted.candidate_units(op)[0]))

    @cached_property
    def stream_efficiency(self) -> float:
        """Fraction of peak both paths attain: the ``dram`` preset's controller on a sequential stream (1 = peak)."""
        return 1.0 if self.spec.dram is None else stream_efficiency(self.spec.dram)

    def _external(self, cost: OpCost) -> OpCost:
        """An xPU cost with its HBM traffic derated like the logic-die path's."""
        efficiency = self.stream_efficiency
        traffic = tuple(dataclasses.replace(t, efficiency=efficiency) if t.memory == "hbm" else t
                        for t in cost.traffic)
        return dataclasses.replace(cost, traffic=traffic)

    def pim_cost(self, op: Op) -> OpCost:
        """The logic-die units' cost of ``op`` (module docstring)."""
        pim = self.spec.logic_pim
        if op.a_bits > pim.pe_bits:
            raise UnsupportedDtypeError(
                f"logic_pim.pe_dtype: op {op.name!r} has {op.a_bits:g}-bit activations but pe_dtype "
                f"{pim.pe_dtype!r} handles at most {pim.pe_bits} bits")
        if op.kind is OpKind.GEMM:
            cycles, actions, read_bytes = self._pim_gemm(op)
        else:
            lane_ops = op.elements * VECTOR_FLOPS_PER_ELEMENT[op.kind]
            cycles = -(-lane_ops // (self.units_per_slice * pim.vector_lanes_per_unit))
            actions, read_bytes = (("pim_vector.lane_op", lane_ops),), op.a_bytes + op.b_bytes
        actions += (("pim_dram.read_bit", 8 * read_bytes), ("pim_dram.write_bit", 8 * op.out_bytes))
        steps = max(1, min(MAX_STEPS_PER_OP, -(-read_bytes // STEP_BYTES)))
        return OpCost(unit=PIM, compute_cycles=self._system_cycles(cycles),
                      traffic=(Traffic("logic_die", read_bytes, op.out_bytes, self.stream_efficiency),),
                      steps=steps, actions=actions)

    def _pim_gemm(self, op: Op) -> tuple[int, tuple, int]:
        pim = self.spec.logic_pim
        cycles, buffer_reads = (int(x) for x in PIM_GEMM(
            op.m, op.n, op.k, op.count, self.units_per_slice, pim.lanes_per_unit, pim.dot_width))
        col_tiles = -(-op.n // pim.lanes_per_unit)
        # Activations are read from DRAM and broadcast to the units holding an
        # instance's tiles. If one instance's rows fit a unit's buffer they are read
        # once; otherwise they are streamed again for every round of that instance's
        # tiles (ceil(col_tiles / units of the slice) rounds) and pass through each tile's buffer.
        fits = math.ceil(op.m * op.k * op.a_bits / 8) <= pim.buffer_bytes_per_unit
        a_reads = 1 if fits else -(-col_tiles // self.units_per_slice)
        holders = min(col_tiles, self.units_per_slice) if fits else col_tiles
        actions = (("pim_mac.mac", op.macs), ("pim_buffer.read", buffer_reads),
                   ("pim_buffer.write", op.count * op.m * op.k * holders))
        return cycles, actions, op.a_bytes * a_reads + op.b_bytes

    def _system_cycles(self, pim_cycles: int) -> int:
        """Logic-PIM cycles in system cycles, rounded up."""
        return math.ceil(pim_cycles * self.pim_cycle_ratio - 1e-9)

    def roofline_cycles(self, op: Op) -> int:
        """The lower of the two processors' rooflines (either may run the op)."""
        if op.kind not in PIM_KINDS:
            return self.xpu.roofline_cycles(op)
        return min(self.xpu.roofline_cycles(op), self._pim_roofline(op))

    def _pim_roofline(self, op: Op) -> int:
        pim = self.spec.logic_pim
        if op.kind is OpKind.GEMM:
            compute = op.macs / (pim.units * pim.macs_per_cycle_per_unit)
        else:
            compute = op.elements * VECTOR_FLOPS_PER_ELEMENT[op.kind] / (pim.units * pim.vector_lanes_per_unit)
        internal = self.spec.internal_bandwidth_bytes_per_s / self.clock_hz
        return math.ceil(max(compute * self.pim_cycle_ratio, op.min_bytes / internal))
