"""SimPy 4's event queue, resources and conditions as jitted functions over integer arrays.

The building blocks of :mod:`simulator.engine_event_kernel`, which runs the engine's
processes on them. Each function does what the SimPy call named in its docstring
does, with SimPy's ordering: events are ids into the ``ev`` table, given in
scheduling order; the heap orders (time, priority, event id), URGENT before NORMAL;
a processed event runs its callbacks in the order they were added; a resource
(capacity 1), a container and a store keep put and get queues and grant from their
heads as ``_do_put`` and ``_do_get`` do; ``all_of`` succeeds when the last of its
events is processed. A table that is full sets the overflow counter (the caller
then runs SimPy instead).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# event states, priorities, callback and resource kinds. The values passed as arguments are
# numpy integers, not Python ints: Numba compiles a jitted function once per literal Python
# int it is called with, and these are typed plain int64 (one compilation for all; ZERO too).
PENDING, TRIGGERED, PROCESSED = 0, 1, 2
URGENT, NORMAL = np.int64(0), np.int64(1)
CB_RESUME, CB_CHECK, CB_TRIGGER_PUT, CB_TRIGGER_GET = np.int64(0), np.int64(1), np.int64(2), np.int64(3)
ZERO = np.int64(0)
RES_RESOURCE, RES_CONTAINER, RES_STORE = 0, 1, 2
# every function but the kernel's entry is called from jitted code only: no CPython wrapper to compile (it
# unboxes each array argument; ~0.2 s of the kernel's compile time with an empty cache), and no reference counting
INTERNAL = dict(cache=True, _nrt=False, no_cpython_wrapper=True)

# columns: events, callbacks, heap entries, resources; the counters' entries
E_STATE, E_CB_HEAD, E_CB_TAIL, E_QUEUE_NEXT, E_COND_N, E_COND_COUNT = 0, 1, 2, 3, 4, 5
CB_KIND, CB_ARG, CB_NEXT = 0, 1, 2
H_TIME, H_PRIO, H_EID, H_EVENT = 0, 1, 2, 3
R_KIND, R_CAP, R_LEVEL, R_PUT_HEAD, R_PUT_TAIL, R_GET_HEAD, R_GET_TAIL = 0, 1, 2, 3, 4, 5, 6
C_EVENTS, C_CALLBACKS, C_HEAP, C_EID, C_NOW, C_PROCESSES, C_OVERFLOW = range(7)


@njit(**INTERNAL)
def _new_event(ev, c):
    e = c[C_EVENTS]
    if e >= ev.shape[0]:
        c[C_OVERFLOW] = 1
        return ev.shape[0] - 1
    c[C_EVENTS] = e + 1
    ev[e, E_STATE] = PENDING
    ev[e, E_CB_HEAD] = -1
    ev[e, E_CB_TAIL] = -1
    ev[e, E_QUEUE_NEXT] = -1
    ev[e, E_COND_N] = -1
    ev[e, E_COND_COUNT] = 0
    return e


@njit(**INTERNAL)
def _add_callback(ev, cb, c, e, kind, arg):
    k = c[C_CALLBACKS]
    if k >= cb.shape[0]:
        c[C_OVERFLOW] = 1
        return
    c[C_CALLBACKS] = k + 1
    cb[k, CB_KIND] = kind
    cb[k, CB_ARG] = arg
    cb[k, CB_NEXT] = -1
    if ev[e, E_CB_TAIL] < 0:
        ev[e, E_CB_HEAD] = k
    else:
        cb[ev[e, E_CB_TAIL], CB_NEXT] = k
    ev[e, E_CB_TAIL] = k


@njit(**INTERNAL)
def _before(heap, a, b):
    if heap[a, H_TIME] != heap[b, H_TIME]:
        return heap[a, H_TIME] < heap[b, H_TIME]
    if heap[a, H_PRIO] != heap[b, H_PRIO]:
        return heap[a, H_PRIO] < heap[b, H_PRIO]
    return heap[a, H_EID] < heap[b, H_EID]


@njit(**INTERNAL)
def _swap(heap, a, b):
    for col in range(4):
        heap[a, col], heap[b, col] = heap[b, col], heap[a, col]


@njit(**INTERNAL)
def _schedule(ev, heap, c, e, priority, delay):
    """SimPy's ``Environment.schedule``: the event joins the heap at now + delay with the next id."""
    ev[e, E_STATE] = TRIGGERED
    n = c[C_HEAP]
    if n >= heap.shape[0]:
        c[C_OVERFLOW] = 1
        return
    heap[n, H_TIME] = c[C_NOW] + delay
    heap[n, H_PRIO] = priority
    heap[n, H_EID] = c[C_EID]
    heap[n, H_EVENT] = e
    c[C_EID] += 1
    c[C_HEAP] = n + 1
    while n > 0:
        parent = (n - 1) >> 1
        if not _before(heap, n, parent):
            break
        _swap(heap, n, parent)
        n = parent


@njit(**INTERNAL)
def _pop(heap, c):
    """The first event of the heap; its time becomes now."""
    e = heap[0, H_EVENT]
    c[C_NOW] = heap[0, H_TIME]
    n = c[C_HEAP] - 1
    c[C_HEAP] = n
    if n > 0:
        for col in range(4):
            heap[0, col] = heap[n, col]
        i = ZERO
        while True:
            left = 2 * i + 1
            if left >= n:
                break
            child = left
            if left + 1 < n and _before(heap, left + 1, left):
                child = left + 1
            if not _before(heap, child, i):
                break
            _swap(heap, i, child)
            i = child
    return e


@njit(**INTERNAL)
def _succeed(ev, heap, c, e):
    _schedule(ev, heap, c, e, NORMAL, ZERO)


@njit(**INTERNAL)
def _timeout(ev, heap, c, delay):
    e = _new_event(ev, c)
    _schedule(ev, heap, c, e, NORMAL, delay)
    return e


@njit(**INTERNAL)
def _trigger_put(ev, heap, res, c, r):
    """``BaseResource._trigger_put`` with the ``_do_put`` of the resource's kind (every amount is one)."""
    while res[r, R_PUT_HEAD] >= 0:
        head = res[r, R_PUT_HEAD]
        if res[r, R_LEVEL] >= res[r, R_CAP]:
            return  # not granted: SimPy stops at the head (a container's _do_put returns None)
        res[r, R_LEVEL] += 1
        _succeed(ev, heap, c, head)
        res[r, R_PUT_HEAD] = ev[head, E_QUEUE_NEXT]
        if res[r, R_PUT_HEAD] < 0:
            res[r, R_PUT_TAIL] = -1
        if res[r, R_KIND] != RES_CONTAINER:
            return  # a resource's and a store's _do_put return None: one grant per trigger


@njit(**INTERNAL)
def _trigger_get(ev, heap, res, c, r):
    """``BaseResource._trigger_get``: a resource's release always succeeds; a container or store needs level."""
    while res[r, R_GET_HEAD] >= 0:
        head = res[r, R_GET_HEAD]
        if res[r, R_KIND] != RES_RESOURCE and res[r, R_LEVEL] < 1:
            return
        res[r, R_LEVEL] -= 1
        _succeed(ev, heap, c, head)
        res[r, R_GET_HEAD] = ev[head, E_QUEUE_NEXT]
        if res[r, R_GET_HEAD] < 0:
            res[r, R_GET_TAIL] = -1
        if res[r, R_KIND] != RES_CONTAINER:
            return


@njit(**INTERNAL)
def _put(ev, cb, heap, res, c, r):
    """A ``Put`` (a request, a container or store put): queued, then the resource tries to grant."""
    e = _new_event(ev, c)
    if res[r, R_PUT_TAIL] < 0:
        res[r, R_PUT_HEAD] = e
    else:
        ev[res[r, R_PUT_TAIL], E_QUEUE_NEXT] = e
    res[r, R_PUT_TAIL] = e
    _add_callback(ev, cb, c, e, CB_TRIGGER_GET, r)
    _trigger_put(ev, heap, res, c, r)
    return e


@njit(**INTERNAL)
def _get(ev, cb, heap, res, c, r):
    """A ``Get`` (a release, a container or store get): queued, then the resource tries to grant."""
    e = _new_event(ev, c)
    if res[r, R_GET_TAIL] < 0:
        res[r, R_GET_HEAD] = e
    else:
        ev[res[r, R_GET_TAIL], E_QUEUE_NEXT] = e
    res[r, R_GET_TAIL] = e
    _add_callback(ev, cb, c, e, CB_TRIGGER_PUT, r)
    _trigger_get(ev, heap, res, c, r)
    return e


@njit(**INTERNAL)
def _check(ev, heap, c, cond):
    """``Condition._check`` of an all-of condition."""
    if ev[cond, E_STATE] != PENDING:
        return
    ev[cond, E_COND_COUNT] += 1
    if ev[cond, E_COND_COUNT] == ev[cond, E_COND_N]:
        _succeed(ev, heap, c, cond)


@njit(**INTERNAL)
def _all_of(ev, cb, heap, c, events, lo, hi):
    """``env.all_of(events[lo:hi])``: each event processed is counted now, the others when they are."""
    cond = _new_event(ev, c)
    ev[cond, E_COND_N] = hi - lo
    if hi == lo:
        _succeed(ev, heap, c, cond)
        return cond
    for k in range(lo, hi):
        e = events[k]
        if ev[e, E_STATE] == PROCESSED:
            _check(ev, heap, c, cond)
        else:
            _add_callback(ev, cb, c, e, CB_CHECK, cond)
    return cond
