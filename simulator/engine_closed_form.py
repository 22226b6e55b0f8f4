"""The engine's timeline of a one-task schedule, computed without SimPy.

A schedule of one task without dependencies meets no other task, so the only
contention left is inside its own tile pipeline (:mod:`simulator.engine`): the
loader's reads and the writers' writes queue first-in first-out on each
memory they share. This module replays exactly that pipeline as a loop over the
tiles (a jitted kernel, :mod:`simulator.engine_pipeline_kernel`, with its
plain-Python twin) -- the same recurrence the SimPy processes follow:

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
from simulator.engine_pipeline_kernel import pipeline_kernel
from simulator.results import TimelineEvent

MAX_CHANNELS = 62  # the kernel marks a tile's memories as bits of one int64


def _lanes(schedule: Schedule, field: str, steps: int, channels: dict[str, int]):
    """(channel per lane, -1 when held; latency per lane; transfer cycles per tile and lane; total cycles)."""
    cost = schedule.tasks[0].cost
    memories = {m.name: m for m in schedule.memories}
    lanes = cost.traffic
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


def one_task_timeline(schedule: Schedule, buffers: int = 2) -> tuple[TimelineEvent, ...] | None:
    """The timeline :class:`~simulator.engine.Engine` gives a one-task schedule, or None when not one
    (several tasks, dependencies) or when a same-cycle tie needs SimPy's event order."""
    if len(schedule.tasks) != 1 or schedule.tasks[0].deps or buffers < 1:
        return None
    task = schedule.tasks[0]
    cost = task.cost
    steps = cost.steps
    if steps < 1 or len(cost.traffic) > MAX_CHANNELS:
        return None
    channels: dict[str, int] = {}
    read_channel, read_latency, read_cycles, read_total = _lanes(schedule, "read_bytes", steps, channels)
    write_channel, write_latency, write_cycles, write_total = _lanes(schedule, "write_bytes", steps, channels)
    base, extra = divmod(cost.compute_cycles, steps)
    computes = np.full(steps, base, dtype=np.int64)
    computes[:extra] += 1
    end, status = pipeline_kernel(read_channel, read_latency, read_cycles, write_channel, write_latency,
                                  write_cycles, computes, buffers, max(1, len(channels)))
    if not status:
        return None
    return (TimelineEvent(task.name, task.unit_instance, 0, int(end), cost.compute_cycles,
                          read_total + write_total),)
