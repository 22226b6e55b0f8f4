"""The engine's timeline of a one-task schedule, computed without SimPy.

A schedule of one task without dependencies meets no other task, so the only
contention left is inside its own tile pipeline (:mod:`simulator.engine`): the
loader's reads and the writers' writes queue first-in first-out on each
memory they share. This module replays exactly that pipeline as a short loop
over the tiles -- the same recurrence the SimPy processes follow:

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

from mappers.schedule import Schedule
from simulator.results import TimelineEvent


def _split_evenly(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _parts(schedule: Schedule, field: str, steps: int) -> list[list[tuple[str | None, int, int]]]:
    """Per tile: (memory name, or None when held, transfer cycles, latency) of each transfer that moves bytes."""
    cost = schedule.tasks[0].cost
    memories = {m.name: m for m in schedule.memories}
    per_step: list[list[tuple[str | None, int, int]]] = [[] for _ in range(steps)]
    for traffic in cost.traffic:
        memory = memories[traffic.memory]
        channel = None if traffic.memory in cost.holds else traffic.memory
        for step, nbytes in enumerate(_split_evenly(getattr(traffic, field), steps)):
            if nbytes > 0:
                cycles = (memory.transfer_cycles(nbytes) if traffic.efficiency == 1.0
                          else memory.transfer_cycles(nbytes, traffic.efficiency))
                per_step[step].append((channel, cycles, memory.latency_cycles))
    return per_step


def _serve(parts, at: int, free: dict[str, int], with_latency: bool) -> int:
    """Issue one tile's transfers at cycle ``at``; the cycle the last is done."""
    done = at
    for channel, cycles, latency in parts:
        if channel is None:
            end = at + cycles
        else:
            end = max(at, free.get(channel, 0)) + cycles
            free[channel] = end
        done = max(done, end + latency if with_latency and latency else end)
    return done


def one_task_timeline(schedule: Schedule, buffers: int = 2) -> tuple[TimelineEvent, ...] | None:
    """The timeline :class:`~simulator.engine.Engine` gives a one-task schedule, or None when not one
    (several tasks, dependencies) or when a same-cycle tie needs SimPy's event order."""
    if len(schedule.tasks) != 1 or schedule.tasks[0].deps or buffers < 1:
        return None
    task = schedule.tasks[0]
    cost = task.cost
    steps = cost.steps
    if steps < 1:
        return None
    reads, writes = _parts(schedule, "read_bytes", steps), _parts(schedule, "write_bytes", steps)
    computes = _split_evenly(cost.compute_cycles, steps)
    read_channels = [{c for c, _, _ in p if c is not None} for p in reads]
    write_channels = [{c for c, _, _ in p if c is not None} for p in writes]
    free: dict[str, int] = {}
    loaded_end: list[int] = []   # e[k]
    computed: list[int] = []     # C[s]
    arrival = compute_end = finish = 0
    k = s = 0
    while s < steps:
        if k < steps and (k == s or _loader_first(k, s, loaded_end, computed, computes, buffers,
                                                  read_channels, write_channels)):
            request = max(loaded_end[k - 1] if k else 0, computed[k - buffers] if k >= buffers else 0)
            if any(computed[j] == request and read_channels[k] & write_channels[j] for j in range(s, k)):
                return None  # a read and a write ask for one memory in one cycle: SimPy's order decides
            loaded_end.append(_serve(reads[k], request, free, with_latency=False))
            latency = max((lat for _, _, lat in reads[k]), default=0)
            arrival = max(loaded_end[k] + latency, arrival)
            compute_end = max(arrival, compute_end) + computes[k]
            computed.append(compute_end)
            k += 1
        else:
            finish = max(finish, _serve(writes[s], computed[s], free, with_latency=True))
            s += 1
    memory_cycles = sum(c for tile in reads + writes for _, c, _ in tile)
    end = max(finish, loaded_end[-1], computed[-1])
    return (TimelineEvent(task.name, task.unit_instance, 0, end, cost.compute_cycles, memory_cycles),)


def _loader_first(k, s, loaded_end, computed, computes, buffers, read_channels, write_channels):
    """Whether loader tile ``k`` requests before writer tile ``s`` (s < k); a tie SimPy's order
    decides raises no question when they share no memory, and the known tie (a write made as the
    buffer the waiting loader needs frees) goes to the writer; other ties are sent back to SimPy
    by the caller (the loader goes first and the tie is seen there)."""
    request = max(loaded_end[k - 1], computed[k - buffers] if k >= buffers else 0)
    if request != computed[s]:
        return request < computed[s]
    if not read_channels[k] & write_channels[s]:
        return True
    waiting = k >= buffers and loaded_end[k - 1] <= computed[k - buffers] == computed[s]
    unique = s == k - buffers and (s + 1 >= len(computes) or computes[s + 1] > 0)
    return not (waiting and unique)
