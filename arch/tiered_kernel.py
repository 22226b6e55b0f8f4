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
process, or until the twin's calls have taken ``twin_budget_s`` seconds in all,
then the jitted kernel. A use that can tell beforehand how long the twin would take for a call
(``twin_estimate_s``) sends a call the twin would take past the budget straight to the kernel,
so one large call does not run in the twin first. Each use chooses them from the two costs it measured: the
twin's time per call against the jitted kernel's compile and set-up time, so
that the twin calls together cost well under what compiling costs. ``XPUSIM_JIT_ALWAYS=1`` in the environment skips the twin (every call
jitted, for comparisons).
"""

from __future__ import annotations

import os
import time
from typing import Callable


class TieredKernel:
    """``twin`` for the first ``twin_calls`` calls in this process, or until they have taken ``twin_budget_s``
    seconds in all, then ``kernel``."""

    def __init__(self, kernel: Callable, twin: Callable, twin_calls: int, twin_budget_s: float = float("inf"),
                 twin_estimate_s: Callable[..., float] | None = None):
        self.kernel, self.twin, self.twin_calls, self.twin_budget_s = kernel, twin, twin_calls, twin_budget_s
        self.twin_estimate_s = twin_estimate_s
        self.calls, self.twin_s = 0, 0.0

    @property
    def jitted(self) -> bool:
        """True once calls go to the jitted kernel."""
        return _JIT_ALWAYS or self.calls >= self.twin_calls or self.twin_s >= self.twin_budget_s

    def __call__(self, *args):
        if self.jitted:
            return self.kernel(*args)
        if self.twin_estimate_s is not None and self.twin_s + self.twin_estimate_s(*args) > self.twin_budget_s:
            self.twin_s = self.twin_budget_s  # the kernel's set-up is paid now: later calls use it too
            return self.kernel(*args)
        self.calls += 1
        start = time.perf_counter()
        try:
            return self.twin(*args)
        finally:
            self.twin_s += time.perf_counter() - start


_JIT_ALWAYS = os.environ.get("XPUSIM_JIT_ALWAYS", "") not in ("", "0")
