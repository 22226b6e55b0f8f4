"""Compiling jitted kernels in a child process, so that later processes find them in Numba's cache.

A :class:`~arch.tiered_kernel.ColdAwareKernel` whose kernel is not compiled on disk
answers from its twin while that costs less than compiling, and a later process
would find the cache just as empty and do the same again. So its first such call
also sends the kernel and the call's argument types (``numba.typeof`` of each
argument) here. Where two or more CPUs are usable, one child Python process per
parent -- started on the first request, later requests written to its standard
input -- compiles each kernel for those types (``Dispatcher.compile``, which runs
nothing) and writes it to the same Numba cache (``NUMBA_CACHE_DIR`` is inherited).
The child runs at the lowest CPU priority, and the parent never waits for it: it reads requests until the parent closes its
end (at exit at the latest), compiles what it was sent and exits. It is a new
interpreter, not a fork, so the parent's threads do not matter; its output goes
nowhere, so a parent whose output is read through a pipe is not held open by it.

What this does not do: two processes started together on an empty cache may both
compile a kernel; a request whose types cannot be pickled is dropped (the kernel is
then compiled by the first process that calls it often enough).
``XPUSIM_BACKGROUND_COMPILE=0`` turns the child off.
"""

from __future__ import annotations

import importlib
import os
import pickle
import subprocess
import sys

_CHILD: list[subprocess.Popen] = []  # the compiling child of this process, once started
_SENT: set[tuple[str, str, str]] = set()  # (module, function, signature) already requested
_PROGRAM = "from arch.background_compile import compile_requests; compile_requests(lowest_priority=True)"
_LENGTH_BYTES = 8  # each request: its pickle's length, then the pickle


def usable_cpus() -> int:
    """CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def start_child(program: str, stdin=subprocess.DEVNULL) -> subprocess.Popen | None:
    """A new interpreter running ``program`` with this process's import path, its output discarded (so a
    parent read through a pipe is not held open by it); None when no interpreter can be started."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    try:
        return subprocess.Popen([sys.executable, "-c", program], env=env, stdin=stdin,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        return None


def enabled() -> bool:
    """Whether requests start a child: two or more usable CPUs and not turned off."""
    return os.environ.get("XPUSIM_BACKGROUND_COMPILE", "1") != "0" and usable_cpus() >= 2


def request(dispatcher, args: tuple) -> bool:
    """Have the child compile ``dispatcher`` (a module-level Numba function) for ``args``' types; whether
    the request was sent (False: disabled, one CPU, types not picklable, or no child could start)."""
    if not enabled():
        return False
    try:
        from numba import typeof

        func = dispatcher.py_func
        signature = tuple(typeof(a) for a in args)
        job = pickle.dumps((func.__module__, func.__name__, signature))
    except Exception:  # noqa: BLE001 -- an argument numba cannot type or pickle: the caller compiles it later
        return False
    key = (func.__module__, func.__name__, str(signature))
    if key in _SENT:
        return True
    child = _child()
    if child is None:
        return False
    try:
        child.stdin.write(len(job).to_bytes(_LENGTH_BYTES, "little") + job)
        child.stdin.flush()
    except (OSError, ValueError):  # the child is gone
        return False
    _SENT.add(key)
    return True


def _child() -> subprocess.Popen | None:
    if _CHILD and _CHILD[0].poll() is None:
        return _CHILD[0]
    _CHILD.clear()
    child = start_child(_PROGRAM, stdin=subprocess.PIPE)
    if child is not None:  # else no interpreter to start: the parent compiles what it needs
        _CHILD.append(child)
    return child


def compile_requests(stream=None, lowest_priority: bool = False) -> int:
    """What the child runs: compile each request read from ``stream`` (stdin) until it ends; how many
    compiled. A request that fails to compile is skipped (the parent compiles, and reports, it itself).
    ``lowest_priority``: run at the lowest CPU priority first (``nice`` 19), so that on a busy machine the
    child takes only time the parent and its other children leave."""
    if lowest_priority and hasattr(os, "nice"):
        try:
            os.nice(19)
        except OSError:
            pass
    stream = sys.stdin.buffer if stream is None else stream
    compiled = 0
    while True:
        head = stream.read(_LENGTH_BYTES)
        if len(head) < _LENGTH_BYTES:
            return compiled
        job = stream.read(int.from_bytes(head, "little"))
        try:
            module, name, signature = pickle.loads(job)
            getattr(importlib.import_module(module), name).compile(signature)
            compiled += 1
        except Exception:  # noqa: BLE001 -- see the docstring
            continue
