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
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from simulator import sweep_workers
from simulator.checks import check_experiment, fitting_systems
from simulator.errors import InputError, Problem, suggest
from simulator.journal import Journal
from simulator.experiment import Experiment, parse_experiment
from simulator.schema import WorkloadSpec
from simulator.results import ExperimentResult
from simulator.sweep_chunks import Chunk, make_chunks, probe_worthwhile, schedule_keys
from simulator.sweep_workers import ChunkOutcome, PointOutcome, chunks_on_dask, chunks_on_local_workers
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
    variant = copy.deepcopy({key: value for key, value in raw.items() if key not in ("sweep", "search")})
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


def plan_chunks(points: list[SweepPoint], workers: int) -> list[Chunk]:
    """The chunks ``points`` run in: groups that share schedules kept whole (:mod:`simulator.sweep_chunks`)."""
    keys = schedule_keys(points) if probe_worthwhile(points) else None
    return make_chunks(points, workers, keys)


def run_points(points: list[SweepPoint], workers: int = 1,
               on_done: Callable[[int], None] | None = None) -> list[ExperimentResult]:
    """Every point's result (without timelines) in grid order, run in chunks on ``workers`` local processes.

    A point that raises (a bug, not a failed system: those are results) raises
    :class:`SweepPointError` once every other point has run.
    """
    outcomes = chunks_on_local_workers(plan_chunks(points, workers), workers, as_rows=False)
    return _in_grid_order(points, _counted(outcomes, on_done))


def run_points_on_dask(points: list[SweepPoint], scheduler: str,
                       on_done: Callable[[int], None] | None = None,
                       connect_timeout_s: float = 10.0) -> list[ExperimentResult]:
    """Run the points on the Dask cluster at ``scheduler`` (``tcp://host:8786``), in grid order.

    Needs the ``dask`` extra (``pip install -e ".[dask]"``) on this machine and the
    package installed on the workers. A cluster that cannot be reached is an input
    error naming the address. Points go in chunks, as on local workers.
    """
    outcomes = chunks_on_dask(lambda workers: plan_chunks(points, workers), scheduler, as_rows=False,
                              connect_timeout_s=connect_timeout_s)
    return _in_grid_order(points, _counted(outcomes, on_done))


class SweepPointError(RuntimeError):
    """Points that raised while running; every other point ran (and, in a sweep, was journaled)."""

    def __init__(self, failed: list[tuple[SweepPoint, str]]) -> None:
        self.failed = failed
        point, trace = failed[0]
        where = ", ".join(f"{k}={v!r}" for k, v in point.values)
        more = f" (and {len(failed) - 1} more points)" if len(failed) > 1 else ""
        super().__init__(f"sweep point {point.index} ({where}) raised{more}; the other points ran. "
                         f"Its traceback:\n{trace}")


def _counted(outcomes: Iterable[ChunkOutcome], on_done) -> Iterable[PointOutcome]:
    finished = 0
    for chunk in outcomes:
        yield from chunk.points
        finished += len(chunk.points)
        if on_done:
            on_done(finished)


def _in_grid_order(points: list[SweepPoint], outcomes: Iterable[PointOutcome]) -> list:
    by_index = {outcome.index: outcome for outcome in outcomes}
    failed = [(p, by_index[p.index].error) for p in points if by_index[p.index].error]
    if failed:
        raise SweepPointError(failed)
    return [by_index[p.index].value for p in points]


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


# A row's figures and texts (point_rows): each figure a number >= 0, or none of them (a failed or skipped system).
ROW_FIGURES = ("cycles", "seconds", "tokens_per_s", "energy_j", "energy_per_token_j", "area_mm2", "utilisation")
ROW_TEXTS = ("system", "error", "capacity", "warnings")


def is_sweep_row(row: dict) -> bool:
    """Whether a row read back from a journal is one :func:`point_rows` writes (else the journal is not resumed)."""
    if not isinstance(row.get("system"), str) or not isinstance(row.get("fits"), bool):
        return False
    if any(not isinstance(row[k], str) for k in ROW_TEXTS if k in row):
        return False
    figures = [row[k] for k in ROW_FIGURES if k in row]
    return not figures or (len(figures) == len(ROW_FIGURES) and all(map(_is_figure, figures)))


def _is_figure(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < math.inf


def run_sweep(points: list[SweepPoint], journal: Journal, workers: int = 1,
              on_done: Callable[[int], None] | None = None,
              scheduler: str | None = None, stats: dict[str, int] | None = None) -> tuple[list[dict[str, Any]], int]:
    """Every point's rows in grid order, running only the points ``journal`` lacks; and how many ran.

    Points run in chunks on ``workers`` local processes, or on the Dask cluster
    at ``scheduler``; each chunk's rows are appended to the journal as it comes
    back, so a sweep killed at any moment loses at most the chunks in flight. A
    point that raises is not journaled (a rerun tries it again); the other points
    still run and are journaled, then :class:`SweepPointError` is raised.
    ``stats``, if given, receives the number of ``chunks`` and of schedules
    ``simulated`` (engine cache misses summed over the workers).
    """
    todo = [p for p in points if p.index not in journal.done]
    by_index = {p.index: p for p in todo}
    finished = len(points) - len(todo)
    if on_done:
        on_done(finished)
    if not todo:
        outcomes = iter(())
    elif scheduler:
        outcomes = chunks_on_dask(lambda n: plan_chunks(todo, n), scheduler)
    else:
        outcomes = chunks_on_local_workers(plan_chunks(todo, workers), workers)
    failed, counts = [], {"chunks": 0, "simulated": 0}
    for chunk in outcomes:
        counts["chunks"] += 1
        counts["simulated"] += chunk.simulated
        journal.append_many([(o.index, o.value) for o in chunk.points if not o.error])
        failed += [(by_index[o.index], o.error) for o in chunk.points if o.error]
        finished += len(chunk.points)
        if on_done:
            on_done(finished)
    journal.sync()
    if stats is not None:
        stats.update(counts)
    if failed:
        raise SweepPointError(sorted(failed, key=lambda item: item[0].index))
    return [row for p in points for row in journal.done[p.index]], len(todo)


def exit_with_parent(parent_pid: int, poll_s: float = 0.5) -> None:
    """In a worker process: exit as soon as the process ``parent_pid`` is gone (see :mod:`simulator.sweep_workers`)."""
    sweep_workers.exit_with_parent(parent_pid, poll_s)
