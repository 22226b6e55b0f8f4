"""The engine's timeline of a schedule whose tasks run one after another, computed without SimPy.

A task alone (one task, or a chain of tasks each depending on the one before)
meets no other task, so the only contention left is inside its own tile pipeline (:mod:`simulator.engine`): the
loader's reads and the writers' writes queue first-in first-out on each
memory they share. This module replays exactly that pipeline as a loop over the
tiles (a jitted kernel, :mod:`simulator.engine_pipeline_kernel`, with its
plain-Python twin, which answers a process's first calls: :mod:`arch.tiered_kernel`)
-- the same recurrence the SimPy processes follow:

- the loader requests tile ``k``'s reads at ``g[k] = max(e[k-1], C[k-B])``
  (its previous reads done, and a buffer freed by tile ``k-B``'s compute,
  ``B`` buffers), all memories at once, each served FIFO on its memory, and is
  done at ``e[k]``, the last of them;
- tile ``k`` arrives at ``A[k] = max(e[k] + latency, A[k-1])`` and is computed
  from ``max(A[k], C[k-1])`` to ``C[k]``;
- tile ``s``'s writes are requested at ``C[s]``, served FIFO per memory, each
  complete ``latency_cycles`` after its transfer; a held memory never queues.

Requests on one memory are served in the order they were made. When a read
and a write request the same memory at the same cycle, SimPy's order is the one
case this loop must know: a write made as a buffer frees, with the loader
waiting for that buffer, comes first (the writer process starts, urgently,
before the loader's buffer grant is processed). Any other such tie returns
``None`` and the caller runs SimPy, so every timeline returned here is the
engine's own; ``tests/test_engine_closed_form.py`` checks it on random costs.
"""

from __future__ import annotations

import numpy as np

from mappers.schedule import Schedule
from arch.tiered_kernel import TieredKernel
from simulator.engine_pipeline_kernel import pipeline_kernel, pipeline_kernel_py
from simulator.results import TimelineEvent

MAX_CHANNELS = 62  # the kernel marks a tile's memories as bits of one int64
# The twin takes about 0.37 ms for a 64-tile task against 1.5 us jitted, and compiling (or loading) the kernel
# with Numba's set-up costs 0.05 s (cache warm, Numba already set up) to over a second (measured side by side):
# the twin for 128 calls or 0.05 s first, so that a run of a few tasks never compiles it (arch.tiered_kernel).
PIPELINE_KERNEL = TieredKernel(pipeline_kernel, pipeline_kernel_py, twin_calls=128, twin_budget_s=0.05)


def _lanes(cost, memories, field: str, channels: dict[str, int]):
    """(channel per lane, -1 when held; latency per lane; transfer cycles per tile and lane; total cycles)."""
    steps, lanes = cost.steps, cost.traffic
    channel = np.empty(len(lanes), dtype=np.int64)
    latency = np.empty(len(lanes), dtype=np.int64)
    cycles = np.zeros((steps, len(lanes)), dtype=np.int64)
    total = 0
    for lane, traffic in enumerate(lanes):
        memory = memories[traffic.memory]
        held = traffic.memory in cost.holds
        channel[lane] = -1 if held else channels.setdefault(traffic.memory, len(channels))
        latency[lane] = memory.latency_cycles
        base, extra = divmod(getattr(traffic, field), steps)  # the engine's split_evenly: larger tiles first
        small, large = (_cycles(memory, nbytes, traffic.efficiency) for nbytes in (base, base + 1))
        cycles[:extra, lane] = large
        cycles[extra:, lane] = small
        total += extra * large + (steps - extra) * small
    return channel, latency, cycles, total


def _cycles(memory, nbytes: int, efficiency: float) -> int:
    return memory.transfer_cycles(nbytes) if efficiency == 1.0 else memory.transfer_cycles(nbytes, efficiency)


def task_cycles(cost, memories, buffers: int = 2) -> tuple[int, int] | None:
    """(cycles from the unit's grant to the last write, bus cycles) of one task alone, or None on a tie."""
    steps = cost.steps
    if steps < 1 or buffers < 1 or len(cost.traffic) > MAX_CHANNELS:
        return None
    channels: dict[str, int] = {}
    read_channel, read_latency, read_cycles, read_total = _lanes(cost, memories, "read_bytes", channels)
    write_channel, write_latency, write_cycles, write_total = _lanes(cost, memories, "write_bytes", channels)
    base, extra = divmod(cost.compute_cycles, steps)
    computes = np.full(steps, base, dtype=np.int64)
    computes[:extra] += 1
    end, status = PIPELINE_KERNEL(read_channel, read_latency, read_cycles, write_channel, write_latency,
                                  write_cycles, computes, buffers, max(1, len(channels)))
    return (int(end), read_total + write_total) if status else None


def closed_form_timeline(schedule: Schedule, buffers: int = 2) -> tuple[TimelineEvent, ...] | None:
    """The timeline :class:`~simulator.engine.Engine` gives a schedule whose tasks run one after another,
    or None when they may overlap or a same-cycle tie needs SimPy's event order.

    Tasks run one after another when they form a chain in schedule order: the first has
    no dependencies and each later one depends on exactly the one before (one task per
    op). Each then starts as the one before ends, with its unit and every memory free.
    """
    tasks = schedule.tasks
    if not tasks or tasks[0].deps:
        return None
    for before, task in zip(tasks, tasks[1:]):
        if task.deps != (before.group,) or task.group == before.group:
            return None
    if len({task.group for task in tasks}) != len(tasks):
        return None
    memories = {m.name: m for m in schedule.memories}
    events, start = [], 0
    for task in tasks:
        timed = task_cycles(task.cost, memories, buffers)
        if timed is None:
            return None
        end = start + timed[0]
        events.append(TimelineEvent(task.name, task.unit_instance, start, end, task.cost.compute_cycles, timed[1]))
        start = end
    return tuple(sorted(events, key=lambda e: (e.start, e.task)))
