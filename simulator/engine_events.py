"""A schedule's SimPy timeline computed by the jitted event kernel (:mod:`simulator.engine_event_kernel`).

This module lays a :class:`~mappers.schedule.Schedule` out as the kernel's
arrays -- tasks in schedule order with their unit instance, op group and
dependencies; per tile the compute cycles and, per memory lane, the transfer
cycles (the engine's even split of each traffic's bytes, -1 for a tile that
moves nothing there) -- and turns the kernel's start and end cycles back into
:class:`~simulator.results.TimelineEvent` values. The timeline is the SimPy
engine's own, event for event (the kernel's docstring says how), held memories
included; a schedule the kernel cannot finish (a deadlock) returns ``None`` and
the caller runs SimPy, which names the tasks.
"""

from __future__ import annotations

import numpy as np

from mappers.schedule import Schedule
from simulator.engine_event_kernel import event_kernel
from simulator.results import TimelineEvent


def _tile_cycles(memory, nbytes: int, steps: int, efficiency: float) -> np.ndarray:
    """Per tile, the cycles of the engine's even split of ``nbytes`` (larger tiles first), -1 for none."""
    base, extra = divmod(nbytes, steps)
    cycles = np.full(steps, -1, dtype=np.int64)
    for size, lo, hi in ((base + 1, 0, extra), (base, extra, steps)):
        if size > 0 and hi > lo:
            cycles[lo:hi] = memory.transfer_cycles(size) if efficiency == 1.0 else \
                memory.transfer_cycles(size, efficiency)
    return cycles


class _Layout:
    """The kernel's arrays for one schedule, and the bus cycles of each task."""

    def __init__(self, schedule: Schedule, buffers: int) -> None:
        instances = {f"{u.name}[{i}]": k for k, (u, i) in
                     enumerate((u, i) for u in schedule.units for i in range(u.count))}
        memories = {m.name: (len(instances) + k, m) for k, m in enumerate(schedule.memories)}
        groups: dict[str, int] = {}
        for task in schedule.tasks:
            groups.setdefault(task.group, len(groups))
        self.n_resources = len(instances) + len(memories)
        self.buffers = buffers
        self.group_count = np.zeros(len(groups), dtype=np.int64)
        unit, group, steps, deps, dep_ptr, compute, self.bus_cycles = [], [], [], [], [0], [], []
        holds, hold_ptr = [], [0]
        sides = {field: ([0], [], [], []) for field in ("read_bytes", "write_bytes")}  # ptr, res, latency, cycles
        for task in schedule.tasks:
            cost = task.cost
            unit.append(instances[task.unit_instance])
            group.append(groups[task.group])
            self.group_count[groups[task.group]] += 1
            steps.append(cost.steps)
            deps.extend(groups[d] for d in task.deps)
            dep_ptr.append(len(deps))
            holds.extend(memories[name][0] for name in cost.holds)
            hold_ptr.append(len(holds))
            base, extra = divmod(cost.compute_cycles, cost.steps)
            tile_compute = np.full(cost.steps, base, dtype=np.int64)
            tile_compute[:extra] += 1
            compute.append(tile_compute)
            bus = 0
            for field, (ptr, res, latency, cycles) in sides.items():
                lanes = []
                for traffic in cost.traffic:
                    index, memory = memories[traffic.memory]
                    res.append(-1 if traffic.memory in cost.holds else index)  # a held memory never queues
                    latency.append(memory.latency_cycles)
                    lanes.append(_tile_cycles(memory, getattr(traffic, field), cost.steps, traffic.efficiency))
                ptr.append(len(res))
                matrix = np.stack(lanes, axis=1) if lanes else np.zeros((cost.steps, 0), dtype=np.int64)
                bus += int(matrix[matrix > 0].sum())
                cycles.append(matrix.reshape(-1))
            self.bus_cycles.append(bus)
        self.task_unit = np.asarray(unit, dtype=np.int64)
        self.task_group = np.asarray(group, dtype=np.int64)
        self.task_steps = np.asarray(steps, dtype=np.int64)
        self.task_tile = np.concatenate(([0], np.cumsum(self.task_steps)[:-1])).astype(np.int64)
        self.dep_ptr = np.asarray(dep_ptr, dtype=np.int64)
        self.dep_group = np.asarray(deps, dtype=np.int64)
        self.hold_ptr = np.asarray(hold_ptr, dtype=np.int64)
        self.hold_res = np.asarray(holds, dtype=np.int64)
        self.compute = np.concatenate(compute).astype(np.int64)
        self.sides = tuple(_side(*sides[field]) for field in ("read_bytes", "write_bytes"))
        self._bounds(len(deps))

    def _bounds(self, n_deps: int) -> None:
        """Array sizes no run can exceed (the kernel reports an overflow if one ever did)."""
        lanes = np.diff(self.sides[0][0]) + np.diff(self.sides[1][0])
        tiles = int((self.task_steps * (16 + 6 * lanes)).sum())
        self.n_events = len(self.group_count) + 16 * len(self.task_steps) + tiles + 16
        self.n_callbacks = 2 * self.n_events + n_deps + 16
        self.n_processes = 2 * len(self.task_steps) + int((self.task_steps * (2 + lanes)).sum()) + 4

    def run(self):
        (read_ptr, read_res, read_latency, read_cycles, read_off), \
            (write_ptr, write_res, write_latency, write_cycles, write_off) = self.sides
        return event_kernel(self.task_unit, self.task_group, self.dep_ptr, self.dep_group, self.task_steps,
                            self.task_tile, self.compute, read_ptr, read_res, read_latency, write_ptr, write_res,
                            write_latency, read_cycles, read_off, write_cycles, write_off, self.hold_ptr,
                            self.hold_res, self.group_count,
                            self.n_resources, self.buffers, self.n_events, self.n_callbacks, self.n_processes)


def _side(ptr: list, res: list, latency: list, cycles: list) -> tuple:
    """(lane offsets per task, memory resource and latency per lane, cycles per tile and lane, offsets)."""
    offsets = np.zeros(len(cycles), dtype=np.int64)
    offsets[1:] = np.cumsum([m.shape[0] for m in cycles])[:-1]
    flat = np.concatenate(cycles + [np.zeros(1, dtype=np.int64)]).astype(np.int64)
    return (np.asarray(ptr, dtype=np.int64), np.asarray(res, dtype=np.int64),
            np.asarray(latency, dtype=np.int64), flat, offsets)


def event_timeline(schedule: Schedule, buffers: int = 2) -> tuple[TimelineEvent, ...] | None:
    """The timeline :class:`~simulator.engine.Engine` gives ``schedule``, from the event kernel; None for a
    schedule the kernel could not finish (the caller then runs SimPy)."""
    tasks = schedule.tasks
    if not tasks or buffers < 1:
        return None
    layout = _Layout(schedule, buffers)
    start, end, status = layout.run()
    if not status:
        return None
    events = [TimelineEvent(task.name, task.unit_instance, int(start[i]), int(end[i]), task.cost.compute_cycles,
                            layout.bus_cycles[i]) for i, task in enumerate(tasks)]
    return tuple(sorted(events, key=lambda e: (e.start, e.task)))
