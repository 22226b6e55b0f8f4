"""Running the scheduler's channel loop over every channel of a request stream.

:func:`schedule_kernel` allocates the loop's state once and runs
:func:`arch.dram.kernel._run_channel` per channel, in channel order. Two things
make it cheaper than one loop run per channel, neither changing a result:

* channels whose requests are the same (arrival, kind, bank and row, request for
  request; a sequential stream spreads the same pattern over every channel) are
  scheduled once: a channel's schedule depends on nothing else (refresh is per
  rank, the same in every channel; a request's age is compared only within its
  channel), so the others copy its completions, counts and log (with their own
  channel number). The slices are compared whole, not only their digest;
* with an empty Numba cache the loop takes 3.4-4.1 s to compile (2-core machine,
  ``benchmarks/dram_scheduler_speed.py --cold``). A channel the loop's own source,
  run as plain Python (:func:`arch.tiered_kernel.plain_python`), is estimated to
  finish within ``PYTHON_BUDGET_S`` is scheduled that way instead
  (:class:`arch.tiered_kernel.ColdAwareKernel`, which also has the loop compiled in
  the background for later processes): the same code, so the same result, without
  compiling -- a sequential stream of one channel, say. The estimate counts the
  commands a channel needs (its requests, plus an ACT and a PRE per row switch at a
  bank) at ``PYTHON_S_PER_COMMAND``.
"""

from __future__ import annotations

import hashlib

import numpy as np

from arch.dram.kernel import AGE_BITS, AGE_MASK, LOG_COLUMNS, N, NO_DELAY, _run_channel
from arch.dram.timing_state import bank_rules, hierarchy
from arch.tiered_kernel import ColdAwareKernel, plain_python

# Seconds a command takes in the channel loop run as plain Python: 40-81 us measured on a 2-core machine
# (hbm3-6400 and hbm2-neupims, one channel of sequential reads and of 1- and 8-burst runs; printed by
# benchmarks/dram_scheduler_speed.py); the slowest is used.
PYTHON_S_PER_COMMAND = 81e-6
# Plain-Python seconds a process spends on channels before it compiles the loop: about half of what compiling
# it costs (3.4-4.1 s with an empty Numba cache on that machine), so a command never pays more than ~1.5x it.
PYTHON_BUDGET_S = 2.0


def schedule_kernel(arrival, is_write, bank_id, row, channel_start, ranks, bankgroups, banks,
                    latency, sibling_latency, scope, win_level, win_preceding, win_following,
                    win_latency, win_count, read_cycles, write_cycles, first_refresh,
                    refresh_interval, queue_depth, record_log, dedupe=True):
    """Schedule requests grouped by channel (``channel_start`` offsets), in arrival order.

    ``bank_id`` is ``(rank * bankgroups + bankgroup) * banks + bank``. Returns per-request
    completion cycles, command counts, whether each request needed an ACT, and the
    log (rows of ``LOG_COLUMNS``; empty unless ``record_log``). Plain Python: it
    allocates the state once and runs the jitted :func:`_run_channel` per channel
    (a channel whose log outgrows its buffer is run again with a larger one). ``dedupe``: a channel
    whose requests equal an earlier channel's copies its schedule (see the module docstring).
    """
    if arrival.size > AGE_MASK:
        raise ValueError(f"requests: at most {AGE_MASK} per schedule (the kernel packs a request's index "
                         f"into {AGE_BITS} bits), got {arrival.size}")
    node_of, span = hierarchy(ranks, bankgroups, banks)
    rules = bank_rules(latency, sibling_latency, scope)
    longest = max([0] + [int(v) for v in np.concatenate([latency.ravel(), sibling_latency.ravel(), win_latency])])
    if longest >= NO_DELAY:
        raise ValueError(f"timing_cycles: every constraint must be below {NO_DELAY} cycles, the longest is {longest}")
    channel_latency = np.ascontiguousarray(latency[0, :N, :N])
    first_refresh = np.ascontiguousarray(first_refresh, dtype=np.int64)
    n_banks = ranks * bankgroups * banks
    completion = np.zeros(arrival.size, dtype=np.int64)
    needed_act = np.zeros(arrival.size, dtype=np.bool_)
    counts, channel_counts = np.zeros(N, dtype=np.int64), np.zeros(N, dtype=np.int64)
    depth = max([1] + [int(c) for c in win_count])
    n_nodes = int(node_of[n_banks - 1, 3]) + 1
    per_bank = lambda dtype=np.int64: np.empty(n_banks, dtype=dtype)  # noqa: E731
    per_slot = lambda: np.empty(queue_depth, dtype=np.int64)  # noqa: E731
    work = (per_bank(), np.empty(N + 1, dtype=np.int64), np.empty((N + 1) * n_banks, dtype=np.int64),
            per_bank(), np.empty((win_level.size, n_nodes, depth), dtype=np.int64),
            np.empty((win_level.size, n_nodes), dtype=np.int64), per_bank(), per_bank(), per_bank(),
            np.empty(first_refresh.size, dtype=np.int64), np.empty(ranks, dtype=np.bool_),
            per_slot(), per_slot(), per_slot(), per_slot(), per_slot(), per_bank(), per_bank(),
            per_bank(), per_bank(), per_bank(), per_bank(), per_bank(), per_bank(), per_bank(np.bool_))
    logs = []
    scheduled: dict[bytes, tuple] = {}  # a channel's requests' digest -> (lo, hi, counts, log) of its schedule
    requests = (arrival, is_write, bank_id, row)
    for ch in range(channel_start.size - 1):
        lo, hi = int(channel_start[ch]), int(channel_start[ch + 1])
        digest = _digest(requests, lo, hi) if dedupe else b""
        same = scheduled.get(digest) if dedupe else None
        if same is not None and _same_requests(requests, (same[0], same[1]), (lo, hi)):
            first, _, same_counts, same_log = same
            completion[lo:hi] = completion[first:first + hi - lo]
            needed_act[lo:hi] = needed_act[first:first + hi - lo]
            counts += same_counts
            if record_log:
                copied = same_log.copy()
                copied[:, 2] = ch
                logs.append(copied)
            continue
        log = np.empty((3 * (hi - lo) + 64 if record_log else 1, LOG_COLUMNS), dtype=np.int64)
        while True:
            n_log = RUN_CHANNEL(
                ch, lo, hi, arrival, is_write, bank_id, row, ranks, bankgroups, banks, node_of, span,
                channel_latency, *rules, win_level, win_preceding, win_following, win_latency, win_count,
                read_cycles, write_cycles, first_refresh, refresh_interval, queue_depth, completion, needed_act,
                channel_counts, record_log, log, work)
            if not record_log or n_log <= log.shape[0]:
                break
            log = np.empty((2 * n_log, LOG_COLUMNS), dtype=np.int64)
        counts += channel_counts
        if record_log:
            logs.append(log[:n_log])
        if dedupe and digest not in scheduled:
            scheduled[digest] = (lo, hi, channel_counts.copy(), log[:n_log] if record_log else None)
    log = np.concatenate(logs) if logs else np.empty((0, LOG_COLUMNS), dtype=np.int64)
    return completion, counts, needed_act, log


def _digest(requests, lo: int, hi: int) -> bytes:
    """A digest of requests ``lo:hi`` (every array's slice, and its length)."""
    h = hashlib.blake2b(str(hi - lo).encode(), digest_size=16)
    for values in requests:
        h.update(np.ascontiguousarray(values[lo:hi]).tobytes())
    return h.digest()


def _same_requests(requests, a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether requests ``a[0]:a[1]`` and ``b[0]:b[1]`` are the same, value for value."""
    return a[1] - a[0] == b[1] - b[0] and all(
        np.array_equal(values[a[0]:a[1]], values[b[0]:b[1]]) for values in requests)


def _python_estimate_s(ch, lo, hi, arrival, is_write, bank_id, row, *rest) -> float:
    """Seconds the plain-Python channel loop is estimated to take on requests ``lo:hi``: their commands
    (one RD or WR each, an ACT and a PRE per row switch at a bank) at ``PYTHON_S_PER_COMMAND``."""
    banks, rows = bank_id[lo:hi], row[lo:hi]
    order = np.argsort(banks, kind="stable")
    banks, rows = banks[order], rows[order]
    switches = np.count_nonzero((banks[1:] == banks[:-1]) & (rows[1:] != rows[:-1])) + np.unique(banks).size
    return (hi - lo + 2 * int(switches)) * PYTHON_S_PER_COMMAND


# The channel loop: jitted, or its own source as plain Python while that costs less than compiling it.
RUN_CHANNEL = ColdAwareKernel(_run_channel, plain_python(_run_channel), uncached_s=PYTHON_BUDGET_S,
                              twin_estimate_s=_python_estimate_s)
