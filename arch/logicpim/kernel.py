"""Stall-free cycles and buffer reads of one GEMM on the logic-die processing units.

What it models
--------------
Each logic-die unit is a bank of ``lanes`` dot-product lanes, each multiplying
``dot_width`` reduction elements per cycle (``lanes x dot_width`` MACs per
cycle). A GEMM instance (m x k) @ (k x n) is cut into output tiles of ``lanes``
columns; the ``count x ceil(n / lanes)`` tiles are dealt out to the units round
robin. A unit streams its tile's weights (or K/V) from the DRAM dies once and,
for each of the ``m`` activation rows held in its buffer, spends
``ceil(k / dot_width)`` cycles on the tile.

When there are fewer tiles than units, each tile's reduction is split over
``s`` units, ``s`` the largest power of two not above ``units // tiles`` nor the
reduction steps, and the partial sums are added in a tree of ``log2(s)``
levels, one cycle per level and row. So

    k_steps = ceil(k / dot_width)
    cycles  = ceil(tiles * s / units) * m * ceil(k_steps / s) + m * log2(s)

(``s`` = 1 when the tiles fill the units). Powers of two keep the cost
monotone: halving ``s`` adds at least one step per row and removes one tree
level. Every activation element is read from a buffer once per tile that uses
it (``buffer_reads = count * m * k * ceil(n / lanes)`` words, each broadcast to
the tile's lanes). Padding of the last tile and of the reduction is charged as
whole cycles, as a fixed-width datapath would.

Not captured: the DRAM-die side (activations, row-buffer conflicts; the engine
contends the logic-die bandwidth as one pipe), per-tile pipeline fill, and the
wires that carry partial sums between units (the tree costs cycles, no energy
beyond the adds counted as MACs' accumulations).
"""

from __future__ import annotations

from numba import njit

from arch.tiered_kernel import ColdAwareKernel


@njit(cache=True)
def pim_gemm_kernel(m, n, k, count, units, lanes, dot_width):
    """(cycles, buffer word reads) of ``count`` GEMMs m x k x n (Numba)."""
    col_tiles = (n + lanes - 1) // lanes
    tiles = count * col_tiles
    k_steps = (k + dot_width - 1) // dot_width
    split, levels = 1, 0
    while split * 2 <= units // tiles and split * 2 <= k_steps:
        split *= 2
        levels += 1
    rounds = (tiles * split + units - 1) // units
    cycles = rounds * m * ((k_steps + split - 1) // split) + m * levels
    return cycles, count * m * k * col_tiles


def pim_gemm_kernel_py(m, n, k, count, units, lanes, dot_width):
    """Pure-Python twin of :func:`pim_gemm_kernel` (same arithmetic, same result)."""
    col_tiles = -(-n // lanes)
    tiles = count * col_tiles
    k_steps = -(-k // dot_width)
    split = 1
    while split * 2 <= min(units // tiles, k_steps):
        split *= 2
    levels = split.bit_length() - 1
    cycles = -(-tiles * split // units) * m * -(-k_steps // split) + m * levels
    return cycles, count * m * k * col_tiles


# The run path's entry (arch.tiered_kernel): the closed-form twin until a compile's worth of time, or the
# cached kernel.
PIM_GEMM = ColdAwareKernel(pim_gemm_kernel, pim_gemm_kernel_py)
