"""Reference kernels of LUT mpGEMM in Numba CUDA: tables, symmetrised lookup, bit-serial planes.

What runs on numbers (``../shared/LUT_AND_WAFER.md`` §1.1.1; LUT Tensor Core, ISCA'25
§3.1-3.2):

* :func:`build_tables`: one thread per (row, group of ``g`` activations) builds
  the group's table. Full tables (``2^g`` entries): ``T[b] = sum_i a_i b_i``.
  Symmetrised tables (``2^(g-1)`` entries, weights reinterpreted as +-1):
  ``T[b] = a_{g-1} + sum_{i<g-1} a_i (2 b_i - 1)`` -- the entry for the weight
  bits ``b`` with the top bit set; a top bit of 0 reads ``-T[~b]``. With
  ``entry_bits`` the table is quantised per table (one scale, the largest
  magnitude over ``2^(entry_bits-1) - 1``, round to nearest; §3.1.3).
* :func:`lut_gemm`: the LUT GEMM executed by the tile plan of an
  ``array_m x array_n x g`` LUT array: one block per (M tile, N tile), one thread
  per MUX unit; per group the block stages its ``array_m`` tables in shared memory
  (counted: table entries read), and per bit plane each thread looks its entry up
  (counted: lookups), negates it by the sign bit for symmetrised tables, shifts it
  by the plane index and accumulates.
* :func:`reference_gemm`: the dequantised-weight GEMM, float64 on the host.

Weights are unsigned ``w_bits``-bit codes ``q`` with a scale ``s`` and zero point
``z`` per output column: ``r = s (q - z)``. Full tables give ``A @ Q``;
symmetrised ones give ``A @ Q'`` with ``Q' = 2Q - (2^W - 1)`` and the paper's
``s' = s / 2, z' = 2z + 1 - 2^W`` (Eq. 2), so both end in the same
``A @ r``. Without table quantisation the result is exact for integer
activations (float64 sums of small integers); with it, each lookup is off by at
most half its table's scale, so ``|error| <= (2^W - 1) / 2 x sum_groups scale x |s'|``
per output (:func:`quantisation_bound`). With ``NUMBA_ENABLE_CUDASIM=1`` the
kernels run in Numba's CUDA simulator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import cuda, float64

AM_MAX = 4    # largest array_m the shared-memory table tile holds
E_MAX = 32    # largest table (entries) it holds: g <= 5 full, g <= 6 symmetrised


@cuda.jit
def _tables_kernel(acts, g, symmetric, levels, tables, scales):
    """tables[row, group, b] and one scale per table (0: not quantised)."""
    row, group = cuda.grid(2)
    if row >= acts.shape[0] or group >= tables.shape[1]:
        return
    entries = tables.shape[2]
    base = group * g
    top = float64(0.0)
    for b in range(entries):
        total = float64(0.0)
        for i in range(g):
            a = acts[row, base + i] if base + i < acts.shape[1] else float64(0.0)
            bit = (b >> i) & 1
            if symmetric:
                total += a if (i == g - 1 or bit == 1) else -a
            else:
                total += a * bit
        tables[row, group, b] = total
        top = max(top, abs(total))
    scale = top / levels if levels > 0 and top > 0 else float64(0.0)
    scales[row, group] = scale
    if scale > 0:
        for b in range(entries):
            tables[row, group, b] = round(tables[row, group, b] / scale) * scale


@cuda.jit
def _lut_gemm_kernel(tables, codes, w_bits, g, symmetric, out, counts):
    """out[m, n] = sum over groups and planes of +-T[...] x 2^plane; counts[0] lookups, counts[1] entry reads."""
    am = cuda.blockDim.y
    tile = cuda.shared.array((AM_MAX, E_MAX), float64)
    ty, tx = cuda.threadIdx.y, cuda.threadIdx.x
    row = cuda.blockIdx.y * am + ty
    col = cuda.blockIdx.x * cuda.blockDim.x + tx
    m, groups, entries = tables.shape
    n = codes.shape[1]
    acc = float64(0.0)
    for group in range(groups):
        if tx == 0:   # the block stages its array_m tables (one broadcast per pass)
            for e in range(entries):
                tile[ty, e] = tables[row, group, e] if row < m else float64(0.0)
                cuda.atomic.add(counts, 1, 1)
        cuda.syncthreads()
        for plane in range(w_bits):
            bits = 0
            for i in range(g):
                k = group * g + i
                if k < codes.shape[0] and col < n:
                    bits |= ((codes[k, col] >> plane) & 1) << i
            if symmetric:
                low = bits & ((1 << (g - 1)) - 1)
                value = tile[ty, low] if (bits >> (g - 1)) & 1 else -tile[ty, (~low) & ((1 << (g - 1)) - 1)]
            else:
                value = tile[ty, bits]
            acc += value * (1 << plane)
            cuda.atomic.add(counts, 0, 1)
        cuda.syncthreads()
    if row < m and col < n:
        out[row, col] = acc


@dataclass(frozen=True)
class LutResult:
    out: np.ndarray            # (m x n) dequantised output
    lookups: int               # thread-lookups executed, padding included
    table_entry_reads: int     # table entries staged into the arrays
    scales: np.ndarray         # per (row, group) table scale; 0 = not quantised


def build_tables(acts: np.ndarray, g: int, symmetric: bool, entry_bits: int | None = None):
    """Tables (m x groups x entries) and their scales, on the device."""
    m, k = acts.shape
    groups, entries = -(-k // g), 2 ** (g - 1) if symmetric else 2 ** g
    tables = np.zeros((m, groups, entries))
    scales = np.zeros((m, groups))
    levels = 2 ** (entry_bits - 1) - 1 if entry_bits else 0
    grid = (-(-m // 4), -(-groups // 4))
    _tables_kernel[grid, (4, 4)](np.ascontiguousarray(acts, dtype=np.float64), g, symmetric, levels, tables, scales)
    return tables, scales


def lut_gemm(acts, codes, col_scales, col_zeros, w_bits: int, g: int = 4, symmetric: bool = True,
             entry_bits: int | None = None, array_m: int = 2, array_n: int = 8) -> LutResult:
    """``acts (m x k) @ dequant(codes (k x n))`` by table lookup on an ``array_m x array_n x g`` tile plan."""
    if array_m > AM_MAX or (2 ** (g - 1) if symmetric else 2 ** g) > E_MAX:
        raise ValueError(f"array_m <= {AM_MAX} and at most {E_MAX} table entries in the reference kernel")
    tables, scales = build_tables(acts, g, symmetric, entry_bits)
    m, n = acts.shape[0], codes.shape[1]
    m_pad = -(-m // array_m) * array_m
    padded = np.zeros((m_pad,) + tables.shape[1:])
    padded[:m] = tables
    raw, counts = np.zeros((m_pad, n)), np.zeros(2, dtype=np.int64)
    grid = (-(-n // array_n), m_pad // array_m)
    _lut_gemm_kernel[grid, (array_n, array_m)](padded, np.ascontiguousarray(codes, dtype=np.int64), w_bits, g,
                                               symmetric, raw, counts)
    raw = raw[:m]
    row_sums = acts.sum(axis=1, keepdims=True)
    s, z = np.asarray(col_scales, dtype=np.float64), np.asarray(col_zeros, dtype=np.float64)
    if symmetric:   # A @ Q' with Q' = 2Q - (2^W - 1): r = s' (q' - z'), s' = s/2, z' = 2z + 1 - 2^W (Eq. 2)
        out = (s / 2) * (raw - (2 * z + 1 - 2 ** w_bits) * row_sums)
    else:
        out = s * (raw - z * row_sums)
    return LutResult(out, int(counts[0]), int(counts[1]), scales)


def reference_gemm(acts, codes, col_scales, col_zeros) -> np.ndarray:
    """The dequantised-weight GEMM in float64."""
    return np.asarray(acts, dtype=np.float64) @ (np.asarray(col_scales) * (codes - np.asarray(col_zeros)))


def quantisation_bound(result: LutResult, col_scales, w_bits: int, symmetric: bool = True) -> np.ndarray:
    """Per-output bound on the error of quantised tables: (2^W - 1)/2 x sum of table scales x |s'|."""
    per_row = result.scales.sum(axis=1, keepdims=True) * (2 ** w_bits - 1) / 2
    s = np.abs(np.asarray(col_scales, dtype=np.float64)) / (2 if symmetric else 1)
    return per_row * s
