"""The discrete-event engine: runs a :class:`~mappers.schedule.Schedule` in SimPy.

Each task waits for the ops it depends on, then for its unit instance, which it
holds until its last output is written. Inside, the op runs as ``steps``
pipelined tiles with double buffering: a loader moves each tile's share of
every memory's read bytes (each memory a shared SimPy resource, so concurrent
tasks contend for it; a tile's transfers over different memories proceed
together), the unit computes a tile as soon as its inputs are in and a buffer
is free, and each tile's output is written back over the same memories. Events
are per tile and per transfer, never per cycle. Time is integer cycles of the
system clock.

Determinism: processes are created in schedule order and SimPy resolves
simultaneous events in the order they were scheduled, so equal inputs give
equal timelines. Failures are SimPy's: an exception in a task ends the run with
that exception; a run that stops with tasks unfinished (a deadlock) raises
:class:`EngineError` naming them. The schedule's names and its acyclicity are
checked when the schedule is built (:mod:`mappers.schedule_check`).

Faithfulness limits, stated: a task does not start loading before its unit is
free (no prefetch across ops); a tile's data arrives ``latency_cycles`` after
its transfer ends while the next transfer proceeds (the latency is pipelined,
not paid back to back); a write is complete latency cycles after its transfer;
a transfer holds the whole memory bandwidth for its duration, so contention is
resolved tile by tile. A transfer runs at its traffic's ``efficiency`` of the
memory's peak bandwidth (:class:`~arch.costs.Traffic`).

Holds: a task whose cost names memories in ``holds`` claims each of them once
its unit is free and keeps it until it ends, so no other task's transfer uses
that memory meanwhile (a PIM op in a single-row-buffer memory blocks the host's
reads). Tasks holding the same memory share one claim (:class:`SharedHold`) and
overlap each other; a holder's own transfers over a held memory do not queue
again.
"""

from __future__ import annotations

from functools import lru_cache

import simpy

from arch.contract import Memory
from arch.tiered_kernel import TieredKernel
from mappers.schedule import Schedule, Task
from simulator import engine_warmup
from simulator.engine_closed_form import closed_form_timeline
from simulator.results import TimelineEvent
from simulator.shared_hold import SharedHold


# SimPy seconds a process spends before the event kernel takes over: about what loading the kernel from
# Numba's cache costs, and with no cached kernel a share of what compiling it costs, so that short commands
# never compile it (both measured by benchmarks/engine_events_speed.py).
EVENT_TWIN_BUDGET_CACHED_S = 0.25
EVENT_TWIN_BUDGET_UNCACHED_S = 3.0
# SimPy's time per tile and per tile transfer of a contended schedule: 15-32 us on the Llama-2-7B decode
# steps at batch 256 of tpuv4-like, neupims, npu-pim-naive, duplex and a100-80gb on a 2-core machine
# (``python benchmarks/engine_events_speed.py --batch 256``, column "SimPy us per tile transfer"). It only
# decides where a large schedule runs first; both give the same timeline.
SIMPY_S_PER_TILE_TRANSFER = 20e-6


class EngineError(RuntimeError):
    """The simulation ended with tasks that never ran (a deadlock)."""


def split_evenly(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` integers that differ by at most one (larger first)."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def transfer_cycles(nbytes: int, memory: Memory, efficiency: float = 1.0) -> int:
    """Cycles to move ``nbytes`` over ``memory`` at ``efficiency`` of its peak bandwidth."""
    return memory.transfer_cycles(nbytes) if efficiency == 1.0 else memory.transfer_cycles(nbytes, efficiency)


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
        self.holds = {name: SharedHold(channel) for name, (_, channel) in self.memories.items()}
        self.remaining: dict[str, int] = {}
        for task in schedule.tasks:
            self.remaining[task.group] = self.remaining.get(task.group, 0) + 1
        self.done = {group: self.env.event() for group in self.remaining}

    def run(self) -> tuple[TimelineEvent, ...]:
        processes = [self.env.process(self._task(t)) for t in self.schedule.tasks]
        finished = self.env.all_of(processes)
        try:
            self.env.run(until=finished)
        except RuntimeError as err:
            if finished.triggered:
                raise
            pending = [t.name for t, p in zip(self.schedule.tasks, processes) if not p.triggered]
            raise EngineError(f"{len(pending)} task(s) never finished (deadlock): {', '.join(pending[:8])}"
                              f"{' ...' if len(pending) > 8 else ''}") from err
        events = [p.value for p in processes]
        return tuple(sorted(events, key=lambda e: (e.start, e.task)))

    def _task(self, task: Task):
        if task.deps:
            yield self.env.all_of([self.done[d] for d in task.deps])
        with self.units[task.unit_instance].request() as claim:
            yield claim
            start = self.env.now
            for name in task.cost.holds:
                yield self.holds[name].join()
            memory_cycles = yield from self._pipeline(task)
            for name in task.cost.holds:
                self.holds[name].leave()
            event = TimelineEvent(task.name, task.unit_instance, start, self.env.now,
                                  task.cost.compute_cycles, memory_cycles)
        self.remaining[task.group] -= 1
        if not self.remaining[task.group]:
            self.done[task.group].succeed()
        return event

    def _lanes(self, task: Task, field: str) -> list[tuple[Memory, object, list[int], float]]:
        """(memory, its channel or None when held by the task, per-step bytes, efficiency) per memory of the cost."""
        cost = task.cost
        lanes = []
        for traffic in cost.traffic:
            memory, channel = self.memories[traffic.memory]
            lanes.append((memory, None if traffic.memory in cost.holds else channel,
                          split_evenly(getattr(traffic, field), cost.steps), traffic.efficiency))
        return lanes

    def _pipeline(self, task: Task):
        cost = task.cost
        reads, writes = self._lanes(task, "read_bytes"), self._lanes(task, "write_bytes")
        computes = split_evenly(cost.compute_cycles, cost.steps)
        slots = simpy.Container(self.env, capacity=self.buffers, init=self.buffers)
        loaded = simpy.Store(self.env)
        loader = self.env.process(self._loader(reads, cost.steps, slots, loaded))
        writers = []
        for step, compute in enumerate(computes):
            yield loaded.get()
            yield self.env.timeout(compute)
            yield slots.put(1)
            writers.append(self.env.process(self._move(_step(writes, step))))
        written = yield self.env.all_of(writers)
        loaded_cycles = yield loader
        return loaded_cycles + sum(written[w] for w in writers)

    def _loader(self, reads, steps: int, slots, loaded):
        """Loads tiles back to back; each arrives ``latency_cycles`` after its transfer, in order."""
        last_arrival, moved = 0, 0
        for step in range(steps):
            parts = _step(reads, step)
            yield slots.get(1)
            moved += yield from self._move(parts, with_latency=False)
            latency = max((m.latency_cycles for m, _, n, _ in parts if n > 0), default=0)
            last_arrival = max(self.env.now + latency, last_arrival)
            if last_arrival > self.env.now:
                self.env.process(self._arrive(loaded, last_arrival - self.env.now))
            else:
                yield loaded.put(step)
        return moved

    def _arrive(self, loaded, delay):
        yield self.env.timeout(delay)
        yield loaded.put(delay)

    def _move(self, parts, with_latency=True):
        """One tile's transfers (memory, channel, bytes, efficiency), concurrent across memories; returns bus cycles."""
        active = [part for part in parts if part[2] > 0]
        if len(active) <= 1:
            return (yield from self._transfer(*active[0], with_latency)) if active else 0
        transfers = [self.env.process(self._transfer(*part, with_latency)) for part in active]
        done = yield self.env.all_of(transfers)
        return sum(done[t] for t in transfers)

    def _transfer(self, memory: Memory, channel, nbytes: int, efficiency: float, with_latency: bool):
        cycles = transfer_cycles(nbytes, memory, efficiency)
        if channel is None:
            yield self.env.timeout(cycles)
        else:
            with channel.request() as claim:
                yield claim
                yield self.env.timeout(cycles)
        if with_latency and memory.latency_cycles:
            yield self.env.timeout(memory.latency_cycles)
        return cycles


def _step(lanes, step: int) -> list[tuple[Memory, object, int, float]]:
    return [(memory, channel, sizes[step], efficiency) for memory, channel, sizes, efficiency in lanes]


def simulate(schedule: Schedule, closed_form: bool = True) -> tuple[TimelineEvent, ...]:
    """The timeline of ``schedule``; an identical schedule seen recently is not simulated again.

    Schedules are frozen values and the engine is deterministic, so sweep points
    (or systems) that map to the same tasks, costs, units and memories share one
    simulation -- identical layers are computed once and reused. A schedule
    whose tasks run one after another has its timeline computed in closed form
    (:mod:`simulator.engine_closed_form`); any other is replayed by the jitted event
    kernel (:mod:`simulator.engine_events`) once the process has spent a while in
    SimPy -- both give SimPy's timeline, event for event. ``closed_form=False``
    always runs SimPy.
    """
    return _simulate_cached(schedule, closed_form)


@lru_cache(maxsize=64)
def _simulate_cached(schedule: Schedule, closed_form: bool = True) -> tuple[TimelineEvent, ...]:
    if closed_form:
        timeline = closed_form_timeline(schedule)
        if timeline is None:
            timeline = _event_tiered(schedule)
        if timeline is not None:
            return timeline
    return Engine(schedule).run()


def _simpy_timeline(schedule: Schedule) -> tuple[TimelineEvent, ...]:
    return Engine(schedule).run()


def _kernel_timeline(schedule: Schedule) -> tuple[TimelineEvent, ...] | None:
    from simulator.engine_events import event_timeline

    engine_warmup.wait()  # a child compiling the kernel: load its result rather than compile it again
    return event_timeline(schedule)


def _event_tiered(schedule: Schedule) -> tuple[TimelineEvent, ...] | None:
    tier = _event_tier()
    if tier.twin_budget_s > EVENT_TWIN_BUDGET_CACHED_S and engine_warmup.finished():
        tier.twin_budget_s = EVENT_TWIN_BUDGET_CACHED_S  # the child has put the kernel in the cache
    return tier(schedule)


_EVENT_TIER: list[TieredKernel] = []


def _event_tier() -> TieredKernel:
    """SimPy itself for a process's first schedules, the event kernel once SimPy has taken longer than loading
    the kernel would: about 0.2 s from Numba's cache (measured by ``benchmarks/cold_start.py``), several
    seconds to compile it when the cache is empty (then SimPy is given that long first, while a forked child
    compiles it where the process may fork, :mod:`simulator.engine_warmup`)."""
    if not _EVENT_TIER:
        from simulator.engine_event_kernel import compiled_on_disk

        cached = compiled_on_disk()
        if not cached:
            engine_warmup.start()  # compiled on the other core meanwhile, where the process may fork
        budget_s = EVENT_TWIN_BUDGET_CACHED_S if cached else EVENT_TWIN_BUDGET_UNCACHED_S
        _EVENT_TIER.append(TieredKernel(_kernel_timeline, _simpy_timeline, twin_calls=1 << 62,
                                        twin_budget_s=budget_s, twin_estimate_s=simpy_estimate_s))
    return _EVENT_TIER[0]


def prefer_event_kernel() -> None:
    """In a process that has the event kernel loaded (:mod:`simulator.server` after its warm-up): every
    schedule goes to the kernel from now on, as SimPy's head start only saves loading it."""
    _event_tier().twin_budget_s = 0.0


def simpy_estimate_s(schedule: Schedule) -> float:
    """About how long SimPy takes for ``schedule``: its tiles times their transfers, at the rate SimPy
    steps them (only where a schedule is run is chosen from it, never a timeline)."""
    work = sum(task.cost.steps * (1 + len(task.cost.traffic)) for task in schedule.tasks)
    return work * SIMPY_S_PER_TILE_TRANSFER


def simulation_cache_info():
    """Hits and misses of the schedule cache (for benchmarks)."""
    return _simulate_cached.cache_info()


def clear_simulation_cache() -> None:
    """Forget every cached timeline, so the next :func:`simulate` runs the engine."""
    _simulate_cached.cache_clear()
