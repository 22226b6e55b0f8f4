"""A finished design search: its trials as rows, the best designs, the baselines, the files.

Rows are plain mappings (one per trial: number, parameter values, the measured
system's figures, feasibility and why not), so the writers in ``reports`` and
pandas take them as they are. The front is the set of feasible trials no other
feasible trial beats on every objective (for one objective: the best trial);
a design proposed more than once appears once, as its first trial.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from simulator import outputs
from simulator.results import ExperimentResult
from simulator.search_eval import TrialOutcome
from simulator.search_spec import Goal, Metric, SearchSpec

if TYPE_CHECKING:
    import pandas


@dataclass(frozen=True)
class SearchResult:
    """Every trial of a search (``rows``), the best designs (``front``, ``best``) and the baselines."""

    name: str
    spec: SearchSpec
    system: str
    seed: int
    outcomes: tuple[TrialOutcome, ...]
    rows: tuple[dict[str, Any], ...]
    baselines: tuple[dict[str, Any], ...]
    wall_s: float = 0.0               # not written to any file, so reruns give identical files
    reused: int = 0                   # trials taken from the stored trials of an earlier run
    written: tuple[Path, ...] = ()

    @property
    def feasible(self) -> list[dict[str, Any]]:
        """The trials that ran and meet every constraint."""
        return [row for row in self.rows if row["feasible"]]

    @property
    def front(self) -> list[dict[str, Any]]:
        """The best feasible designs: non-dominated trials (one objective: the best one)."""
        return front_rows(self.spec, self.system, self.feasible)

    @property
    def best(self) -> dict[str, Any] | None:
        """The best feasible trial on the first objective (None when none is feasible)."""
        first = self.spec.objectives[0]
        rows = self.feasible
        if not rows:
            return None
        sign = -1 if first.direction is Goal.MAXIMIZE else 1
        return min(rows, key=lambda r: (sign * r[objective_column(first, self.system)], r["trial"]))

    def to_pandas(self, which: str = "trials") -> "pandas.DataFrame":
        """``trials`` (every trial), ``front`` (the best designs) or ``baselines`` as a DataFrame."""
        from simulator.api import frame

        rows = {"trials": self.rows, "front": self.front, "baselines": self.baselines}[which]
        return frame(list(rows))

    def report_data(self) -> dict[str, Any]:
        """What the search writers draw and tabulate (plain data: ``reports`` imports no search types)."""
        return {
            "name": self.name, "system": self.system, "seed": self.seed, "sampler": self.spec.resolved_sampler,
            "trials_requested": len(self.rows), "batch_size": self.spec.batch_size,
            "parameters": list(self.spec.parameters),
            "objectives": [{"column": objective_column(o, self.system), "metric": o.metric.value,
                            "goal": o.direction.value, "system": o.system or self.system} for o in self.spec.objectives],
            "constraints": [c.model_dump(mode="json", exclude_none=True) for c in self.spec.constraints],
            "reject_warnings": self.spec.reject_warnings,
            "trials": list(self.rows), "front": self.front, "baselines": list(self.baselines),
        }

    def write(self, out_dir: str | os.PathLike) -> list[Path]:
        """``trials.csv``, ``trials.json``, ``pareto.csv``, the report and its figures, into ``out_dir``."""
        return outputs.write_with(outputs.SEARCH_WRITERS, self.report_data(), out_dir)

    def with_written(self, written: tuple[Path, ...]) -> "SearchResult":
        """This result, recording the files written for it."""
        return dataclasses.replace(self, written=written)


def objective_column(objective, system: str) -> str:
    """The trials column an objective reads: the metric, prefixed by its system when not the searched one."""
    named = objective.system
    return objective.metric.value if named in (None, system) else f"{named}.{objective.metric.value}"


def trial_rows(spec: SearchSpec, system: str, outcomes: Sequence[TrialOutcome]) -> list[dict[str, Any]]:
    """One flat row per trial: number, parameters, figures, ``feasible``, ``violation``, warnings, error."""
    from simulator.search import violations

    rows = []
    for outcome in outcomes:
        row: dict[str, Any] = {"trial": outcome.number, **dict(outcome.params)}
        for name, metrics in sorted(outcome.metrics.items(), key=lambda kv: kv[0] != system):
            row.update({(m.value if name == system else f"{name}.{m.value}"): metrics[m.value] for m in Metric})
        broken = [] if outcome.error else violations(spec, system, outcome)
        row["feasible"] = outcome.error is None and all(v <= 0 for v in broken)
        row["violation"] = sum(max(0.0, v) for v in broken)
        row["warnings"] = " | ".join(outcome.warnings)
        row["error"] = outcome.error or ""
        rows.append(row)
    return rows


def front_rows(spec: SearchSpec, system: str, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Non-dominated rows, each design once (its first trial), best first on the first objective."""
    firsts: dict[tuple, tuple[tuple[float, ...], Mapping[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: r["trial"]):
        firsts.setdefault(_design(spec, row), (_signed(spec, system, row), row))
    unique = list(firsts.values())
    front = [dict(row) for values, row in unique if not any(_dominates(other, values) for other, _ in unique)]
    return sorted(front, key=lambda r: (_signed(spec, system, r), r["trial"]))


def _signed(spec: SearchSpec, system: str, row: Mapping[str, Any]) -> tuple[float, ...]:
    """The objectives' values with signs chosen so that smaller is better."""
    return tuple(-row[objective_column(o, system)] if o.direction is Goal.MAXIMIZE else row[objective_column(o, system)]
                 for o in spec.objectives)


def _design(spec: SearchSpec, row: Mapping[str, Any]) -> tuple:
    return tuple(row[key] for key in spec.parameters)


def _dominates(a: tuple, b: tuple) -> bool:
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def baseline_rows(result: ExperimentResult) -> list[dict[str, Any]]:
    """Each system of the unsearched experiment: its figures, or why it could not run."""
    rows = [{"system": s.name, **{m.value: float(s.to_dict()[m.value]) for m in Metric}} for s in result.systems]
    return rows + [{"system": f.system, "error": f.message} for f in result.failures]
