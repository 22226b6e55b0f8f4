"""LUT-GEMM on a GPU (``kind: lut-gemm``): the software LUT kernel as a GEMM option of the GPU model.

What it models
--------------
LUT-GEMM (Park et al., ICLR'24; ``../shared/LUT_AND_WAFER.md`` §1.1.4) keeps
binary-coded weights (``q`` bit planes of +-1 with scales) and, per thread
block, builds in shared memory one table per group of ``mu = 8`` activations
(``2^mu`` fp16 entries); each thread then looks its partial sums up, one lookup
and one add per output, group and bit plane. On this GPU model (:mod:`arch.gpu`)
a GEMM on low-bit weights can run either kernel, chosen by the mapping option
``gemm_kernel`` (:class:`GemmKernel`): ``dequant`` is the GPU model's own
tensor-core GEMM on the dequantised weights; ``lut_gemm`` is costed here with
the shared LUT mpGEMM kernel (:mod:`arch.lut.kernel`):

* lookups ``m x n x ceil(k / mu) x q``, issued by the 32 lanes of a warp into one
  table: a warp's lookups take as many shared-memory cycles as the most words
  any one bank is asked for (``smem_banks`` banks of ``smem_bank_bytes``);
  with the weight bit patterns taken as uniformly random, the expected degree is
  :func:`bank_conflict_degree` (deterministic Monte Carlo);
* one add per lookup on the CUDA cores (``vector_flops_per_s / 2`` adds/s) and
  the tables' ``2^mu - mu - 1`` adds each, rebuilt for every
  ``lut_block_columns`` output columns (one build per thread block);
* time ``max(lookups, adds) + table builds`` against the DRAM stream (the GPU
  model's ``max(compute, stream) + launch``); DRAM bytes as the dequantised GEMM;
* the kernel accumulates each K tile's partial sums into the output with atomic adds,
  so every call first clears the output with ``cudaMemset``: one more kernel (its
  launch gap and the output's bytes written once more).

Kernel facts from the authors' repository (``naver-aics/lut-gemm``,
``lutGEMM/src/cuda/kernels/mv_fp16.hpp`` and ``src/kernels.cu``): thread blocks of
256 threads cover 2048 output rows x 64 activations, build 8 tables of 256 fp16
entries each in shared memory, read packed 32-bit words of binary weights (4 table
indices each), and ``atomicAdd`` half2 partial sums into the output, which
``matmul`` clears with ``cudaMemset`` first; at batch > 1 the repository dequantises
and calls cuBLAS instead (not modelled: the LUT path is costed at every batch).

How faithful / not modelled
---------------------------
Shared-memory bandwidth and bank conflicts are the only compute limit; register
pressure, occupancy, index extraction instructions and the atomic adds' L2 traffic are
not modelled. The serving stack's per-kernel gap is the preset's ``launch_overhead_s``,
fitted on FasterTransformer runs (:mod:`arch.lut.lutgemm_decode`). Energy: the GPU's board-power model (SM busy cycles
= compute cycles on every SM).
"""

from __future__ import annotations

import math
from enum import Enum
from functools import lru_cache
from typing import Literal

import numpy as np
from pydantic import Field

from arch.contract import MappingOptions, OpCost, over
from arch.gpu.model import Gpu
from arch.gpu.spec import GpuSpec
from arch.lut.kernel import LUT_MPGEMM, LutCounts
from workloads.op import Op, OpKind, Operand

WARP_LANES = 32            # threads of a warp (CUDA C++ Programming Guide, "SIMT Architecture")
CONFLICT_SAMPLES = 4096    # warps drawn for the bank-conflict expectation
LUT_GEMM_UNIT = "gpu"


class GemmKernel(str, Enum):
    LUT_GEMM = "lut_gemm"
    DEQUANT = "dequant"


class LutGemmOptions(MappingOptions):
    gemm_kernel: GemmKernel = Field(GemmKernel.LUT_GEMM, description="low-bit weight GEMMs: lut_gemm | dequant")


class LutGemmSpec(GpuSpec):
    kind: Literal["lut-gemm"] = "lut-gemm"
    lut_group_activations: int = Field(8, ge=2, le=12, description="activations per table (LUT-GEMM's mu)")
    lut_entry_bits: int = Field(16, ge=8, le=32, description="bits per table entry in shared memory")
    smem_banks: int = Field(32, ge=1, description="shared-memory banks per SM")
    smem_bank_bytes: int = Field(4, ge=1, description="bytes per bank word")
    lut_block_columns: int = Field(ge=1, description="output columns of a thread block (one table build each)")
    lut_max_weight_bits: int = Field(4, ge=1, le=8, description="widest binary-coded weights the kernel runs")


@lru_cache(maxsize=64)
def bank_conflict_degree(banks: int, entries: int, entry_bytes: int, bank_bytes: int, lanes: int = WARP_LANES,
                         samples: int = CONFLICT_SAMPLES, seed: int = 0) -> float:
    """Expected shared-memory cycles of one warp-wide lookup into one table with uniform random indices:
    the most distinct words any bank is asked for (one word read by several lanes is a broadcast)."""
    rng = np.random.default_rng(seed)
    words = rng.integers(0, entries, (samples, lanes)) * entry_bytes // bank_bytes
    total = 0
    for row in words:
        distinct = np.unique(row)
        total += np.bincount(distinct % banks, minlength=banks).max()
    return total / samples


class LutGemmGpu(Gpu):
    kind = "lut-gemm"
    spec_type = LutGemmSpec
    spec: LutGemmSpec
    mapping_options_type = LutGemmOptions

    def lut_gemm_runs(self, op: Op) -> bool:
        return (op.kind is OpKind.GEMM and op.b_operand is Operand.WEIGHT
                and op.b_bits <= self.spec.lut_max_weight_bits)

    def unit_cost(self, op: Op, unit: str, options: MappingOptions) -> OpCost:
        kernel = GemmKernel(getattr(options, "gemm_kernel", GemmKernel.LUT_GEMM))
        if kernel is GemmKernel.LUT_GEMM and self.lut_gemm_runs(op):
            return lut_gemm_cost(self.spec, op)
        return super().unit_cost(op, unit, options)

    @classmethod
    def conformance_ops(cls) -> tuple[Op, ...]:
        """The GPU's sample ops plus low-bit weight GEMMs that take the LUT-GEMM path."""
        return super().conformance_ops() + (
            Op("gemv_w3", OpKind.GEMM, 1, 4096, 4096, b_bits=3),
            Op("odd_w1", OpKind.GEMM, 77, 300, 129, b_bits=1),
            Op("batch_w2", OpKind.GEMM, 64, 2048, 1024, b_bits=2))

    def notes(self) -> tuple[str, ...]:
        return super().notes() + (
            "LUT-GEMM: shared-memory lookups with random-index bank conflicts are the only compute limit; "
            "occupancy, index extraction and the atomic adds' L2 traffic are not modelled; each call is two "
            "kernels (cudaMemset of the output, then the LUT kernel).",
            "LUT-GEMM preset: launch_overhead_s is the serving stack's gap per kernel, fitted on "
            "FasterTransformer's cuBLAS FP16 LLaMA rows of LUT-GEMM's Table 3 (arch/lut/lutgemm_decode.py) "
            "and checked on its LUT-GEMM rows.",
        )


def lut_gemm_counts(spec: LutGemmSpec, op: Op) -> LutCounts:
    planes = max(1, math.ceil(op.b_bits - 1e-9))
    adds_per_cycle = spec.vector_flops_per_s / 2 / spec.clock_hz
    return LutCounts(*(int(x) for x in LUT_MPGEMM(
        op.m, op.n, op.k, op.count, planes, spec.lut_group_activations, False, spec.lut_entry_bits,
        spec.lut_block_columns, 1, spec.smem_banks, spec.sm_count, adds_per_cycle)))


def lut_gemm_compute_cycles(spec: LutGemmSpec, op: Op) -> int:
    """Stall-free cycles of the LUT-GEMM kernel (module docstring)."""
    counts = lut_gemm_counts(spec, op)
    degree = bank_conflict_degree(spec.smem_banks, 2 ** spec.lut_group_activations, spec.lut_entry_bits // 8,
                                  spec.smem_bank_bytes)
    lookup_cycles = math.ceil(counts.array_cycles * degree)
    add_cycles = math.ceil(counts.accumulates / (spec.vector_flops_per_s / 2 / spec.clock_hz))
    return max(lookup_cycles, add_cycles) + counts.precompute_cycles


def lut_gemm_cost(spec: LutGemmSpec, op: Op) -> OpCost:
    compute = lut_gemm_compute_cycles(spec, op)
    reads, writes = op.a_bytes + op.b_bytes, op.out_bytes
    bw = spec.stream_bytes_per_cycle
    stream = (math.ceil(reads / bw) if reads else 0) + (math.ceil(writes / bw) if writes else 0)
    memset = spec.launch_cycles + math.ceil(op.out_bytes / spec.write_bytes_per_cycle)   # cudaMemset(output)
    return OpCost(unit=LUT_GEMM_UNIT, compute_cycles=max(compute - stream, 0) + spec.launch_cycles + memset,
                  traffic=over("hbm", reads, writes),
                  actions=(("sm.busy_cycle", compute * spec.sm_count), ("hbm.read_bit", 8 * reads),
                           ("hbm.write_bit", 8 * writes)))
