"""The SimPy engine's event loop replayed as one jitted kernel, event for event.

:mod:`simulator.engine` runs a schedule as SimPy processes: a task process per
task, a loader per task, a writer per tile, an arrival per late tile, and a
transfer process per memory when a tile moves over several. This kernel runs the
same processes as explicit state machines over integer arrays, and replays the
parts of SimPy 4 they use exactly as SimPy does them:

- the event queue is a heap ordered by (time, priority, event id), URGENT for a
  process's start and NORMAL for everything else, ids given in scheduling order;
- a processed event runs its callbacks in the order they were added -- a
  resource's trigger first (added when the request was made), then the waiting
  process or condition;
- a resource (capacity 1), the task's buffer container and its tile store each
  keep a put and a get queue and grant from the head as SimPy's ``_do_put`` and
  ``_do_get`` do (a resource or store looks at its head only; a container grants
  heads while it can);
- ``all_of`` counts its events as they are processed and succeeds on the last;
- a process that yields an event already processed continues at once.

The queue, resources and conditions are :mod:`simulator.engine_event_queue`; this module
runs the engine's processes on them.

Events nobody waits on are still scheduled, so every event takes the id SimPy
gives it. The timeline therefore equals SimPy's to the cycle, ties included;
``tests/test_engine_events.py`` checks it against SimPy on random contended
schedules and on the mapped workloads of the shipped presets. Held memories
replay :class:`~simulator.shared_hold.SharedHold`: the first holder requests the
memory, later holders wait on that same request, the last to leave releases it,
and a holder's own transfers over it take their cycles without queueing. Returns
status 0 (the caller then runs SimPy, which reports the problem) when tasks are
left unfinished or an array bound is hit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simulator.engine_event_queue import (
    C_HEAP, C_NOW, C_OVERFLOW, C_PROCESSES, CB_ARG, CB_CHECK, CB_KIND, CB_NEXT, CB_RESUME, CB_TRIGGER_PUT, E_CB_HEAD,
    E_STATE, INTERNAL, PROCESSED, R_CAP, R_KIND, R_LEVEL, R_PUT_HEAD, RES_CONTAINER, RES_RESOURCE, RES_STORE, URGENT,
    ZERO, _add_callback, _all_of, _check, _get, _new_event, _pop, _put, _schedule, _succeed, _timeout, _trigger_get,
    _trigger_put)

# process kinds; columns of the process table
K_TASK, K_LOADER, K_WRITER, K_ARRIVE, K_TRANSFER = (np.int64(k) for k in range(5))  # typed int64 (ZERO)
(P_KIND, P_PC, P_TASK, P_STEP, P_EVENT, P_CLAIM, P_CHANNEL, P_CYCLES, P_LATENCY, P_RETURN, P_AUX,
 P_AUX2) = range(12)

PC_TRANSFER = np.int64(100)  # the transfer subroutine's first state (request, move, release, latency)
INFINITE = np.int64(1) << 62
NO, YES = np.bool_(False), np.bool_(True)  # typed bool, not literal (ZERO)


@njit(**INTERNAL)
def _process(ev, cb, heap, proc, c, kind, task, step, pc):
    """``env.process``: the process's own event, and its start scheduled URGENT now."""
    p = c[C_PROCESSES]
    if p >= proc.shape[0]:
        c[C_OVERFLOW] = 1
        return proc.shape[0] - 1
    c[C_PROCESSES] = p + 1
    for col in range(proc.shape[1]):
        proc[p, col] = 0
    proc[p, P_KIND] = kind
    proc[p, P_PC] = pc
    proc[p, P_TASK] = task
    proc[p, P_STEP] = step
    proc[p, P_RETURN] = -1
    proc[p, P_EVENT] = _new_event(ev, c)
    start = _new_event(ev, c)
    _add_callback(ev, cb, c, start, CB_RESUME, p)
    _schedule(ev, heap, c, start, URGENT, ZERO)
    return p


@njit(**INTERNAL)
def _transfers(ev, cb, heap, proc, c, scratch, task, lo, cycles, base, width, lane_res, lane_latency,
               with_latency):
    """``_move`` of several active memories: a transfer process each, in lane order, and their all-of."""
    n = ZERO
    for j in range(width):
        if cycles[base + j] >= 0:
            t = _process(ev, cb, heap, proc, c, K_TRANSFER, task, ZERO, PC_TRANSFER)
            proc[t, P_CHANNEL] = lane_res[lo + j]
            proc[t, P_CYCLES] = cycles[base + j]
            proc[t, P_LATENCY] = lane_latency[lo + j] if with_latency else 0
            scratch[n] = proc[t, P_EVENT]
            n += 1
    return _all_of(ev, cb, heap, c, scratch, ZERO, n)


@njit(**INTERNAL)
def _advance(p, ev, cb, heap, res, proc, c, scratch, task_unit, task_group, dep_ptr, dep_group, task_steps,
             task_tile, compute, read_ptr, read_res, read_latency, write_ptr, write_res, write_latency,
             read_cycles, read_off, write_cycles, write_off, hold_ptr, hold_res, hold_claim, hold_count,
             group_left, buffers, slots_base, writer_event, start, end):
    """Runs process ``p`` to its next yield; returns the event it waits for, or -1 when it has returned."""
    while True:
        pc = proc[p, P_PC]
        kind = proc[p, P_KIND]
        i = proc[p, P_TASK]
        if pc >= PC_TRANSFER:  # with channel.request(): yield claim; yield timeout; release; latency
            if pc == PC_TRANSFER and proc[p, P_CHANNEL] >= 0:
                proc[p, P_CLAIM] = _put(ev, cb, heap, res, c, proc[p, P_CHANNEL])
                proc[p, P_PC] = PC_TRANSFER + 1
                return proc[p, P_CLAIM]
            if pc <= PC_TRANSFER + 1:  # granted, or a held memory (no request)
                proc[p, P_PC] = PC_TRANSFER + 2
                return _timeout(ev, heap, c, proc[p, P_CYCLES])
            if pc == PC_TRANSFER + 2:
                if proc[p, P_CHANNEL] >= 0:
                    _get(ev, cb, heap, res, c, proc[p, P_CHANNEL])
                if proc[p, P_LATENCY] > 0:
                    proc[p, P_PC] = PC_TRANSFER + 3
                    return _timeout(ev, heap, c, proc[p, P_LATENCY])
            if proc[p, P_RETURN] < 0:
                return -1
            proc[p, P_PC] = proc[p, P_RETURN]
            continue
        slots, store = slots_base + 2 * i, slots_base + 2 * i + 1
        tile = task_tile[i] + proc[p, P_STEP]
        if kind == K_TASK:
            if pc == 0:
                proc[p, P_PC] = 1
                if dep_ptr[i + 1] > dep_ptr[i]:
                    return _all_of(ev, cb, heap, c, dep_group, dep_ptr[i], dep_ptr[i + 1])
                continue
            if pc == 1:
                proc[p, P_CLAIM] = _put(ev, cb, heap, res, c, task_unit[i])
                proc[p, P_PC] = 2
                return proc[p, P_CLAIM]
            if pc == 2:
                start[i] = c[C_NOW]
                proc[p, P_AUX2] = hold_ptr[i]
                proc[p, P_PC] = 8
                continue
            if pc == 8:  # SharedHold.join of each held memory: one shared request, granted to all holders
                k = proc[p, P_AUX2]
                if k < hold_ptr[i + 1]:
                    r = hold_res[k]
                    if hold_claim[r] < 0:
                        hold_claim[r] = _put(ev, cb, heap, res, c, r)
                    hold_count[r] += 1
                    proc[p, P_AUX2] = k + 1
                    return hold_claim[r]
                res[slots, R_LEVEL] = buffers
                proc[p, P_AUX] = _process(ev, cb, heap, proc, c, K_LOADER, i, ZERO, ZERO)
                if task_steps[i] == 0:
                    proc[p, P_PC] = 6
                    return _all_of(ev, cb, heap, c, writer_event, ZERO, ZERO)
                proc[p, P_PC] = 3
                return _get(ev, cb, heap, res, c, store)
            if pc == 3:
                proc[p, P_PC] = 4
                return _timeout(ev, heap, c, compute[tile])
            if pc == 4:
                proc[p, P_PC] = 5
                return _put(ev, cb, heap, res, c, slots)
            if pc == 5:
                w = _process(ev, cb, heap, proc, c, K_WRITER, i, proc[p, P_STEP], ZERO)
                writer_event[tile] = proc[w, P_EVENT]
                proc[p, P_STEP] += 1
                if proc[p, P_STEP] < task_steps[i]:
                    proc[p, P_PC] = 3
                    return _get(ev, cb, heap, res, c, store)
                proc[p, P_PC] = 6
                return _all_of(ev, cb, heap, c, writer_event, task_tile[i], task_tile[i] + task_steps[i])
            if pc == 6:
                proc[p, P_PC] = 7
                return proc[proc[p, P_AUX], P_EVENT]
            for k in range(hold_ptr[i], hold_ptr[i + 1]):  # SharedHold.leave: the last holder releases
                r = hold_res[k]
                hold_count[r] -= 1
                if hold_count[r] == 0:
                    _get(ev, cb, heap, res, c, r)
                    hold_claim[r] = -1
            end[i] = c[C_NOW]
            _get(ev, cb, heap, res, c, task_unit[i])  # the unit's release, as the with-block exits
            g = task_group[i]
            group_left[g] -= 1
            if group_left[g] == 0:
                _succeed(ev, heap, c, g)  # the group's done event has the group's index as its id
            return -1
        lanes = read_ptr if kind == K_LOADER else write_ptr
        lane_res = read_res if kind == K_LOADER else write_res
        lane_latency = read_latency if kind == K_LOADER else write_latency
        lane_lo, lane_hi = lanes[i], lanes[i + 1]
        width = lane_hi - lane_lo
        cycles = read_cycles if kind == K_LOADER else write_cycles
        base = (read_off[i] if kind == K_LOADER else write_off[i]) + proc[p, P_STEP] * width
        if kind == K_LOADER:
            if pc == 0:
                if proc[p, P_STEP] >= task_steps[i]:
                    return -1
                proc[p, P_PC] = 1
                return _get(ev, cb, heap, res, c, slots)
            if pc == 1:
                proc[p, P_PC] = 10
                active, last = 0, -1
                for j in range(width):
                    if cycles[base + j] >= 0:
                        active += 1
                        last = j
                if active == 1:
                    proc[p, P_CHANNEL] = lane_res[lane_lo + last]
                    proc[p, P_CYCLES] = cycles[base + last]
                    proc[p, P_LATENCY] = 0
                    proc[p, P_RETURN] = 10
                    proc[p, P_PC] = PC_TRANSFER
                elif active > 1:
                    return _transfers(ev, cb, heap, proc, c, scratch, i, lane_lo, cycles, base, width,
                                      lane_res, lane_latency, NO)
                continue
            if pc == 10:
                latency = 0
                for j in range(width):
                    if cycles[base + j] >= 0:
                        latency = max(latency, lane_latency[lane_lo + j])
                now = c[C_NOW]
                proc[p, P_AUX] = max(now + latency, proc[p, P_AUX])
                if proc[p, P_AUX] > now:
                    a = _process(ev, cb, heap, proc, c, K_ARRIVE, i, ZERO, ZERO)
                    proc[a, P_AUX2] = proc[p, P_AUX] - now
                    proc[p, P_STEP] += 1
                    proc[p, P_PC] = 0
                    continue
                proc[p, P_PC] = 11
                return _put(ev, cb, heap, res, c, store)
            proc[p, P_STEP] += 1  # pc 11: the tile was put in the store
            proc[p, P_PC] = 0
            continue
        if kind == K_WRITER:
            if pc == 0:
                active, last = 0, -1
                for j in range(width):
                    if cycles[base + j] >= 0:
                        active += 1
                        last = j
                if active == 0:
                    return -1
                if active == 1:
                    proc[p, P_CHANNEL] = lane_res[lane_lo + last]
                    proc[p, P_CYCLES] = cycles[base + last]
                    proc[p, P_LATENCY] = lane_latency[lane_lo + last]
                    proc[p, P_PC] = PC_TRANSFER
                    continue
                proc[p, P_PC] = 20
                return _transfers(ev, cb, heap, proc, c, scratch, i, lane_lo, cycles, base, width,
                                  lane_res, lane_latency, YES)
            return -1
        # K_ARRIVE: yield timeout(delay); yield loaded.put(delay)
        if pc == 0:
            proc[p, P_PC] = 1
            return _timeout(ev, heap, c, proc[p, P_AUX2])
        if pc == 1:
            proc[p, P_PC] = 2
            return _put(ev, cb, heap, res, c, store)
        return -1


def compiled_on_disk() -> bool:
    """Whether Numba's cache holds the event loop compiled from this source (else the first call compiles it)."""
    try:
        return bool(_event_loop._cache._cache_file._load_index())
    except Exception:  # noqa: BLE001 -- no cache, or a Numba without these internals: assume it compiles
        return False


def event_kernel(task_unit, task_group, dep_ptr, dep_group, task_steps, task_tile, compute, read_ptr, read_res,
                 read_latency, write_ptr, write_res, write_latency, read_cycles, read_off, write_cycles, write_off,
                 hold_ptr, hold_res, group_count, n_resources, buffers, n_events, n_callbacks, n_processes):
    """(start, end, status) per task of the schedule the arrays describe (module docstring).

    Resources: ``0..`` the unit instances and memories the tasks name (``task_unit``, ``read_res``,
    ``write_res``; lanes per task in CSR form by ``read_ptr`` and ``write_ptr``; -1 for a held memory), then
    a buffer container and a tile store per task. Cycles per tile and lane are -1 where the tile moves no
    byte. The work arrays are made here, so that the loop runs without Numba's reference counting.
    """
    n_tasks = task_unit.shape[0]
    res = np.zeros((n_resources + 2 * n_tasks, 7), dtype=np.int64)
    res[:, R_KIND] = RES_RESOURCE
    res[:, R_CAP] = 1
    res[:, R_PUT_HEAD:] = -1
    res[n_resources::2, R_KIND] = RES_CONTAINER
    res[n_resources::2, R_CAP] = buffers
    res[n_resources + 1::2, R_KIND] = RES_STORE
    res[n_resources + 1::2, R_CAP] = INFINITE
    start = np.full(n_tasks, -1, dtype=np.int64)
    end = np.full(n_tasks, -1, dtype=np.int64)
    work = (np.empty((n_events, 6), dtype=np.int64), np.empty((n_callbacks, 3), dtype=np.int64),
            np.empty((n_events, 4), dtype=np.int64), res, np.empty((n_processes, 12), dtype=np.int64),
            np.zeros(8, dtype=np.int64), np.zeros(1 + read_res.shape[0] + write_res.shape[0], dtype=np.int64),
            np.full(n_resources, -1, dtype=np.int64), np.zeros(n_resources, dtype=np.int64),
            group_count.copy(), np.zeros(max(1, compute.shape[0]), dtype=np.int64))
    status = _event_loop(task_unit, task_group, dep_ptr, dep_group, task_steps, task_tile, compute, read_ptr,
                         read_res, read_latency, write_ptr, write_res, write_latency, read_cycles, read_off,
                         write_cycles, write_off, hold_ptr, hold_res, buffers, n_resources, start, end, *work)
    return start, end, status


@njit(cache=True, _nrt=False)  # no reference counting: every array is made by the caller
def _event_loop(task_unit, task_group, dep_ptr, dep_group, task_steps, task_tile, compute, read_ptr, read_res,
                read_latency, write_ptr, write_res, write_latency, read_cycles, read_off, write_cycles, write_off,
                hold_ptr, hold_res, buffers, slots_base, start, end, ev, cb, heap, res, proc, c, scratch,
                hold_claim, hold_count, group_left, writer_event):
    """Runs the processes to the end (module docstring); 1, or 0 on a deadlock or an overflow."""
    n_tasks = task_unit.shape[0]
    for g in range(group_left.shape[0]):
        _new_event(ev, c)  # each group's done event, created with the engine (ids 0..groups-1)
    for i in range(n_tasks):
        _process(ev, cb, heap, proc, c, K_TASK, i, ZERO, ZERO)
    while c[C_HEAP] > 0 and c[C_OVERFLOW] == 0:
        e = _pop(heap, c)
        ev[e, E_STATE] = PROCESSED
        k = ev[e, E_CB_HEAD]
        while k >= 0:
            kind, arg = cb[k, CB_KIND], cb[k, CB_ARG]
            if kind == CB_RESUME:
                while True:  # Process._resume: run until an event not yet processed, or the end
                    wait = _advance(arg, ev, cb, heap, res, proc, c, scratch, task_unit, task_group, dep_ptr,
                                    dep_group, task_steps, task_tile, compute, read_ptr, read_res, read_latency,
                                    write_ptr, write_res, write_latency, read_cycles, read_off, write_cycles,
                                    write_off, hold_ptr, hold_res, hold_claim, hold_count, group_left,
                                    buffers, slots_base, writer_event, start, end)
                    if wait < 0:
                        _succeed(ev, heap, c, proc[arg, P_EVENT])
                        break
                    if ev[wait, E_STATE] != PROCESSED:
                        _add_callback(ev, cb, c, wait, CB_RESUME, arg)
                        break
            elif kind == CB_CHECK:
                _check(ev, heap, c, arg)
            elif kind == CB_TRIGGER_PUT:
                _trigger_put(ev, heap, res, c, arg)
            else:
                _trigger_get(ev, heap, res, c, arg)
            k = cb[k, CB_NEXT]
    if c[C_OVERFLOW] != 0:
        return 0
    for i in range(n_tasks):
        if end[i] < 0:
            return 0
    return 1
