"""Running an experiment: build the workload, map and simulate it on each system.

For each system: the workload's one-layer graph is mapped (:mod:`mappers`; a
system may ask for sub-batch interleaving, which unrolls a few layers, see
:mod:`mappers.subbatch`), simulated in the SimPy engine, and scaled by the workload's ``repeat`` (identical
layers back to back; the tail of one layer does not overlap the next). Energy is
the model's action counts times its component table, plus leakage times time;
area is the sum of the component areas. A system that fails is recorded as a
:class:`~simulator.results.Failure` and the other systems' results are kept.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Callable

from arch.contract import Accelerator, Bound, CapacityError
from mappers.schedule import Schedule, Task
from mappers.subbatch import map_step
from simulator.checks import step_workload
from simulator.engine import simulate
from simulator.errors import error_text
from simulator.op_bandwidth import dram_bandwidth_bytes_per_s, dram_efficiency
from simulator.experiment import Experiment, ResolvedSystem
from simulator.results import ENERGY_CATEGORIES, TimelineEvent, ExperimentResult, Failure, OpResult, SystemResult
from simulator.serving_run import request_stream, run_serving_system
from simulator.system_cache import accelerator, mapping_options, system_tables
from simulator.workload_spec import build_workload, model_config
from workloads.graph import Workload
from workloads.models import list_models


@lru_cache(maxsize=1)
def version() -> str:
    try:
        return metadata.version("xpusim")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def run_experiment(experiment: Experiment, on_system: Callable[[str], None] | None = None,
                   on_progress: Callable[[str, int, int], None] | None = None) -> ExperimentResult:
    """Every system of ``experiment``; ``on_system(name)`` as each starts, and for a serving trace
    ``on_progress(name, requests finished, requests)`` about twice a second."""
    run_one = _runner(experiment, on_progress)
    results, failures, timelines = [], [], {}
    for system in experiment.systems:
        if on_system:
            on_system(system.name)
        try:
            result, timeline = run_one(system)
        except (ValueError, KeyError) as err:
            failures.append(Failure(system.name, error_text(err)))
            continue
        results.append(result)
        timelines[system.name] = timeline
    return ExperimentResult(
        name=experiment.name, version=version(), seed=experiment.spec.seed,
        experiment=experiment.resolved(), systems=tuple(results),
        baseline=experiment.spec.report.baseline, failures=tuple(failures), timelines=timelines,
    )


def _runner(experiment: Experiment, on_progress: Callable[[str, int, int], None] | None = None
            ) -> Callable[[ResolvedSystem], tuple[SystemResult, tuple]]:
    """How each system is run: one workload step, or a serving trace."""
    spec = experiment.spec.workload
    if spec.phase != "serving":
        workload = _built_workload(experiment)
        return lambda system: run_system(workload, system)
    config = model_config(spec)
    requests = request_stream(spec.serving, experiment.spec.seed, Path(experiment.source).parent)

    def serve(system: ResolvedSystem) -> tuple[SystemResult, tuple]:
        progress = None if on_progress is None else (lambda done, total: on_progress(system.name, done, total))
        return run_serving_system(spec, config, requests, system, run_system, progress), ()
    return serve


def run_system(workload: Workload, system: ResolvedSystem) -> tuple[SystemResult, tuple[TimelineEvent, ...]]:
    accel = accelerator(system.kind, system.spec, system.tech)  # shared per spec: its tables are built once
    options = mapping_options(accel, system.mapping, workload.phase, workload.batch)
    warnings = system.warnings + _family_checks(accel, workload, options, system.capacity_warn)
    step, schedule = _mapped_step(workload, accel, options)  # sub-batches, mapping search
    timeline = simulate(schedule)
    result = summarise(system.name, accel, step, schedule, timeline, warnings)
    if options.search is not None:
        result = dataclasses.replace(result, mapping_search=_against_fixed(result, workload, accel, options))
    return result, timeline


# Workloads of specs that read no file, by the spec object itself (a loaded experiment run again), and
# mapped steps by (model class, spec, tech, options, workload): the mapper and engine are deterministic.
_WORKLOADS: dict[int, tuple[object, Workload]] = {}
_MAPPED: dict[tuple, tuple[Workload, Schedule]] = {}
_MEMO_MAX = 64  # entries kept in each (first in, first out), as many schedules as the engine's cache keeps


def _built_workload(experiment: Experiment) -> Workload:
    """``build_workload`` of the experiment's workload, remembered for a spec that reads no file (by the
    spec object; the entry keeps it alive) and then taken from the checks' memo, which the run's own check
    filled: a spec whose ``kv_lens`` are drawn already builds the same workload whatever the seed."""
    spec = experiment.spec.workload
    entry = _WORKLOADS.get(id(spec))
    if entry is not None and entry[0] is spec:
        return entry[1]
    reads_file = spec.trace is not None or (isinstance(spec.model, str) and spec.model not in list_models())
    if reads_file or not (spec.kv_lens is None or isinstance(spec.kv_lens, list)):
        return build_workload(spec)
    workload = step_workload(experiment)[0]
    _remember(_WORKLOADS, id(spec), (spec, workload))
    return workload


def _mapped_step(workload: Workload, accel: Accelerator, options) -> tuple[Workload, Schedule]:
    """``map_step`` of the workload on ``accel`` under ``options``, remembered per system and workload."""
    key = (type(accel), accel.spec, accel.tech, options, workload)
    try:
        mapped = _MAPPED.get(key)
    except TypeError:  # an unhashable spec
        return map_step(workload, accel, options, evaluate=simulate)
    if mapped is None:
        mapped = map_step(workload, accel, options, evaluate=simulate)
        _remember(_MAPPED, key, mapped)
    return mapped


def _remember(memo: dict, key, value) -> None:
    if len(memo) >= _MEMO_MAX:
        memo.pop(next(iter(memo)))
    memo[key] = value


def clear_run_memos() -> None:
    """Forget every remembered workload and mapped step."""
    _WORKLOADS.clear()
    _MAPPED.clear()


def _family_checks(accel: Accelerator, workload: Workload, options, capacity_warn: bool) -> tuple[str, ...]:
    """The family's own checks (e.g. memory capacity); under ``capacity: warn`` a refusal becomes a warning."""
    try:
        return tuple(accel.check_workload(workload, options) or ())
    except CapacityError as err:
        if not capacity_warn:
            raise
        return (f"{err} -- simulated anyway (capacity: warn)",)


def _against_fixed(result: SystemResult, workload: Workload, accel: Accelerator, options) -> dict:
    """The searched mapping's cycles and energy next to the fixed (default) mapping's, for the report."""
    fixed_options = options.model_copy(update={"search": None})
    step, schedule = map_step(workload, accel, fixed_options)
    fixed = summarise("fixed", accel, step, schedule, simulate(schedule))
    return {"objective": options.search.value, "cycles": result.cycles, "energy_j": result.energy_j,
            "fixed_mapping_cycles": fixed.cycles, "fixed_mapping_energy_j": fixed.energy_j}


def summarise(name: str, accel: Accelerator, workload: Workload, schedule: Schedule,
              timeline: tuple[TimelineEvent, ...], warnings: tuple[str, ...] = ()) -> SystemResult:
    repeat = workload.repeat
    layer_cycles = max(e.end for e in timeline)
    cycles = layer_cycles * repeat
    by_component: dict[str, float] = {}
    by_category = dict.fromkeys(ENERGY_CATEGORIES, 0.0)
    events = {e.task: e for e in timeline}
    ops = []
    tables = system_tables(accel)
    categories = tables.category_by_component
    for task in schedule.tasks:
        energy = accel.energy(task.cost.action_counts)
        op_categories = dict.fromkeys(ENERGY_CATEGORIES[:-1], 0.0)
        for component, pj in energy.by_component_pj.items():
            by_component[component] = by_component.get(component, 0.0) + pj * repeat
            op_categories[categories[component]] += pj
        for category, pj in op_categories.items():
            by_category[category] += pj * repeat
        ops.append(_op_result(task, events[task.name], energy.total_pj, schedule, op_categories))
    static_pj = tables.leakage_w * cycles / accel.clock_hz * 1e12
    by_category["static"] = static_pj
    return SystemResult(
        name=name, kind=accel.kind, clock_hz=accel.clock_hz, cycles=cycles,
        layer_cycles=layer_cycles, repeat=repeat, energy_pj_by_component=by_component,
        energy_pj_by_category=by_category, area_mm2_by_component=dict(tables.area_mm2_by_component),
        tokens=workload.tokens_per_step, macs=sum(op.macs for op in workload.ops) * repeat,
        peak_macs_per_cycle=tables.peak_macs_per_cycle, ops=tuple(ops),
        notes=tables.notes, warnings=tables.warnings + warnings, devices=int(dict(workload.meta).get("tp", 1)),
        memories={m.name: {"kind": m.kind.value, "bandwidth_bytes_per_s": m.total_bytes_per_cycle * accel.clock_hz}
                  for m in schedule.memories},
    )


def _op_result(task: Task, event: TimelineEvent, energy_pj: float, schedule: Schedule,
               energy_by_category: dict[str, float]) -> OpResult:
    op, cost = task.op, task.cost
    peak = task.peak_macs_per_cycle
    return OpResult(
        name=op.name, kind=op.kind.value, unit=event.unit, start_cycle=event.start,
        end_cycle=event.end, compute_cycles=cost.compute_cycles, stall_cycles=event.stall_cycles,
        memory_cycles=event.memory_cycles, macs=op.macs, flops=op.flops,
        read_bytes=cost.read_bytes, write_bytes=cost.write_bytes, energy_pj=energy_pj,
        bound=bound_of(task, schedule).value, energy_pj_by_category=energy_by_category,
        utilisation=op.macs / (event.total_cycles * peak) if peak and event.total_cycles else None,
        actions=cost.action_counts, mapping=task.mapping,
        dram_efficiency=dram_efficiency(cost, schedule.memories),
        dram_bandwidth_bytes_per_s=dram_bandwidth_bytes_per_s(cost, schedule.memories, event.total_cycles,
                                                              schedule.clock_hz),
    )


def bound_of(task: Task, schedule: Schedule) -> Bound:
    """The resource that set the task's time: its unit's compute, or the memory whose transfers take longest.

    Each memory's time is its bytes over its bandwidth; the largest of those and
    the compute cycles names the bound (the unit's own :class:`Bound` for
    compute: a link unit's busy time is network time). Ties go to compute.
    """
    memories = {m.name: m for m in schedule.memories}
    unit = next(u for u in schedule.units if u.name == task.unit)
    bound, longest = unit.bound, task.cost.compute_cycles
    for traffic in task.cost.traffic:
        memory = memories[traffic.memory]
        cycles = memory.transfer_cycles(traffic.total_bytes, traffic.efficiency)
        if cycles > longest:
            bound, longest = memory.kind.bound, cycles
    return bound
