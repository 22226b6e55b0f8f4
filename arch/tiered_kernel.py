"""A jitted cycle kernel called through its plain-Python twin until enough calls make compiling it pay.

Numba compiles a kernel on its first call, or loads it from its cache, and the
first jitted call of a process also sets up Numba's typing machinery: about a
second before the first result even with a warm cache, several seconds with an
empty one (``benchmarks/cold_start.py`` measures each command both ways). A run
that calls a kernel a handful of times -- one GEMM, one decode step of a few
distinct shapes -- is done sooner by the twin, which computes the same numbers
(each kernel is its twin compiled, and the conformance checker and the kernels'
tests check them equal on examples).

:class:`TieredKernel` calls the twin for the first ``twin_calls`` calls in a
process, then the jitted kernel. Each use chooses ``twin_calls`` from the two
costs it measured: the twin's time per call, against the jitted kernel's compile
and set-up time, so that the twin calls together cost well under what compiling
costs. ``XPUSIM_JIT_ALWAYS=1`` in the environment skips the twin (every call
jitted, for comparisons).
"""

from __future__ import annotations

import os
from typing import Callable


class TieredKernel:
    """``twin`` for the first ``twin_calls`` calls in this process, ``kernel`` after that."""

    def __init__(self, kernel: Callable, twin: Callable, twin_calls: int):
        self.kernel, self.twin, self.twin_calls = kernel, twin, twin_calls
        self.calls = 0

    def __call__(self, *args):
        if self.calls < self.twin_calls and not _JIT_ALWAYS:
            self.calls += 1
            return self.twin(*args)
        return self.kernel(*args)


_JIT_ALWAYS = os.environ.get("XPUSIM_JIT_ALWAYS", "") not in ("", "0")
