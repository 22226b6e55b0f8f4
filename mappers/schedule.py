"""Placing a workload on a system: ops become tasks bound to unit instances.

The default mapper splits each GEMM and vector op across the instances of its unit
(:mod:`mappers.split`; a part's task is named ``"<op>#<i>"``, an unsplit op's
task keeps the op's name), asks the accelerator for each part's cost (identical
shapes are costed once and reused) and binds each task to the instance of its
unit that an earliest-finish list scheduler, run on the stall-free costs in
topological order, expects to be free first. A task depends on every part of
each of its op's predecessors. The SimPy engine then simulates the schedule with
real contention; this estimate only chooses the instance.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, Mapping

import networkx as nx

from arch.contract import Accelerator, Memory, OpCost, Unit
from mappers.split import best_split
from workloads.graph import Workload
from workloads.op import Op


@dataclass(frozen=True)
class Task:
    """One op bound to one unit instance, with its cost and its predecessors."""

    name: str
    op: Op
    unit: str
    instance: int
    cost: OpCost
    deps: tuple[str, ...]

    @property
    def unit_instance(self) -> str:
        return f"{self.unit}[{self.instance}]"


@dataclass(frozen=True)
class Schedule:
    tasks: tuple[Task, ...]
    units: tuple[Unit, ...]
    memories: tuple[Memory, ...]
    clock_hz: float


class UnsupportedOpError(ValueError):
    """The system has no unit that can run an op."""


def map_workload(workload: Workload, accel: Accelerator, mapping: Mapping | None = None) -> Schedule:
    """Tasks for every op (GEMMs and vector ops split across their unit's instances), bound to instances.

    ``mapping`` keys read here: ``split_cores`` (int: the most instances one
    op is split across; default all of its unit's instances, 1 = never
    split) and ``split_dim`` ("n", "m" or "count"; default chosen per op by
    :func:`mappers.split.best_split`). The whole mapping is passed on to
    ``accel.op_cost``.
    """
    units = {unit.name: unit for unit in accel.units()}
    cost_of = _shape_cached(accel, mapping)  # one memo for the split search and the final costs
    parts = _split_workload(workload, accel, mapping or {}, cost_of)
    costs = cost_ops(tuple(op for op_parts in parts.values() for op in op_parts), accel, cost_of)
    free_at = {name: [0] * unit.count for name, unit in units.items()}
    finish: dict[str, int] = {}
    tasks = []
    for name in nx.lexicographical_topological_sort(workload.graph, key=_order_key(workload)):
        deps = tuple(part.name for d in workload.predecessors(name) for part in parts[d])
        ready = max((finish[d] for d in deps), default=0)
        for op in parts[name]:
            cost = costs[op.name]
            slots = free_at[cost.unit]
            instance = min(range(len(slots)), key=lambda i: (max(slots[i], ready), i))
            finish[op.name] = max(slots[instance], ready) + cost.compute_cycles
            slots[instance] = finish[op.name]
            tasks.append(Task(op.name, op, cost.unit, instance, cost, deps))
    return Schedule(tuple(tasks), tuple(units.values()), accel.memories(), accel.clock_hz)


def _split_workload(workload: Workload, accel: Accelerator, mapping: Mapping,
                    cost_of: Callable[[Op], OpCost]) -> dict[str, tuple[Op, ...]]:
    """Each op's parts: GEMMs and vector ops split across their unit's instances, collectives whole.

    A ``split_dim`` from the mapping applies to GEMMs; vector ops are cut along rows.
    """
    counts = {unit.name: unit.count for unit in accel.units()}
    limit = int(mapping.get("split_cores", 0)) or None
    dims = (mapping["split_dim"],) if mapping.get("split_dim") else None
    parts = {}
    for op in workload.ops:
        # an op splits across the instances of the unit its cost names
        splittable = not op.kind.is_collective and accel.supports(op)
        available = counts.get(cost_of(op).unit, 1) if splittable else 1
        cores = min(available, limit or available)
        if cores > 1:
            bytes_per_cycle = _bytes_per_cycle(accel, cost_of(op).memory)
            parts[op.name] = best_split(op, cores, cost_of, bytes_per_cycle, dims if op.kind.is_matmul else None)
        else:
            parts[op.name] = (op,)
    return parts


def _shape_cached(accel: Accelerator, mapping: Mapping):
    """``accel.op_cost`` memoised on the op's shape (its name and layer ignored)."""
    by_shape: dict[Op, OpCost] = {}

    def cost_of(op: Op) -> OpCost:
        shape = dataclasses.replace(op, name="", layer=-1)
        if shape not in by_shape:
            by_shape[shape] = accel.op_cost(op, mapping)
        return by_shape[shape]
    return cost_of


def _bytes_per_cycle(accel: Accelerator, memory_name: str) -> float:
    memory = next((m for m in accel.memories() if m.name == memory_name), None)
    return memory.bytes_per_cycle * memory.channels if memory else float("inf")


def cost_ops(ops: tuple[Op, ...], accel: Accelerator, cost_of: Callable[[Op], OpCost]) -> dict[str, OpCost]:
    """Each op's cost by name, through ``cost_of`` (ops that differ only in name and layer share one)."""
    for op in ops:
        if not accel.supports(op):
            raise UnsupportedOpError(f"{accel.kind}: no unit runs {op.kind.value} ops (op {op.name!r})")
    return {op.name: cost_of(op) for op in ops}


def _order_key(workload: Workload):
    position = {op.name: i for i, op in enumerate(workload.ops)}
    return lambda name: position[name]
