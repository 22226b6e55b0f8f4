"""Reference kernels in Numba CUDA: GEMM, row softmax, attention and split-K GEMV.

Each kernel is written for clarity, not speed: one thread per output element,
float32 accumulation, shared-memory tiles of ``TILE x TILE`` for the GEMM (one
kernel, the tile size fixed at compile time). Host wrappers copy NumPy arrays to
the device, launch, and copy the result back. With ``NUMBA_ENABLE_CUDASIM=1`` the
same code runs in Numba's CUDA simulator.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda, float32

from simulator.reference.attention import softmax_three_pass

TILE = 8  # threads per block side; small so the CUDA simulator stays fast


@cuda.jit
def _gemm_kernel(a, b, c):
    """c = a @ b, float32; a (m x k), b (k x n); shared-memory tiles of TILE x TILE."""
    a_tile = cuda.shared.array((TILE, TILE), float32)
    b_tile = cuda.shared.array((TILE, TILE), float32)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    col = cuda.blockIdx.x * TILE + tx
    row = cuda.blockIdx.y * TILE + ty
    m, k = a.shape
    n = b.shape[1]
    acc = float32(0.0)
    for t in range((k + TILE - 1) // TILE):
        ak, bk = t * TILE + tx, t * TILE + ty
        a_tile[ty, tx] = a[row, ak] if row < m and ak < k else float32(0.0)
        b_tile[ty, tx] = b[bk, col] if bk < k and col < n else float32(0.0)
        cuda.syncthreads()
        for i in range(TILE):
            acc += a_tile[ty, i] * b_tile[i, tx]
        cuda.syncthreads()
    if row < m and col < n:
        c[row, col] = acc


@cuda.jit
def _gemv_split_k_kernel(w, x, partial):
    """partial[p, j] = sum over the p-th slice of k of w[i, j] * x[i]; one thread per (slice, column)."""
    j, p = cuda.grid(2)
    k, n = w.shape
    parts = partial.shape[0]
    if j >= n or p >= parts:
        return
    size = (k + parts - 1) // parts
    acc = float32(0.0)
    for i in range(p * size, min((p + 1) * size, k)):
        acc += w[i, j] * x[i]
    partial[p, j] = acc


def gemm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a32, b32 = np.ascontiguousarray(a, np.float32), np.ascontiguousarray(b, np.float32)
    m, n = a32.shape[0], b32.shape[1]
    c = cuda.device_array((m, n), np.float32)
    grid = ((n + TILE - 1) // TILE, (m + TILE - 1) // TILE)
    _gemm_kernel[grid, (TILE, TILE)](cuda.to_device(a32), cuda.to_device(b32), c)
    return c.copy_to_host()


def softmax_rows(x: np.ndarray) -> np.ndarray:
    """Max-subtracted softmax of each row (the three-pass kernel of :mod:`simulator.reference.attention`)."""
    return softmax_three_pass(x)


def attention(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
    """softmax(q k^T / sqrt(d)) v for one head: q (s_q x d), k and v (s_kv x d)."""
    scores = gemm(q, np.ascontiguousarray(k.T)) / np.float32(math.sqrt(q.shape[1]))
    return gemm(softmax_rows(scores), v)


def gemv_split_k(w: np.ndarray, x: np.ndarray, parts: int) -> np.ndarray:
    """Per-slice partial sums (parts x n) of x @ w with the reduction cut into ``parts`` slices."""
    w32, x32 = np.ascontiguousarray(w, np.float32), np.ascontiguousarray(x, np.float32)
    partial = cuda.device_array((parts, w32.shape[1]), np.float32)
    grid = ((w32.shape[1] + TILE - 1) // TILE, (parts + TILE - 1) // TILE)
    _gemv_split_k_kernel[grid, (TILE, TILE)](cuda.to_device(w32), cuda.to_device(x32), partial)
    return partial.copy_to_host()
