"""Two-pass against three-pass softmax measured on this host (Dukhan and Ablavatski 2020).

Both algorithms run over an out-of-cache float32 vector as Numba-compiled loops that
share one vectorisable exp: Cody-Waite range reduction ``x = n ln2 + r`` and Cephes's
``expf`` polynomial for ``exp(r)`` (S. L. Moshier, Cephes Math Library, ``expf.c``),
scaled by ``2**n`` written straight into the float's exponent bits (an LLVM bitcast, so
the compiler keeps every loop in SIMD registers).

* three-pass: the max; the sum of ``exp(x - max)``; ``exp(x - max) / sum`` -- three reads
  and one write of the vector;
* two-pass: the sum of (mantissa, exponent) pairs ``exp(x) = m * 2**n``, with no max
  pass: each of 1,024 lanes (in L1) keeps a running pair, rescaled by powers of two as its
  exponent grows, and the lanes are merged by exponent; then ``m * 2**(n - N) / sum`` --
  two reads and one write.

Reductions run per position of a block and then across its lanes, because Numba's
compiler vectorises element-wise loops over a block but not a loop-carried max.

:func:`measure` takes the best of five runs of each, their errors against float64 NumPy,
a plain read loop and a read-and-write loop over the same vector, and whether the host is
memory bound for each algorithm: the time its traffic takes at those loops' rates over the
time it took (1 when memory bound). The ratio the traffic predicts is computed three ways: 4/3 as
the cost model counts bytes, 5/4 with write-allocate (each written line is read first),
and from the measured loops -- three-pass as two reads plus a read-and-write, two-pass as
one read plus a read-and-write.

Every loop (the softmax passes and the read and read-write loops) is cut into one
contiguous chunk per thread (``threads``, default every usable CPU), as XNNPACK's
threadpool cuts a batch: more cores add exp throughput while the memory's bandwidth stays
what it is, which is what makes a pass memory bound on a host whose one core computes an exp
slower than it reads a float.

How faithful: the paper's kernels are XNNPACK's hand-written AVX2 and AVX512 ones on
Skylake-X, these are compiled for whatever this host has.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic

LOG2E = np.float32(1.0 / math.log(2.0))
# Cephes expf.c: ln2 split as C1 + C2 (C1 exact in a few bits), and the polynomial of exp(r)
# on |r| <= ln2 / 2 as 1 + r + r**2 * P(r).
LN2_C1 = np.float32(0.693359375)
LN2_C2 = np.float32(-2.12194440e-4)
EXPF_P = tuple(np.float32(c) for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                                       4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1))
MIN_EXPONENT, MAX_EXPONENT = -126, 127  # float32 normal exponents; below is flushed to 0
FLOAT32_BIAS = 127
MANTISSA_BITS = 23
BLOCK = 1024  # lanes of the reductions: their running values stay in L1
P0, P1, P2, P3, P4, P5 = EXPF_P


@intrinsic
def _float32_from_bits(typingctx, bits):
    """Reinterpret an int32's bits as a float32 (no conversion)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


@njit(fastmath=True, inline="always", cache=True)
def _exponent(x):
    """n = round(x / ln2), as a float32."""
    return np.floor(x * LOG2E + np.float32(0.5))


@njit(fastmath=True, inline="always", cache=True)
def _mantissa(x, n):
    """m = exp(x - n ln2) by Cephes's expf polynomial (|x - n ln2| <= ln2 / 2)."""
    r = x - n * LN2_C1 - n * LN2_C2
    p = ((((P0 * r + P1) * r + P2) * r + P3) * r + P4) * r + P5
    return p * r * r + r + np.float32(1.0)


@njit(fastmath=True, inline="always", cache=True)
def _pow2(n):
    """2**n for an integer-valued float32 n; 0 below the smallest normal exponent (biased exponent 0)."""
    clamped = min(max(n, np.float32(MIN_EXPONENT - 1)), np.float32(MAX_EXPONENT))
    return _float32_from_bits((np.int32(clamped) + np.int32(FLOAT32_BIAS)) << MANTISSA_BITS)


@njit(fastmath=True, inline="always", cache=True)
def _exp(x):
    n = _exponent(x)
    return _mantissa(x, n) * _pow2(n)


@njit(fastmath=True, cache=True)
def _max(x):
    """max(x): a running max per position of a block (SIMD lanes), then across the lanes."""
    lanes = np.full(BLOCK, -np.inf, np.float32)
    for start in range(0, x.size, BLOCK):
        block = x[start:start + BLOCK]
        for i in range(block.size):
            lanes[i] = max(lanes[i], block[i])
    return lanes.max()


@njit(fastmath=True, cache=True)
def _sum_exp(x, shift):
    """sum of exp(x - shift): float32 within a block, float64 across blocks."""
    total = 0.0
    for start in range(0, x.size, BLOCK):
        block, block_sum = x[start:start + BLOCK], np.float32(0.0)
        for i in range(block.size):
            block_sum += _exp(block[i] - shift)
        total += block_sum
    return total


@njit(inline="always", cache=True)
def _chunk(x, part, parts):
    """The ``part``-th of ``parts`` contiguous chunks of ``x`` (the last may be shorter)."""
    size = -(-x.size // parts)
    return x[part * size:min(x.size, (part + 1) * size)]


@njit(fastmath=True, parallel=True, cache=True)
def _max_of_parts(x, parts):
    tops = np.empty(parts, np.float32)
    for part in prange(parts):
        tops[part] = _max(_chunk(x, part, parts))
    return tops.max()


@njit(fastmath=True, parallel=True, cache=True)
def _sum_exp_of_parts(x, shift, parts):
    sums = np.empty(parts, np.float64)
    for part in prange(parts):
        sums[part] = _sum_exp(_chunk(x, part, parts), shift)
    return sums.sum()


@njit(fastmath=True, parallel=True, cache=True)
def _normalise_three_pass(x, y, top, inv, parts):
    for part in prange(parts):
        xs, ys = _chunk(x, part, parts), _chunk(y, part, parts)
        for i in range(xs.size):
            ys[i] = _exp(xs[i] - top) * inv


@njit(fastmath=True, cache=True)
def softmax_three_pass_host(x, y, parts=1):
    """Three passes, each over ``parts`` contiguous chunks run by Numba's threads."""
    top = _max_of_parts(x, parts)  # pass 1: max
    inv = np.float32(1.0 / _sum_exp_of_parts(x, top, parts))  # pass 2: sum of exp(x - max)
    _normalise_three_pass(x, y, top, inv, parts)  # pass 3: exp(x - max) / sum


@njit(fastmath=True, cache=True)
def _pair_sum(x):
    """sum of exp(x) as (mantissa, exponent): per position of a block (SIMD lanes), a running pair
    (m, e) takes m_i * 2**n_i as m = m * 2**(e - e') + m_i * 2**(n_i - e') with e' = max(e, n_i);
    the lanes are then merged by exponent in float64."""
    lane_m = np.zeros(BLOCK, np.float32)
    lane_e = np.full(BLOCK, MIN_EXPONENT - 1.0, np.float32)  # any exponent; its mantissa is 0
    for start in range(0, x.size, BLOCK):
        block = x[start:start + BLOCK]
        for i in range(block.size):
            n = _exponent(block[i])
            top = max(lane_e[i], n)
            lane_m[i] = lane_m[i] * _pow2(lane_e[i] - top) + _mantissa(block[i], n) * _pow2(n - top)
            lane_e[i] = top
    return _merge_pairs(lane_m, lane_e)


@njit(cache=True)
def _merge_pairs(mantissas, exponents):
    """One (mantissa, exponent) pair, in float64, of several: scaled to the largest exponent and added."""
    sum_e = np.float64(exponents.max())
    sum_m = 0.0
    for i in range(mantissas.size):
        sum_m += np.float64(mantissas[i]) * 2.0 ** (np.float64(exponents[i]) - sum_e)
    return sum_m, sum_e


@njit(fastmath=True, parallel=True, cache=True)
def _pair_sum_of_parts(x, parts):
    mantissas, exponents = np.empty(parts, np.float64), np.empty(parts, np.float64)
    for part in prange(parts):
        mantissas[part], exponents[part] = _pair_sum(_chunk(x, part, parts))
    return _merge_pairs(mantissas, exponents)


@njit(fastmath=True, parallel=True, cache=True)
def _normalise_two_pass(x, y, shift, inv, parts):
    for part in prange(parts):
        xs, ys = _chunk(x, part, parts), _chunk(y, part, parts)
        for i in range(xs.size):
            n = _exponent(xs[i])
            ys[i] = _mantissa(xs[i], n) * _pow2(n - shift) * inv


@njit(fastmath=True, cache=True)
def softmax_two_pass_host(x, y, parts=1):
    """Two passes, each over ``parts`` contiguous chunks run by Numba's threads."""
    sum_m, sum_e = _pair_sum_of_parts(x, parts)  # pass 1: sum of (mantissa, exponent) pairs
    _normalise_two_pass(x, y, np.float32(sum_e), np.float32(1.0 / sum_m), parts)  # pass 2: m * 2**(n - N) / sum


@njit(fastmath=True, parallel=True, cache=True)
def _read_all(x, parts=1):
    totals = np.empty(parts, np.float32)
    for part in prange(parts):
        xs, total = _chunk(x, part, parts), np.float32(0.0)
        for i in range(xs.size):
            total += xs[i]
        totals[part] = total
    return totals.sum()


@njit(fastmath=True, parallel=True, cache=True)
def _read_write_all(x, y, parts=1):
    for part in prange(parts):
        xs, ys = _chunk(x, part, parts), _chunk(y, part, parts)
        for i in range(xs.size):
            ys[i] = xs[i] * np.float32(0.5)


def best_seconds(fn, *args, repeats: int = 5) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best


@dataclass(frozen=True)
class HostSoftmax:
    elements: int
    nbytes: int
    three_pass_s: float
    two_pass_s: float
    read_s: float                 # a plain read loop over the input
    read_write_s: float           # a loop reading the input and writing the output
    exp_sum_s: float              # the three-pass loop's second pass alone (sum of exp(x - max))
    error_three_pass: float       # max |y - float64 softmax| / max value
    error_two_pass: float
    threads: int = 1              # every loop's chunks, one per thread
    read_half_s: float = math.nan  # the read loop over the vector's first half

    @property
    def bytes_scale(self) -> float:
        """The whole read loop's time over twice the half one's: 1 where loop times scale with their bytes."""
        return self.read_s / (2 * self.read_half_s)

    @property
    def speedup(self) -> float:
        return self.three_pass_s / self.two_pass_s

    @property
    def read_bytes_per_s(self) -> float:
        return self.nbytes / self.read_s

    @property
    def three_pass_bytes_per_s(self) -> float:
        """3 reads + 1 write over the three-pass time."""
        return 4 * self.nbytes / self.three_pass_s

    @property
    def three_pass_memory_fraction(self) -> float:
        """The three-pass time its traffic takes at the measured loops' rates (2 reads + read-write), over the time it took."""
        return (2 * self.read_s + self.read_write_s) / self.three_pass_s

    @property
    def two_pass_memory_fraction(self) -> float:
        """The same for the two-pass loop (read + read-write)."""
        return (self.read_s + self.read_write_s) / self.two_pass_s

    @property
    def bandwidth_fraction(self) -> float:
        """The lower of the two memory fractions: about 1 when both loops are memory bound."""
        return min(self.three_pass_memory_fraction, self.two_pass_memory_fraction)

    @property
    def measured_traffic_ratio(self) -> float:
        """Three-pass over two-pass time as the measured loops predict: (2 reads + read-write) / (read + read-write)."""
        return (2 * self.read_s + self.read_write_s) / (self.read_s + self.read_write_s)


def softmax_inputs(elements: int, seed: int = 0) -> np.ndarray:
    """Normal scores with standard deviation 8 (float32)."""
    return (np.random.default_rng(seed).standard_normal(elements) * 8).astype(np.float32)


def relative_errors(x: np.ndarray, parts: int = 1) -> tuple[float, float]:
    """max |y - float64 softmax| / max value of the three- and two-pass loops on ``x``."""
    e = np.exp(x.astype(np.float64) - x.max())
    want = e / e.sum()
    y = np.empty_like(x)
    errors = []
    for fn in (softmax_three_pass_host, softmax_two_pass_host):
        fn(x, y, parts)
        errors.append(float(np.abs(y - want).max() / want.max()))
    return errors[0], errors[1]


def usable_threads() -> int:
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def measure(elements: int = 1 << 25, seed: int = 0, threads: int | None = None) -> HostSoftmax:
    """Time both softmax loops over ``elements`` float32 values (default 128 MiB, out of cache), every loop
    cut into ``threads`` chunks run in parallel (default: every usable CPU, so that compute, not the
    memory, is what more cores add)."""
    parts = threads or usable_threads()
    x = softmax_inputs(elements, seed)
    y = np.empty_like(x)
    errors = relative_errors(x, parts)  # compiles both loops too
    _read_all(x, parts), _read_write_all(x, y, parts)
    return HostSoftmax(elements, x.nbytes,
                       best_seconds(softmax_three_pass_host, x, y, parts),
                       best_seconds(softmax_two_pass_host, x, y, parts),
                       best_seconds(_read_all, x, parts), best_seconds(_read_write_all, x, y, parts),
                       best_seconds(_sum_exp_of_parts, x, np.float32(_max(x)), parts), *errors, threads=parts,
                       read_half_s=best_seconds(_read_all, x[:elements // 2], parts))
