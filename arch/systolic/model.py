"""Systolic-array NPU model: GEMMs on the arrays, vector ops on the vector units.

Faithfulness, stated:

* GEMM compute cycles per array are SCALE-Sim 3.0.0's stall-free compute cycles
  (:mod:`arch.systolic.kernel`, checked against a golden table), for the array's
  rows, columns and dataflow. A GEMM instance with ``count > 1`` (attention per
  head) runs its instances one after another on one array.
* DRAM traffic follows from the scratchpad capacities (:mod:`arch.systolic.tiling`):
  the least-traffic tiling that fits the double-buffered IFMAP / FILTER / OFMAP
  halves, with an operand re-read once per tile of the other outer loop when it
  cannot stay resident. Its tile count (times ``count``, capped) is the number
  of pipelined steps the engine overlaps loads and compute over. Stalls come
  from DRAM bandwidth (contended in the engine) and per-transfer latency.
* Each op's cost is for one core; a GEMM split across cores is costed part by
  part (the mapper makes the parts), each part reading its own operands.
* Vector ops (softmax, norms, activations, adds, RoPE) take
  ``ceil(elements x ops per element / lanes)`` cycles on the vector unit and read
  and write their operands from DRAM.
* Energy: MACs, SRAM word accesses (SCALE-Sim's counting), vector-lane ops and
  DRAM bits, times the technology library's energy per action, plus leakage.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Mapping

from arch.contract import Accelerator, Component, Memory, OpCost, Unit
from arch.systolic.energy import systolic_components
from arch.systolic.kernel import DATAFLOW_CODE, gemm_kernel, gemm_kernel_py
from arch.systolic.spec import SystolicSpec
from arch.systolic.tiling import TilePlan, plan_gemm
from workloads.op import VECTOR_FLOPS_PER_ELEMENT, Op, OpKind

MAX_STEPS_PER_OP = 64  # pipelined tiles the engine simulates per op (contention granularity)
VECTOR_KINDS = frozenset(VECTOR_FLOPS_PER_ELEMENT)


class UnsupportedDtypeError(ValueError):
    pass


class SystolicArray(Accelerator):
    kind = "systolic"
    spec_type = SystolicSpec
    spec: SystolicSpec

    def units(self) -> tuple[Unit, ...]:
        return (Unit("array", frozenset({OpKind.GEMM}), self.spec.cores),
                Unit("vector", VECTOR_KINDS, self.spec.cores))

    def memories(self) -> tuple[Memory, ...]:
        return (Memory("dram", self.spec.dram_bytes_per_cycle, 1, self.spec.dram_latency_cycles,
                       self.spec.dram_capacity_bytes),)

    def components(self) -> tuple[Component, ...]:
        return systolic_components(self.spec, self.tech_library())

    def peak_macs_per_cycle(self) -> int:
        return self.spec.pes_per_core * self.spec.cores

    @classmethod
    def kernel_twins(cls):
        examples = tuple((m, n, k, r, c, d) for m, n, k in ((1, 4096, 4096), (77, 300, 129), (512, 64, 1))
                         for r, c in ((8, 8), (128, 128), (16, 32)) for d in DATAFLOW_CODE.values())
        return (("gemm_kernel", gemm_kernel, gemm_kernel_py, examples),)

    def notes(self) -> tuple[str, ...]:
        return (
            "DRAM traffic: least-traffic SRAM tiling per op (k innermost, no partial-sum spills); "
            "no reuse of an op's output in SRAM by the next op.",
            "A GEMM split across cores reads its shared operand once per core (no multicast).",
            "No prefetch across ops: an op starts loading when its unit is free.",
        )

    def op_cost(self, op: Op, mapping: Mapping | None = None) -> OpCost:
        self._check_dtype(op)
        if op.kind is OpKind.GEMM:
            return _gemm_cost(self.spec, op)
        return _vector_cost(self.spec, op)

    def roofline_cycles(self, op: Op) -> int:
        spec = self.spec
        if op.kind is OpKind.GEMM:
            compute = op.macs / (spec.pes_per_core * spec.cores)
        else:
            compute = op.elements * VECTOR_FLOPS_PER_ELEMENT[op.kind] / (spec.vector_lanes * spec.cores)
        return math.ceil(max(compute, op.min_bytes / spec.dram_bytes_per_cycle))

    def _check_dtype(self, op: Op) -> None:
        if op.a_bits > self.spec.pe_bits:
            raise UnsupportedDtypeError(
                f"pe_dtype: op {op.name!r} has {op.a_bits:g}-bit activations but pe_dtype "
                f"{self.spec.pe_dtype!r} handles at most {self.spec.pe_bits} bits")


def _gemm_cost(spec: SystolicSpec, op: Op) -> OpCost:
    cycles, row_folds, col_folds, ifmap, filt, ofmap = _gemm_counts(
        op.m, op.n, op.k, spec.rows, spec.cols, DATAFLOW_CODE[spec.dataflow])
    count = op.count
    plan = gemm_tile_plan(spec, op)
    read_bytes = op.a_bytes * plan.input_reads + op.b_bytes * plan.weight_reads
    actions = (
        ("pe.mac", op.macs),
        ("ifmap_sram.read", ifmap * count),
        ("filter_sram.read", filt * count),
        ("ofmap_sram.write", ofmap * count),
        ("dram.read_bit", 8 * read_bytes),
        ("dram.write_bit", 8 * op.out_bytes),
    )
    return OpCost(unit="array", compute_cycles=cycles * count, read_bytes=read_bytes,
                  write_bytes=op.out_bytes, steps=min(plan.tiles * count, MAX_STEPS_PER_OP),
                  actions=actions)


def gemm_tile_plan(spec: SystolicSpec, op: Op) -> TilePlan:
    """The SRAM tiling of one instance of a GEMM op on one core of ``spec``."""
    return plan_gemm(op.m, op.n, op.k, op.a_bits, op.b_bits, op.out_bits, spec.ifmap_sram_bytes,
                     spec.filter_sram_bytes, spec.ofmap_sram_bytes, spec.dataflow,
                     max(1, MAX_STEPS_PER_OP // op.count))


@lru_cache(maxsize=65536)
def _gemm_counts(m: int, n: int, k: int, rows: int, cols: int, dataflow_code: int) -> tuple:
    return tuple(int(x) for x in gemm_kernel(m, n, k, rows, cols, dataflow_code))


def _vector_cost(spec: SystolicSpec, op: Op) -> OpCost:
    lane_ops = op.elements * VECTOR_FLOPS_PER_ELEMENT[op.kind]
    cycles = -(-lane_ops // spec.vector_lanes)
    read_bytes = op.a_bytes + op.b_bytes
    actions = (("vector.lane_op", lane_ops), ("dram.read_bit", 8 * read_bytes),
               ("dram.write_bit", 8 * op.out_bytes))
    steps = max(1, min(MAX_STEPS_PER_OP, cycles // 1024))
    return OpCost(unit="vector", compute_cycles=cycles, read_bytes=read_bytes,
                  write_bytes=op.out_bytes, steps=steps, actions=actions)
