"""The tile pipeline of one uncontended task as a jitted loop (the recurrence of
:mod:`simulator.engine_closed_form`), with its plain-Python twin.

Inputs per memory lane (a traffic's reads, or its writes): the channel it queues
on (-1: a held memory, which never queues), its latency, and per tile the
transfer cycles (0: the tile moves nothing there). Returns ``(end, status)``:
the cycle the task's last write is complete and 1, or status 0 when a read and
a write ask for one memory in one cycle in an order only SimPy's event queue
settles (the caller then runs SimPy).
"""

from __future__ import annotations

import numpy as np
from numba import njit


def pipeline_kernel_py(read_channel, read_latency, read_cycles, write_channel, write_latency, write_cycles,
                       computes, buffers, channels):
    steps = computes.shape[0]
    # per tile, the memories its reads (its writes) queue on, one bit each (channels <= 62)
    read_mask = np.zeros(steps, dtype=np.int64)
    write_mask = np.zeros(steps, dtype=np.int64)
    for step in range(steps):
        for lane in range(read_channel.shape[0]):
            if read_cycles[step, lane] > 0 and read_channel[lane] >= 0:
                read_mask[step] |= np.int64(1) << read_channel[lane]
        for lane in range(write_channel.shape[0]):
            if write_cycles[step, lane] > 0 and write_channel[lane] >= 0:
                write_mask[step] |= np.int64(1) << write_channel[lane]
    free = np.zeros(channels, dtype=np.int64)
    loaded_end = np.zeros(steps, dtype=np.int64)
    computed = np.zeros(steps, dtype=np.int64)
    arrival = 0
    compute_end = 0
    finish = 0
    k = 0
    s = 0
    while s < steps:
        loader = k < steps
        if loader and k > s:
            request = max(loaded_end[k - 1], computed[k - buffers] if k >= buffers else 0)
            if request > computed[s]:
                loader = False
            elif request == computed[s] and (read_mask[k] & write_mask[s]) != 0:
                waiting = k >= buffers and loaded_end[k - 1] <= computed[k - buffers] and s == k - buffers
                unique = s + 1 >= steps or computes[s + 1] > 0
                loader = not (waiting and unique)  # a write made as the loader's buffer frees goes first
        if loader:
            request = 0
            if k > 0:
                request = max(loaded_end[k - 1], computed[k - buffers] if k >= buffers else 0)
            for j in range(s, k):
                if computed[j] == request and (read_mask[k] & write_mask[j]) != 0:
                    return 0, 0
            done = request
            latency = 0
            for lane in range(read_channel.shape[0]):
                cycles = read_cycles[k, lane]
                if cycles > 0:
                    end = request + cycles
                    channel = read_channel[lane]
                    if channel >= 0:
                        end = max(request, free[channel]) + cycles
                        free[channel] = end
                    done = max(done, end)
                    latency = max(latency, read_latency[lane])
            loaded_end[k] = done
            arrival = max(done + latency, arrival)
            compute_end = max(arrival, compute_end) + computes[k]
            computed[k] = compute_end
            k += 1
        else:
            at = computed[s]
            done = at
            for lane in range(write_channel.shape[0]):
                cycles = write_cycles[s, lane]
                if cycles > 0:
                    end = at + cycles
                    channel = write_channel[lane]
                    if channel >= 0:
                        end = max(at, free[channel]) + cycles
                        free[channel] = end
                    done = max(done, end + write_latency[lane])
            finish = max(finish, done)
            s += 1
    return max(finish, loaded_end[steps - 1], computed[steps - 1]), 1


pipeline_kernel = njit(cache=True)(pipeline_kernel_py)


def twin_examples() -> tuple:
    """Inputs on which the kernel and its twin are compared (ties, held memories, latency)."""
    examples = []
    rng = np.random.default_rng(0)
    for _ in range(40):
        steps, lanes = int(rng.integers(1, 9)), int(rng.integers(1, 3))
        channel = rng.integers(-1, 2, size=lanes).astype(np.int64)
        examples.append((channel, rng.integers(0, 3, size=lanes).astype(np.int64),
                         rng.integers(0, 4, size=(steps, lanes)).astype(np.int64),
                         channel.copy(), rng.integers(0, 3, size=lanes).astype(np.int64),
                         rng.integers(0, 4, size=(steps, lanes)).astype(np.int64),
                         rng.integers(0, 4, size=steps).astype(np.int64), int(rng.integers(1, 4)), 2))
    return tuple(examples)
