"""Two-pass against three-pass softmax measured on this host (Dukhan and Ablavatski 2020).

Both algorithms run over an out-of-cache float32 vector as Numba-compiled loops sharing
one exp (a degree-5 polynomial on the reduced argument, scaled by 2**n through the
exponent bits). :func:`measure` takes the best of five runs of each, their errors against
float64 NumPy, and whether the host is memory bound at all: the three-pass loop's
achieved bytes per second (3 reads + 1 write) against a plain read loop's. These loops
are scalar Numba code, not the paper's hand-vectorised XNNPACK kernels: where they are
limited by their arithmetic, the speed-up does not test the traffic ratio, and
:func:`measure` reports that.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from numba import njit

LN2 = np.float32(math.log(2.0))
LOG2E = np.float32(1.0 / math.log(2.0))
BLOCK = 1024  # elements per inner block: the exp's scratch stays in L1


@njit(fastmath=True, inline="always", cache=True)
def _poly_exp(r):
    """exp(r) for |r| <= ln2 / 2: degree-5 Taylor polynomial (relative error < 3e-7)."""
    return np.float32(1.0) + r * (np.float32(1.0) + r * (np.float32(0.5) + r * (
        np.float32(1 / 6) + r * (np.float32(1 / 24) + r * np.float32(1 / 120)))))


@njit(fastmath=True, cache=True)
def _exp_block(x, start, shift, out, bits):
    """out[j] = exp(x[start + j] - shift) over one block, as poly(r) * 2**n (n >= -126)."""
    count = min(BLOCK, x.size - start)
    scale = bits.view(np.float32)
    for j in range(count):
        v = max(x[start + j] - shift, np.float32(-87.0))
        n = np.floor(v * LOG2E + np.float32(0.5))
        out[j] = _poly_exp(v - n * LN2)
        bits[j] = (np.int32(n) + np.int32(127)) << 23
    for j in range(count):
        out[j] *= scale[j]
    return count


@njit(fastmath=True, cache=True)
def softmax_three_pass_host(x, y):
    out, bits = np.empty(BLOCK, np.float32), np.empty(BLOCK, np.int32)
    top = np.float32(-np.inf)
    for i in range(x.size):  # pass 1: max
        top = max(top, x[i])
    total = 0.0
    for start in range(0, x.size, BLOCK):  # pass 2: sum of exp(x - max)
        for j in range(_exp_block(x, start, top, out, bits)):
            total += out[j]
    inv = np.float32(1.0 / total)
    for start in range(0, x.size, BLOCK):  # pass 3: exp(x - max) / sum
        for j in range(_exp_block(x, start, top, out, bits)):
            y[start + j] = out[j] * inv


@njit(fastmath=True, cache=True)
def softmax_two_pass_host(x, y):
    out, bits, exps = np.empty(BLOCK, np.float32), np.empty(BLOCK, np.int32), np.empty(BLOCK, np.float32)
    scale = bits.view(np.float32)
    sum_m, sum_e = 0.0, -1e30
    for start in range(0, x.size, BLOCK):  # pass 1: sum of (mantissa, exponent) pairs
        count = min(BLOCK, x.size - start)
        block_e = np.float32(-1e30)
        for j in range(count):
            exps[j] = np.floor(x[start + j] * LOG2E + np.float32(0.5))
            block_e = max(block_e, exps[j])
        for j in range(count):
            out[j] = _poly_exp(x[start + j] - exps[j] * LN2)
            bits[j] = (np.int32(max(exps[j] - block_e, np.float32(-126.0))) + np.int32(127)) << 23
        block_m = 0.0
        for j in range(count):
            block_m += out[j] * scale[j]
        top = max(sum_e, block_e)
        sum_m = sum_m * 2.0 ** (sum_e - top) + block_m * 2.0 ** (block_e - top)
        sum_e = top
    inv = np.float32(1.0 / sum_m)
    for start in range(0, x.size, BLOCK):  # pass 2: exp(x) / sum, as 2**-sum_e scaled pairs
        for j in range(_exp_block(x, start, np.float32(sum_e * LN2), out, bits)):
            y[start + j] = out[j] * inv


@njit(fastmath=True, cache=True)
def _read_all(x):
    total = np.float32(0.0)
    for i in range(x.size):
        total += x[i]
    return total


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
    read_bytes_per_s: float       # a plain read loop over the input
    three_pass_bytes_per_s: float  # 3 reads + 1 write over the three-pass time
    error_three_pass: float       # max |y - float64 softmax| / max value
    error_two_pass: float

    @property
    def speedup(self) -> float:
        return self.three_pass_s / self.two_pass_s

    @property
    def bandwidth_fraction(self) -> float:
        """The three-pass loop's achieved bytes/s over the read loop's (about 1 when memory bound)."""
        return self.three_pass_bytes_per_s / self.read_bytes_per_s


def measure(elements: int = 1 << 25, seed: int = 0) -> HostSoftmax:
    """Time both softmax loops over ``elements`` float32 values (default 128 MiB, out of cache)."""
    x = (np.random.default_rng(seed).standard_normal(elements) * 8).astype(np.float32)
    y = np.empty_like(x)
    for fn in (softmax_three_pass_host, softmax_two_pass_host):
        fn(x[:4 * BLOCK], y[:4 * BLOCK])  # compile
    _read_all(x)
    e = np.exp(x.astype(np.float64) - x.max())
    want = e / e.sum()
    errors = []
    for fn in (softmax_three_pass_host, softmax_two_pass_host):
        fn(x, y)
        errors.append(float(np.abs(y - want).max() / want.max()))
    three_s, two_s = best_seconds(softmax_three_pass_host, x, y), best_seconds(softmax_two_pass_host, x, y)
    return HostSoftmax(elements, x.nbytes, three_s, two_s, x.nbytes / best_seconds(_read_all, x),
                       4 * x.nbytes / three_s, errors[0], errors[1])
