"""Fused-attention and flat-GEMM kernel times on the GPU model (FlashAttention-2, FlashDecoding, FlashDecoding++).

What it models
--------------
A fused ``attention`` op (:mod:`workloads.attention`) runs as one kernel of
``blocks = count x kv_splits x ceil(m / BLOCK_M)`` thread blocks, each holding
up to ``BLOCK_M`` query rows and one chunk of ``ceil(k / kv_splits)`` KV
positions, in ``ceil(blocks / sm_count)`` waves of one block per SM:

* **tensor-core time** of a block: its score and context GEMMs over its rows
  padded to the kernel's row granularity -- ``BLOCK_M`` = 64 for the online-
  softmax kernels (flash-attn's split-KV kernels use kBlockM = 64 whatever the
  number of query rows), ``FLAT_PAD_ROWS`` = 8 for FlashDecoding++, which maps
  the few rows of a flat GEMM onto the MMA instruction's 8-wide side -- at the
  SM's peak derated by the GEMM issue-efficiency ceiling (``gemm_efficiency_max``);
* **softmax time** of a block: the non-matmul FLOPs of its padded scores
  (``ATTENTION_SOFTMAX_FLOPS_PER_SCORE``: 5 for the online softmax, 3 for the
  unified max) on the SM's share of ``vector_flops_per_s``, except the one
  exponential per score (``ATTENTION_EXPS_PER_SCORE``), which runs on the SM's
  special-function units at ``sfu_exps_per_sm_cycle`` (16 per clock on the
  A100 and H100, a quarter of the CUDA cores' 64 FMAs): the two pipes run side
  by side, so the softmax takes the longer of the two. FlashAttention-2 runs it
  between the two GEMMs of each tile, so softmax and tensor times add;
* **DRAM stream**: Q, K, V read once and the output (or the split partials)
  written once, at the achievable stream rate times the kernel's occupancy
  ``min(1, blocks / sm_count)``. K/V tiles are double-buffered (``cp.async``),
  so the stream overlaps the math: time = max(compute, stream) + launch.

The occupancy factor is an assumption: an SM is taken to draw at most its
``1 / sm_count`` share of the achievable bandwidth (one block's outstanding
loads), which is what makes a decode step with fewer heads than SMs slow
without a KV split -- the effect FlashDecoding removes. The per-SM bandwidth
limit is not a measured figure.

Flat GEMMs (:func:`flat_gemm_cycles`): a GEMM with few rows padded to a
row granularity (64 as in the libraries FlashDecoding++ compares with, 8 with
its flat-GEMM kernel), output tiles of the fastest width of ``FLAT_TILE_NS``
columns over SM waves, with the stream at the tiles' occupancy as above,
and either double-buffered (time = max(compute, stream)) or not (their sum),
the FlashDecoding++ paper's two flat-GEMM optimisations. It is a what-if
kernel for comparisons; the GPU model costs ordinary GEMMs with its calibrated
tile model (:mod:`arch.gpu.kernel`).

How faithful: closed-form, first-order; no register or shared-memory limits on
blocks per SM, no L2 effects, no causal-mask skipping, and FlashDecoding++'s
overflow recomputation is not costed (rare by design).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from arch.contract import OpCost, over
from arch.gpu.spec import GpuSpec
from workloads.op import ATTENTION_EXPS_PER_SCORE, ATTENTION_SOFTMAX_FLOPS_PER_SCORE, Op, OpKind, SoftmaxScheme

# flash-attn's split-KV kernels: kBlockM = 64 query rows per block
# (Dao-AILab/flash-attention, csrc/flash_attn/flash_api.cpp, set_params_splitkv).
BLOCK_M = 64
# FlashDecoding++ (Hong et al., MLSys 2024, flat GEMM optimisation): flat GEMMs padded to
# 8 rows where the libraries it compares with pad to 64.
FLAT_PAD_ROWS = 8
LIBRARY_PAD_ROWS = 64
# Output columns per flat-GEMM thread block, the fastest taken per shape (as a kernel
# heuristic picks): 128, the wide side of the presets' CUTLASS SM80 tiles, down to 8, the
# MMA instruction's n (mma.sync.m16n8k16, arch/gpu/kernel.py MMA_N).
FLAT_TILE_NS = (128, 64, 32, 16, 8)


@dataclass(frozen=True)
class KernelTime:
    """Cycles of one kernel on the GPU, before the launch overhead."""

    blocks: int
    waves: int
    padded_rows: int
    tensor_cycles: int
    softmax_cycles: int
    stream_cycles: int
    occupancy: float
    overlapped: bool = True

    @property
    def compute_cycles(self) -> int:
        return self.tensor_cycles + self.softmax_cycles

    @property
    def cycles(self) -> int:
        if self.overlapped:
            return max(self.compute_cycles, self.stream_cycles)
        return self.compute_cycles + self.stream_cycles


def pad_rows(op: Op) -> int:
    """Row granularity of the kernel that runs ``op``: 8 for FlashDecoding++, 64 otherwise."""
    return FLAT_PAD_ROWS if op.softmax_scheme is SoftmaxScheme.UNIFIED_MAX else BLOCK_M


def attention_time(spec: GpuSpec, op: Op, dtype: str) -> KernelTime:
    """Stall-free time of a fused attention op (module docstring)."""
    if op.kind is not OpKind.ATTENTION:
        raise ValueError(f"op {op.name!r}: attention_time needs an attention op, got {op.kind.value}")
    row_blocks = math.ceil(op.m / BLOCK_M)
    blocks = op.count * op.kv_splits * row_blocks
    waves = math.ceil(blocks / spec.sm_count)
    rows = math.ceil(math.ceil(op.m / row_blocks) / pad_rows(op)) * pad_rows(op)
    chunk = math.ceil(op.k / op.kv_splits)
    macs = 2 * rows * chunk * op.n  # score and context GEMMs of one block
    tensor = math.ceil(macs / (spec.macs_per_sm_cycle(dtype) * spec.gemm_efficiency_max))
    softmax = softmax_cycles(spec, rows * chunk, op.softmax_scheme)
    occupancy = min(1.0, blocks / spec.sm_count)
    stream = math.ceil(op.min_bytes / (spec.stream_bytes_per_cycle * occupancy))
    return KernelTime(blocks, waves, rows, waves * tensor, waves * softmax, stream, occupancy)


def softmax_cycles(spec: GpuSpec, scores: int, scheme: SoftmaxScheme) -> int:
    """SM cycles of the non-matmul work on ``scores`` scores: the CUDA cores' FLOPs beside the special-function
    units' exponentials (module docstring); with no special-function rate, every FLOP on the CUDA cores."""
    flops = scores * ATTENTION_SOFTMAX_FLOPS_PER_SCORE[scheme]
    exps = scores * ATTENTION_EXPS_PER_SCORE if spec.sfu_exps_per_sm_cycle > 0 else 0
    vector = math.ceil((flops - exps) / (spec.vector_flops_per_s / spec.clock_hz / spec.sm_count))
    return max(vector, math.ceil(exps / spec.sfu_exps_per_sm_cycle) if exps else 0)


def attention_cost(spec: GpuSpec, op: Op, dtype: str) -> OpCost:
    """The engine's cost of a fused attention op: one step on ``gpu`` over ``hbm``.

    As for every GPU op, ``compute_cycles`` is what is not hidden under the
    full-rate stream the engine simulates, plus the launch, so that the simulated
    time is ``max(compute, stream at the kernel's occupancy) + launch``.
    """
    time = attention_time(spec, op, dtype)
    read_bytes, write_bytes = op.a_bytes + op.b_bytes, op.out_bytes
    full_rate = math.ceil(read_bytes / spec.stream_bytes_per_cycle) + math.ceil(write_bytes / spec.stream_bytes_per_cycle)
    busy = time.blocks * (time.tensor_cycles + time.softmax_cycles) // max(time.waves, 1)
    return OpCost(unit="gpu", traffic=over("hbm", read_bytes, write_bytes),
                  compute_cycles=max(time.cycles - full_rate, 0) + spec.launch_cycles,
                  actions=(("sm.busy_cycle", busy), ("hbm.read_bit", 8 * read_bytes),
                           ("hbm.write_bit", 8 * write_bytes)))


def attention_roofline_cycles(spec: GpuSpec, op: Op, dtype: str) -> int:
    """Lower bound of a fused attention op: its matmuls at the tensor peak, its softmax at the
    vector peak (its exponentials at the special-function peak, where the spec has one), or its
    bytes at the full HBM bandwidth, whichever is largest."""
    tensor = 2 * op.macs / (spec.peak_flops_per_s(dtype) / spec.clock_hz)
    exps = op.scores * ATTENTION_EXPS_PER_SCORE if spec.sfu_exps_per_sm_cycle > 0 else 0
    vector = (op.nonmatmul_flops - exps) / (spec.vector_flops_per_s / spec.clock_hz)
    sfu = exps / (spec.sfu_exps_per_sm_cycle * spec.sm_count) if exps else 0.0
    memory = op.min_bytes / (spec.hbm_bandwidth_bytes_per_s / spec.clock_hz)
    return math.ceil(max(tensor, vector, sfu, memory))


def flat_gemm_time(spec: GpuSpec, op: Op, dtype: str, pad: int, double_buffered: bool) -> KernelTime:
    """A GEMM's rows padded to ``pad``, over SM waves of the fastest of ``FLAT_TILE_NS`` (module docstring)."""
    if op.kind is not OpKind.GEMM:
        raise ValueError(f"op {op.name!r}: flat_gemm_time needs a gemm op, got {op.kind.value}")
    return min((_flat_gemm_time(spec, op, dtype, pad, double_buffered, tile_n) for tile_n in FLAT_TILE_NS),
               key=lambda time: time.cycles)


def _flat_gemm_time(spec: GpuSpec, op: Op, dtype: str, pad: int, double_buffered: bool,
                    tile_n: int) -> KernelTime:
    row_tiles = math.ceil(op.m / FLAT_TILE_NS[0])  # a flat GEMM has one; taller ones are cut
    rows = math.ceil(math.ceil(op.m / row_tiles) / pad) * pad
    tiles = op.count * row_tiles * math.ceil(op.n / tile_n)
    waves = math.ceil(tiles / spec.sm_count)
    tile = math.ceil(rows * tile_n * (op.k + spec.tile_overhead_k)
                     / (spec.macs_per_sm_cycle(dtype) * spec.gemm_efficiency_max))
    occupancy = min(1.0, tiles / spec.sm_count)
    stream = math.ceil(op.min_bytes / (spec.stream_bytes_per_cycle * occupancy))
    return KernelTime(tiles, waves, rows, waves * tile, 0, stream, occupancy, double_buffered)


def flat_gemm_cycles(spec: GpuSpec, op: Op, dtype: str, pad: int = FLAT_PAD_ROWS,
                     double_buffered: bool = True) -> int:
    """Cycles of a flat GEMM kernel, launch included."""
    return flat_gemm_time(spec, op, dtype, pad, double_buffered).cycles + spec.launch_cycles
