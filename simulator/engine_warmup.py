"""Compiling the event kernel in a child process while this process goes on simulating in SimPy.

With an empty Numba cache the jitted event kernel (:mod:`simulator.engine_event_kernel`)
takes several seconds to compile, so a process that finds no cached kernel keeps to
SimPy for a while first (:func:`simulator.engine._event_tier`). Where two or more CPUs
are usable it also starts, at that moment, a child Python process that compiles the
kernel on the other core -- on a two-task example, which is all compiling needs, since
the kernel's argument types do not depend on the schedule -- and writes it to Numba's
cache (the same ``NUMBA_CACHE_DIR``, inherited). Once the child is done, this process
loads the kernel from the cache (a fraction of a second) instead of compiling it; if it
would need the kernel before then, it waits for the child rather than compiling it a
second time. The child is a new interpreter, not a fork, so threads of this process (a
progress display, say) do not matter. A child still compiling when the command ends
finishes on its own and leaves the cache filled for the next command. Timelines do not
depend on any of this: the kernel gives SimPy's timeline event for event.
"""

from __future__ import annotations

import subprocess

from arch.background_compile import start_child, usable_cpus

_CHILD: list[subprocess.Popen] = []  # the compiling child, while it runs
_STARTED: list[bool] = []  # one entry once a child was started in this process
_COMPILE = "from simulator.engine_warmup import compile_example; compile_example()"


def start() -> bool:
    """Start the compiling child unless one runs or only one CPU is usable; whether one runs now."""
    if _CHILD:
        return True
    if usable_cpus() < 2:
        return False
    child = start_child(_COMPILE)
    if child is None:  # no interpreter to start: this process compiles when it needs the kernel
        return False
    _CHILD.append(child)
    _STARTED.append(True)
    return True


def start_if_uncached() -> bool:
    """For a command that will need the event kernel: start the compiling child now (rather than at the first
    contended schedule) when Numba's cache lacks the kernel; whether a child runs now."""
    from simulator.engine_event_kernel import compiled_on_disk

    return not compiled_on_disk() and start()


def compile_example() -> None:
    """What the child runs: the event kernel on the example schedule (compiled and cached on the way)."""
    from simulator.engine_events import event_timeline

    event_timeline(example_schedule())


def running() -> bool:
    """Whether a compiling child is still at work (a finished one is forgotten here)."""
    if not _CHILD:
        return False
    if _CHILD[0].poll() is None:
        return True
    _CHILD.clear()
    return False


def finished() -> bool:
    """Whether a compiling child was started in this process and is done (the cache holds the kernel)."""
    return bool(_STARTED) and not running()


def wait() -> None:
    """Wait for the compiling child, if any, to finish."""
    if _CHILD:
        _CHILD.pop().wait()


def example_schedule():
    """Two tasks at once on two instances of a unit, contending for one memory (so not in closed form):
    enough for the kernel to be compiled for every schedule."""
    from arch.contract import Memory, OpCost, Traffic, Unit
    from mappers.schedule import Schedule, Task
    from workloads.op import Op, OpKind

    memory = Memory("dram", bytes_per_cycle=4)
    unit = Unit("pe", frozenset(OpKind), count=2)
    cost = OpCost("pe", 8, traffic=(Traffic("dram", 64, 16, 1.0),), steps=2)
    op = Op("op", OpKind.GEMM, 1, 1, 1)
    tasks = (Task("a", op, "pe", 0, cost, (), "a"), Task("b", op, "pe", 1, cost, (), "b"))
    return Schedule(tasks, (unit,), (memory,), 1e9)
