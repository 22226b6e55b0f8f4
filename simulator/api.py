"""The public Python API for design-space-exploration scripts.

Everything the ``xpusim`` command line does, as functions that return result
objects instead of printing::

    from simulator import api as xs

    exp = xs.load("experiments/quickstart.yaml")          # or a dict, or keyword arguments
    result = xs.run(exp.with_values({"workload.batch": 8}))
    frame = result.to_pandas()                             # one row per system (extra "pandas")
    points = xs.sweep(exp, {"workload.batch": [1, 8, 64]}, workers=2)

An experiment is validated exactly as the CLI validates a file: bad input raises
:class:`InputError` (every problem, each with the dotted key) or
:class:`UnknownNameError`, the same exceptions whose text the CLI prints. Passing
``out=`` writes the same files as ``xpusim run`` / ``sweep`` into ``out/NAME/``.
The library never prints or exits.

Stability: the names in ``__all__`` and their documented parameters are the
stable interface; everything else in :mod:`simulator` may change between minor
versions.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, Sequence

from arch import registry
from arch.background_compile import usable_cpus
from arch.registry import UnknownNameError
from simulator import experiment as _experiment
from simulator import outputs
from simulator.checks import require_valid
from simulator.outdir import check_writable
from simulator.errors import InputError, Problem
from simulator.results import ExperimentResult, Failure, SystemResult
from simulator.search_result import SearchResult
from simulator.run import run_experiment
from simulator.sweep import SweepPoint, apply_values, check_key, expand, run_points, run_points_on_dask, sweep_rows
from workloads.yamlio import YamlError, load_yaml_file

if TYPE_CHECKING:
    import pandas

__all__ = [
    "Experiment", "RunResult", "SweepResult", "SearchResult", "InputError", "Problem", "UnknownNameError",
    "load", "run", "sweep", "search", "kinds", "presets", "preset", "models", "frame",
]

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each finished point or trial."""


@dataclass(frozen=True)
class Experiment:
    """A validated experiment: the mapping it was built from and its resolved form.

    ``raw`` is the experiment as written (a fresh copy is handed out by :meth:`to_dict`);
    ``resolved`` is what runs (every default filled, each system's spec expanded).
    """

    raw: Mapping[str, Any]
    resolved: _experiment.Experiment
    base_dir: Path
    source: str = "<experiment>"

    @property
    def name(self) -> str:
        """The experiment's ``name`` (the output folder's name)."""
        return self.resolved.name

    @property
    def system_names(self) -> tuple[str, ...]:
        """The systems' names, in the file's order."""
        return tuple(s.name for s in self.resolved.systems)

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the experiment mapping, ready to edit and pass to :func:`load`."""
        return copy.deepcopy(dict(self.raw))

    def with_values(self, values: Mapping[str, Any]) -> "Experiment":
        """A new experiment with dotted ``values`` set, keyed as sweep grids are.

        Keys are ``workload.<field>``, ``systems.<name>.arch.<field>`` (a ``set:``
        override of that system) or ``name`` / ``seed``; the result is validated.
        """
        if not isinstance(values, Mapping):
            raise InputError(self.source, [Problem("values", "expected a mapping of dotted keys to values, got "
                                                             f"{type(values).__name__}")])
        top = {k: v for k, v in values.items() if k in ("name", "seed")}
        dotted = {k: v for k, v in values.items() if k not in top}
        problems = [p for key in dotted for p in check_key(key, self.raw, "values")]
        if problems:
            raise InputError(self.source, problems)
        data = apply_values(self.raw, dotted)
        data.update(top)
        data.update({k: copy.deepcopy(self.raw[k]) for k in ("sweep", "search") if k in self.raw})
        return _parse(data, self.source, self.base_dir)

    def with_systems(self, *names: str) -> "Experiment":
        """A new experiment keeping only the named systems (in the order given)."""
        by_name = {s["name"]: s for s in self.raw["systems"]}
        unknown = [n for n in names if n not in by_name]
        if unknown or not names:
            known = ", ".join(by_name)
            raise InputError(self.source, [Problem("systems", f"no system named {n!r} (systems: {known})")
                                           for n in unknown] or [Problem("systems", "name at least one system")])
        data = self.to_dict()
        data["systems"] = [copy.deepcopy(by_name[n]) for n in names]
        report = dict(data.get("report") or {})
        if report.get("baseline") not in names:
            report.pop("baseline", None)
        data["report"] = report
        return _parse(data, self.source, self.base_dir)


def load(source: str | os.PathLike | Mapping[str, Any] | Experiment | None = None, /, *,
         base_dir: str | os.PathLike | None = None, **fields: Any) -> Experiment:
    """Load and validate an experiment from a YAML path, a mapping, or keyword arguments.

    ``fields`` replace top-level keys of ``source`` (or build the whole experiment
    when ``source`` is None): ``load(name="x", workload={...}, systems=[...])``.
    Relative paths inside the experiment (trace files, SCALE-Sim topologies, arch YAML or
    SCALE-Sim ``.cfg`` files) are taken from ``base_dir``: the file's folder for a path,
    else the current folder.
    Raises :class:`InputError` listing every problem, as ``xpusim validate`` prints it.
    """
    if isinstance(source, Experiment):
        data, where, folder = source.to_dict(), source.source, source.base_dir
    elif isinstance(source, (str, os.PathLike)):
        data, where, folder = _read(Path(source)), str(source), Path(source).parent
    elif isinstance(source, Mapping) or source is None:
        data, where, folder = copy.deepcopy(dict(source or {})), "<experiment>", Path.cwd()
    else:
        raise InputError("<experiment>", [Problem("", "expected a path, a mapping or an Experiment, "
                                                      f"got {type(source).__name__}")])
    data.update(copy.deepcopy(fields))
    return _parse(data, where, Path(base_dir) if base_dir is not None else folder)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = load_yaml_file(path)
    except YamlError as err:
        raise InputError(str(path), [Problem("", str(err).removeprefix(f"{path}: "))]) from None
    if not isinstance(data, Mapping):
        raise InputError(str(path), [Problem("", f"the file must be a mapping of keys, got {type(data).__name__}")])
    return dict(data)


def _parse(data: dict[str, Any], source: str, base_dir: Path) -> Experiment:
    resolved = _experiment.parse_experiment(data, source, base_dir)
    return Experiment(data, resolved, base_dir, source)


def _experiment_of(experiment: Experiment | str | os.PathLike | Mapping[str, Any]) -> Experiment:
    return experiment if isinstance(experiment, Experiment) else load(experiment)


@dataclass(frozen=True)
class RunResult:
    """One run of an experiment: every system's result, and any failures."""

    result: ExperimentResult
    written: tuple[Path, ...] = ()

    @property
    def systems(self) -> tuple[SystemResult, ...]:
        """Each system that ran: cycles, seconds, energy, area, tokens/s, per-op results."""
        return self.result.systems

    @property
    def failures(self) -> tuple[Failure, ...]:
        """Systems that could not be simulated, with the reason."""
        return self.result.failures

    @property
    def ok(self) -> bool:
        """True when every system ran."""
        return not self.result.failures

    def system(self, name: str) -> SystemResult:
        """The named system's result (:class:`KeyError` if it is not there)."""
        return self.result.system(name)

    def rows(self) -> list[dict[str, Any]]:
        """One flat row per system: ``summary.csv``'s figures and every breakdown (dotted keys)."""
        return [_flat({k: v for k, v in s.to_dict().items() if k != "ops"}) for s in self.systems]

    def op_rows(self) -> list[dict[str, Any]]:
        """One flat row per op per system, as ``ops.csv`` plus the energy breakdown and action counts."""
        return [{"system": s.name, **_flat(op.to_dict())} for s in self.systems for op in s.ops]

    def to_pandas(self, per: Literal["system", "op"] = "system") -> "pandas.DataFrame":
        """The rows as a DataFrame (needs pandas: ``pip install "xpusim[pandas]"``)."""
        return frame(self.rows() if per == "system" else self.op_rows())

    def write(self, out_dir: str | os.PathLike) -> list[Path]:
        """Write ``results.json``, the CSVs, timeline and report into ``out_dir`` (the CLI's files)."""
        return outputs.write_with(outputs.RUN_WRITERS, self.result, out_dir)


def run(experiment: Experiment | str | os.PathLike | Mapping[str, Any], *,
        out: str | os.PathLike | None = None, on_system: Callable[[str], None] | None = None) -> RunResult:
    """Run every system of ``experiment`` once (its base point, not a sweep).

    Checks the experiment first as ``xpusim run`` does (:func:`simulator.checks.require_valid`:
    the workload builds, every system's weights and KV cache fit unless ``capacity: warn``),
    raising :class:`InputError`. With ``out``, writes the same files as
    ``xpusim run --out OUT`` into ``OUT/NAME/`` (over an earlier result of that name).
    A system that fails while simulating is a :class:`~simulator.results.Failure`
    in the result; the others still run.
    """
    exp = _experiment_of(experiment)
    _require_valid_once(exp)  # what `xpusim run` checks before simulating (capacity included)
    if out is not None:
        check_writable(Path(out) / exp.name, "out")  # before simulating, as the CLI does
    result = run_experiment(exp.resolved, on_system=on_system)
    written = RunResult(result).write(Path(out) / exp.name) if out is not None else []
    return RunResult(result, tuple(written))


# Experiments that passed the run's checks, by identity (the entry keeps the experiment alive): a loaded
# experiment that reads no file (no trace, config file or request CSV) checks the same every time.
_VALIDATED: dict[int, Experiment] = {}
_VALIDATED_MAX = 64


def _require_valid_once(exp: Experiment) -> None:
    """:func:`require_valid` of ``exp``, skipped when this same file-free experiment passed it before."""
    if _VALIDATED.get(id(exp)) is exp:
        return
    require_valid(exp.resolved)
    spec = exp.resolved.spec.workload
    if spec.trace is None and spec.phase != "serving" and (spec.model is None or spec.model in models()):
        if len(_VALIDATED) >= _VALIDATED_MAX:
            _VALIDATED.pop(next(iter(_VALIDATED)))
        _VALIDATED[id(exp)] = exp


def clear_validation_memo() -> None:
    """Forget which experiments passed their checks (the next :func:`run` checks again)."""
    _VALIDATED.clear()


@dataclass(frozen=True)
class SweepResult:
    """Every point of a sweep: the grid values, each point's result and the flat rows."""

    name: str
    points: tuple[SweepPoint, ...]
    results: tuple[ExperimentResult, ...]
    written: tuple[Path, ...] = ()
    rows: tuple[dict[str, Any], ...] = field(default=())

    def to_pandas(self) -> "pandas.DataFrame":
        """One row per sweep point and system (``sweep.csv``'s columns; needs pandas)."""
        return frame(list(self.rows))

    def write(self, out_dir: str | os.PathLike) -> list[Path]:
        """Write ``sweep.csv``, ``sweep.json`` and the sweep report into ``out_dir``."""
        return outputs.write_with(outputs.SWEEP_WRITERS, list(self.rows), out_dir)


def sweep(experiment: Experiment | str | os.PathLike | Mapping[str, Any],
          grid: Mapping[str, Sequence[Any]] | None = None, *, workers: int = 1,
          scheduler: str | None = None, out: str | os.PathLike | None = None,
          progress: Progress | None = None) -> SweepResult:
    """Run every combination of ``grid`` (default: the experiment's ``sweep.grid``).

    Points run in ``workers`` local processes (a whole number >= 1, lowered to the CPUs
    this process may use), or on the Dask cluster at ``scheduler`` (extra ``dask``);
    rows come back in grid order either way. ``grid`` maps dotted keys to lists (or
    tuples, ranges) of values. Every point is validated before any runs, and ``out``
    is checked before the first point. With ``out``, writes the files of
    ``xpusim sweep --out OUT`` into ``OUT/NAME/``.
    """
    exp = _experiment_of(experiment)
    raw = exp.to_dict()
    workers = worker_count(workers, exp.source)
    if grid is not None:
        raw["sweep"] = {"grid": _grid_lists(grid, exp.source)}
        _experiment.parse_experiment(raw, exp.source, exp.base_dir)  # the grid's own shape
    if not raw.get("sweep"):
        raise InputError(exp.source, [Problem("sweep", "no grid given and the experiment has no sweep: block")])
    points = expand(raw, exp.source, exp.base_dir)
    if out is not None:
        check_writable(Path(out) / exp.name, "out")  # before simulating, as the CLI does
    on_done = (lambda n: progress(n, len(points))) if progress else None
    results = (run_points_on_dask(points, scheduler, on_done) if scheduler
               else run_points(points, workers, on_done))
    made = SweepResult(exp.name, tuple(points), tuple(results), rows=tuple(sweep_rows(points, results)))
    if out is None:
        return made
    return SweepResult(made.name, made.points, made.results, tuple(made.write(Path(out) / exp.name)), made.rows)


def search(experiment: Experiment | str | os.PathLike | Mapping[str, Any], *,
           out: str | os.PathLike | None = None, workers: int = 1, scheduler: str | None = None,
           trials: int | None = None, fresh: bool = False, progress: Progress | None = None) -> SearchResult:
    """Run the experiment's ``search:`` block (extra ``search``: optuna); see :mod:`simulator.search`.

    Trials run in ``workers`` local processes (lowered to the usable CPUs, as for :func:`sweep`) or on the
    Dask cluster at ``scheduler``;
    the trials do not depend on which. ``trials`` overrides the block's count. With
    ``out``, every finished trial is stored in ``OUT/NAME/trials.jsonl`` at once, a
    search interrupted earlier is continued from its stored trials (unless ``fresh``),
    and the files of ``xpusim search --out OUT`` are written.
    """
    from simulator.search import run_search

    exp = _experiment_of(experiment)
    workers = worker_count(workers, exp.source)
    return run_search(exp.to_dict(), exp.source, exp.base_dir, out=out, workers=workers, scheduler=scheduler,
                      trials=trials, fresh=fresh, progress=progress)


def worker_count(workers: Any, source: str = "<experiment>") -> int:
    """``workers`` checked (a whole number >= 1) and lowered to the CPUs this process may use: each local
    worker holds a copy of the simulator and none runs faster than one per CPU."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(source, [Problem("workers", f"expected a whole number >= 1, got {workers!r}")])
    return min(workers, usable_cpus())


def _grid_lists(grid: Any, source: str) -> dict[str, list]:
    """A grid given to :func:`sweep`: dotted keys to lists of values (a tuple or range is a list too)."""
    if not isinstance(grid, Mapping):
        raise InputError(source, [Problem("grid", f"expected a mapping of dotted keys to lists of values, got "
                                                  f"{type(grid).__name__}")])
    problems = [Problem(f"sweep.grid.{key}", f"expected a list of values, got {type(values).__name__}")
                for key, values in grid.items() if isinstance(values, (str, bytes, Mapping))
                or not isinstance(values, (list, tuple, range))]
    if problems:
        raise InputError(source, problems)
    return {key: list(values) for key, values in grid.items()}


def kinds() -> list[str]:
    """The accelerator kinds (``kind:`` values of an inline ``arch``)."""
    return registry.kinds()


def presets(kind: str | None = None) -> list[str]:
    """Preset names usable as a system's ``arch``, optionally only those of one ``kind``."""
    if kind is None:
        return registry.presets()
    if kind not in registry.KINDS:
        raise UnknownNameError("accelerator kind", kind, registry.kinds())
    return [name for name in registry.presets() if registry.preset_spec(name).get("kind") == kind]


def preset(name: str) -> dict[str, Any]:
    """A preset's spec mapping (a fresh copy): edit it and use it as an inline ``arch``."""
    return registry.preset_spec(name)


def models() -> list[str]:
    """Model presets usable as ``workload.model``."""
    from workloads.models import list_models

    return list_models()


def frame(rows: Sequence[Mapping[str, Any]]) -> "pandas.DataFrame":
    """``rows`` as a pandas DataFrame; a clear :class:`ImportError` when pandas is missing."""
    try:
        import pandas
    except ImportError:
        raise ImportError('to_pandas() needs pandas: pip install "xpusim[pandas]"') from None
    return pandas.DataFrame(list(rows))


def _flat(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings become dotted keys; lists of text become one ``" | "``-joined cell."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flat(value, f"{name}."))
        elif isinstance(value, (list, tuple)):
            flat[name] = " | ".join(map(str, value))
        else:
            flat[name] = value
    return flat
