"""Running sweep chunks: in this process, in local worker processes, or on a Dask cluster.

A chunk (:mod:`simulator.sweep_chunks`) is one task: the worker runs its points
back to back, so points sharing a schedule find it in the worker's engine cache,
and sends back one small result per point -- the point's table rows (built and
JSON round-tripped in the worker, as the journal stores them), or, for the Python
API, its :class:`~simulator.results.ExperimentResult` without timelines or
figures. An exception a point raises is caught in the worker and sent back with
its traceback, so the chunk's other points still return; the caller decides what
a failed point means. Chunks are yielded as they finish, in any order.

Each worker is started by :func:`warm_worker`: it imports the simulator and calls
every kernel of the sweep's accelerator kinds once (Numba loads or compiles them),
so that cost is paid once per worker and not inside the first chunk's timing. It
then freezes what the process holds (``gc.freeze``): modules, compiled kernels and
presets live as long as the worker, and the cyclic collector's full collections
during the sweep no longer traverse them (on a Dask worker they include the
worker's own machinery).
Local workers also exit when the sweep's process dies (:func:`exit_with_parent`).
"""

from __future__ import annotations

import gc
import os
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

from simulator.errors import InputError, Problem


@dataclass(frozen=True)
class PointOutcome:
    """What a worker sends back for one point: ``value`` (rows or a result), or ``error`` (a traceback)."""

    index: int
    value: Any = None
    error: str = ""


@dataclass(frozen=True)
class ChunkOutcome:
    points: tuple[PointOutcome, ...]
    simulated: int  # schedules this chunk simulated (engine cache misses), for benchmarks


def run_chunk(points: Sequence, as_rows: bool = True) -> ChunkOutcome:
    """Run ``points`` in order in this process; each point's rows (``as_rows``) or result, or its error."""
    from simulator.engine import simulation_cache_info

    before = simulation_cache_info().misses
    outcomes = []
    for point in points:
        try:
            outcomes.append(PointOutcome(point.index, _run_point(point, as_rows)))
        except Exception:  # noqa: BLE001 -- sent back whole; the sweep keeps the other points
            outcomes.append(PointOutcome(point.index, error=traceback.format_exc()))
    return ChunkOutcome(tuple(outcomes), simulation_cache_info().misses - before)


def _run_point(point, as_rows: bool):
    from simulator.journal import round_trip
    from simulator.results import ExperimentResult
    from simulator.run import run_experiment
    from simulator.sweep import point_rows

    result = run_experiment(point.experiment)
    result = ExperimentResult(result.name, result.version, result.seed, {}, result.systems,
                              result.baseline, result.failures, {})
    return round_trip(point_rows(point, result)) if as_rows else result


def kinds_of(points: Iterable) -> tuple[str, ...]:
    return tuple(sorted({system.kind for point in points for system in point.experiment.systems}))


def warm_worker(kinds: Sequence[str] = ()) -> None:
    """Import the simulator and call each kernel of ``kinds`` once (loads Numba's cache or compiles)."""
    import simulator.run  # noqa: F401 -- the import itself is the warm-up
    from arch import registry

    for kind in kinds:
        for _name, jitted, _twin, examples in registry.model_class(kind).kernel_twins():
            try:
                jitted(*examples[0])
            except Exception:  # noqa: BLE001 -- only a warm-up: the point that uses the kernel reports it
                pass
    gc.collect()
    gc.freeze()


def start_local_worker(parent_pid: int, kinds: Sequence[str]) -> None:
    exit_with_parent(parent_pid)
    warm_worker(kinds)


def chunks_in_process(chunks: Sequence, as_rows: bool = True) -> Iterator[ChunkOutcome]:
    """The chunks' points run here, in chunk order, each point yielded as its own outcome (finest progress)."""
    for chunk in chunks:
        for point in chunk.points:
            yield run_chunk((point,), as_rows)


def chunks_on_local_workers(chunks: Sequence, workers: int, as_rows: bool = True) -> Iterator[ChunkOutcome]:
    """Chunks run by ``workers`` processes (at most one per chunk), yielded as each finishes."""
    if min(workers, len(chunks)) <= 1:
        yield from chunks_in_process(chunks, as_rows)
        return
    kinds = kinds_of(p for chunk in chunks for p in chunk.points)
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), initializer=start_local_worker,
                             initargs=(os.getpid(), kinds)) as pool:
        pending = {pool.submit(run_chunk, chunk.points, as_rows) for chunk in chunks}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()


def chunks_on_dask(plan: Callable[[int], Sequence], scheduler: str, as_rows: bool = True,
                   connect_timeout_s: float = 10.0) -> Iterator[ChunkOutcome]:
    """Chunks run on the Dask cluster at ``scheduler``, yielded as each finishes.

    ``plan(slots)`` gives the chunks for the cluster's worker threads; every
    worker is warmed (:func:`warm_worker`) before the first chunk is sent.
    """
    client, as_completed = dask_client(scheduler, connect_timeout_s)
    with client:
        slots = sum(client.nthreads().values()) or 1
        chunks = plan(slots)
        if not chunks:
            return
        client.run(warm_worker, kinds_of(p for chunk in chunks for p in chunk.points))
        futures = [client.submit(run_chunk, chunk.points, as_rows, pure=False) for chunk in chunks]
        for future in as_completed(futures):
            outcome = future.result()
            future.release()
            yield outcome


def dask_client(scheduler: str, connect_timeout_s: float = 10.0):
    """A connected ``distributed.Client`` and its ``as_completed``; input errors naming ``--scheduler``."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError("sweep", [Problem("--scheduler", "needs dask.distributed: pip install -e \".[dask]\"")]) from None
    try:
        client = Client(scheduler, timeout=f"{connect_timeout_s}s")
    except (OSError, TimeoutError) as err:
        raise InputError("sweep", [Problem("--scheduler", f"cannot reach the Dask scheduler {scheduler!r}: {err}")]) from None
    except ValueError as err:  # not an address Dask can parse
        raise InputError("sweep", [Problem("--scheduler", f"{scheduler!r} is not a scheduler address ({err}): give "
                                                          "tcp://HOST:PORT")]) from None
    return client, as_completed


def exit_with_parent(parent_pid: int, poll_s: float = 0.5) -> None:
    """In a worker process: exit as soon as the process ``parent_pid`` is gone (or a zombie)."""
    if not _alive(parent_pid):
        os._exit(1)

    def watch() -> None:
        while _alive(parent_pid):
            time.sleep(poll_s)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _alive(pid: int) -> bool:
    if not os.path.isdir("/proc/self"):  # no procfs: ask the kernel whether the pid exists
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return False
