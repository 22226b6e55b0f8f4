"""Drawing a run's figures in worker processes started before the simulation.

matplotlib takes about half a second to import and a tenth of a second or more per figure
to draw, which on a small run is more than the simulation. :func:`start` forks worker
processes that import the plotting code while the caller simulates; :func:`draw` sends them
the result, each draws its share of the figures (the costliest first, spread over the
workers) and the bytes come back. The bytes are those :func:`reports.figures.run_figures`
draws in the calling process (``tests/test_figure_workers.py``).

Safety: workers are forked only where ``fork`` exists and the caller has no other thread
running (forking a threaded process can leave a lock held in the child); otherwise, and
whenever a worker fails (it raised, it died, it was never started), the figures are drawn in
the calling process, so a figure is never missing and an error is the one the serial
drawing gives. Workers are daemon processes: they are killed once their figures are back (or on
:func:`stop`), end when the caller ends, and end when the pipe to the caller closes.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from typing import Sequence

from simulator.results import ExperimentResult

COST_ORDER = ("timeline.png", "roofline.png", "area.png", "energy.png", "time.png")  # costliest first
MAX_WORKERS = 2
_workers: list[tuple[multiprocessing.Process, object]] = []


def start(workers: int | None = None) -> int:
    """Start up to ``workers`` figure workers (default: at most 2, one per usable core); return how many run."""
    stop()
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return 0
    count = min(MAX_WORKERS, _usable_cores()) if workers is None else workers
    context = multiprocessing.get_context("fork")
    for _ in range(count):
        parent_end, child_end = context.Pipe()
        process = context.Process(target=_serve, args=(child_end,), daemon=True)
        process.start()
        child_end.close()
        _workers.append((process, parent_end))
    return len(_workers)


def draw(result: ExperimentResult, names: Sequence[str] | None = None) -> dict[str, bytes]:
    """The run's figures by file name, drawn by the workers if they run, else here; the workers then stop."""
    from reports.figures import run_figure_names, run_figures

    wanted = run_figure_names(result) if names is None else list(names)
    drawn: dict[str, bytes] = {}
    if _workers and wanted:
        drawn = _draw_on_workers(result, wanted)
    stop()
    missing = [name for name in wanted if name not in drawn]
    if missing:
        drawn.update(run_figures(result, missing))
    return {name: drawn[name] for name in wanted}


def stop() -> None:
    """End every worker at once (they hold no state worth keeping; a clean exit of a process that has
    imported matplotlib takes longer than drawing a figure)."""
    while _workers:
        process, pipe = _workers.pop()
        pipe.close()
        if process.is_alive():
            process.kill()
        process.join()


def _draw_on_workers(result: ExperimentResult, wanted: list[str]) -> dict[str, bytes]:
    ordered = sorted(wanted, key=lambda name: COST_ORDER.index(name) if name in COST_ORDER else len(COST_ORDER))
    shares = [ordered[i::len(_workers)] for i in range(len(_workers))]
    busy = []
    for (process, pipe), share in zip(_workers, shares):
        if not share:
            continue
        try:
            pipe.send((result, share))
            busy.append(pipe)
        except (OSError, ValueError):
            continue
    drawn: dict[str, bytes] = {}
    for pipe in busy:
        try:
            reply = pipe.recv()
        except (EOFError, OSError):
            continue  # the worker died: its figures are drawn by the caller
        if isinstance(reply, dict):
            drawn.update(reply)
    return drawn


def _serve(pipe) -> None:
    """A worker: import the plotting code, then draw each request until told to stop."""
    try:
        from reports.figures import run_figures

        while True:
            request = pipe.recv()
            if request is None:
                return
            result, names = request
            try:
                pipe.send(run_figures(result, names))
            except Exception:  # noqa: BLE001  the caller draws these itself and raises there, with context
                pipe.send(None)
    except (EOFError, OSError, KeyboardInterrupt):
        return


def _usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)
