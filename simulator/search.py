"""Design search: the best designs of a ``search:`` block under its constraints, found with optuna.

The search proposes parameter values (dotted paths, as sweep grids use) with
optuna's TPE sampler for one objective and NSGA-II for several (``sampler:``
chooses another), seeded, so the same file gives the same trials. Trials are
proposed in batches of ``batch_size`` and evaluated in local processes or on a
Dask cluster (:mod:`simulator.search_eval`); the sampler sees the outcomes in
trial order, so the trials do not depend on the executor or the worker count.
Constraints are given to the sampler as violations (``value / bound - 1``, and 1
for a run with a warning when ``reject_warnings``), so it learns where the
feasible region is; a trial that cannot be built or run (an invalid combination)
is recorded with its reason and told as far outside the region. A design proposed twice is simulated once.

With an output folder every finished trial is appended to ``trials.jsonl`` at
once (:mod:`simulator.search_store`); a search killed at any point and started
again replays the sampler, takes the stored outcomes and runs only the rest.

The search knows no more than the simulator: a design's figures are those of
the models it runs, with their notes and warnings.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from simulator.errors import InputError, Problem, suggest
from simulator.experiment import parse_experiment
from simulator.run import run_experiment
from simulator.search_eval import DaskEvaluator, LocalEvaluator, TrialOutcome, TrialTask, evaluate, trial_variant
from simulator.search_result import SearchResult, baseline_rows, trial_rows
from simulator.search_spec import ParameterSpec, SearchSpec
from simulator.search_store import FILE_NAME, TrialStore, fingerprint
from simulator.sweep import check_key

__all__ = ["SearchPlan", "plan_search", "search_problems", "run_search", "SearchResult"]


@dataclass(frozen=True)
class SearchPlan:
    """A validated search: the experiment mapping, its search block and the measured system."""

    raw: Mapping[str, Any]
    source: str
    base_dir: Path
    spec: SearchSpec
    system: str
    seed: int
    measured: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        return str(self.raw["name"])


def plan_search(raw: Mapping[str, Any], source: str = "<experiment>", base_dir: Path | None = None) -> SearchPlan:
    """Validate ``raw`` and its ``search:`` block (every problem at once) into a plan."""
    base_dir = base_dir or Path.cwd()
    experiment = parse_experiment(raw, source, base_dir)
    spec = experiment.spec.search
    if spec is None:
        raise InputError(source, [Problem("search", "this file has no search: block (use `xpusim run` or `xpusim sweep`)")])
    problems = search_problems(raw, spec, source, base_dir)
    if problems:
        raise InputError(source, problems)
    system = _measured_system(spec, [s.name for s in experiment.systems])
    measured = tuple(dict.fromkeys([system, *(o.system for o in spec.objectives if o.system),
                                    *(c.system for c in spec.constraints if c.system)]))
    seed = spec.seed if spec.seed is not None else experiment.spec.seed
    return SearchPlan(raw, source, base_dir, spec, system, seed, measured)


def _measured_system(spec: SearchSpec, names: list[str]) -> str | None:
    if spec.system is not None:
        return spec.system
    return names[0] if len(names) == 1 else None


def search_problems(raw: Mapping[str, Any], spec: SearchSpec, source: str, base_dir: Path) -> list[Problem]:
    """What the schema cannot see: systems that exist, sweep-style keys, valid extreme values."""
    names = [s.get("name") for s in raw.get("systems", [])]
    problems = _system_problems(spec, names)
    for key, parameter in spec.parameters.items():
        key_problems = check_key(key, raw, "search.parameters")
        problems += key_problems or _extreme_problems(raw, key, parameter, source, base_dir)
    return problems


def _system_problems(spec: SearchSpec, names: list[str]) -> list[Problem]:
    problems = []
    if _measured_system(spec, names) is None:
        problems.append(Problem("search.system", f"name the system whose figures are measured (systems: {', '.join(names)})"))
    named = [("search.system", spec.system)]
    named += [(f"search.objectives[{i}].system", o.system) for i, o in enumerate(spec.objectives)]
    named += [(f"search.constraints[{i}].system", c.system) for i, c in enumerate(spec.constraints)]
    for path, name in named:
        if name is not None and name not in names:
            problems.append(Problem(path, f"no system named {name!r}{suggest(name, names)} (systems: {', '.join(names)})"))
    return problems


def _extreme_problems(raw, key: str, parameter: ParameterSpec, source: str, base_dir: Path) -> list[Problem]:
    """Each choice, or each end of a range, set alone on the base experiment must validate."""
    found: dict[tuple[str, str], list[Any]] = {}
    parts = key.split(".")
    own_path = f"systems.{parts[1]}.set.{'.'.join(parts[3:])}" if parts[0] == "systems" else key
    for value in parameter.extremes():
        task = TrialTask(0, ((key, value),), raw, source, base_dir, tuple(s["name"] for s in raw["systems"]))
        try:
            parse_experiment(trial_variant(task), source, base_dir)
        except InputError as err:
            for p in err.problems:
                path = f"search.parameters.{key}" if p.path == own_path else p.path
                found.setdefault((path, p.message), []).append(value)
    return [Problem(path, f"{message} [search.parameters.{key} = {', '.join(map(repr, values))}]")
            for (path, message), values in found.items()]


def run_search(raw: Mapping[str, Any], source: str = "<experiment>", base_dir: Path | None = None, *,
               out: str | Path | None = None, workers: int = 1, scheduler: str | None = None,
               trials: int | None = None, fresh: bool = False,
               progress: Callable[[int, int], None] | None = None) -> SearchResult:
    """Run the search of ``raw``; with ``out``, store trials as they finish and write the results.

    ``trials`` overrides the block's trial count; ``fresh`` ignores (and replaces)
    trials stored in ``out/NAME/`` by an earlier run of the same search, which is
    otherwise continued.
    """
    plan = plan_search(raw, source, base_dir)
    total = trials or plan.spec.trials
    folder = Path(out) / plan.name if out is not None else None
    store = TrialStore(folder / FILE_NAME, fingerprint(raw)) if folder is not None else None
    stored = {} if store is None or fresh else store.load()
    if store is not None:
        store.start(fresh)
    evaluator = DaskEvaluator(scheduler) if scheduler else LocalEvaluator(workers)
    started = time.perf_counter()
    try:
        outcomes = _drive(plan, total, evaluator, stored, store, progress)
    finally:
        evaluator.close()
    base = run_experiment(parse_experiment(trial_variant(TrialTask(0, (), raw, plan.source, plan.base_dir, tuple(
        s["name"] for s in raw["systems"]))), plan.source, plan.base_dir))
    result = SearchResult(plan.name, plan.spec, plan.system, plan.seed, tuple(outcomes),
                          tuple(trial_rows(plan.spec, plan.system, outcomes)), tuple(baseline_rows(base)),
                          wall_s=time.perf_counter() - started, reused=sum(o.number in stored for o in outcomes))
    if folder is None:
        return result
    return result.with_written(tuple(result.write(folder)))


def _drive(plan: SearchPlan, total: int, evaluator, stored: dict[int, TrialOutcome],
           store: TrialStore | None, progress) -> list[TrialOutcome]:
    study, distributions = _study(plan)
    seen: dict[tuple, TrialOutcome] = {}
    outcomes: list[TrialOutcome] = []
    while len(outcomes) < total:
        batch = [study.ask(distributions) for _ in range(min(plan.spec.batch_size, total - len(outcomes)))]
        tasks = [_task(plan, trial) for trial in batch]
        known = {t.number: _known(t, stored, seen) for t in tasks}
        new = [t for t in tasks if known[t.number] is None]
        finished = {o.number: o for o in evaluator.map(evaluate, new, store.append if store else None)}
        for trial, task in zip(batch, tasks):
            outcome = known[task.number] or finished[task.number]
            seen.setdefault(task.params, outcome)
            _tell(study, trial, outcome, plan)
            outcomes.append(outcome)
        if progress:
            progress(len(outcomes), total)
    return outcomes


def _task(plan: SearchPlan, trial) -> TrialTask:
    params = tuple((key, trial.params[key]) for key in plan.spec.parameters)
    return TrialTask(trial.number, params, plan.raw, plan.source, plan.base_dir, plan.measured)


def _known(task: TrialTask, stored: dict[int, TrialOutcome], seen: dict[tuple, TrialOutcome]) -> TrialOutcome | None:
    """A stored outcome for this trial (checked to be the same design), or an earlier one of the same design."""
    if task.number in stored:
        outcome = stored[task.number]
        if dict(outcome.params) != dict(task.params):
            raise InputError("search", [Problem(FILE_NAME, (
                f"stored trial {task.number} has parameters {dict(outcome.params)} but the search proposes "
                f"{dict(task.params)}: the stored trials come from another search; pass --fresh"))])
        return TrialOutcome(task.number, task.params, outcome.metrics, outcome.warnings, outcome.error)
    earlier = seen.get(task.params)
    return None if earlier is None else TrialOutcome(task.number, task.params, earlier.metrics, earlier.warnings, earlier.error)


def _study(plan: SearchPlan):
    try:
        import optuna
    except ImportError:
        raise InputError("search", [Problem("", 'xpusim search needs optuna: pip install "xpusim[search]"')]) from None

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    directions = [o.direction.value for o in plan.spec.objectives]
    study = optuna.create_study(directions=directions, sampler=_sampler(plan))
    return study, {key: _distribution(p) for key, p in plan.spec.parameters.items()}


def _sampler(plan: SearchPlan):
    import optuna

    spec, seed = plan.spec, plan.seed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if spec.resolved_sampler == "tpe":
            return optuna.samplers.TPESampler(seed=seed, multivariate=True)
        if spec.resolved_sampler == "nsga2":
            return optuna.samplers.NSGAIISampler(seed=seed)
        return optuna.samplers.RandomSampler(seed=seed)


def _distribution(parameter: ParameterSpec):
    from optuna import distributions

    if parameter.choices is not None:
        return distributions.CategoricalDistribution(parameter.choices)
    if parameter.integer:
        return distributions.IntDistribution(parameter.low, parameter.high, log=parameter.log, step=parameter.step or 1)
    return distributions.FloatDistribution(float(parameter.low), float(parameter.high), log=parameter.log, step=parameter.step)


FAILED_VIOLATION = 1e6
"""The violation a trial that cannot be built or run is given, so the sampler learns to avoid it."""


def _tell(study, trial, outcome: TrialOutcome, plan: SearchPlan) -> None:
    """Give the sampler the trial's objectives and constraint violations (> 0: violated).

    A trial that cannot be built or run is told as complete, with placeholder
    objective values of 0 and the violation :data:`FAILED_VIOLATION`: TPE and
    NSGA-II rank infeasible trials by their violation alone, so the placeholders
    do not steer them, while a failed trial ignored altogether would be proposed
    again and again.
    """
    failed = outcome.error is not None
    values = [0.0] * len(plan.spec.constraints) if failed else violations(plan.spec, plan.system, outcome)
    for index, value in enumerate(values + [FAILED_VIOLATION if failed else 0.0]):
        trial.set_constraint(f"c{index}", value)
    study.tell(trial, [0.0] * len(plan.spec.objectives) if failed else
               [outcome.metrics[o.system or plan.system][o.metric.value] for o in plan.spec.objectives])


def violations(spec: SearchSpec, system: str, outcome: TrialOutcome) -> list[float]:
    """Per constraint, how far the design is outside its bound relative to it (<= 0: satisfied)."""
    values = []
    for c in spec.constraints:
        value = outcome.metrics[c.system or system][c.metric.value]
        if c.max is not None:
            values.append((value - c.max) / abs(c.max) if c.max else value)
        if c.min is not None:
            values.append((c.min - value) / abs(c.min) if c.min else -value)
    if spec.reject_warnings:
        values.append(1.0 if outcome.warnings else 0.0)
    return values
