"""Drawing a run's figures on two cores: a forked child draws part of them while this process draws the rest.

matplotlib draws on one core; a run's five figures are independent, so where the
process may fork safely (a POSIX ``fork``, more than one CPU available to it, and no
other thread alive, since a forked child inherits only the calling thread), the
figures are split into two groups of about equal drawing time, a child draws one
group and sends the PNG bytes back through a pipe, and this process draws the other.
Each figure is drawn by the same function from the same result either way, so the
bytes are identical to drawing them all here; if the child fails for any reason its
figures are drawn here instead, so a figure is never lost.

:func:`prestart` goes one step further for a command that will draw figures: called
before the simulation, it forks a *drawing child* that imports matplotlib (about a
third of a second) on the other core while this process simulates;
:func:`draw_prestarted` then sends it the result (pickled through a pipe) and it draws
the figures, itself on two cores as above, so this process never imports matplotlib.
:func:`discard_prestarted` ends a child that was not needed (a run that failed).
"""

from __future__ import annotations

import os
import pickle
import threading
from typing import Callable, Mapping, Sequence

# Relative drawing times of the run figures on the quickstart (python benchmarks/figure_speed.py prints
# them); they only balance the two groups, a figure missing here counts as 1.
_RELATIVE_COST = {"timeline.png": 3.4, "roofline.png": 1.6, "area.png": 1.6, "energy.png": 1.3}


def can_fork() -> bool:
    """Whether a child may be forked to draw: POSIX fork, two or more usable CPUs, no other thread."""
    if not hasattr(os, "fork") or threading.active_count() != 1:
        return False
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    return len(usable) > 1


def split(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """(the child's names, this process's names): the costliest first, each to the lighter group."""
    groups: tuple[list[str], list[str]] = ([], [])
    loads = [0.0, 0.0]
    for name in sorted(names, key=lambda n: -_RELATIVE_COST.get(n, 1.0)):
        lighter = 0 if loads[0] <= loads[1] else 1
        groups[lighter].append(name)
        loads[lighter] += _RELATIVE_COST.get(name, 1.0)
    return groups


def draw_all(draw: Mapping[str, Callable[[], bytes]], names: Sequence[str]) -> dict[str, bytes]:
    """PNG bytes of every name in ``names`` (in that order), drawn on two cores where :func:`can_fork`."""
    if len(names) < 2 or not can_fork():
        return {name: draw[name]() for name in names}
    child_names, own_names = split(names)
    drawn = _fork_and_draw(draw, child_names, own_names)
    for name in names:  # whatever the child did not send back
        if name not in drawn:
            drawn[name] = draw[name]()
    return {name: drawn[name] for name in names}


def _fork_and_draw(draw, child_names: list[str], own_names: list[str]) -> dict[str, bytes]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: draw, send, leave without running the parent's exit handlers
        os.close(read_end)
        status = 1
        try:
            payload = pickle.dumps({name: draw[name]() for name in child_names})
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    drawn = {name: draw[name]() for name in own_names}
    with os.fdopen(read_end, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status == 0 and payload:
        drawn.update(pickle.loads(payload))
    return drawn


_PRESTARTED: list[tuple[int, int, int]] = []  # (pid, request pipe's write end, reply pipe's read end)


def prestart() -> bool:
    """Fork the drawing child now, if this process may fork and has none; whether one is waiting."""
    if _PRESTARTED:
        return True
    if not can_fork():
        return False
    request_read, request_write = os.pipe()
    reply_read, reply_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(request_write)
        os.close(reply_read)
        _serve(request_read, reply_write)
    os.close(request_read)
    os.close(reply_write)
    _PRESTARTED.append((pid, request_write, reply_read))
    return True


def _serve(request_read: int, reply_write: int) -> None:
    """The drawing child: import the figures, wait for one result, draw it, reply, exit (never returns)."""
    status = 1
    try:
        from reports.figures import run_figures  # the import this child exists to do early

        with os.fdopen(request_read, "rb") as pipe:
            request = pipe.read()
        if request:  # an empty request: the figures are not wanted
            reply = pickle.dumps(run_figures(pickle.loads(request)), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(reply_write, "wb") as pipe:
                pipe.write(reply)
        status = 0
    finally:
        os._exit(status)


def draw_prestarted(result) -> dict[str, bytes] | None:
    """Every run figure of ``result`` drawn by the prestarted child; None if there is none or it failed."""
    if not _PRESTARTED:
        return None
    pid, request_write, reply_read = _PRESTARTED.pop()
    try:
        with os.fdopen(request_write, "wb") as pipe:
            pipe.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
        with os.fdopen(reply_read, "rb") as pipe:
            reply = pipe.read()
    except OSError:
        reply = b""
    finally:
        _, status = os.waitpid(pid, 0)
    return pickle.loads(reply) if status == 0 and reply else None


def discard_prestarted() -> None:
    """End a drawing child whose figures were not asked for (it reads an empty request and exits)."""
    while _PRESTARTED:
        pid, request_write, reply_read = _PRESTARTED.pop()
        os.close(request_write)
        os.close(reply_read)
        os.waitpid(pid, 0)
