"""Thread-block tiles of a LUT GEMM on a GPU host: waves over the SMs.

What it models
--------------
On a GPU whose MAC tensor cores are replaced by LUT tensor cores (the LUT Tensor
Core paper's A100-LUT / H100-LUT, [LTC] §4.3: "the mpGEMM dataflow is an
output-stationary scheme similar to CUTLASS", thread-block tile [128, 512, 32]
for W_INT1 A_INT8), a GEMM ``count x (m x k) @ (k x n)`` is cut into output tiles
of ``tile_m x tile_n``, one thread block each, run in ``ceil(tiles / sm_count)``
waves of one tile per SM; the last, partial wave costs a full wave. A tile that
hangs over the matrix edge is computed in full. A tile holds whole ``lmma``
instructions: its sides are rounded up to the LUT array's ``array_m`` rows and
``columns`` weight columns, and a dimension smaller than the tile shrinks it to
the dimension rounded up the same way. One tile takes

    ceil(tile_m / array_m) x ceil(tile_n / columns) x ceil((k + tile_overhead_k) / g) x w_bits
    / (tensor_cores_per_sm x efficiency)

cycles: bit-serial passes of the SM's LUT tensor cores derated by the host's
issue-efficiency ceiling, plus ``tile_overhead_k`` k-steps of fixed per-tile work
(pipeline fill before the first instruction, the output store after the last).
The same rule as the host GPU model's tensor-core GEMMs (:mod:`arch.gpu.kernel`),
with the LUT array as the instruction: that is the data-parallel schedule,
``waves x tile_cycles``. A large array leaves few tiles, fewer than the SMs, which
GPU libraries answer with a work-centric split of the k-loop over the SMs
(stream-K: Osama et al., PPoPP 2023, in CUTLASS; split-K in cuBLAS): every SM
takes an even share of all tiles' main-loop iterations, and pays the per-tile
overhead twice (its own segment's pipeline fill and store, and the partial-tile
fix-up). The faster of the two schedules is used.

How faithful
------------
Closed-form and first-order, as the host's: one tile per SM at a time, no split-K
or stream-K, no register-file or shared-memory bandwidth limit inside the tile
loop (the paper's LUT GPUs assume "Double Register Modeling"); the DRAM side is
bounded separately (:mod:`arch.lut.model`). The jitted kernel and its
pure-Python twin return the same integers (tests and the conformance suite).
"""

from __future__ import annotations

import math

from numba import njit

from arch.tiered_kernel import ColdAwareKernel


@njit(cache=True)
def lut_wave_kernel(m, n, k, count, w_bits, g, array_m, columns, tile_m, tile_n, sm_count,
                    tensor_cores_per_sm, efficiency, tile_overhead_k):
    """(cycles, tiles, waves) of one LUT GEMM with one thread-block tile shape (module docstring)."""
    tile_m = min((tile_m + array_m - 1) // array_m * array_m, (m + array_m - 1) // array_m * array_m)
    tile_n = min((tile_n + columns - 1) // columns * columns, (n + columns - 1) // columns * columns)
    tiles = count * ((m + tile_m - 1) // tile_m) * ((n + tile_n - 1) // tile_n)
    waves = (tiles + sm_count - 1) // sm_count
    per_k_group = ((tile_m + array_m - 1) // array_m) * ((tile_n + columns - 1) // columns) * w_bits \
        / (tensor_cores_per_sm * efficiency)
    tile_cycles = math.ceil(per_k_group * ((k + tile_overhead_k + g - 1) // g))
    overhead_cycles = math.ceil(per_k_group * ((tile_overhead_k + g - 1) // g))
    stream_k = math.ceil(tiles * (tile_cycles - overhead_cycles) / sm_count) + 2 * overhead_cycles
    return min(waves * tile_cycles, stream_k), tiles, waves


def lut_wave_kernel_py(m, n, k, count, w_bits, g, array_m, columns, tile_m, tile_n, sm_count,
                       tensor_cores_per_sm, efficiency, tile_overhead_k):
    """Pure-Python twin of :func:`lut_wave_kernel`."""
    tile_m = min(-(-tile_m // array_m) * array_m, -(-m // array_m) * array_m)
    tile_n = min(-(-tile_n // columns) * columns, -(-n // columns) * columns)
    tiles = count * -(-m // tile_m) * -(-n // tile_n)
    waves = -(-tiles // sm_count)
    per_k_group = -(-tile_m // array_m) * -(-tile_n // columns) * w_bits / (tensor_cores_per_sm * efficiency)
    tile_cycles = math.ceil(per_k_group * -(-(k + tile_overhead_k) // g))
    overhead_cycles = math.ceil(per_k_group * -(-tile_overhead_k // g))
    stream_k = math.ceil(tiles * (tile_cycles - overhead_cycles) / sm_count) + 2 * overhead_cycles
    return min(waves * tile_cycles, stream_k), tiles, waves


# (m, n, k, count, w_bits, g, array_m, columns, tile_m, tile_n, sm_count, tensor_cores_per_sm,
#  efficiency, tile_overhead_k): decode and prefill projections on A100-LUT-4X, a batched
# attention-like shape, a GEMV smaller than one tile, an odd shape with no overhead.
WAVE_EXAMPLES = (
    (1024, 3200, 3200, 1, 2, 4, 2, 256, 128, 128, 108, 4, 0.93, 32),
    (2048, 8640, 3200, 1, 2, 4, 2, 512, 128, 512, 108, 4, 0.93, 32),
    (1, 2, 100, 32768, 8, 4, 2, 256, 128, 256, 108, 4, 0.93, 32),
    (1, 4096, 4096, 1, 2, 4, 2, 64, 256, 128, 1, 1, 1.0, 0),
    (77, 300, 129, 3, 3, 5, 2, 64, 128, 128, 7, 2, 0.5, 17),
)


# The run path's entry (arch.tiered_kernel): the closed-form twin until a compile's worth of time, or the
# cached kernel.
LUT_WAVES = ColdAwareKernel(lut_wave_kernel, lut_wave_kernel_py)
