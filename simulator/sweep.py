"""Design-space sweeps: every combination of a ``sweep.grid`` is one run.

Grid keys are dotted paths into the experiment: ``workload.<field>`` or
``systems.<name>.arch.<field>`` (the latter becomes a ``set:`` override of that
system). Every point is expanded and validated before anything runs, so a bad
value in the grid is reported at once with its point. Points run in local worker
processes (``workers``, default: the machine's cores), or on a Dask cluster when a
scheduler address is given (:func:`run_points_on_dask`); results come back in
grid order whatever the executor or worker count, so the same sweep gives the
same table.

Every point is checked as ``xpusim run`` checks an experiment
(:func:`simulator.checks.check_experiment`). A system whose DRAM cannot hold the
point's weights and KV cache is not simulated at that point (``capacity: warn``:
simulated and marked); its row says ``fits: False`` and it never counts as a best
point or a Pareto point. :func:`run_sweep` runs the points durably: each finished
point is appended to the folder's journal (:mod:`simulator.journal`) and a rerun
resumes from it. Local workers exit when the sweep's process dies.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from simulator.checks import check_experiment, fitting_systems
from simulator.errors import InputError, Problem, suggest
from simulator.journal import Journal, round_trip
from simulator.experiment import Experiment, parse_experiment
from simulator.run import run_experiment
from simulator.schema import WorkloadSpec
from simulator.results import ExperimentResult
from workloads.yamlio import YamlError, load_yaml_file


@dataclass(frozen=True)
class SweepPoint:
    index: int
    values: tuple[tuple[str, Any], ...]
    experiment: Experiment  # the systems that run at this point (all, or those that fit)
    unfit: tuple[tuple[str, str], ...] = ()  # (system, capacity shortfall) of systems that do not fit
    skipped: tuple[str, ...] = ()  # unfit systems left out of ``experiment`` (capacity: fail)


def load_sweep(path: str | Path) -> tuple[dict, list[SweepPoint]]:
    try:
        raw = load_yaml_file(path)
    except YamlError as err:
        raise InputError(str(path), [Problem("", str(err).removeprefix(f"{path}: "))]) from None
    base = parse_experiment(raw, str(path), Path(path).parent)  # validates the base file first
    if base.spec.sweep is None:
        raise InputError(str(path), [Problem("sweep", "this file has no sweep: block (use `xpusim run`)")])
    return raw, expand(raw, str(path), Path(path).parent)


def expand(raw: Mapping, source: str, base_dir: Path) -> list[SweepPoint]:
    grid = raw["sweep"]["grid"]
    keys = list(grid)
    problems = [p for key in keys for p in check_key(key, raw)]
    problems += [Problem(f"sweep.grid.{key}", "an empty list gives no points: list at least one value")
                 for key in keys if not grid[key]]
    if problems:
        raise InputError(source, problems)
    points, problems = [], []
    for index, values in enumerate(itertools.product(*(grid[k] for k in keys))):
        variant = apply_values(raw, dict(zip(keys, values)))
        try:
            experiment = parse_experiment(variant, source, base_dir)
        except InputError as err:
            problems += _at_point(err.problems, index, keys, values)
            continue
        report = check_experiment(experiment, capacity_is_problem=False)
        if report.problems:
            problems += _at_point(report.problems, index, keys, values)
            continue
        points.append(_point(index, tuple(zip(keys, values)), experiment, report))
    if problems:
        raise InputError(source, problems)
    return points


def _at_point(found, index: int, keys: list[str], values: tuple) -> list[Problem]:
    where = ", ".join(f"{k}={v!r}" for k, v in zip(keys, values))
    return [Problem(p.path, f"{p.message} [sweep point {index}: {where}]") for p in found]


def _point(index: int, values: tuple, experiment: Experiment, report) -> SweepPoint:
    unfit = tuple(report.capacity.items())
    if not unfit or experiment.spec.capacity == "warn":
        return SweepPoint(index, values, experiment, unfit)
    running = dataclasses.replace(experiment, systems=fitting_systems(experiment, report))
    return SweepPoint(index, values, running, unfit, tuple(name for name, _ in unfit))


def check_key(key: str, raw: Mapping, block: str = "sweep.grid") -> list[Problem]:
    """Problems with a dotted key of a grid (or of a search's parameters, ``block``)."""
    parts = key.split(".")
    names = [s.get("name") for s in raw.get("systems", []) if isinstance(s, Mapping)]
    if parts[0] == "workload" and len(parts) == 2:
        fields = list(WorkloadSpec.model_fields)
        if parts[1] in fields:
            return []
        return [Problem(f"{block}.{key}", f"unknown workload key {parts[1]!r}{suggest(parts[1], fields)}")]
    if parts[0] == "systems" and ((len(parts) >= 4 and parts[2] == "arch") or (len(parts) == 4 and parts[2] == "mapping")):
        if parts[1] in names:
            return []  # the option's name and value are checked when each point is resolved
        return [Problem(f"{block}.{key}", f"no system named {parts[1]!r}{suggest(parts[1], names)}")]
    return [Problem(f"{block}.{key}", "expected 'workload.<field>', 'systems.<name>.arch.<field>' or "
                                      "'systems.<name>.mapping.<option>'")]


def apply_values(raw: Mapping, values: Mapping[str, Any]) -> dict:
    """A copy of ``raw`` with dotted ``values`` set (checked by :func:`check_key`), without sweep or search."""
    variant = copy.deepcopy(dict(raw))
    variant.pop("sweep", None)
    variant.pop("search", None)
    for key, value in values.items():
        parts = key.split(".")
        if parts[0] == "workload":
            variant["workload"][parts[1]] = value
            continue
        system = next(s for s in variant["systems"] if s.get("name") == parts[1])
        if parts[2] == "mapping":
            system["mapping"] = {**(system.get("mapping") or {}), parts[3]: value}
        else:
            system.setdefault("set", {})[".".join(parts[3:])] = value
    return variant


def run_points(points: list[SweepPoint], workers: int = 1,
               on_done: Callable[[int], None] | None = None) -> list[ExperimentResult]:
    experiments = [p.experiment for p in points]
    if workers <= 1:
        return list(_each(map(_run_one, experiments), on_done))
    with ProcessPoolExecutor(max_workers=workers, initializer=exit_with_parent, initargs=(os.getpid(),)) as pool:
        return list(_each(pool.map(_run_one, experiments, chunksize=max(1, len(points) // (8 * workers))), on_done))


def run_points_on_dask(points: list[SweepPoint], scheduler: str,
                       on_done: Callable[[int], None] | None = None,
                       connect_timeout_s: float = 10.0) -> list[ExperimentResult]:
    """Run the points on the Dask cluster at ``scheduler`` (``tcp://host:8786``), in grid order.

    Needs the ``dask`` extra (``pip install -e ".[dask]"``) on this machine and the
    package installed on the workers. A cluster that cannot be reached is an input
    error naming the address.
    """
    client, as_completed = _dask_client(scheduler, connect_timeout_s)
    with client:
        futures = client.map(_run_one, [p.experiment for p in points], pure=False)
        for count, _ in enumerate(as_completed(futures), start=1):
            if on_done:
                on_done(count)
        return client.gather(futures)


def _dask_client(scheduler: str, connect_timeout_s: float = 10.0):
    """A connected ``distributed.Client`` and its ``as_completed``; input errors naming ``--scheduler``."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError("sweep", [Problem("--scheduler", "needs dask.distributed: pip install -e \".[dask]\"")]) from None
    try:
        client = Client(scheduler, timeout=f"{connect_timeout_s}s")
    except (OSError, TimeoutError) as err:
        raise InputError("sweep", [Problem("--scheduler", f"cannot reach the Dask scheduler {scheduler!r}: {err}")]) from None
    return client, as_completed


def _each(results: Iterable[ExperimentResult], on_done) -> Iterable[ExperimentResult]:
    for count, result in enumerate(results, start=1):
        if on_done:
            on_done(count)
        yield result


def _run_one(experiment: Experiment) -> ExperimentResult:
    result = run_experiment(experiment)
    return ExperimentResult(result.name, result.version, result.seed, {}, result.systems,
                            result.baseline, result.failures, {})


def sweep_rows(points: list[SweepPoint], results: list[ExperimentResult]) -> list[dict[str, Any]]:
    """One row per (point, system): the grid values and the system's headline figures."""
    return [row for point, result in zip(points, results) for row in point_rows(point, result)]


def point_rows(point: SweepPoint, result: ExperimentResult) -> list[dict[str, Any]]:
    """The rows of one point, systems in the experiment's order; ``fits`` says whether weights + KV fit."""
    unfit = dict(point.unfit)
    by_name: dict[str, dict[str, Any]] = {}
    for system in result.systems:
        row = {"point": point.index, **dict(point.values), "system": system.name, "fits": system.name not in unfit}
        row.update({k: system.to_dict()[k] for k in (
            "cycles", "seconds", "tokens_per_s", "energy_j", "energy_per_token_j", "area_mm2", "utilisation")})
        warnings = list(system.warnings) + ([unfit[system.name]] if system.name in unfit else [])
        if warnings:
            row["warnings"] = " | ".join(warnings)
        by_name[system.name] = row
    for failure in result.failures:
        by_name[failure.system] = {"point": point.index, **dict(point.values), "system": failure.system,
                                   "fits": failure.system not in unfit, "error": failure.message}
    for name in point.skipped:
        by_name[name] = {"point": point.index, **dict(point.values), "system": name, "fits": False,
                         "capacity": unfit[name]}
    order = [entry.name for entry in point.experiment.spec.systems]
    return [by_name[name] for name in order if name in by_name] + \
           [row for name, row in by_name.items() if name not in order]


def run_sweep(points: list[SweepPoint], journal: Journal, workers: int = 1,
              on_done: Callable[[int], None] | None = None,
              scheduler: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """Every point's rows in grid order, running only the points ``journal`` lacks; and how many ran.

    Points run in ``workers`` local processes, or on the Dask cluster at
    ``scheduler``. Each finished point is appended to the journal at once, so a
    sweep killed at any moment loses at most the points in flight.
    """
    todo = [p for p in points if p.index not in journal.done]
    finished = len(points) - len(todo)
    if on_done:
        on_done(finished)
    for point, result in (_completed_on_dask(todo, scheduler) if scheduler else _completed(todo, workers)):
        journal.append(point.index, round_trip(point_rows(point, result)))
        finished += 1
        if on_done:
            on_done(finished)
    return [row for p in points for row in journal.done[p.index]], len(todo)


def _completed(points: list[SweepPoint], workers: int):
    """``(point, result)`` pairs as points finish (any order)."""
    if workers <= 1 or len(points) <= 1:
        for point in points:
            yield point, _run_one(point.experiment)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=exit_with_parent, initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(_run_one, p.experiment): p for p in points}
        for future in as_completed(futures):
            yield futures[future], future.result()


def _completed_on_dask(points: list[SweepPoint], scheduler: str):
    """``(point, result)`` pairs as the Dask cluster finishes them."""
    if not points:
        return
    client, as_completed = _dask_client(scheduler)
    with client:
        futures = client.map(_run_one, [p.experiment for p in points], pure=False)
        by_key = {future.key: point for future, point in zip(futures, points)}
        for future in as_completed(futures):
            yield by_key[future.key], future.result()


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
