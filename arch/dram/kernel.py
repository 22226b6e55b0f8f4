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
* timing from the constraint table only. The state is the earliest legal cycle
  of each command: one value per command for the channel level, and one per
  command and bank for the levels below. Issuing command c at cycle t applies
  ``latency[level, c, f]`` for every level within c's scope: at the channel level
  to the channel value, below it to every bank under c's node at that level
  (``sibling_latency``: to the banks under the other nodes with the same parent).
  Window rules keep a ring of the last ``count`` issue cycles per node and apply
  the oldest of them plus the latency. A command's earliest cycle is then the
  larger of its channel value and its bank's value.

Not modelled: read/write queue separation and write draining, bank-level write
buffering, auto-precharge, per-bank refresh, power-down, command-bus sharing
between the two pseudo-channels of an HBM3 channel.

The kernel gives the same result as stepping every cycle (the twin does), but
jumps straight to the next cycle at which a command can issue or a request or
refresh falls due, and scans the queue once per issued command.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from arch.dram.commands import N_COMMANDS, Command

# Plain ints (Numba freezes globals at compile time).
ACT, PRE, RD, WR, REF = (int(c) for c in (Command.ACT, Command.PRE, Command.RD, Command.WR, Command.REF))
NEVER = -(1 << 60)
FOREVER = 1 << 60
LOG_COLUMNS = 7  # cycle, command, channel, rank, bankgroup, bank, row


@njit(cache=True)
def _hierarchy(ranks, bankgroups, banks):
    """For each bank and level: the flat index of its ancestor node (channel 0, ranks,
    bank groups, then banks) and the range of banks under that node, ``[lo, hi)``."""
    n_banks = ranks * bankgroups * banks
    width = np.array([n_banks, bankgroups * banks, banks, 1], dtype=np.int64)  # banks under one node
    offset = np.array([0, 1, 1 + ranks, 1 + ranks + ranks * bankgroups], dtype=np.int64)
    node_of = np.empty((n_banks, 4), dtype=np.int64)
    span = np.empty((n_banks, 4, 2), dtype=np.int64)
    for b in range(n_banks):
        for level in range(4):
            local = b // width[level]
            node_of[b, level] = offset[level] + local
            span[b, level, 0], span[b, level, 1] = local * width[level], (local + 1) * width[level]
    return node_of, span


@njit(cache=True)
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
                t = max(now, channel_ok[PRE], bank_ok[PRE, b])
                if t < best_t:
                    best_t, best_cmd, best_bank = t, PRE, b
        if cmd == REF:
            b = r * banks_per_rank  # REF rules sit at rank level or above: any bank of the rank
            t = max(now, channel_ok[REF], bank_ok[REF, b])
            if t < best_t:
                best_t, best_cmd, best_bank = t, REF, b
    return best_t, best_cmd, best_bank


@njit(cache=True)
def _append_log(log, n_log, now, cmd, ch, bank, bankgroups, banks, row):
    if n_log == log.shape[0]:
        grown = np.empty((2 * n_log, LOG_COLUMNS), dtype=np.int64)
        grown[:n_log] = log
        log = grown
    banks_per_rank = bankgroups * banks
    log[n_log, 0] = now
    log[n_log, 1] = cmd
    log[n_log, 2] = ch
    log[n_log, 3] = bank // banks_per_rank
    log[n_log, 4] = -1 if cmd == REF else (bank // banks) % bankgroups
    log[n_log, 5] = -1 if cmd == REF else bank % banks
    log[n_log, 6] = row
    return log, n_log + 1


@njit(cache=True)
def _run_channel(ch, lo, hi, arrival, is_write, bank_id, row, ranks, bankgroups, banks, node_of,
                 span, latency, sibling_latency, scope, win_level, win_preceding, win_following,
                 win_latency, win_count, read_cycles, write_cycles, first_refresh, refresh_interval,
                 queue_depth, completion, needed_act, counts, record_log, log, n_log):
    """Schedule requests ``lo:hi`` (one channel, arrival order); returns the grown log and its length.

    The hot loop is written out in one function: array arguments of helper calls
    cost reference-count updates at every call.
    """
    n_banks, banks_per_rank = ranks * bankgroups * banks, bankgroups * banks
    rank_of = np.arange(n_banks) // banks_per_rank
    # Earliest legal cycle of each command: channel-level rules in channel_ok, the
    # rules of every level below folded into bank_ok for each bank they cover.
    channel_ok = np.zeros(N_COMMANDS, dtype=np.int64)
    bank_ok = np.zeros((N_COMMANDS, n_banks), dtype=np.int64)
    depth, n_nodes = 1, node_of[n_banks - 1, 3] + 1
    for count in win_count:
        depth = max(depth, count)
    history = np.full((win_level.size, n_nodes, depth), NEVER, dtype=np.int64)  # window rings per node
    history_pos = np.zeros((win_level.size, n_nodes), dtype=np.int64)
    open_row = np.full(n_banks, -1, dtype=np.int64)
    hits_waiting = np.zeros(n_banks, dtype=np.int64)  # queued requests to the open row, per bank
    refresh_due = first_refresh.copy()
    refresh_pending = np.zeros(ranks, dtype=np.bool_)
    q_req = np.empty(queue_depth, dtype=np.int64)  # queue slots, oldest first
    q_bank = np.empty(queue_depth, dtype=np.int64)
    q_row = np.empty(queue_depth, dtype=np.int64)
    q_cmd = np.empty(queue_depth, dtype=np.int64)
    n_queued, arrived, served, now, hits_total, n_pending = 0, lo, 0, 0, 0, 0
    while served < hi - lo:
        # Admit arrivals while the queue has room.
        while n_queued < queue_depth and arrived < hi and arrival[arrived] <= now:
            b = bank_id[arrived]
            q_req[n_queued], q_bank[n_queued], q_row[n_queued] = arrived, b, row[arrived]
            q_cmd[n_queued] = WR if is_write[arrived] else RD
            if open_row[b] == row[arrived]:
                hits_waiting[b] += 1
                hits_total += 1
            n_queued += 1
            arrived += 1
        # Refreshes falling due; the next arrival or refresh is the next event.
        event = arrival[arrived] if n_queued < queue_depth and arrived < hi else FOREVER
        for r in range(refresh_due.size):
            if not refresh_pending[r] and now >= refresh_due[r]:
                refresh_pending[r] = True
                n_pending += 1
            if not refresh_pending[r]:
                event = min(event, refresh_due[r])
        # No command issues before the channel-level earliest cycle of every command
        # that a candidate could need: RD/WR for row hits, ACT/PRE for the other
        # requests, PRE/REF for refresh.
        bound = event
        for cmd in range(N_COMMANDS):
            if ((cmd == RD or cmd == WR) and hits_total > 0
                    or (cmd == ACT or cmd == PRE) and n_queued > hits_total
                    or (cmd == PRE or cmd == REF) and n_pending > 0):
                bound = min(bound, channel_ok[cmd])
        now = max(now, bound)
        if now == event:
            continue
        # Pick the command with the least (issue cycle, class, age); class 0 refresh,
        # 1 row hit, 2 other. Refresh candidates first, then the queue, oldest first;
        # a queue candidate's (cycle, class) is compared as the one number 4 * cycle + class.
        best_t, best_class, best_cmd, best_bank, best_slot = FOREVER, 3, -1, -1, -1
        if n_pending > 0:
            best_t, best_cmd, best_bank = _pick_refresh(now, ranks, banks_per_rank, refresh_pending,
                                                        open_row, channel_ok, bank_ok)
            best_class = 0
        best_key = best_t * 4 + best_class
        for slot in range(n_queued if best_t > now else 0):
            b = q_bank[slot]
            open_r = open_row[b]
            hit = open_r == q_row[slot]
            if not hit and best_key <= now * 4 + 2:
                continue  # a non-hit cannot beat a candidate already ready now
            cmd = q_cmd[slot] if hit else (PRE if open_r >= 0 else ACT)
            t = max(now, channel_ok[cmd], bank_ok[cmd, b])
            key = t * 4 + (1 if hit else 2)
            # Blocked: a PRE that would close a row queued hits still need, or a refreshing rank.
            blocked = (open_r >= 0) & (not hit) & (hits_waiting[b] > 0)
            if n_pending > 0:
                blocked = blocked | refresh_pending[rank_of[b]]
            if key < best_key and not blocked:
                best_key, best_slot = key, slot
                if t == now and (hit or hits_total == 0):
                    break  # nothing younger can beat it
        if best_slot >= 0:
            b = q_bank[best_slot]
            best_t, best_class, best_bank = best_key // 4, best_key % 4, b
            if open_row[b] == q_row[best_slot]:
                best_cmd = q_cmd[best_slot]
            else:
                best_cmd = PRE if open_row[b] >= 0 else ACT
        if best_cmd < 0 or best_t >= event:
            if event == FOREVER:
                raise RuntimeError("DRAM scheduler deadlock: no command can ever issue")
            now = event
            continue
        now, cmd, b = best_t, best_cmd, best_bank
        # Timing state, from the constraint table only: a rule at level L raises the
        # following command's earliest cycle on every bank under this command's
        # level-L node (sibling rules: under the other nodes with the same parent).
        for level in range(scope[cmd] + 1):
            first, last = span[b, level, 0], span[b, level, 1]
            for f in range(N_COMMANDS):
                t = now + latency[level, cmd, f]
                if level == 0:
                    channel_ok[f] = max(channel_ok[f], t)
                elif t >= now:
                    for x in range(first, last):
                        bank_ok[f, x] = max(bank_ok[f, x], t)
                t = now + sibling_latency[level, cmd, f]
                if level > 0 and t >= now:
                    for x in range(span[b, level - 1, 0], span[b, level - 1, 1]):
                        if x < first or x >= last:
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
            refresh_pending[rank_of[b]] = False
            refresh_due[rank_of[b]] += refresh_interval
            n_pending -= 1
        elif cmd == PRE:
            log_row = open_row[b]
            open_row[b] = -1
            hits_total -= hits_waiting[b]
            hits_waiting[b] = 0
        elif cmd == ACT:
            req = q_req[best_slot]
            log_row = row[req]
            open_row[b] = log_row
            needed_act[req] = True
            for slot in range(n_queued):
                if q_bank[slot] == b and q_row[slot] == log_row:
                    hits_waiting[b] += 1
                    hits_total += 1
        else:
            req = q_req[best_slot]
            log_row = row[req]
            completion[req] = now + (write_cycles if cmd == WR else read_cycles)
            hits_waiting[b] -= 1
            hits_total -= 1
            n_queued -= 1
            for slot in range(best_slot, n_queued):
                q_req[slot], q_bank[slot] = q_req[slot + 1], q_bank[slot + 1]
                q_row[slot], q_cmd[slot] = q_row[slot + 1], q_cmd[slot + 1]
            served += 1
        if record_log:
            log, n_log = _append_log(log, n_log, now, cmd, ch, b, bankgroups, banks, log_row)
    return log, n_log


@njit(cache=True)
def schedule_kernel(arrival, is_write, bank_id, row, channel_start, ranks, bankgroups, banks,
                    latency, sibling_latency, scope, win_level, win_preceding, win_following,
                    win_latency, win_count, read_cycles, write_cycles, first_refresh,
                    refresh_interval, queue_depth, record_log):
    """Schedule requests grouped by channel (``channel_start`` offsets), in arrival order.

    ``bank_id`` is ``(rank * bankgroups + bankgroup) * banks + bank``. Returns per-request
    completion cycles, command counts, whether each request needed an ACT, and the
    log (rows of ``LOG_COLUMNS``; empty unless ``record_log``).
    """
    node_of, span = _hierarchy(ranks, bankgroups, banks)
    completion = np.zeros(arrival.size, dtype=np.int64)
    needed_act = np.zeros(arrival.size, dtype=np.bool_)
    counts = np.zeros(N_COMMANDS, dtype=np.int64)
    log = np.empty((1024 if record_log else 1, LOG_COLUMNS), dtype=np.int64)
    n_log = 0
    for ch in range(channel_start.size - 1):
        log, n_log = _run_channel(
            ch, channel_start[ch], channel_start[ch + 1], arrival, is_write, bank_id, row, ranks,
            bankgroups, banks, node_of, span, latency, sibling_latency, scope, win_level,
            win_preceding, win_following, win_latency, win_count, read_cycles, write_cycles,
            first_refresh, refresh_interval, queue_depth, completion, needed_act, counts,
            record_log, log, n_log)
    return completion, counts, needed_act, log[:n_log]
