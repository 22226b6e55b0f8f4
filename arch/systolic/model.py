"""Systolic-array NPU model: GEMMs on the arrays, vector ops on the vector units.

Faithfulness, stated:

* GEMM compute cycles per array are SCALE-Sim 3.0.0's stall-free compute cycles
  (:mod:`arch.systolic.kernel`, checked against a golden table), for the array's
  rows, columns and dataflow. A GEMM instance with ``count > 1`` (attention per
  head) runs its instances one after another on one array.
* Each GEMM runs on one core; independent ops run on different cores at once.
  Splitting one GEMM across cores is not modelled yet.
* DRAM traffic is the compulsory traffic: each operand read once and each output
  written once. SRAM capacity does not yet cause re-fetches; stalls come only from
  DRAM bandwidth (contended in the engine) and per-transfer latency.
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
        return systolic_components(self.spec)

    def peak_macs_per_cycle(self) -> int:
        return self.spec.pes_per_core * self.spec.cores

    @classmethod
    def kernel_twins(cls):
        examples = tuple((m, n, k, r, c, d) for m, n, k in ((1, 4096, 4096), (77, 300, 129), (512, 64, 1))
                         for r, c in ((8, 8), (128, 128), (16, 32)) for d in DATAFLOW_CODE.values())
        return (("gemm_kernel", gemm_kernel, gemm_kernel_py, examples),)

    def notes(self) -> tuple[str, ...]:
        return (
            "DRAM traffic is compulsory traffic only; SRAM capacity does not yet cause re-fetches.",
            "Each GEMM runs on a single core (no splitting of one op across cores).",
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
    actions = (
        ("pe.mac", op.macs),
        ("ifmap_sram.read", ifmap * count),
        ("filter_sram.read", filt * count),
        ("ofmap_sram.write", ofmap * count),
        ("dram.read_bit", 8 * (op.a_bytes + op.b_bytes)),
        ("dram.write_bit", 8 * op.out_bytes),
    )
    return OpCost(unit="array", compute_cycles=cycles * count, read_bytes=op.a_bytes + op.b_bytes,
                  write_bytes=op.out_bytes, steps=min(row_folds * col_folds * count, MAX_STEPS_PER_OP),
                  actions=actions)


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
