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

:class:`ColdAwareKernel` sets the twin's budget from Numba's on-disk cache and sends a
kernel it finds uncompiled to :mod:`arch.background_compile`, so that later processes
find it compiled. :func:`plain_python` makes a twin out of the kernel itself: its
source, and that of every jitted helper it calls, run by the interpreter.
"""

from __future__ import annotations

import os
import time
import types
from typing import Callable

from arch import background_compile


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


# Twin seconds a closed-form family kernel is given when its first call would compile it: compiling one took
# 0.1-0.3 s on a 2-core machine with an empty NUMBA_CACHE_DIR (lut_mpgemm_kernel 0.27 s, lut_wave_kernel
# 0.17 s, logicpim's pim_gemm_kernel 0.11 s), while their twins take microseconds a call.
# benchmarks/cold_start.py lists the kernels each command compiles.
UNCACHED_TWIN_BUDGET_S = 0.3


def compiled_on_disk(dispatcher) -> bool:
    """Whether Numba's on-disk cache holds ``dispatcher`` compiled from its current source (else its first
    call compiles it). A Numba without these internals counts as not cached."""
    try:
        return bool(dispatcher._cache._cache_file._load_index())
    except Exception:  # noqa: BLE001 -- no cache, or other Numba internals: assume it compiles
        return False


class ColdAwareKernel(TieredKernel):
    """A :class:`TieredKernel` whose twin budget is set at its first call from Numba's cache: ``cached_s``
    when the kernel is compiled on disk (0: straight to the kernel, as loading it costs little),
    ``uncached_s`` when its first call would compile it -- about what compiling it costs, so that a command
    calling it briefly never compiles it and one calling it a lot pays at most twice the compile time.
    A kernel found uncompiled is also sent to :mod:`arch.background_compile` with its first call's
    arguments, so that the processes after this one find it compiled."""

    def __init__(self, kernel: Callable, twin: Callable, uncached_s: float = UNCACHED_TWIN_BUDGET_S,
                 cached_s: float = 0.0,
                 dispatcher=None, twin_estimate_s: Callable[..., float] | None = None):
        super().__init__(kernel, twin, twin_calls=1 << 62, twin_budget_s=float("inf"),
                         twin_estimate_s=twin_estimate_s)
        self.uncached_s, self.cached_s = uncached_s, cached_s
        self.dispatcher = kernel if dispatcher is None else dispatcher
        self._budget_set = False

    def __call__(self, *args):
        if not self._budget_set:
            self._budget_set = True
            cached = compiled_on_disk(self.dispatcher)
            self.twin_budget_s = self.cached_s if cached else self.uncached_s
            if not cached and self.dispatcher is self.kernel and not _JIT_ALWAYS:
                background_compile.request(self.kernel, args)  # for the processes after this one
        return super().__call__(*args)


def plain_python(dispatcher) -> Callable:
    """``dispatcher``'s own Python source run as plain Python, every jitted function it calls likewise.

    A kernel's ``py_func`` still calls the jitted helpers it names, so calling it
    compiles them; this returns a copy of the function whose globals name the
    helpers' plain copies instead (recursively, each helper with its own module's
    globals), so nothing is compiled. The copy computes what the kernel computes,
    slower: Python integers do not wrap where the kernel's int64 would (no kernel
    here relies on wrapping). Anything not a Numba dispatcher is returned as is.
    """
    return _plain(dispatcher, {})


def _plain(value, done: dict):
    func = getattr(value, "py_func", None)
    if func is None or not hasattr(value, "signatures"):  # not a Numba dispatcher
        return value
    if id(value) in done:
        return done[id(value)]
    names = dict(func.__globals__)
    copy = types.FunctionType(func.__code__, names, func.__name__, func.__defaults__, func.__closure__)
    copy.__doc__, copy.__qualname__, copy.__module__ = func.__doc__, func.__qualname__, func.__module__
    done[id(value)] = copy
    for name in _global_names(func.__code__):
        if name in names:
            names[name] = _plain(names[name], done)
    return copy


def _global_names(code) -> set[str]:
    """The names ``code`` and the code objects nested in it (comprehensions) may look up as globals."""
    found = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found |= _global_names(const)
    return found
