"""Placing a workload on a system: ops become tasks bound to unit instances.

The default mapper asks the accelerator for each op's cost (identical op shapes
are costed once and reused) and binds each task to the instance of its unit that
an earliest-finish list scheduler, run on the stall-free costs in topological
order, expects to be free first. The SimPy engine then simulates the schedule with
real contention; this estimate only chooses the instance.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Mapping

import networkx as nx

from arch.contract import Accelerator, Memory, OpCost, Unit
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
    costs = cost_ops(workload.ops, accel, mapping)
    units = {unit.name: unit for unit in accel.units()}
    free_at = {name: [0] * unit.count for name, unit in units.items()}
    finish: dict[str, int] = {}
    tasks = []
    for name in nx.lexicographical_topological_sort(workload.graph, key=_order_key(workload)):
        op = workload.op(name)
        cost = costs[name]
        deps = tuple(workload.predecessors(name))
        ready = max((finish[d] for d in deps), default=0)
        slots = free_at[cost.unit]
        instance = min(range(len(slots)), key=lambda i: (max(slots[i], ready), i))
        finish[name] = max(slots[instance], ready) + cost.compute_cycles
        slots[instance] = finish[name]
        tasks.append(Task(name, op, cost.unit, instance, cost, deps))
    return Schedule(tuple(tasks), tuple(units.values()), accel.memories(), accel.clock_hz)


def cost_ops(ops: tuple[Op, ...], accel: Accelerator, mapping: Mapping | None) -> dict[str, OpCost]:
    """Each op's cost; ops that differ only in name and layer share one evaluation."""
    by_shape: dict[Op, OpCost] = {}
    costs = {}
    for op in ops:
        if not accel.supports(op):
            raise UnsupportedOpError(f"{accel.kind}: no unit runs {op.kind.value} ops (op {op.name!r})")
        shape = dataclasses.replace(op, name="", layer=-1)
        if shape not in by_shape:
            by_shape[shape] = accel.op_cost(op, mapping)
        costs[op.name] = by_shape[shape]
    return costs


def _order_key(workload: Workload):
    position = {op.name: i for i, op in enumerate(workload.ops)}
    return lambda name: position[name]
