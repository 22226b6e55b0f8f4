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
* a candidate's priority (issue cycle, class, age) is one int64: the delay
  ``cycle - now`` (below every latency of the table), the class and the
  request's index packed into bit fields, so the least priority is a plain
  minimum. Picking a command prices every bank's candidate in one branch-free
  loop that compiles to vector code (a bank whose rank waits for refresh is
  masked to the largest value);
* the earliest legal cycle of each command is kept per channel and per bank
  (:mod:`arch.dram.timing_state`). Issuing a command walks only the table's rules
  for that command (listed per command beforehand), each a maximum over a
  contiguous run of banks, indexed unsigned so that it too runs as vector code;
* the channel loop allocates nothing (its state arrays come from the caller), so
  it is compiled without Numba's reference counting (``_nrt=False``): with it,
  every inlined helper taking arrays paid atomic increments and decrements on
  each call, about a quarter of the scheduler's time.

The loop is run per channel by :func:`arch.dram.channels.schedule_kernel`, which also
schedules a channel whose requests repeat an earlier one's only once.

Not modelled: read/write queue separation and write draining, bank-level write
buffering, auto-precharge, per-bank refresh, power-down, command-bus sharing
between the two pseudo-channels of an HBM3 channel.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from arch.dram.commands import N_COMMANDS, Command
from arch.dram.timing_state import FOREVER, NONE, earliest

# Plain ints (Numba freezes globals at compile time).
ACT, PRE, RD, WR, REF = (int(c) for c in (Command.ACT, Command.PRE, Command.RD, Command.WR, Command.REF))
N = N_COMMANDS
# A candidate's priority packed into one int64 (see _best_of): delay, class, age.
AGE_BITS = 32
AGE_MASK = (1 << AGE_BITS) - 1
DELAY_SHIFT = AGE_BITS + 2  # the class takes 2 bits
NO_DELAY = 1 << 28  # above every latency of a table (checked): the delay of a bank without a candidate
NO_CANDIDATE = NO_DELAY << DELAY_SHIFT  # packed priorities from here up are no candidate
PACKED_MAX = (1 << 63) - 1  # the priority of every candidate of a rank that waits for refresh
LOG_COLUMNS = 7  # cycle, command, channel, rank, bankgroup, bank, row


@njit(cache=True, inline="always")
def _pick_refresh(now, ranks, banks_per_rank, refresh_pending, open_row, channel_ok, bank_ok, n_banks):
    """Best refresh command (PRE of an open bank, else REF) of the pending ranks: (cycle, cmd, bank)."""
    best_t, best_cmd, best_bank = FOREVER, -1, -1
    for r in range(ranks):
        if not refresh_pending[r]:
            continue
        cmd = REF
        for b in range(r * banks_per_rank, (r + 1) * banks_per_rank):
            if open_row[b] >= 0:
                cmd = PRE
                t = earliest(now, PRE, b, channel_ok, bank_ok, n_banks)
                if t < best_t:
                    best_t, best_cmd, best_bank = t, PRE, b
        if cmd == REF:
            b = r * banks_per_rank  # REF rules sit at rank level or above: any bank of the rank
            t = earliest(now, REF, b, channel_ok, bank_ok, n_banks)
            if t < best_t:
                best_t, best_cmd, best_bank = t, REF, b
    return best_t, best_cmd, best_bank


@njit(cache=True, inline="always")
def _bank_candidates(b, open_row, hits_waiting, write_hits, head, s_next, s_row, s_cmd, s_req, cand_cmd, cand_slot,
                     cand_tail, cand2_cmd, cand2_slot, cand2_tail):
    """Set bank ``b``'s FR-FCFS candidates; returns whether it has a second one.

    ``cand_*[b]``: with queued hits on the open row, the oldest hit (class 1);
    otherwise ACT (closed bank) or PRE (another row open), class 2, for the oldest
    request; cmd ``NONE`` with nothing queued. ``cand2_*[b]``: the oldest hit of the
    other kind (RD/WR) when the hits mix reads and writes, else cmd ``NONE``. The
    tail is ``class << AGE_BITS | age`` (age: the request's index), the low bits of
    the candidate's packed priority (:func:`_best_of`).
    """
    s = head[b]
    cand2_cmd[b] = NONE
    if s < 0:
        cand_cmd[b], cand_tail[b] = NONE, 0
        return False
    row = open_row[b]
    hits = hits_waiting[b]
    if row < 0 or hits == 0:
        cand_cmd[b], cand_slot[b], cand_tail[b] = ACT if row < 0 else PRE, s, (2 << AGE_BITS) | s_req[s]
        return False
    mixed = write_hits[b] > 0 and write_hits[b] < hits
    first = -1
    while s >= 0:
        if s_row[s] == row:
            if first < 0:
                first = s
                cand_cmd[b], cand_slot[b], cand_tail[b] = s_cmd[s], s, (1 << AGE_BITS) | s_req[s]
                if not mixed:
                    return False
            elif s_cmd[s] != s_cmd[first]:
                cand2_cmd[b], cand2_slot[b], cand2_tail[b] = s_cmd[s], s, (1 << AGE_BITS) | s_req[s]
                return True
        s = s_next[s]
    return False


@njit(cache=True, inline="always")
def _raise(values, lo, hi, t):
    """``values[lo:hi] = max(values[lo:hi], t)``; unsigned indices (no wraparound) let it run as vector code."""
    for x in range(np.uint64(lo), np.uint64(hi)):
        values[x] = max(values[x], t)


@njit(cache=True, inline="always")
def _best_of(cand_cmd, cand_tail, blocked, n_banks, now, channel_ok, bank_ok, best):
    """The least packed priority of the candidates and ``best``.

    A candidate's priority (issue cycle, class, age) is packed into one int64:
    ``(cycle - now) << DELAY_SHIFT | class << AGE_BITS | age``. The delay
    ``cycle - now`` is below every latency of the table (each earliest cycle is an
    issued command's cycle plus a latency, and commands issue at or before
    ``now``); a bank without a candidate (cmd ``NONE``, channel value FOREVER) has
    it clamped to ``NO_DELAY`` and never wins, a bank whose rank waits for refresh
    has ``blocked`` = ``PACKED_MAX``. Every bank is priced without a branch, and a
    queue candidate is one of ACT, PRE, RD or WR: reading their contiguous rows of
    ``bank_ok`` and keeping the candidate's, instead of indexing by the command,
    lets the loop run as vector code without gathers.
    """
    act_ok, pre_ok, rd_ok, wr_ok = channel_ok[ACT], channel_ok[PRE], channel_ok[RD], channel_ok[WR]
    act, pre = np.uint64(ACT * n_banks), np.uint64(PRE * n_banks)  # row offsets, unsigned: no wraparound
    rd, wr = np.uint64(RD * n_banks), np.uint64(WR * n_banks)
    for b in range(np.uint64(n_banks)):
        cmd = cand_cmd[b]
        at_channel = act_ok if cmd == ACT else FOREVER  # FOREVER for NONE
        at_channel = pre_ok if cmd == PRE else at_channel
        at_channel = rd_ok if cmd == RD else at_channel
        at_channel = wr_ok if cmd == WR else at_channel
        # Each row read or 0, then the maximum: a choice between loads would compile to a gather.
        at_bank = max(max(bank_ok[act + b] if cmd == ACT else 0, bank_ok[pre + b] if cmd == PRE else 0),
                      max(bank_ok[rd + b] if cmd == RD else 0, bank_ok[wr + b] if cmd == WR else 0))
        t = max(at_channel, at_bank)
        delay = min(max(t - now, 0), NO_DELAY)
        best = min(best, max((delay << DELAY_SHIFT) + cand_tail[b], blocked[b]))
    return best


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


@njit(cache=True, _nrt=False)  # no reference counting: see the module docstring
def _run_channel(ch, lo, hi, arrival, is_write, bank_id, row, ranks, bankgroups, banks, node_of, span,
                 channel_latency, rule_start, rule_level, rule_following, rule_latency, rule_sibling,
                 win_level, win_preceding, win_following, win_latency, win_count, read_cycles, write_cycles,
                 first_refresh, refresh_interval, queue_depth, completion, needed_act, counts, record_log, log,
                 work):
    """Schedule requests ``lo:hi`` (one channel, arrival order); returns the commands it logged.

    ``work`` holds the channel's state arrays, allocated by :func:`schedule_kernel`
    (allocating here would compile numpy's constructors into the kernel); every
    array is reset here. ``counts`` gets this channel's command counts.
    """
    (rank_of, channel_ok, bank_ok, blocked, history, history_pos, open_row, hits_waiting, write_hits,
     refresh_due, refresh_pending, s_req, s_row, s_cmd, s_next, free, head, tail, cand_cmd, cand_slot, cand_tail,
     cand2_cmd, cand2_slot, cand2_tail, mixed) = work
    n_banks, banks_per_rank = ranks * bankgroups * banks, bankgroups * banks
    for b in range(n_banks):
        rank_of[b] = b // banks_per_rank
        open_row[b], hits_waiting[b], write_hits[b] = -1, 0, 0  # hits: queued requests to the open row
        head[b], tail[b], blocked[b], mixed[b] = -1, -1, 0, False
        cand_cmd[b], cand_slot[b], cand_tail[b] = NONE, 0, 0
        cand2_cmd[b], cand2_slot[b], cand2_tail[b] = NONE, 0, 0
    # Earliest legal cycle of each command: per channel, and per [command, bank] for the levels below
    # (``bank_ok`` flat, command-major).
    for f in range(N + 1):
        channel_ok[f] = FOREVER if f == NONE else 0
    for x in range(bank_ok.size):
        bank_ok[x] = 0
    for r in range(ranks):
        refresh_pending[r] = False
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
    n_log = np.int64(0)  # typed int64, so _append_log compiles once (not also for a literal 0)
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
                mixed[b] = _bank_candidates(b, open_row, hits_waiting, write_hits, head, s_next, s_row, s_cmd,
                                            s_req, cand_cmd, cand_slot, cand_tail, cand2_cmd, cand2_slot,
                                            cand2_tail)
                n_mixed += mixed[b]
            n_queued += 1
            arrived += 1
        # Refreshes falling due; the next arrival or refresh is the next event.
        event = arrival[arrived] if n_queued < queue_depth and arrived < hi else FOREVER
        for r in range(refresh_due.size):
            if not refresh_pending[r] and now >= refresh_due[r]:
                refresh_pending[r] = True
                for x in range(r * banks_per_rank, (r + 1) * banks_per_rank):
                    blocked[x] = PACKED_MAX
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
        # 1 row hit, 2 other. Refresh first, then the queue's candidates, packed (_best_of).
        best_t, best_cmd, best_bank, best_slot = FOREVER, -1, -1, -1
        if n_pending > 0:
            best_t, best_cmd, best_bank = _pick_refresh(now, ranks, banks_per_rank, refresh_pending, open_row,
                                                        channel_ok, bank_ok, n_banks)
        if best_t > now:
            packed = _best_of(cand_cmd, cand_tail, blocked, n_banks, now, channel_ok, bank_ok, PACKED_MAX)
            if n_mixed > 0:
                packed = _best_of(cand2_cmd, cand2_tail, blocked, n_banks, now, channel_ok, bank_ok, packed)
            t = now + (packed >> DELAY_SHIFT)
            # A queued candidate beats a refresh command of the same cycle (a lower class never ties).
            if packed < NO_CANDIDATE and t < best_t:
                req = packed & AGE_MASK
                best_t, best_bank = t, bank_id[req]
                if cand_cmd[best_bank] != NONE and (cand_tail[best_bank] & AGE_MASK) == req:
                    best_cmd, best_slot = cand_cmd[best_bank], cand_slot[best_bank]
                else:
                    best_cmd, best_slot = cand2_cmd[best_bank], cand2_slot[best_bank]
        if best_cmd < 0 or best_t >= event:
            if event == FOREVER:
                raise RuntimeError("DRAM scheduler deadlock: no command can ever issue")
            now = event
            continue
        now, cmd, b = best_t, best_cmd, best_bank
        # Timing state, from the constraint table only: the channel-level rules raise
        # ``channel_ok``; each rule below the channel (``rule_*`` rows of this command)
        # raises the following command's earliest cycle on every bank under this
        # command's node at its level, or, for a sibling rule, under the other nodes
        # with the same parent. Written out here: it runs once per command.
        for f in range(N):
            channel_ok[f] = max(channel_ok[f], now + channel_latency[cmd, f])
        for k in range(rule_start[cmd], rule_start[cmd + 1]):
            level, t = rule_level[k], now + rule_latency[k]
            base = rule_following[k] * n_banks
            first, last = span[b, level, 0], span[b, level, 1]
            if rule_sibling[k]:
                _raise(bank_ok, base + span[b, level - 1, 0], base + first, t)
                _raise(bank_ok, base + last, base + span[b, level - 1, 1], t)
            else:
                _raise(bank_ok, base + first, base + last, t)
        for k in range(win_level.size):
            if win_preceding[k] == cmd:
                level, node, f = win_level[k], node_of[b, win_level[k]], win_following[k]
                pos = history_pos[k, node]
                history[k, node, pos] = now
                pos = pos + 1 if pos + 1 < win_count[k] else 0
                history_pos[k, node] = pos
                t = history[k, node, pos] + win_latency[k]  # oldest of the ring
                if level == 0:
                    channel_ok[f] = max(channel_ok[f], t)
                else:
                    _raise(bank_ok, f * n_banks + span[b, level, 0], f * n_banks + span[b, level, 1], t)
        # Bank, queue and refresh state.
        counts[cmd] += 1
        log_row = -1
        if cmd == REF:
            r = rank_of[b]
            refresh_pending[r] = False
            for x in range(r * banks_per_rank, (r + 1) * banks_per_rank):
                blocked[x] = 0
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
            mixed[b] = _bank_candidates(b, open_row, hits_waiting, write_hits, head, s_next, s_row, s_cmd, s_req,
                                        cand_cmd, cand_slot, cand_tail, cand2_cmd, cand2_slot, cand2_tail)
            n_mixed += mixed[b]
        if record_log:
            n_log = _append_log(log, n_log, now, cmd, ch, b, bankgroups, banks, log_row)
    return n_log
