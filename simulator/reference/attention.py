"""Reference kernels of the softmax and attention algorithms the cost models can choose, in Numba CUDA.

Each kernel computes what its algorithm computes, in float32, in the order the
algorithm does it, so that a test can check the algorithm on numbers against a
float64 NumPy attention (:func:`attention_float64`). They are written for
clarity and for Numba's CUDA simulator (one thread per row, small compile-time
tiles), not for speed.

* Softmax over rows: :func:`softmax_three_pass` (max; sum of ``exp(x - max)``;
  ``exp(x - max) / sum``: three reads and one write of ``x``),
  :func:`softmax_two_pass` (Dukhan and Ablavatski, "The Two-Pass Softmax
  Algorithm", 2020: each ``exp(x)`` is held as a (mantissa, exponent) pair
  ``m * 2**e`` with ``e = round(x / ln 2)``, so the sum never overflows and no
  max pass is needed: two reads and one write) and :func:`softmax_online`
  (Milakov and Gimelshein 2018: running max and running sum in one pass,
  rescaled when the max grows; two reads and one write).
* :func:`flash2_attention`: FlashAttention-2's forward pass (Dao 2023): one
  block per (head, tile of ``BR`` query rows), one pass over K and V in tiles of
  ``BC`` positions staged in shared memory, running max and running sum per row,
  the output accumulated unnormalised and divided by the sum once at the end.
* :func:`flashdecoding_attention`: FlashDecoding's split-KV decode attention
  (Dao, Haziza, Massa, Sizov 2023): ``splits`` blocks per head, each an online
  softmax over its chunk of the KV cache writing a normalised partial output and
  its log-sum-exp; a second kernel rescales and sums the partials.
* :func:`flashdecoding_pp_attention`: FlashDecoding++'s asynchronous softmax
  (Hong et al. 2024): every chunk subtracts one unified max value ``phi``
  fixed in advance instead of its running max, so the chunks need no
  synchronised rescaling and the reduction is a plain sum. A chunk that sees a
  score with ``x - phi`` outside ``(-bound, bound)`` flags its row, and flagged
  heads are recomputed with the synchronised split-KV kernels (the paper's
  overflow fallback); :class:`Decoded` says how many were.
* :func:`run_fused_op`: a workload's fused ``attention`` op run on seeded data
  with the kernel its fields (``kv_splits``, ``softmax_scheme``) name.

The tolerance a result should meet is :func:`tolerance`: the float32 summation
bound used by :mod:`simulator.reference.checks`. With ``NUMBA_ENABLE_CUDASIM=1``
the kernels run in Numba's CUDA simulator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import cuda, float32

from workloads.op import Op, OpKind, SoftmaxScheme

LN2 = math.log(2.0)
BR = 4   # query rows per FlashAttention-2 block (threads per block); small for the simulator
BC = 8   # KV positions per shared-memory tile
D_MAX = 32  # largest head dimension the kernels' local accumulators hold
# Largest |x - phi| FlashDecoding++'s asynchronous kernel accepts before it falls back:
# float32 exp overflows above ln(FLT_MAX) = 88.72 (IEEE 754 binary32); 80 leaves e^8.7
# (about 6000x) of headroom for the sum of a chunk's terms.
FP32_EXP_BOUND = 80.0


# -- softmax ---------------------------------------------------------------------------
@cuda.jit
def _softmax_three_pass_kernel(x, y):
    """Pass 1: max; pass 2: sum of exp(x - max); pass 3: y = exp(x - max) / sum."""
    r = cuda.grid(1)
    if r >= x.shape[0]:
        return
    top = x[r, 0]
    for j in range(1, x.shape[1]):
        top = max(top, x[r, j])
    total = float32(0.0)
    for j in range(x.shape[1]):
        total += math.exp(x[r, j] - top)
    for j in range(x.shape[1]):
        y[r, j] = math.exp(x[r, j] - top) / total


@cuda.jit(device=True)
def _exp_pair(value):
    """exp(value) as (mantissa, exponent): m * 2**e with e = round(value / ln 2), m in [2**-0.5, 2**0.5]."""
    e = round(value / LN2)
    return math.exp(value - e * LN2), e


@cuda.jit
def _softmax_two_pass_kernel(x, y):
    """Pass 1: sum of exp(x) as a (mantissa, exponent) pair; pass 2: y = exp(x) / sum."""
    r = cuda.grid(1)
    if r >= x.shape[0]:
        return
    sum_m, sum_e = float32(0.0), -(1 << 30)
    for j in range(x.shape[1]):
        m, e = _exp_pair(x[r, j])
        if e > sum_e:  # rescale the running sum to the larger exponent
            sum_m = math.ldexp(sum_m, sum_e - e) + m if sum_m != 0 else m
            sum_e = e
        else:
            sum_m += math.ldexp(m, e - sum_e)
    for j in range(x.shape[1]):
        m, e = _exp_pair(x[r, j])
        y[r, j] = math.ldexp(m / sum_m, e - sum_e)


@cuda.jit
def _softmax_online_kernel(x, y):
    """Pass 1: running max and running sum, rescaled when the max grows; pass 2: outputs."""
    r = cuda.grid(1)
    if r >= x.shape[0]:
        return
    top, total = x[r, 0], float32(1.0)
    for j in range(1, x.shape[1]):
        new_top = max(top, x[r, j])
        total = total * math.exp(top - new_top) + math.exp(x[r, j] - new_top)
        top = new_top
    for j in range(x.shape[1]):
        y[r, j] = math.exp(x[r, j] - top) / total


def _rows(kernel, x: np.ndarray) -> np.ndarray:
    x32 = np.ascontiguousarray(x, np.float32)
    y = cuda.device_array(x32.shape, np.float32)
    threads = 32
    kernel[(x32.shape[0] + threads - 1) // threads, threads](cuda.to_device(x32), y)
    return y.copy_to_host()


def softmax_three_pass(x: np.ndarray) -> np.ndarray:
    return _rows(_softmax_three_pass_kernel, x)


def softmax_two_pass(x: np.ndarray) -> np.ndarray:
    return _rows(_softmax_two_pass_kernel, x)


def softmax_online(x: np.ndarray) -> np.ndarray:
    return _rows(_softmax_online_kernel, x)


# -- FlashAttention-2 --------------------------------------------------------------------
@cuda.jit(device=True)
def _load_tile(src, head, start, tile):
    """Threads of the block copy positions [start, start + BC) of src[head] into ``tile`` (zeros past the end)."""
    n, d = src.shape[1], src.shape[2]
    for idx in range(cuda.threadIdx.x, BC * d, cuda.blockDim.x):
        j, c = idx // d, idx % d
        tile[j, c] = src[head, start + j, c] if start + j < n else float32(0.0)


@cuda.jit(device=True)
def _score(q, k_tile, head, row, j):
    """q[head, row] . k_tile[j] in float32 (unscaled)."""
    s = float32(0.0)
    for c in range(q.shape[2]):
        s += q[head, row, c] * k_tile[j, c]
    return s


@cuda.jit(device=True)
def _online_tiles(q, k, v, head, row, first, last, scale, acc, k_tile, v_tile, state):
    """Online softmax of row ``row`` over positions [first, last): acc += p v unnormalised; state = (max, sum)."""
    d = q.shape[2]
    top, total = state[0], state[1]
    for start in range(first, last, BC):
        cuda.syncthreads()
        _load_tile(k, head, start, k_tile)
        _load_tile(v, head, start, v_tile)
        cuda.syncthreads()
        if row < q.shape[1]:
            for j in range(min(BC, last - start)):
                s = _score(q, k_tile, head, row, j) * scale
                new_top = max(top, s)
                shrink, p = math.exp(top - new_top), math.exp(s - new_top)
                total = total * shrink + p
                for c in range(d):
                    acc[c] = acc[c] * shrink + p * v_tile[j, c]
                top = new_top
    state[0], state[1] = top, total


@cuda.jit
def _flash2_kernel(q, k, v, o, scale):
    head, row = cuda.blockIdx.x, cuda.blockIdx.y * BR + cuda.threadIdx.x
    k_tile = cuda.shared.array((BC, D_MAX), float32)
    v_tile = cuda.shared.array((BC, D_MAX), float32)
    acc = cuda.local.array(D_MAX, float32)
    state = cuda.local.array(2, float32)
    for c in range(D_MAX):
        acc[c] = 0.0
    state[0], state[1] = -math.inf, 0.0
    _online_tiles(q, k, v, head, row, 0, k.shape[1], scale, acc, k_tile, v_tile, state)
    if row < q.shape[1]:
        for c in range(q.shape[2]):  # one division per output element, after the loop
            o[head, row, c] = acc[c] / state[1]


def _shapes(q: np.ndarray, k: np.ndarray, v: np.ndarray):
    if q.ndim != 3 or k.shape != v.shape or k.shape[::2] != q.shape[::2]:
        raise ValueError(f"expected q (heads, rows, d), k and v (heads, kv, d); got {q.shape}, {k.shape}, {v.shape}")
    if q.shape[2] > D_MAX:
        raise ValueError(f"head dimension {q.shape[2]} exceeds the kernels' D_MAX = {D_MAX}")
    return tuple(cuda.to_device(np.ascontiguousarray(a, np.float32)) for a in (q, k, v))


def flash2_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
    """softmax(q k^T / sqrt(d)) v per head, one pass over K/V: q (heads, rows, d), k and v (heads, kv, d)."""
    dq, dk, dv = _shapes(q, k, v)
    o = cuda.device_array(q.shape, np.float32)
    grid = (q.shape[0], (q.shape[1] + BR - 1) // BR)
    _flash2_kernel[grid, BR](dq, dk, dv, o, np.float32(1.0 / math.sqrt(q.shape[2])))
    return o.copy_to_host()


# -- FlashDecoding: split-KV partials and their reduction ---------------------------------
@cuda.jit
def _split_kv_kernel(q, k, v, o_part, lse_part, chunk, scale):
    """Block (head, split): online softmax over positions [split * chunk, (split + 1) * chunk)."""
    head, split, row = cuda.blockIdx.x, cuda.blockIdx.y, cuda.threadIdx.x
    k_tile = cuda.shared.array((BC, D_MAX), float32)
    v_tile = cuda.shared.array((BC, D_MAX), float32)
    acc = cuda.local.array(D_MAX, float32)
    state = cuda.local.array(2, float32)
    for c in range(D_MAX):
        acc[c] = 0.0
    state[0], state[1] = -math.inf, 0.0
    first = split * chunk
    _online_tiles(q, k, v, head, row, first, min(first + chunk, k.shape[1]), scale, acc, k_tile, v_tile, state)
    if row < q.shape[1]:
        for c in range(q.shape[2]):
            o_part[head, split, row, c] = acc[c] / state[1]
        lse_part[head, split, row] = state[0] + math.log(state[1])


@cuda.jit
def _split_reduce_kernel(o_part, lse_part, o):
    """o = sum_s exp(lse_s - max lse) o_s / sum_s exp(lse_s - max lse); one thread per (head, row)."""
    head, row = cuda.blockIdx.x, cuda.threadIdx.x
    if row >= o.shape[1]:
        return
    splits = lse_part.shape[1]
    top = lse_part[head, 0, row]
    for s in range(1, splits):
        top = max(top, lse_part[head, s, row])
    total = float32(0.0)
    for s in range(splits):
        total += math.exp(lse_part[head, s, row] - top)
    for c in range(o.shape[2]):
        acc = float32(0.0)
        for s in range(splits):
            acc += math.exp(lse_part[head, s, row] - top) * o_part[head, s, row, c]
        o[head, row, c] = acc / total


def _splits(kv_len: int, splits: int) -> tuple[int, int]:
    if not isinstance(splits, int) or splits < 1:
        raise ValueError(f"splits must be a positive integer, got {splits!r}")
    chunk = -(-kv_len // splits)
    return -(-kv_len // chunk), chunk  # no empty split


def flashdecoding_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, splits: int) -> np.ndarray:
    """Split-KV attention: ``splits`` partial blocks per head, then the rescaling reduction."""
    dq, dk, dv = _shapes(q, k, v)
    heads, rows, d = q.shape
    splits, chunk = _splits(k.shape[1], splits)
    o_part = cuda.device_array((heads, splits, rows, d), np.float32)
    lse_part = cuda.device_array((heads, splits, rows), np.float32)
    _split_kv_kernel[(heads, splits), rows](dq, dk, dv, o_part, lse_part, chunk,
                                            np.float32(1.0 / math.sqrt(d)))
    o = cuda.device_array(q.shape, np.float32)
    _split_reduce_kernel[heads, rows](o_part, lse_part, o)
    return o.copy_to_host()


# -- FlashDecoding++: unified max, asynchronous partials, fallback ------------------------
@cuda.jit
def _unified_max_kernel(q, k, v, o_part, l_part, overflow, chunk, scale, phi, bound):
    """Block (head, split): acc = sum exp(s - phi) v, l = sum exp(s - phi), no running max, no rescaling."""
    head, split, row = cuda.blockIdx.x, cuda.blockIdx.y, cuda.threadIdx.x
    k_tile = cuda.shared.array((BC, D_MAX), float32)
    v_tile = cuda.shared.array((BC, D_MAX), float32)
    acc = cuda.local.array(D_MAX, float32)
    for c in range(D_MAX):
        acc[c] = 0.0
    total = float32(0.0)
    first = split * chunk
    last = min(first + chunk, k.shape[1])
    d = q.shape[2]
    for start in range(first, last, BC):
        cuda.syncthreads()
        _load_tile(k, head, start, k_tile)
        _load_tile(v, head, start, v_tile)
        cuda.syncthreads()
        if row < q.shape[1]:
            for j in range(min(BC, last - start)):
                shifted = _score(q, k_tile, head, row, j) * scale - phi
                if shifted >= bound or shifted <= -bound:
                    overflow[head, row] = 1  # this row's result is recomputed
                p = math.exp(min(shifted, bound))
                total += p
                for c in range(d):
                    acc[c] += p * v_tile[j, c]
    if row < q.shape[1]:
        for c in range(d):
            o_part[head, split, row, c] = acc[c]
        l_part[head, split, row] = total


@cuda.jit
def _sum_reduce_kernel(o_part, l_part, o):
    """o = sum_s o_s / sum_s l_s: the partials share one max, so they add without rescaling."""
    head, row = cuda.blockIdx.x, cuda.threadIdx.x
    if row >= o.shape[1]:
        return
    total = float32(0.0)
    for s in range(l_part.shape[1]):
        total += l_part[head, s, row]
    for c in range(o.shape[2]):
        acc = float32(0.0)
        for s in range(l_part.shape[1]):
            acc += o_part[head, s, row, c]
        o[head, row, c] = acc / total


@dataclass(frozen=True)
class Decoded:
    """FlashDecoding++'s output and the heads its overflow check flagged (recomputed when falling back)."""

    output: np.ndarray
    overflow_heads: tuple[int, ...]


def flashdecoding_pp_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, splits: int, phi: float,
                               bound: float = FP32_EXP_BOUND, fallback: bool = True) -> Decoded:
    """Asynchronous split-KV attention with unified max ``phi``; heads whose scores leave
    ``(phi - bound, phi + bound)`` are recomputed with :func:`flashdecoding_attention`
    (with ``fallback=False`` they are only reported, their asynchronous result kept)."""
    if not 0 < bound <= FP32_EXP_BOUND:
        raise ValueError(f"bound must be in (0, {FP32_EXP_BOUND}] (float32 exp range), got {bound!r}")
    dq, dk, dv = _shapes(q, k, v)
    heads, rows, d = q.shape
    splits, chunk = _splits(k.shape[1], splits)
    o_part = cuda.device_array((heads, splits, rows, d), np.float32)
    l_part = cuda.device_array((heads, splits, rows), np.float32)
    overflow = cuda.to_device(np.zeros((heads, rows), np.int32))
    _unified_max_kernel[(heads, splits), rows](dq, dk, dv, o_part, l_part, overflow, chunk,
                                               np.float32(1.0 / math.sqrt(d)), np.float32(phi),
                                               np.float32(bound))
    o = cuda.device_array(q.shape, np.float32)
    _sum_reduce_kernel[heads, rows](o_part, l_part, o)
    output = o.copy_to_host()
    flagged = tuple(int(h) for h in np.flatnonzero(overflow.copy_to_host().any(axis=1)))
    if flagged and fallback:
        index = list(flagged)
        output[index] = flashdecoding_attention(q[index], k[index], v[index], splits)
    return Decoded(output, flagged)


# -- the float64 reference and the tolerance -----------------------------------------------
def softmax_float64(x: np.ndarray) -> np.ndarray:
    x64 = np.asarray(x, np.float64)
    e = np.exp(x64 - x64.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attention_float64(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
    """softmax(q k^T / sqrt(d)) v per head in float64, max-subtracted."""
    q64, k64, v64 = (np.asarray(a, np.float64) for a in (q, k, v))
    scores = q64 @ k64.transpose(0, 2, 1) / math.sqrt(q.shape[2])
    return softmax_float64(scores) @ v64


def tolerance(reference: np.ndarray, depth: int) -> float:
    """float32 summation bound over ``depth`` terms: 4 x depth x eps x max(1, |reference|)."""
    return float(4 * depth * np.finfo(np.float32).eps * max(1.0, float(np.abs(reference).max())))


# -- a workload's fused op, run on numbers ----------------------------------------------------
def run_fused_op(op: Op, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Run a fused ``attention`` op's shapes on seeded data with the kernel its fields name.

    ``count`` instances of ``m`` query rows over ``k`` positions of head dimension
    ``n``; ``kv_splits > 1`` runs the split-KV kernels with that many splits, the
    unified-max scheme with ``phi = 0``. Returns (kernel output, float64 reference).
    """
    if op.kind is not OpKind.ATTENTION:
        raise ValueError(f"op {op.name!r}: expected an attention op, got {op.kind.value}")
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((op.count, op.m, op.n)).astype(np.float32)
    k, v = (rng.standard_normal((op.count, op.k, op.n)).astype(np.float32) for _ in range(2))
    if op.softmax_scheme is SoftmaxScheme.UNIFIED_MAX:
        got = flashdecoding_pp_attention(q, k, v, op.kv_splits, phi=0.0).output
    elif op.kv_splits > 1:
        got = flashdecoding_attention(q, k, v, op.kv_splits)
    else:
        got = flash2_attention(q, k, v)
    return got, attention_float64(q, k, v)
