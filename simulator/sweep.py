"""Design-space sweeps: every combination of a ``sweep.grid`` is one run.

Grid keys are dotted paths into the experiment: ``workload.<field>`` or
``systems.<name>.arch.<field>`` (the latter becomes a ``set:`` override of that
system). Every point is expanded and validated before anything runs, so a bad
value in the grid is reported at once with its point. Points run in local worker
processes (``workers``, default: the machine's cores), or on a Dask cluster when a
scheduler address is given (:func:`run_points_on_dask`); results come back in
grid order whatever the executor or worker count, so the same sweep gives the
same table.
"""

from __future__ import annotations

import copy
import itertools
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from simulator.errors import InputError, Problem, suggest
from simulator.experiment import Experiment, parse_experiment
from simulator.run import run_experiment
from simulator.results import ExperimentResult
from workloads.yamlio import YamlError, load_yaml_file


@dataclass(frozen=True)
class SweepPoint:
    index: int
    values: tuple[tuple[str, Any], ...]
    experiment: Experiment


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
    if problems:
        raise InputError(source, problems)
    points, problems = [], []
    for index, values in enumerate(itertools.product(*(grid[k] for k in keys))):
        variant = apply_values(raw, dict(zip(keys, values)))
        try:
            experiment = parse_experiment(variant, source, base_dir)
        except InputError as err:
            where = ", ".join(f"{k}={v!r}" for k, v in zip(keys, values))
            problems += [Problem(p.path, f"{p.message} [sweep point {index}: {where}]") for p in err.problems]
            continue
        points.append(SweepPoint(index, tuple(zip(keys, values)), experiment))
    if problems:
        raise InputError(source, problems)
    return points


def check_key(key: str, raw: Mapping, block: str = "sweep.grid") -> list[Problem]:
    """Problems with a dotted key of a grid (or of a search's parameters, ``block``)."""
    parts = key.split(".")
    names = [s.get("name") for s in raw.get("systems", []) if isinstance(s, Mapping)]
    if parts[0] == "workload" and len(parts) == 2:
        return []
    if parts[0] == "systems" and len(parts) >= 4 and parts[2] == "arch":
        if parts[1] in names:
            return []
        return [Problem(f"{block}.{key}", f"no system named {parts[1]!r}{suggest(parts[1], names)}")]
    return [Problem(f"{block}.{key}", "expected 'workload.<field>' or 'systems.<name>.arch.<field>'")]


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
        system.setdefault("set", {})[".".join(parts[3:])] = value
    return variant


def run_points(points: list[SweepPoint], workers: int = 1,
               on_done: Callable[[int], None] | None = None) -> list[ExperimentResult]:
    experiments = [p.experiment for p in points]
    if workers <= 1:
        return list(_each(map(_run_one, experiments), on_done))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(_each(pool.map(_run_one, experiments, chunksize=max(1, len(points) // (8 * workers))), on_done))


def run_points_on_dask(points: list[SweepPoint], scheduler: str,
                       on_done: Callable[[int], None] | None = None,
                       connect_timeout_s: float = 10.0) -> list[ExperimentResult]:
    """Run the points on the Dask cluster at ``scheduler`` (``tcp://host:8786``), in grid order.

    Needs the ``dask`` extra (``pip install -e ".[dask]"``) on this machine and the
    package installed on the workers. A cluster that cannot be reached is an input
    error naming the address.
    """
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError("sweep", [Problem("--scheduler", "needs dask.distributed: pip install -e \".[dask]\"")]) from None
    try:
        client = Client(scheduler, timeout=f"{connect_timeout_s}s")
    except (OSError, TimeoutError) as err:
        raise InputError("sweep", [Problem("--scheduler", f"cannot reach the Dask scheduler {scheduler!r}: {err}")]) from None
    with client:
        futures = client.map(_run_one, [p.experiment for p in points], pure=False)
        for count, _ in enumerate(as_completed(futures), start=1):
            if on_done:
                on_done(count)
        return client.gather(futures)


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
    rows = []
    for point, result in zip(points, results):
        for system in result.systems:
            row = {"point": point.index, **dict(point.values), "system": system.name}
            row.update({k: system.to_dict()[k] for k in (
                "cycles", "seconds", "tokens_per_s", "energy_j", "energy_per_token_j", "area_mm2", "utilisation")})
            if system.warnings:
                row["warnings"] = " | ".join(system.warnings)
            rows.append(row)
        for failure in result.failures:
            rows.append({"point": point.index, **dict(point.values), "system": failure.system,
                         "error": failure.message})
    return rows
