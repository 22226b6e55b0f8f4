"""The discrete-event engine: runs a :class:`~mappers.schedule.Schedule` in SimPy.

Each task waits for its predecessors, then for its unit instance, which it holds
until its last output is written. Inside, the op runs as ``steps`` pipelined
tiles with double buffering: a loader moves each tile's input bytes over the
memory (a shared SimPy resource, so concurrent tasks contend for it), the unit
computes a tile as soon as its inputs are in and a buffer is free, and each
tile's output is written back over the same memory. Events are per tile and per
transfer, never per cycle. Time is integer cycles of the system clock.

Determinism: processes are created in schedule order and SimPy resolves
simultaneous events in the order they were scheduled, so equal inputs give
equal timelines. Faithfulness limits, stated: a task does not start loading
before its unit is free (no prefetch across ops); a tile's data arrives
``latency_cycles`` after its transfer ends while the next transfer proceeds (the
latency is pipelined, not paid back to back); a write is complete latency cycles
after its transfer; a transfer holds the whole memory bandwidth for its
duration, so contention is resolved tile by tile.

Holds: a task whose cost names memories in ``holds`` claims each of them once
its unit is free and keeps it until it ends, so no other task's transfer uses
that memory meanwhile (a PIM op in a single-row-buffer memory blocks the host's
reads). Tasks holding the same memory share one claim and overlap each other;
a holder's own transfers over a held memory do not queue again.
"""

from __future__ import annotations

import math
from functools import lru_cache

import simpy

from arch.contract import Memory
from mappers.schedule import Schedule, Task
from simulator.results import TimelineEvent


def split_evenly(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` integers that differ by at most one (larger first)."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def transfer_cycles(nbytes: int, memory: Memory) -> int:
    if nbytes <= 0:
        return 0
    return math.ceil(nbytes / (memory.bytes_per_cycle * memory.channels))


class Engine:
    """Builds the SimPy resources of a schedule and runs it to completion."""

    def __init__(self, schedule: Schedule, buffers: int = 2) -> None:
        self.schedule = schedule
        self.buffers = buffers
        self.env = simpy.Environment()
        self.units = {
            f"{u.name}[{i}]": simpy.Resource(self.env, capacity=1)
            for u in schedule.units for i in range(u.count)
        }
        self.memories = {m.name: (m, simpy.Resource(self.env, capacity=1)) for m in schedule.memories}
        self.held = {m.name: _Hold() for m in schedule.memories}
        self.done = {t.name: self.env.event() for t in schedule.tasks}
        self.events: list[TimelineEvent] = []

    def run(self) -> tuple[TimelineEvent, ...]:
        processes = [self.env.process(self._task(t)) for t in self.schedule.tasks]
        self.env.run()
        failed = [p for p in processes if not p.ok]
        if failed:
            raise RuntimeError(f"{len(failed)} task(s) failed in the engine")
        missing = [t.name for t in self.schedule.tasks if not self.done[t.name].triggered]
        if missing:
            raise RuntimeError(f"tasks never ran (dependency on a missing task?): {missing[:5]}")
        return tuple(sorted(self.events, key=lambda e: (e.start, e.task)))

    def _task(self, task: Task):
        if task.deps:
            yield self.env.all_of([self.done[d] for d in task.deps])
        with self.units[task.unit_instance].request() as claim:
            yield claim
            start = self.env.now
            holds = [name for name in task.cost.holds if name in self.memories]
            for name in holds:
                yield from self._hold(name)
            memory_cycles = yield from self._pipeline(task)
            for name in holds:
                self._unhold(name)
            self.events.append(TimelineEvent(task.name, task.unit_instance, start, self.env.now,
                                             task.cost.compute_cycles, memory_cycles))
        self.done[task.name].succeed()

    def _pipeline(self, task: Task):
        cost = task.cost
        memory, channel = self.memories[cost.memory] if cost.memory in self.memories else (None, None)
        if cost.memory in cost.holds:
            channel = None  # already held by this task
        reads = split_evenly(cost.read_bytes, cost.steps)
        computes = split_evenly(cost.compute_cycles, cost.steps)
        writes = split_evenly(cost.write_bytes, cost.steps)
        slots = simpy.Container(self.env, capacity=self.buffers, init=self.buffers)
        loaded = simpy.Store(self.env)
        moved = [0]
        self.env.process(self._loader(reads, memory, channel, slots, loaded, moved))
        writers = []
        for compute, write in zip(computes, writes):
            yield loaded.get()
            yield self.env.timeout(compute)
            yield slots.put(1)
            writers.append(self.env.process(self._transfer(write, memory, channel, moved)))
        if writers:
            yield self.env.all_of(writers)
        return moved[0]

    def _loader(self, reads, memory, channel, slots, loaded, moved):
        """Loads tiles back to back; each arrives ``latency_cycles`` after its transfer, in order."""
        last_arrival = 0
        for nbytes in reads:
            yield slots.get(1)
            yield from self._transfer(nbytes, memory, channel, moved, with_latency=False)
            latency = memory.latency_cycles if memory is not None and nbytes > 0 else 0
            last_arrival = max(self.env.now + latency, last_arrival)
            if last_arrival > self.env.now:
                self.env.process(self._arrive(loaded, nbytes, last_arrival - self.env.now))
            else:
                yield loaded.put(nbytes)

    def _arrive(self, loaded, nbytes, delay):
        yield self.env.timeout(delay)
        yield loaded.put(nbytes)

    def _transfer(self, nbytes, memory, channel, moved, with_latency=True):
        if memory is None or nbytes <= 0:
            return
        cycles = transfer_cycles(nbytes, memory)
        if channel is None:
            yield self.env.timeout(cycles)
        else:
            with channel.request() as claim:
                yield claim
                yield self.env.timeout(cycles)
        moved[0] += cycles
        if with_latency and memory.latency_cycles:
            yield self.env.timeout(memory.latency_cycles)


    def _hold(self, name: str):
        """Join the memory's shared hold (claiming the memory if no task holds it)."""
        state, (_, channel) = self.held[name], self.memories[name]
        if state.claim is None:
            state.claim = channel.request()
        state.holders += 1
        yield state.claim

    def _unhold(self, name: str) -> None:
        state, (_, channel) = self.held[name], self.memories[name]
        state.holders -= 1
        if state.holders == 0:
            channel.release(state.claim)
            state.claim = None


class _Hold:
    """The one claim on a memory that all its current holders share."""

    def __init__(self) -> None:
        self.claim = None
        self.holders = 0


def simulate(schedule: Schedule) -> tuple[TimelineEvent, ...]:
    """The timeline of ``schedule``; an identical schedule seen recently is not simulated again.

    Schedules are frozen values and the engine is deterministic, so sweep points
    (or systems) that map to the same tasks, costs, units and memories share one
    simulation -- identical layers are computed once and reused.
    """
    return _simulate_cached(schedule)


@lru_cache(maxsize=64)
def _simulate_cached(schedule: Schedule) -> tuple[TimelineEvent, ...]:
    return Engine(schedule).run()


def simulation_cache_info():
    """Hits and misses of the schedule cache (for benchmarks)."""
    return _simulate_cached.cache_info()


def clear_simulation_cache() -> None:
    """Forget every cached timeline, so the next :func:`simulate` runs the engine."""
    _simulate_cached.cache_clear()
