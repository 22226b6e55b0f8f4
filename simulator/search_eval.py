"""Evaluating one design-search trial, in local worker processes or on a Dask cluster.

A trial is the experiment with the trial's parameter values set (as a sweep point
is) and only the measured systems kept; it is validated, checked and run as
``xpusim run`` runs a file. Its outcome is every :class:`~simulator.search_spec.Metric`
of those systems plus their warnings, or the reason it could not run: an invalid
combination (a scratchpad too small for the array), weights and KV cache that do
not fit the DRAM (under the experiment's ``capacity: fail``, the default; with
``capacity: warn`` the design runs with a warning), or a system that cannot run
the workload. Executors return outcomes in the order of the tasks, so the search
does not depend on which worker finishes first.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from simulator.checks import check_experiment
from simulator.errors import InputError, Problem
from simulator.experiment import parse_experiment
from simulator.run import run_experiment
from simulator.search_spec import Metric
from simulator.sweep import apply_values, exit_with_parent


@dataclass(frozen=True)
class TrialTask:
    number: int
    params: tuple[tuple[str, Any], ...]
    raw: Mapping[str, Any]
    source: str
    base_dir: Path
    systems: tuple[str, ...]          # the systems the objectives and constraints read


@dataclass(frozen=True)
class TrialOutcome:
    number: int
    params: tuple[tuple[str, Any], ...]
    metrics: Mapping[str, Mapping[str, float]]   # system -> metric -> value
    warnings: tuple[str, ...] = ()
    error: str | None = None

    def to_record(self) -> dict[str, Any]:
        return {"number": self.number, "params": dict(self.params), "metrics": {k: dict(v) for k, v in self.metrics.items()},
                "warnings": list(self.warnings), "error": self.error}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> "TrialOutcome":
        return cls(int(record["number"]), tuple(record["params"].items()), record["metrics"],
                   tuple(record.get("warnings", ())), record.get("error"))


def trial_variant(task: TrialTask) -> dict[str, Any]:
    """The experiment mapping of one trial: parameters set, only the measured systems kept."""
    variant = apply_values(task.raw, dict(task.params))
    variant["systems"] = [s for s in variant["systems"] if s.get("name") in task.systems]
    report = dict(variant.get("report") or {})
    if report.get("baseline") not in task.systems:
        report.pop("baseline", None)
    variant["report"] = report
    return variant


def evaluate(task: TrialTask) -> TrialOutcome:
    """Validate and run one trial; an invalid or failing design is an outcome with ``error``."""
    try:
        experiment = parse_experiment(trial_variant(task), task.source, task.base_dir)
    except InputError as err:
        return TrialOutcome(task.number, task.params, {}, error="; ".join(map(str, err.problems)))
    report = check_experiment(experiment)  # what `xpusim run` checks first, capacity included
    if report.problems:
        return TrialOutcome(task.number, task.params, {}, error="; ".join(map(str, report.problems)))
    result = run_experiment(experiment)
    if result.failures:
        message = "; ".join(f"{f.system}: {f.message}" for f in result.failures)
        return TrialOutcome(task.number, task.params, {}, error=message)
    metrics = {s.name: _metrics(s.to_dict()) for s in result.systems}
    warnings = tuple(f"{s.name}: {w}" for s in result.systems for w in s.warnings)
    return TrialOutcome(task.number, task.params, metrics, warnings)


def _metrics(figures: Mapping[str, Any]) -> dict[str, float]:
    return {m.value: float(figures[m.value]) for m in Metric}


def _seen(outcome: TrialOutcome, on_each: Callable[[TrialOutcome], None] | None) -> TrialOutcome:
    if on_each is not None:
        on_each(outcome)
    return outcome


class LocalEvaluator:
    """Runs tasks in ``workers`` local processes (in this process when ``workers`` is 1)."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = max(1, workers)
        self._pool: ProcessPoolExecutor | None = None

    def map(self, fn: Callable[[TrialTask], TrialOutcome], tasks: list[TrialTask],
            on_each: Callable[[TrialOutcome], None] | None = None) -> list[TrialOutcome]:
        """Outcomes in task order; ``on_each`` sees each one as soon as it finishes."""
        if self.workers == 1 or len(tasks) <= 1:
            return [_seen(fn(t), on_each) for t in tasks]
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, initializer=exit_with_parent,
                                             initargs=(os.getpid(),))  # no orphans when the search is killed
        futures = [self._pool.submit(fn, t) for t in tasks]
        for future in as_completed(futures):
            _seen(future.result(), on_each)
        return [f.result() for f in futures]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()


class DaskEvaluator:
    """Runs tasks on the Dask cluster at ``scheduler`` (extra ``dask``); results in task order."""

    def __init__(self, scheduler: str, connect_timeout_s: float = 10.0) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise InputError("search", [Problem("--scheduler", "needs dask.distributed: pip install -e \".[dask]\"")]) from None
        try:
            self._client = Client(scheduler, timeout=f"{connect_timeout_s}s")
        except (OSError, TimeoutError) as err:
            raise InputError("search", [Problem("--scheduler", f"cannot reach the Dask scheduler {scheduler!r}: {err}")]) from None

    def map(self, fn: Callable[[TrialTask], TrialOutcome], tasks: list[TrialTask],
            on_each: Callable[[TrialOutcome], None] | None = None) -> list[TrialOutcome]:
        from distributed import as_completed as dask_completed

        futures = self._client.map(fn, tasks, pure=False)
        for future in dask_completed(futures):
            _seen(future.result(), on_each)
        return self._client.gather(futures)

    def close(self) -> None:
        self._client.close()
