"""Everything ``run`` and ``sweep`` check before simulating, in one place.

``xpusim validate``, ``xpusim run`` and ``xpusim sweep`` all call
:func:`check_experiment` on a loaded :class:`~simulator.experiment.Experiment`, so
a file that validates is a file that runs, and a file ``run`` rejects is rejected
by ``validate`` with the same message. The check builds what a run builds short
of mapping and simulating: the workload (model preset or ``config.json``, trace
file, ``ops`` list, tensor-parallel split; for a serving experiment the request
stream and one decode step of the model), and every system's accelerator model
with the workload's own checks (:meth:`~arch.contract.Accelerator.check_workload`).

Capacity is checked the same way for every family (:mod:`simulator.capacity`):
a design whose DRAM cannot hold the weights (every expert of an MoE) and the KV
cache is a problem by default, and a warning with ``capacity: warn``. A family
that refuses such a step itself (``CapacityError`` from ``check_workload``: GPU,
Duplex) counts as not fitting too; with ``capacity: warn`` it is simulated
anyway, the refusal carried as a warning. A serving experiment is checked on one decode
step at batch 1, i.e. for its weights: its KV cache is bounded by the user's
``serving.kv_capacity_tokens``, which is not checked against the DRAM.

Not checked here (only a run finds it): a mapper or engine error on a particular
op, since finding it means mapping the workload.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from arch import registry
from arch.contract import CapacityError
from arch.costs import MemoryRateError
from simulator.capacity import capacity_shortfall
from simulator.errors import InputError, Problem, error_text
from simulator.experiment import Experiment, ResolvedSystem
from simulator.schema import WorkloadSpec
from simulator.workload_spec import build_workload, model_config, resolve_workload
from workloads.graph import Workload
from workloads.layers import build_decoder_layer
from workloads.models import ModelConfig


@dataclass(frozen=True)
class CheckReport:
    """What :func:`check_experiment` found: problems (the run would fail), warnings, and per-system fit."""

    problems: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    fits: dict[str, bool] = field(default_factory=dict)
    capacity: dict[str, str] = field(default_factory=dict)  # system -> shortfall message

    @property
    def ok(self) -> bool:
        return not self.problems


def check_experiment(experiment: Experiment, capacity_is_problem: bool | None = None,
                     map_systems: bool = False) -> CheckReport:
    """Every problem of ``experiment`` that a run would meet before simulating.

    ``capacity_is_problem`` defaults to the experiment's ``capacity:`` setting
    (``fail`` unless it says ``warn``); a sweep passes ``False`` to record
    non-fitting systems instead of refusing the whole grid. With
    ``map_systems`` (``xpusim validate``) each system also maps the workload, as
    a run does first, so an op a system cannot run (a 16-bit op on int8 PEs) is
    reported with the message the run would give.
    """
    if capacity_is_problem is None:
        capacity_is_problem = getattr(experiment.spec, "capacity", "fail") != "warn"
    try:
        workload, config = step_workload(experiment)
    except InputError as err:
        return CheckReport(problems=err.problems)
    problems, warnings, fits, shortfalls = [], [], {}, {}
    for system in experiment.systems:
        path = f"systems.{system.name}"
        try:
            accel = registry.model_class(system.kind)(system.spec, system.tech)
            accel.memories()  # a memory the spec's numbers cannot describe is this system's problem
            options = mapping_options(accel, system, workload)
            family = _family_check(accel, workload, options)
        except CapacityError as err:  # the family refuses a step that does not fit (GPU, Duplex)
            fits[system.name], shortfalls[system.name] = False, error_text(err)
            (problems if capacity_is_problem else warnings).append(Problem(path, error_text(err)))
            continue
        except MemoryRateError as err:
            problems.append(Problem(path, f"{error_text(err)}{rate_keys(system.spec)}"))
            fits[system.name] = False
            continue
        except (ValueError, KeyError) as err:
            problems.append(Problem(path, error_text(err)))
            fits[system.name] = False
            continue
        if map_systems and (failure := _mapping_failure(workload, accel, options)):
            problems.append(Problem(path, failure))
            continue
        shortfall = capacity_shortfall(accel, workload, config)
        fits[system.name] = not shortfall
        if shortfall:
            shortfalls[system.name] = shortfall
            (problems if capacity_is_problem else warnings).append(Problem(path, shortfall))
        warnings += [Problem(path, w) for w in family if not (shortfall and "weights + KV" in w)]
    return CheckReport(tuple(problems), tuple(warnings), fits, shortfalls)


def rate_keys(spec) -> str:
    """``" (this system's ...)"``: the spec's bandwidth and clock keys and their values, the numbers a memory's
    bytes per cycle come from (``""`` when it has none at its top level)."""
    found = [f"{name} = {value:g}" for name, value in spec if isinstance(value, (int, float))
             and not isinstance(value, bool) and ("bandwidth" in name or name.endswith("clock_hz"))]
    return f" (this system's {', '.join(found)})" if found else ""


def _family_check(accel, workload: Workload, options) -> tuple[str, ...]:
    """``accel.check_workload`` as a run calls it, with the mapping options."""
    return tuple(accel.check_workload(workload, options) or ())


def mapping_options(accel, system: ResolvedSystem, workload: Workload):
    """The system's mapping options as a run builds them (``None`` where the model has no options)."""
    make = getattr(accel, "mapping_options", None)
    if make is None:
        return None
    return make(dict(getattr(system, "mapping", ()) or ()), workload.phase, workload.batch)


def _mapping_failure(workload: Workload, accel, options) -> str:
    """The message a run would record if mapping ``workload`` on ``accel`` fails; ``""`` if it maps.

    A mapping search (``search`` in the options) is not run here: the fixed mapping is checked.
    """
    from mappers.subbatch import map_step  # the mapper is needed only here

    try:
        if options is None:
            map_step(workload, accel)
        else:
            if getattr(options, "search", None) is not None:
                options = options.model_copy(update={"search": None})
            map_step(workload, accel, options)
    except (ValueError, KeyError) as err:  # what simulator.run records as a failed system
        return error_text(err)
    return ""


def require_valid(experiment: Experiment, map_systems: bool = False) -> CheckReport:
    """:func:`check_experiment`, raising :class:`InputError` (with the file as source) on any problem."""
    report = check_experiment(experiment, map_systems=map_systems)
    if report.problems:
        raise InputError(experiment.source, report.problems)
    return report


# Workloads built from a spec that reads no file (a preset or inline model, explicit ops), by the spec's
# values and the seed: a sweep's points share a few workloads, and a Workload and ModelConfig are frozen.
_BUILT: dict[tuple, tuple[Workload, ModelConfig | None]] = {}
_BUILT_MAX = 64


def _workload_key(spec: WorkloadSpec, seed: int) -> tuple | None:
    """The cache key of a workload that depends on the spec alone, or ``None`` (it reads a file)."""
    if spec.trace is not None or spec.phase == "serving":
        return None
    if isinstance(spec.model, str) and not _is_preset(spec.model):
        return None  # a config file: its contents may change between calls
    return (json.dumps(spec.model_dump(mode="json"), sort_keys=True), seed)


def _is_preset(name: str) -> bool:
    from workloads.models import list_models

    return name in list_models()


def step_workload(experiment: Experiment) -> tuple[Workload, ModelConfig | None]:
    """The workload a run builds (for serving: one decode step at batch 1) and the model, if any."""
    return _build(experiment.spec.workload, experiment.spec.seed, experiment.source,
                  Path(experiment.source).parent)


def _build(spec: WorkloadSpec, seed: int, source: str, base_dir: Path) -> tuple[Workload, ModelConfig | None]:
    key = _workload_key(spec, seed)
    if key is not None and key in _BUILT:
        return _BUILT[key]
    config = model_config(spec, source) if spec.model is not None else None
    if spec.phase != "serving":
        built = build_workload(spec, source, seed=seed), config
        if key is not None:
            if len(_BUILT) >= _BUILT_MAX:
                _BUILT.pop(next(iter(_BUILT)))
            _BUILT[key] = built
        return built
    from simulator.serving_run import request_stream  # imports the serving loop only when needed

    try:
        requests = request_stream(spec.serving, seed, base_dir)
    except (csv.Error, RecursionError) as err:  # a CSV field over the csv module's limit
        raise InputError(source, [Problem("workload.serving.csv", f"not a request trace: {err}")]) from None
    if not len(requests):
        where = f"the request trace {spec.serving.csv}" if spec.serving.csv else "the request stream"
        raise InputError(source, [Problem("workload.serving", f"{where} lists no requests: give at least one "
                                                              "row of arrival_s, prompt_tokens, output_tokens")])
    needs = requests.prompt_tokens + requests.output_tokens
    if int(needs.max()) > spec.serving.kv_capacity_tokens:  # the batching loop would refuse it mid-run
        i = int(needs.argmax())
        raise InputError(source, [Problem("workload.serving.kv_capacity_tokens", (
            f"request {i} needs {int(needs[i])} KV tokens (prompt {int(requests.prompt_tokens[i])} + output "
            f"{int(requests.output_tokens[i])}), more than kv_capacity_tokens = {spec.serving.kv_capacity_tokens}: "
            "raise it or shorten the requests"))])
    try:
        workload = build_decoder_layer(config, "decode", 1, 1, spec.weight_bits, spec.act_bits, spec.kv_bits,
                                       weight_group_size=spec.weight_group_size, scale_bits=spec.scale_bits,
                                       tp=spec.tp)
    except (ValueError, KeyError) as err:
        raise InputError(source, [Problem("workload", error_text(err))]) from None
    return workload, config


def workload_block_problems(block: Any, seed: Any, source: str, base_dir: Path) -> list[Problem]:
    """What building the ``workload:`` block alone finds (an unknown model, a bad tp, a broken trace file)."""
    try:
        spec = block if isinstance(block, WorkloadSpec) else WorkloadSpec.model_validate(block)
        spec, problems = resolve_workload(spec, seed if isinstance(seed, int) else 0, base_dir)
    except (ValidationError, TypeError, ValueError):
        return []  # shape errors of the block are reported by the schema
    if problems:
        return problems
    try:
        _build(spec, seed if isinstance(seed, int) else 0, source, base_dir)
    except InputError as err:
        return list(err.problems)
    return []


def fitting_systems(experiment: Experiment, report: CheckReport) -> tuple[ResolvedSystem, ...]:
    """The systems of ``experiment`` whose capacity check passed."""
    return tuple(s for s in experiment.systems if report.fits.get(s.name, True))
