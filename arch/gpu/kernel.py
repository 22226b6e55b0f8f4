"""Stall-free tensor-core time of one GEMM on a GPU: tiles, waves, per-tile cost.

What it models
--------------
A (batched) GEMM ``count x (m x k) @ (k x n)`` is cut into output tiles of
``tile_m x tile_n`` (one thread block each, as cuBLAS/CUTLASS kernels do); a tile
that hangs over the edge of the matrix is computed in full, so padding costs
time. A dimension smaller than the tile shrinks the tile to that dimension
rounded up to the tensor-core instruction's granularity (``MMA_M`` x ``MMA_N``),
as the skinny-GEMM and GEMV kernels libraries pick for decode shapes do. ``tiles = count * ceil(m / tile_m) * ceil(n / tile_n)`` tiles run in
``waves = ceil(tiles / sm_count)`` waves of one tile per SM. One tile takes

    tile_cycles = ceil(tile_m * tile_n * (k + tile_overhead_k)
                       / (macs_per_sm_cycle * efficiency))

cycles: ``k`` MAC steps at the SM's peak rate derated by the issue-efficiency
ceiling, plus ``tile_overhead_k`` steps' worth of fixed per-tile work (filling
the shared-memory pipeline before the first MMA and writing the tile's output
after the last), which is what makes small-``k`` GEMMs inefficient. The GEMM
takes ``waves * tile_cycles``: the last, partial wave costs a full wave (wave
quantisation).

How faithful
------------
Closed-form and first-order: one tile per SM at a time, no split-K or stream-K
(cuBLAS uses them for small ``m x n`` with large ``k``; this over-estimates
those), no L2 or shared-memory bandwidth limit inside the tile loop (the DRAM
side is bounded separately by the model). The parameters are fitted in
``benchmarks/gpu_calibration.py``.

The jitted kernel and its pure-Python twin compute the same integers; the twin
is used in tests and the conformance suite checks they agree.
"""

from __future__ import annotations

import math

from numba import njit

# Shape of the warp-level tensor-core instruction for 16-bit operands,
# mma.sync.m16n8k16 (NVIDIA PTX ISA, "Warp-level matrix multiply-accumulate
# instructions"): rows and columns of an output tile come in these steps.
MMA_M = 16
MMA_N = 8


@njit(cache=True)
def gemm_tile_kernel(m, n, k, count, tile_m, tile_n, sm_count, macs_per_sm_cycle, efficiency,
                     tile_overhead_k):
    """(cycles, tiles, waves) of one GEMM with one tile shape; see the module docstring."""
    tile_m = min(tile_m, (m + MMA_M - 1) // MMA_M * MMA_M)
    tile_n = min(tile_n, (n + MMA_N - 1) // MMA_N * MMA_N)
    tiles = count * ((m + tile_m - 1) // tile_m) * ((n + tile_n - 1) // tile_n)
    waves = (tiles + sm_count - 1) // sm_count
    tile_cycles = math.ceil(tile_m * tile_n * (k + tile_overhead_k) / (macs_per_sm_cycle * efficiency))
    return waves * tile_cycles, tiles, waves


def gemm_tile_kernel_py(m, n, k, count, tile_m, tile_n, sm_count, macs_per_sm_cycle, efficiency,
                        tile_overhead_k):
    """Pure-Python twin of :func:`gemm_tile_kernel`."""
    tile_m = min(tile_m, -(-m // MMA_M) * MMA_M)
    tile_n = min(tile_n, -(-n // MMA_N) * MMA_N)
    tiles = count * -(-m // tile_m) * -(-n // tile_n)
    waves = -(-tiles // sm_count)
    tile_cycles = math.ceil(tile_m * tile_n * (k + tile_overhead_k) / (macs_per_sm_cycle * efficiency))
    return waves * tile_cycles, tiles, waves
