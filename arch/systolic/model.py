"""Systolic-array NPU model: GEMMs on the arrays, vector ops on the vector units,
all-reduces on the chip-to-chip link.

Faithfulness, stated:

* GEMM compute cycles per array are SCALE-Sim 3.0.0's stall-free compute cycles
  (:mod:`arch.systolic.kernel`, checked against a golden table), for the array's
  rows, columns and dataflow, with ``fold_timing: scalesim``; with
  ``fold_timing: pipelined`` the next fold's stationary tile shifts in while the
  current fold streams (one fill and drain per op). A GEMM with ``count > 1``
  (attention: one instance per request and head) runs its instances one after
  another on one array: with ``instance_timing: separate`` each pays its own
  fill and drain; with ``streamed`` (and pipelined folds) the instances' folds
  form one chain, one fill and drain per op part (the batch of instances the
  mapper gives a core).
* DRAM traffic follows from the scratchpad capacities (:mod:`arch.systolic.tiling`):
  the least-traffic tiling that fits the double-buffered IFMAP / FILTER / OFMAP
  halves, with an operand re-read once per tile of the other outer loop when it
  cannot stay resident. Its tile count (times ``count``, capped) is the number
  of pipelined steps the engine overlaps loads and compute over. Stalls come
  from DRAM bandwidth (contended in the engine) and per-transfer latency.
  Decode attention reads its K/V operand (``b_operand == "kv"``) from DRAM like
  any other B operand, so its cycles follow the KV bytes.
* DRAM transfers move at ``dram_bandwidth_bytes_per_s`` (``dram_timing:
  bandwidth``), or at the fraction of it that ``dram_standard``'s FR-FCFS
  controller attains on each transfer's pattern (``dram_timing: dram``,
  :mod:`arch.memory_timing`): sequential reads and writes, and a KV operand read
  as one run per instance (a request-head's block at its own address).
* Each op's cost is for one core; a GEMM split across cores is costed part by
  part (the mapper makes the parts), each part reading its own operands.
* Vector ops (softmax, norms, activations, adds, RoPE) take
  ``ceil(elements x lane-ops per element / lanes)`` cycles of the vector clock
  (the spec's per-function ``vector_lane_ops_per_element``), converted to array
  cycles, and read and write their operands from DRAM. They run on their own
  unit, so they overlap GEMMs of independent ops.
* All-reduces (tensor parallelism) run as a ring over the spec's link
  (:mod:`arch.systolic.link`), reading the partial sum from DRAM and writing the
  reduced tensor back.
* Energy: MACs, SRAM word accesses (SCALE-Sim's counting), vector-lane ops,
  link bits and DRAM bits, times the technology library's energy per action,
  plus leakage.
"""

from __future__ import annotations

import math
from functools import lru_cache

from arch.contract import (Accelerator, Bound, Component, MappingOptions, Memory, MemoryKind, OpCost, Unit,
                           capacity_warnings)
from arch.dram.access import SEQUENTIAL_READ, AccessPattern
from arch.memory_timing import MemoryTiming, dram_traffic
from arch.systolic.energy import systolic_components
from arch.systolic.kernel import DATAFLOW_CODE, FOLD_TIMING_CODE, INSTANCE_TIMING_CODE, gemm_kernel, gemm_kernel_py
from arch.systolic.link import ring_allreduce_kernel, ring_allreduce_kernel_py
from arch.systolic.options import DATAFLOWS, TILE_SRAM_FRACTIONS, SystolicMappingOptions
from arch.systolic.spec import SystolicSpec
from arch.systolic.tiling import TilePlan, plan_gemm
from arch.tiered_kernel import TieredKernel
from workloads.op import VECTOR_FLOPS_PER_ELEMENT, Op, OpKind, Operand

MAX_STEPS_PER_OP = 64  # pipelined tiles the engine simulates per op (contention granularity)
VECTOR_KINDS = frozenset(VECTOR_FLOPS_PER_ELEMENT)
LINK_KINDS = frozenset({OpKind.ALLREDUCE})


class UnsupportedDtypeError(ValueError):
    pass


class NoLinkError(ValueError):
    """An all-reduce (tp > 1) on a system without a chip-to-chip link."""


class SystolicArray(Accelerator):
    kind = "systolic"
    spec_type = SystolicSpec
    mapping_options_type = SystolicMappingOptions
    spec: SystolicSpec

    def units(self) -> tuple[Unit, ...]:
        units = (Unit("array", frozenset({OpKind.GEMM}), self.spec.cores, self.spec.pes_per_core),
                 Unit("vector", VECTOR_KINDS, self.spec.cores))
        return units + ((Unit("link", LINK_KINDS, 1, bound=Bound.NETWORK),) if self.spec.link_bandwidth_bytes_per_s
                        else ())

    def candidate_units(self, op: Op) -> tuple[str, ...]:
        # an all-reduce is always accepted (on "link") so that a missing link gets its own message
        if op.kind in LINK_KINDS:
            return ("link",)
        return super().candidate_units(op)

    def resolve_unit(self, op: Op, unit: str | None) -> str:
        if op.kind in LINK_KINDS and unit in (None, "link"):
            return "link"
        return super().resolve_unit(op, unit)

    def memories(self) -> tuple[Memory, ...]:
        return (Memory("dram", self.spec.dram_bytes_per_cycle, 1, self.spec.dram_latency_cycles,
                       self.spec.dram_capacity_bytes, MemoryKind.DRAM),)

    def components(self) -> tuple[Component, ...]:
        return systolic_components(self.spec, self.tech_library())

    @classmethod
    def kernel_twins(cls):
        gemms = tuple((m, n, k, r, c, d, f, i, t) for m, n, k in ((1, 4096, 4096), (77, 300, 129), (512, 64, 1))
                      for r, c in ((8, 8), (128, 128), (16, 32)) for d in DATAFLOW_CODE.values()
                      for f in FOLD_TIMING_CODE.values() for i, t in ((1, 0), (3, 0), (3, 1)))
        rings = tuple((nbytes, devices, bpc, latency) for nbytes in (0, 1, 4096 * 2 * 256, 10**9 + 7)
                      for devices in (1, 2, 4, 8) for bpc in (0.3, 50.0, 600.0) for latency in (0, 500))
        return (("gemm_kernel", gemm_kernel, gemm_kernel_py, gemms),
                ("ring_allreduce_kernel", ring_allreduce_kernel, ring_allreduce_kernel_py, rings))

    def check_workload(self, workload, options=None) -> tuple[str, ...]:
        """A warning (not an error) when the step's weights and KV cache exceed ``dram_capacity_bytes``."""
        return capacity_warnings(workload, self.spec.dram_capacity_bytes, "dram_capacity_bytes", "the DRAM")

    def notes(self) -> tuple[str, ...]:
        return (
            "DRAM traffic: least-traffic SRAM tiling per op (k innermost, no partial-sum spills); "
            "no reuse of an op's output in SRAM by the next op.",
            "A GEMM split across cores reads its shared operand once per core (no multicast).",
            "No prefetch across ops: an op starts loading when its unit is free.",
            "Vector ops run whole on one core's vector unit (only matrix ops are split across cores).",
            "All-reduce: bandwidth-optimal ring over one link per device; reduction adds hidden.",
            self._instance_note(),
        ) + self._dram_timing_notes()

    def _dram_timing_notes(self) -> tuple[str, ...]:
        if self.spec.dram_timing is not MemoryTiming.DRAM:
            return ()
        return (f"DRAM transfers timed by the {self.spec.dram_standard} FR-FCFS controller: each at the fraction of "
                "peak it attains on the transfer's pattern (sequential weights, activations and outputs; KV "
                "read in one run per request-head), in steady state; no bank or row state carried between ops, "
                "no refresh phase aligned to an op (docs/dram.md, run-path timing).",)

    def _instance_note(self) -> str:
        if self.spec.instance_timing == "streamed" and self.spec.fold_timing == "pipelined":
            return ("Ops of many same-shape GEMMs (attention per request and head): instances streamed, one fill "
                    "and drain per op part on a core; the next instance's tile loads while the current one drains.")
        return ("Ops of many same-shape GEMMs (attention per request and head): each instance pays its own fill "
                "and drain (instance_timing: separate, or fold_timing: scalesim).")

    def mapping_space(self, op: Op, unit: str) -> tuple[dict, ...]:
        """Each dataflow for a GEMM on the arrays (the per-op mapping search tries them)."""
        if unit == "array" and op.kind is OpKind.GEMM:
            return tuple({"dataflow": d, "tile_sram_fraction": f} for d in DATAFLOWS for f in TILE_SRAM_FRACTIONS)
        return ({},)

    def unit_cost(self, op: Op, unit: str, options: MappingOptions) -> OpCost:
        self._check_dtype(op)
        if op.kind is OpKind.GEMM:
            return _gemm_cost(self._spec_for(options), op)
        if op.kind in LINK_KINDS:
            return _allreduce_cost(self.spec, op)
        return _vector_cost(self.spec, op)

    def _spec_for(self, options: MappingOptions) -> SystolicSpec:
        """The spec with the options' per-op dataflow and scratchpad share, if they set them (costs only:
        the component table is always the spec's own)."""
        dataflow = getattr(options, "dataflow", None) or self.spec.dataflow
        fraction = getattr(options, "tile_sram_fraction", None) or 1.0
        if dataflow == self.spec.dataflow and fraction == 1.0:
            return self.spec
        specs = self.__dict__.setdefault("_mapped_specs", {})
        if (dataflow, fraction) not in specs:
            spec = self.spec
            specs[dataflow, fraction] = spec.model_copy(update={
                "dataflow": dataflow, "ifmap_sram_bytes": int(spec.ifmap_sram_bytes * fraction),
                "filter_sram_bytes": int(spec.filter_sram_bytes * fraction),
                "ofmap_sram_bytes": int(spec.ofmap_sram_bytes * fraction)})
        return specs[dataflow, fraction]

    def roofline_cycles(self, op: Op) -> int:
        spec = self.spec
        if op.kind is OpKind.GEMM:
            compute = op.macs / (spec.pes_per_core * spec.cores)
        elif op.kind in LINK_KINDS:
            compute = _ring(spec, op)[1] / spec.link_bytes_per_cycle if spec.link_bandwidth_bytes_per_s else 0
        else:
            compute = _lane_ops(spec, op) * spec.vector_clock_ratio / (spec.vector_lanes * spec.cores)
        return math.ceil(max(compute, op.min_bytes / spec.dram_bytes_per_cycle))

    def _check_dtype(self, op: Op) -> None:
        if op.a_bits > self.spec.pe_bits and op.kind not in LINK_KINDS:
            raise UnsupportedDtypeError(
                f"pe_dtype: op {op.name!r} has {op.a_bits:g}-bit activations but pe_dtype "
                f"{self.spec.pe_dtype!r} handles at most {self.spec.pe_bits} bits")


def _gemm_cost(spec: SystolicSpec, op: Op) -> OpCost:
    count = op.count
    cycles, row_folds, col_folds, ifmap, filt, ofmap = _gemm_counts(
        op.m, op.n, op.k, spec.rows, spec.cols, DATAFLOW_CODE[spec.dataflow],
        FOLD_TIMING_CODE[spec.fold_timing], count, INSTANCE_TIMING_CODE[spec.instance_timing])
    plan = gemm_tile_plan(spec, op)
    read_bytes = op.a_bytes * plan.input_reads + op.b_bytes * plan.weight_reads
    actions = (
        ("pe.mac", op.macs),
        ("ifmap_sram.read", ifmap),
        ("filter_sram.read", filt),
        ("ofmap_sram.write", ofmap),
        ("dram.read_bit", 8 * read_bytes),
        ("dram.write_bit", 8 * op.out_bytes),
    )
    reads = ((op.a_bytes * plan.input_reads, SEQUENTIAL_READ), (op.b_bytes * plan.weight_reads, _b_pattern(op)))
    return OpCost(unit="array", compute_cycles=cycles, traffic=_dram(spec, reads, op.out_bytes),
                  steps=min(plan.tiles * count, MAX_STEPS_PER_OP), actions=actions)


def _b_pattern(op: Op) -> AccessPattern:
    """A KV operand is read as one run per instance (a request-head's K or V block, blocks of different
    request-heads at unrelated addresses); weights and activations sequentially."""
    return AccessPattern(run_bytes=-(-op.b_bytes // op.count)) if op.b_operand is Operand.KV else SEQUENTIAL_READ


def _dram(spec: SystolicSpec, reads: tuple, write_bytes: int):
    """The op's traffic over ``dram``, timed as ``spec.dram_timing`` says."""
    return dram_traffic("dram", spec.dram_timing, spec.dram_standard, reads, write_bytes)


def gemm_tile_plan(spec: SystolicSpec, op: Op) -> TilePlan:
    """The SRAM tiling of one instance of a GEMM op on one core of ``spec``."""
    return plan_gemm(op.m, op.n, op.k, op.a_bits, op.b_bits, op.out_bits, spec.ifmap_sram_bytes,
                     spec.filter_sram_bytes, spec.ofmap_sram_bytes, spec.dataflow,
                     max(1, MAX_STEPS_PER_OP // op.count))


# The GEMM kernel is closed-form arithmetic: its twin takes about 1 us a call against the jitted 0.65 us
# (measured side by side, golden shapes), while the first jitted call of a process costs about a second
# even with a warm Numba cache; a million twin calls cost less than that set-up (arch.tiered_kernel).
_GEMM_KERNEL = TieredKernel(gemm_kernel, gemm_kernel_py, twin_calls=1_000_000)


@lru_cache(maxsize=65536)
def _gemm_counts(m: int, n: int, k: int, rows: int, cols: int, dataflow_code: int,
                 fold_timing_code: int = 0, instances: int = 1, instance_timing_code: int = 0) -> tuple:
    return tuple(int(x) for x in _GEMM_KERNEL(m, n, k, rows, cols, dataflow_code, fold_timing_code,
                                              instances, instance_timing_code))


def _lane_ops(spec: SystolicSpec, op: Op) -> int:
    """Vector-lane operations of a vector op: elements x the function's lane-ops per element."""
    return math.ceil(op.elements * getattr(spec.vector_lane_ops_per_element, op.kind.value))


def _vector_cost(spec: SystolicSpec, op: Op) -> OpCost:
    lane_ops = _lane_ops(spec, op)
    vector_cycles = -(-lane_ops // spec.vector_lanes)
    cycles = math.ceil(vector_cycles * spec.vector_clock_ratio)
    read_bytes = op.a_bytes + op.b_bytes
    actions = (("vector.lane_op", lane_ops), ("dram.read_bit", 8 * read_bytes),
               ("dram.write_bit", 8 * op.out_bytes))
    steps = max(1, min(MAX_STEPS_PER_OP, cycles // 1024))
    return OpCost(unit="vector", compute_cycles=cycles,
                  traffic=_dram(spec, ((read_bytes, SEQUENTIAL_READ),), op.out_bytes),
                  steps=steps, actions=actions)


def _ring(spec: SystolicSpec, op: Op) -> tuple[int, int]:
    """(cycles, bytes sent per device) of the ring all-reduce of ``op`` on ``spec``'s link."""
    return tuple(int(x) for x in ring_allreduce_kernel(
        op.comm_bytes, op.devices, spec.link_bytes_per_cycle, spec.link_latency_cycles))


def _allreduce_cost(spec: SystolicSpec, op: Op) -> OpCost:
    if not spec.link_bandwidth_bytes_per_s:
        raise NoLinkError(
            f"link_bandwidth_bytes_per_s: op {op.name!r} is an all-reduce over {op.devices} devices; "
            f"tp > 1 needs a chip-to-chip link, but link_bandwidth_bytes_per_s is 0 (no link). "
            f"Set it (and link_latency_cycles) to the link's figures")
    cycles, sent_bytes = _ring(spec, op)
    read_bytes, write_bytes = op.a_bytes, op.out_bytes
    actions = (("link.transfer_bit", 8 * sent_bytes), ("dram.read_bit", 8 * read_bytes),
               ("dram.write_bit", 8 * write_bytes))
    steps = max(1, min(MAX_STEPS_PER_OP, 2 * (op.devices - 1)))
    return OpCost(unit="link", compute_cycles=cycles,
                  traffic=_dram(spec, ((read_bytes, SEQUENTIAL_READ),), write_bytes),
                  steps=steps, actions=actions)
