"""Placing a workload on a system: ops become tasks bound to unit instances.

The default mapper chooses each op's unit among those the model offers
(:mod:`mappers.placement`, by the system's typed
:class:`~arch.mapping_options.MappingOptions`), splits GEMMs and vector ops
across the instances of that unit (:mod:`mappers.split`; a part's task is named
``"<op>#<i>"``, an unsplit op's task keeps the op's name), asks the model for
each part's cost (identical shapes are costed once and reused, remembered
across calls per system and options) and binds each
task to the instance of its unit that an earliest-start list scheduler, run on
the stall-free costs in topological order, expects to be free first
(:mod:`mappers.instances`). A task's ``group`` is the op it is part of; its
dependencies name the predecessor ops, each done when all its parts are. The
SimPy engine then simulates the schedule with real contention; this estimate
only chooses the instance.

A :class:`Schedule` checks every name its tasks use when it is built: units,
instances, memories of the traffic, held memories, dependencies, and that the
op graph has no cycle; a bad name is a :class:`ScheduleError` naming the task,
the name and the declared ones. Mapping costs O(ops x instances) for the split
search plus O(tasks log instances) for the list scheduler.
"""

from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Mapping

from arch.contract import Accelerator, MappingOptions, Memory, OpCost, Unit
from mappers.instances import InstancePool
from mappers.placement import UnsupportedOpError, choose_unit
from mappers.schedule_check import ScheduleError, check_schedule
from mappers.split import best_split_choice, split_op
from workloads.graph import Workload
from workloads.op import Op

__all__ = ["Schedule", "ScheduleError", "Task", "UnsupportedOpError", "map_workload", "mapping_options"]


@dataclass(frozen=True)
class Task:
    """One op (or one part of a split op) bound to one unit instance, with its cost and predecessors.

    ``group`` is the workload op the task is part of (its own name when unsplit);
    ``deps`` name predecessor groups; ``peak_macs_per_cycle`` is the instance's
    peak on this op (for utilisation).
    """

    name: str
    op: Op
    unit: str
    instance: int
    cost: OpCost
    deps: tuple[str, ...]
    group: str = ""
    peak_macs_per_cycle: float = 0.0
    mapping: str = ""  # how the op was mapped (parts, split dimension, family choices), for ops.csv

    def __post_init__(self) -> None:
        if not self.group:
            object.__setattr__(self, "group", self.name)

    @property
    def unit_instance(self) -> str:
        return f"{self.unit}[{self.instance}]"


@dataclass(frozen=True)
class Schedule:
    """Tasks, the units and memories they use, and the clock; every name checked on construction."""

    tasks: tuple[Task, ...]
    units: tuple[Unit, ...]
    memories: tuple[Memory, ...]
    clock_hz: float

    def __post_init__(self) -> None:
        check_schedule(self)


def mapping_options(accel: Accelerator, mapping: MappingOptions | Mapping | None,
                    phase: str = "", batch: int = 1) -> MappingOptions:
    """``mapping`` as the system's typed options over its defaults for the step."""
    if isinstance(mapping, MappingOptions):
        return mapping
    return accel.mapping_options(mapping, phase, batch)


def map_workload(workload: Workload, accel: Accelerator, mapping: MappingOptions | Mapping | None = None,
                 per_op: Mapping[str, MappingOptions] | None = None) -> Schedule:
    """Tasks for every op (GEMMs and vector ops split across their unit's instances), bound to instances.

    ``per_op`` gives some ops options of their own (a mapping search's choices);
    the others use ``mapping``.
    """
    options = mapping_options(accel, mapping, workload.phase, workload.batch)
    per_op = per_op or {}
    units = {unit.name: unit for unit in accel.units()}
    costers: dict[MappingOptions, Callable[[Op], OpCost]] = {}

    def cost_of(op_name: str) -> Callable[[Op], OpCost]:
        chosen = per_op.get(op_name, options)
        if chosen not in costers:  # one memo per options for the placement, the split search and the final costs
            costers[chosen] = _shape_cached(accel, chosen)
        return costers[chosen]

    parts, described = _split_workload(workload, accel, lambda name: per_op.get(name, options), cost_of)
    pools = {name: InstancePool(unit.count) for name, unit in units.items()}
    finish: dict[str, int] = {}
    tasks = []
    for name in workload.topological_order():
        deps = tuple(workload.predecessors(name))
        ready = max((finish[d] for d in deps), default=0)
        for op in parts[name]:
            cost = cost_of(name)(op)
            pool = pools[cost.unit] if cost.unit in pools else _undeclared(accel, op, cost)
            instance = pool.choose(ready)
            end = max(pool.free_at(instance), ready) + cost.compute_cycles
            pool.occupy(instance, end)
            finish[name] = max(finish.get(name, 0), end)
            peak = accel.unit_peak_macs_per_cycle(units[cost.unit], op)
            tasks.append(Task(op.name, op, cost.unit, instance, cost, deps, name, peak, described[name]))
    return Schedule(tuple(tasks), tuple(units.values()), accel.memories(), accel.clock_hz)


def _undeclared(accel: Accelerator, op: Op, cost: OpCost):
    known = ", ".join(u.name for u in accel.units())
    raise ScheduleError(f"task {op.name!r}: its cost names unit {cost.unit!r}, which {accel.kind} does not "
                        f"declare (units: {known})")


def _split_workload(workload: Workload, accel: Accelerator, options_of: Callable[[str], MappingOptions],
                    cost_of: Callable[[str], Callable[[Op], OpCost]]) -> tuple[dict, dict]:
    """Each op's parts (GEMMs and vector ops split across their unit's instances, collectives whole)
    and a description of its mapping.

    A ``split_dim`` from the options applies to GEMMs; vector ops are cut along rows.
    """
    counts = {unit.name: unit.count for unit in accel.units()}
    bandwidth = {m.name: m.total_bytes_per_cycle for m in accel.memories()}
    parts, described = {}, {}
    for op in workload.ops:
        options, costs = options_of(op.name), cost_of(op.name)
        whole = costs(op)  # an op splits across the instances of the unit its cost names
        available = counts.get(whole.unit, 1) if not op.kind.is_collective else 1
        cores = min(available, options.split_cores or available)
        pieces, dim = 1, None
        if cores > 1:
            dims = (options.split_dim.value,) if options.split_dim and op.kind.is_matmul else None
            pieces, dim = best_split_choice(op, cores, costs, _shared_bandwidth(whole, bandwidth), dims,
                                            memo_key=(type(accel), accel.spec, accel.tech, options))
        parts[op.name] = (op,) if dim is None else split_op(op, pieces, dim)
        described[op.name] = describe_mapping(options, len(parts[op.name]), dim)
    return parts, described


def describe_mapping(options: MappingOptions, parts: int, dim: str | None) -> str:
    """An op's mapping in words for ops.csv: its parts, split dimension and any family choice set."""
    words = [f"parts={parts}"] + ([f"split={dim}"] if dim else [])
    try:
        family = _family_words(options)
    except TypeError:  # options that cannot be hashed
        family = _family_words.__wrapped__(options)
    return " ".join(words + list(family))


@lru_cache(maxsize=256)
def _family_words(options: MappingOptions) -> tuple[str, ...]:
    """``key=value`` of each family option set in ``options`` (frozen, so worded once)."""
    family = {k: v for k, v in options.model_dump(mode="json").items()
              if k not in MappingOptions.model_fields and v is not None}
    return tuple(f"{k}={v}" for k, v in sorted(family.items()))


def _shared_bandwidth(cost: OpCost, bandwidth: Mapping[str, float]) -> float:
    """The bandwidth an op's parts share: that of the memory carrying most of its bytes (inf if none)."""
    if not cost.traffic:
        return float("inf")
    busiest = max(cost.traffic, key=lambda t: t.total_bytes)
    return bandwidth.get(busiest.memory, float("inf"))


# Op costs remembered across calls, per model instance and options (the run path shares one model per spec,
# simulator.system_cache): a model is a pure function of its frozen spec and tech, so an op shape's cost
# under the same options is the same in every call. A new instance starts afresh (the conformance checker's
# determinism check builds one per run). Each entry keeps its model, so an id is never reused while kept.
_COST_MEMO: dict[tuple, tuple[Accelerator, dict[tuple, OpCost]]] = {}
_COST_MEMO_SYSTEMS = 64  # (model, options) keys kept (first in, first out)
_COST_MEMO_SHAPES = 512  # op shapes kept per key (cleared when full): at most 64 x 512 costs of ~2 kB each


def _shape_cached(accel: Accelerator, options: MappingOptions) -> Callable[[Op], OpCost]:
    """The op's cost on the unit the placement rule chooses, memoised on its shape (name and layer ignored)."""
    by_shape = _cost_memo(accel, options)

    def cost_of(op: Op) -> OpCost:
        shape = _shape_of(op)
        cost = by_shape.get(shape)
        if cost is None:
            cost = by_shape[shape] = accel.op_cost(op, choose_unit(accel, op, options), options)
        return cost
    return cost_of


# An op's shape: every field but its name and layer, as a tuple (cheaper than a copy of the op, which
# validates itself again).
_shape_of = operator.attrgetter(*(f.name for f in dataclasses.fields(Op) if f.name not in ("name", "layer")))


def _cost_memo(accel: Accelerator, options: MappingOptions) -> dict[tuple, OpCost]:
    """The remembered costs of ``accel`` under ``options`` (a fresh dict when the options cannot be hashed)."""
    key = (id(accel), options)
    try:
        entry = _COST_MEMO.get(key)
    except TypeError:
        return {}
    if entry is None or entry[0] is not accel:
        if len(_COST_MEMO) >= _COST_MEMO_SYSTEMS:
            _COST_MEMO.pop(next(iter(_COST_MEMO)))
        entry = _COST_MEMO[key] = (accel, {})
    elif len(entry[1]) >= _COST_MEMO_SHAPES:
        entry[1].clear()
    return entry[1]


def clear_cost_memo() -> None:
    """Forget every remembered op cost."""
    _COST_MEMO.clear()
