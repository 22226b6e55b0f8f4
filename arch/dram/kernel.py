"""The FR-FCFS command scheduler as one Numba kernel (twin: :mod:`arch.dram.twin`).

What it models, per scheduled channel (channels share nothing and run one after
another):

* a request queue of ``queue_depth`` entries, filled in arrival order (ties by
  request index); a full queue holds later requests back. An entry leaves the
  queue when its RD or WR issues; it completes ``CL + BL`` (read) or ``CWL + BL``
  (write) cycles later, when its last data beat has moved;
* open-page row buffers and FR-FCFS: each cycle the controller issues the command
  that is legal now and ranks first by (refresh, row hit, other) and then age.
  A queued request needs RD/WR if its row is open, PRE if another row is open and
  no queued request hits that row, ACT if its bank is closed;
* all-bank refresh per rank: from each due time (every tREFI, see
  :class:`~arch.dram.spec.RefreshPolicy`) the rank takes no request commands,
  its open banks are precharged and REF issues; refresh is never postponed;
* timing from the constraint table only (:mod:`arch.dram.timing_state`).

How it runs fast (the twin steps every cycle and asks the table directly; equal
outputs from both show these shortcuts change nothing):

* it jumps straight to the next cycle at which a command can issue or a request
  or refresh falls due;
* the queue is kept per bank (a linked list of queue slots in arrival order).
  Under FR-FCFS a bank offers at most two candidates: its oldest row-hit RD and
  oldest row-hit WR when queued requests hit its open row, else one ACT or PRE on
  behalf of its oldest request. A bank's candidates are recomputed only when its
  row, its hits or its oldest request change, not on every issued command;
* each candidate keeps a lower bound on its key ``4 * cycle + class``: the key
  last computed for it. Earliest cycles only grow while a candidate stays the
  same (the timing state only rises, ``now`` only advances), so the bound stays
  valid until the candidate changes or its rank finishes a refresh, when it is
  reset to 0 (``BLOCKED`` while the rank waits for refresh). Picking a command
  prices only the candidates whose bound does not exceed the best key found so
  far: on uniformly random reads (hbm2-neupims) about 8 of the 20 or so banks
  with queued requests, against every one of the 32 queue entries before;
* the earliest legal cycle of each command is kept per channel and per bank
  (:mod:`arch.dram.timing_state`), and rule updates run over contiguous banks.

Not modelled: read/write queue separation and write draining, bank-level write
buffering, auto-precharge, per-bank refresh, power-down, command-bus sharing
between the two pseudo-channels of an HBM3 channel.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from arch.dram.commands import N_COMMANDS, Command
from arch.dram.timing_state import FOREVER, NONE, earliest, hierarchy

# Plain ints (Numba freezes globals at compile time).
ACT, PRE, RD, WR, REF = (int(c) for c in (Command.ACT, Command.PRE, Command.RD, Command.WR, Command.REF))
N = N_COMMANDS
BLOCKED = 4 * FOREVER + 3  # a key bound above every key: the candidate may not issue
LOG_COLUMNS = 7  # cycle, command, channel, rank, bankgroup, bank, row


@njit(cache=True, inline="always")
def _pick_refresh(now, ranks, banks_per_rank, refresh_pending, open_row, channel_ok, bank_ok):
    """Best refresh command (PRE of an open bank, else REF) of the pending ranks: (cycle, cmd, bank)."""
    best_t, best_cmd, best_bank = FOREVER, -1, -1
    for r in range(ranks):
        if not refresh_pending[r]:
            continue
        cmd = REF
        for b in range(r * banks_per_rank, (r + 1) * banks_per_rank):
            if open_row[b] >= 0:
                cmd = PRE
                t = earliest(now, PRE, b, channel_ok, bank_ok)
                if t < best_t:
                    best_t, best_cmd, best_bank = t, PRE, b
        if cmd == REF:
            b = r * banks_per_rank  # REF rules sit at rank level or above: any bank of the rank
            t = earliest(now, REF, b, channel_ok, bank_ok)
            if t < best_t:
                best_t, best_cmd, best_bank = t, REF, b
    return best_t, best_cmd, best_bank


@njit(cache=True, inline="always")
def _bank_candidates(b, open_row, hits_waiting, write_hits, head, s_next, s_row, s_cmd, s_req, cand, cand2):
    """Set bank ``b``'s FR-FCFS candidates; returns whether it has a second one.

    ``cand[b] = (cmd, class, age, slot)``: with queued hits on the open row, the
    oldest hit (class 1); otherwise ACT (closed bank) or PRE (another row open),
    class 2, for the oldest request; cmd ``NONE`` and age ``FOREVER`` with nothing
    queued. ``cand2[b]``: the oldest hit of the other kind (RD/WR) when the hits mix
    reads and writes, else cmd ``NONE``.
    """
    s = head[b]
    cand2[b, 0] = NONE
    if s < 0:
        cand[b, 0], cand[b, 2] = NONE, FOREVER
        return False
    row = open_row[b]
    hits = hits_waiting[b]
    if row < 0 or hits == 0:
        cand[b, 0], cand[b, 1], cand[b, 2], cand[b, 3] = ACT if row < 0 else PRE, 2, s_req[s], s
        return False
    mixed = write_hits[b] > 0 and write_hits[b] < hits
    first = -1
    while s >= 0:
        if s_row[s] == row:
            if first < 0:
                first = s
                cand[b, 0], cand[b, 1], cand[b, 2], cand[b, 3] = s_cmd[s], 1, s_req[s], s
                if not mixed:
                    return False
            elif s_cmd[s] != s_cmd[first]:
                cand2[b, 0], cand2[b, 1], cand2[b, 2], cand2[b, 3] = s_cmd[s], 1, s_req[s], s
                return True
        s = s_next[s]
    return False


@njit(cache=True, inline="always")
def _best_of(cand, est, n_banks, now, channel_ok, bank_ok, best_key, best_age, best_bank):
    """The least (4 * cycle + class, age) of the candidates in ``cand`` and the given best.

    Skips a candidate whose lower bound ``est`` exceeds the best key so far, and
    stores the key of each one it prices as its new bound. A bank without a
    candidate has cmd ``NONE`` (channel value FOREVER); the bound of a bank whose
    rank waits for refresh is ``BLOCKED``, above every key, so it is skipped.
    """
    for b in range(n_banks):
        if est[b] > best_key:
            continue
        cmd = cand[b, 0]
        t = max(now, channel_ok[cmd], bank_ok[cmd, b])
        key, age = t * 4 + cand[b, 1], cand[b, 2]
        est[b] = key
        better = (key < best_key) | ((key == best_key) & (age < best_age))
        best_key = key if better else best_key
        best_age = age if better else best_age
        best_bank = b if better else best_bank
    return best_key, best_age, best_bank


@njit(cache=True)
def _append_log(log, n_log, now, cmd, ch, bank, bankgroups, banks, row):
    """Write one log row if ``log`` has room; the count grows either way (the caller regrows and reruns)."""
    if n_log < log.shape[0]:
        banks_per_rank = bankgroups * banks
        log[n_log, 0] = now
        log[n_log, 1] = cmd
        log[n_log, 2] = ch
        log[n_log, 3] = bank // banks_per_rank
        log[n_log, 4] = -1 if cmd == REF else (bank // banks) % bankgroups
        log[n_log, 5] = -1 if cmd == REF else bank % banks
        log[n_log, 6] = row
    return n_log + 1


@njit(cache=True)
def _run_channel(ch, lo, hi, arrival, is_write, bank_id, row, ranks, bankgroups, banks, node_of, span,
                 latency, sibling_latency, scope, win_level, win_preceding, win_following, win_latency,
                 win_count, read_cycles, write_cycles, first_refresh, refresh_interval, queue_depth,
                 completion, needed_act, counts, record_log, log, work):
    """Schedule requests ``lo:hi`` (one channel, arrival order); returns the commands it logged.

    ``work`` holds the channel's state arrays, allocated by :func:`schedule_kernel`
    (allocating here would compile numpy's constructors into the kernel); every
    array is reset here. ``counts`` gets this channel's command counts.
    """
    (rank_of, channel_ok, bank_ok, est_floor, history, history_pos, open_row, hits_waiting, write_hits,
     refresh_due, refresh_pending, s_req, s_row, s_cmd, s_next, free, head, tail, cand, cand2, est, est2,
     mixed) = work
    n_banks, banks_per_rank = ranks * bankgroups * banks, bankgroups * banks
    for b in range(n_banks):
        rank_of[b] = b // banks_per_rank
        open_row[b], hits_waiting[b], write_hits[b] = -1, 0, 0  # hits: queued requests to the open row
        head[b], tail[b], est[b], est2[b], mixed[b] = -1, -1, 0, 0, False
        cand[b, 0], cand[b, 1], cand[b, 2], cand[b, 3] = NONE, 0, FOREVER, 0
        cand2[b, 0], cand2[b, 1], cand2[b, 2], cand2[b, 3] = NONE, 0, 0, 0
    # Earliest legal cycle of each command: per channel, and per [command, bank] for the levels below.
    for f in range(N + 1):
        channel_ok[f] = FOREVER if f == NONE else 0
        for b in range(n_banks):
            bank_ok[f, b] = 0
    for r in range(ranks):
        est_floor[r], refresh_pending[r] = 0, False  # a reset bound: 0, or BLOCKED while awaiting refresh
    for r in range(refresh_due.size):  # empty without refresh
        refresh_due[r] = first_refresh[r]
    for k in range(history.shape[0]):  # window rings per node
        for x in range(history.shape[1]):
            history_pos[k, x] = 0
            for j in range(history.shape[2]):
                history[k, x, j] = -FOREVER
    for s in range(queue_depth):  # queue slots: a free stack, linked per bank in arrival order
        free[s] = queue_depth - 1 - s
    for c in range(N):
        counts[c] = 0
    n_log = 0
    n_queued, n_mixed, arrived, served, now, hits_total, n_pending = 0, 0, lo, 0, 0, 0, 0
    while served < hi - lo:
        # Admit arrivals while the queue has room.
        while n_queued < queue_depth and arrived < hi and arrival[arrived] <= now:
            b, s = bank_id[arrived], free[queue_depth - 1 - n_queued]
            s_req[s], s_row[s], s_next[s] = arrived, row[arrived], -1
            s_cmd[s] = WR if is_write[arrived] else RD
            changed = head[b] < 0  # a younger non-hit behind others changes no candidate
            if changed:
                head[b] = s
            else:
                s_next[tail[b]] = s
            tail[b] = s
            if open_row[b] == row[arrived]:
                hits_waiting[b] += 1
                hits_total += 1
                write_hits[b] += s_cmd[s] == WR
                changed = True
            if changed:
                n_mixed -= mixed[b]
                est[b], est2[b] = est_floor[rank_of[b]], est_floor[rank_of[b]]
                mixed[b] = _bank_candidates(b, open_row, hits_waiting, write_hits, head, s_next, s_row, s_cmd,
                                            s_req, cand, cand2)
                n_mixed += mixed[b]
            n_queued += 1
            arrived += 1
        # Refreshes falling due; the next arrival or refresh is the next event.
        event = arrival[arrived] if n_queued < queue_depth and arrived < hi else FOREVER
        for r in range(refresh_due.size):
            if not refresh_pending[r] and now >= refresh_due[r]:
                refresh_pending[r] = True
                est_floor[r] = BLOCKED
                for x in range(r * banks_per_rank, (r + 1) * banks_per_rank):
                    est[x], est2[x] = BLOCKED, BLOCKED
                n_pending += 1
            if not refresh_pending[r]:
                event = min(event, refresh_due[r])
        # No command issues before the channel-level earliest cycle of every command
        # that a candidate could need: RD/WR for row hits, ACT/PRE for the other
        # requests, PRE/REF for refresh.
        bound = event
        if hits_total > 0:
            bound = min(bound, channel_ok[RD], channel_ok[WR])
        if n_queued > hits_total:
            bound = min(bound, channel_ok[ACT], channel_ok[PRE])
        if n_pending > 0:
            bound = min(bound, channel_ok[PRE], channel_ok[REF])
        now = max(now, bound)
        if now == event:
            continue
        # Pick the command with the least (issue cycle, class, age); class 0 refresh,
        # 1 row hit, 2 other. A candidate's (cycle, class) is the one number 4 * cycle + class.
        best_key, best_age, best_cmd, best_bank = np.int64(FOREVER), np.int64(FOREVER), np.int64(-1), np.int64(-1)
        if n_pending > 0:
            t, best_cmd, best_bank = _pick_refresh(now, ranks, banks_per_rank, refresh_pending, open_row,
                                                   channel_ok, bank_ok)
            best_key = t * 4
        best_slot = -1
        if best_key > now * 4:
            refresh_bank = best_bank
            best_key, best_age, best_bank = _best_of(cand, est, n_banks, now, channel_ok, bank_ok, best_key,
                                                     best_age, best_bank)
            second = False
            if n_mixed > 0:
                key2, age2, bank2 = _best_of(cand2, est2, n_banks, now, channel_ok, bank_ok, best_key,
                                             best_age, best_bank)
                second = bank2 != best_bank or age2 != best_age
                best_key, best_age, best_bank = key2, age2, bank2
            if best_age < FOREVER:
                chosen = cand2 if second else cand
                best_cmd, best_slot = chosen[best_bank, 0], chosen[best_bank, 3]
            else:
                best_bank = refresh_bank
        best_t = best_key // 4
        if best_cmd < 0 or best_t >= event:
            if event == FOREVER:
                raise RuntimeError("DRAM scheduler deadlock: no command can ever issue")
            now = event
            continue
        now, cmd, b = best_t, best_cmd, best_bank
        # Timing state, from the constraint table only: a rule at level L raises the
        # following command's earliest cycle at the channel (L = 0) or on every bank
        # under this command's level-L node (sibling rules: under the other nodes with
        # the same parent). Written out here: it runs once per command.
        for level in range(scope[cmd] + 1):
            first, last = span[b, level, 0], span[b, level, 1]
            for f in range(N):
                t = now + latency[level, cmd, f]
                if level == 0:
                    channel_ok[f] = max(channel_ok[f], t)
                elif t >= now:
                    for x in range(first, last):
                        bank_ok[f, x] = max(bank_ok[f, x], t)
                t = now + sibling_latency[level, cmd, f]
                if level > 0 and t >= now:
                    for x in range(span[b, level - 1, 0], first):
                        bank_ok[f, x] = max(bank_ok[f, x], t)
                    for x in range(last, span[b, level - 1, 1]):
                        bank_ok[f, x] = max(bank_ok[f, x], t)
        for k in range(win_level.size):
            if win_preceding[k] == cmd:
                level, node, f = win_level[k], node_of[b, win_level[k]], win_following[k]
                history[k, node, history_pos[k, node]] = now
                history_pos[k, node] = (history_pos[k, node] + 1) % win_count[k]
                t = history[k, node, history_pos[k, node]] + win_latency[k]  # oldest of the ring
                if level == 0:
                    channel_ok[f] = max(channel_ok[f], t)
                else:
                    for x in range(span[b, level, 0], span[b, level, 1]):
                        bank_ok[f, x] = max(bank_ok[f, x], t)
        # Bank, queue and refresh state.
        counts[cmd] += 1
        log_row = -1
        if cmd == REF:
            r = rank_of[b]
            refresh_pending[r] = False
            est_floor[r] = 0
            for x in range(r * banks_per_rank, (r + 1) * banks_per_rank):
                est[x], est2[x] = 0, 0
            refresh_due[r] += refresh_interval
            n_pending -= 1
        elif cmd == PRE:
            log_row = open_row[b]
            open_row[b] = -1
            hits_total -= hits_waiting[b]
            hits_waiting[b], write_hits[b] = 0, 0
        elif cmd == ACT:
            log_row = s_row[best_slot]
            open_row[b] = log_row
            needed_act[s_req[best_slot]] = True
            s = head[b]
            while s >= 0:
                if s_row[s] == log_row:
                    hits_waiting[b] += 1
                    hits_total += 1
                    write_hits[b] += s_cmd[s] == WR
                s = s_next[s]
        else:
            req = s_req[best_slot]
            log_row = s_row[best_slot]
            completion[req] = now + (write_cycles if cmd == WR else read_cycles)
            hits_waiting[b] -= 1
            write_hits[b] -= cmd == WR
            hits_total -= 1
            n_queued -= 1
            free[queue_depth - 1 - n_queued] = best_slot
            # Unlink the slot from its bank's list.
            if head[b] == best_slot:
                head[b] = s_next[best_slot]
            else:
                s = head[b]
                while s_next[s] != best_slot:
                    s = s_next[s]
                s_next[s] = s_next[best_slot]
                if tail[b] == best_slot:
                    tail[b] = s
            served += 1
        if cmd != REF:
            n_mixed -= mixed[b]
            est[b], est2[b] = est_floor[rank_of[b]], est_floor[rank_of[b]]
            mixed[b] = _bank_candidates(b, open_row, hits_waiting, write_hits, head, s_next, s_row, s_cmd,
                                        s_req, cand, cand2)
            n_mixed += mixed[b]
        if record_log:
            n_log = _append_log(log, n_log, now, cmd, ch, b, bankgroups, banks, log_row)
    return n_log


def schedule_kernel(arrival, is_write, bank_id, row, channel_start, ranks, bankgroups, banks,
                    latency, sibling_latency, scope, win_level, win_preceding, win_following,
                    win_latency, win_count, read_cycles, write_cycles, first_refresh,
                    refresh_interval, queue_depth, record_log):
    """Schedule requests grouped by channel (``channel_start`` offsets), in arrival order.

    ``bank_id`` is ``(rank * bankgroups + bankgroup) * banks + bank``. Returns per-request
    completion cycles, command counts, whether each request needed an ACT, and the
    log (rows of ``LOG_COLUMNS``; empty unless ``record_log``). Plain Python: it
    allocates the state once and runs the jitted :func:`_run_channel` per channel
    (a channel whose log outgrows its buffer is run again with a larger one).
    """
    node_of, span = hierarchy(ranks, bankgroups, banks)
    first_refresh = np.ascontiguousarray(first_refresh, dtype=np.int64)
    n_banks = ranks * bankgroups * banks
    completion = np.zeros(arrival.size, dtype=np.int64)
    needed_act = np.zeros(arrival.size, dtype=np.bool_)
    counts, channel_counts = np.zeros(N, dtype=np.int64), np.zeros(N, dtype=np.int64)
    depth = max([1] + [int(c) for c in win_count])
    n_nodes = int(node_of[n_banks - 1, 3]) + 1
    per_bank = lambda dtype=np.int64: np.empty(n_banks, dtype=dtype)  # noqa: E731
    per_slot = lambda: np.empty(queue_depth, dtype=np.int64)  # noqa: E731
    work = (per_bank(), np.empty(N + 1, dtype=np.int64), np.empty((N + 1, n_banks), dtype=np.int64),
            np.empty(ranks, dtype=np.int64), np.empty((win_level.size, n_nodes, depth), dtype=np.int64),
            np.empty((win_level.size, n_nodes), dtype=np.int64), per_bank(), per_bank(), per_bank(),
            np.empty(first_refresh.size, dtype=np.int64), np.empty(ranks, dtype=np.bool_),
            per_slot(), per_slot(), per_slot(), per_slot(), per_slot(), per_bank(), per_bank(),
            np.empty((n_banks, 4), dtype=np.int64), np.empty((n_banks, 4), dtype=np.int64),
            per_bank(), per_bank(), per_bank(np.bool_))
    logs = []
    for ch in range(channel_start.size - 1):
        lo, hi = int(channel_start[ch]), int(channel_start[ch + 1])
        log = np.empty((3 * (hi - lo) + 64 if record_log else 1, LOG_COLUMNS), dtype=np.int64)
        while True:
            n_log = _run_channel(
                ch, lo, hi, arrival, is_write, bank_id, row, ranks, bankgroups, banks, node_of, span,
                latency, sibling_latency, scope, win_level, win_preceding, win_following, win_latency,
                win_count, read_cycles, write_cycles, first_refresh, refresh_interval, queue_depth,
                completion, needed_act, channel_counts, record_log, log, work)
            if not record_log or n_log <= log.shape[0]:
                break
            log = np.empty((2 * n_log, LOG_COLUMNS), dtype=np.int64)
        counts += channel_counts
        if record_log:
            logs.append(log[:n_log])
    log = np.concatenate(logs) if logs else np.empty((0, LOG_COLUMNS), dtype=np.int64)
    return completion, counts, needed_act, log
