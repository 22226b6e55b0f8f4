"""All-bank PIM GEMV timing in one DRAM channel: a Numba kernel and its Python twin.

One call times the PIM commands of one channel for one GEMV op (see
:mod:`arch.pim.gemv` and :mod:`arch.pim.layout` for how an op becomes rows and
commands). :func:`pim_rows_kernel` takes the row sets one by one: per row set
its MAC commands, its result reads and the channel cycles spent before it (input
writes, PIM headers), so a layout with padded, unequal row sets (NeuPIMs' own,
``pim.layout: artefact``) is timed with refresh, tFAW windows and bank readiness
carried across them. :func:`pim_gemv_kernel` is the dense case: ``row_sets``
equal row sets but the last, the result reads spread evenly, the input writes
before the first. The channel works through its row sets; a row set is the same row opened in every
bank of the channel, so one all-bank MAC command multiplies one column slice of
every bank at once. Per row set:

1. activation: ``ganged`` -- one all-bank ACT command (AttAcc's ACTAB,
   ``scale-snu/attacc_simulator: pim_ramulator_src/HBM3-PIM.cpp``, which applies
   tRC, tRCD, tRAS, tRTP and tRP to it but not tFAW); or ``faw_limited`` -- one
   ACT per bank, round-robin over ranks and bank groups, each at the earliest
   cycle the DRAM table allows: one command per ``tCMD`` on the channel, tRRD_S
   within a rank, tRRD_L within a bank group, at most four ACTs per tFAW per rank,
   tRP after the bank's last PRE;
2. MACs: the first all-bank MAC ``tRCD`` after the last ACT, then one every
   ``mac_spacing`` cycles (tCCD_L, a power-limited spacing such as AttAcc's
   nCCDAB, or a shared unit's pace);
3. result reads: the row set's share of the ``readouts`` (each one burst on the
   data bus, ``BL`` cycles apart), starting one MAC slot after the last MAC;
4. precharge: ganged -- one all-bank PRE at max(ACT + tRAS, last column command
   + tRTP); faw_limited -- one PRE per bank, ``tCMD`` apart, each at max(its ACT
   + tRAS, last column command + tRTP). The bank may be activated tRP later.

Before a row set with channel cycles to spend (``before``: input writes, PIM
headers) the channel waits for its banks' precharge and spends them (dense: the
input vectors, ``gwrite_bursts`` bursts ``BL`` apart, before the first row set).
Refresh: when a refresh is due (every
tREFI) at a row-set boundary, every rank is refreshed once all its banks are
precharged, and the banks rest tRFC. The op ends when the last result burst has
arrived (``CL + BL`` after its read) or the last precharge has completed.

Returns ``(cycles, bank_activates, mac_commands, readouts, refreshes)``. The
twin takes an optional ``log`` list and appends each row command as ``(cycle,
command, rank, bank group, bank, row)`` with the command codes of
:class:`arch.dram.commands.Command` (ACT 0, PRE 1, REF 4), so a stream can be
replayed by :func:`arch.dram.check_command_log`. Not modelled: the MAC
commands' and result reads' own entries in the log (the DRAM command set has no
MAC command); overlap of the next row set's activation with this one's MACs.
"""

from __future__ import annotations

import numpy as np
from numba import njit

CMD_ACT, CMD_PRE, CMD_REF = 0, 1, 4


@njit(cache=True)
def pim_gemv_kernel(row_sets, macs_full, macs_last, readouts, gwrite_bursts, ganged,
                    ranks, bankgroups, banks_per_group, t_rcd, t_ras, t_rp, t_rtp,
                    t_rrd_s, t_rrd_l, t_faw, t_cmd, t_rfc, t_refi, mac_spacing, bl, cl):
    macs, reads, before = dense_rows(row_sets, macs_full, macs_last, readouts, gwrite_bursts * bl)
    return pim_rows_kernel(macs, reads, before, ganged, ranks, bankgroups, banks_per_group, t_rcd, t_ras,
                           t_rp, t_rtp, t_rrd_s, t_rrd_l, t_faw, t_cmd, t_rfc, t_refi, mac_spacing, bl, cl)


@njit(cache=True)
def dense_rows(row_sets, macs_full, macs_last, readouts, gwrite_cycles):
    """Per-row-set arrays of a densely packed GEMV: MACs, result reads, channel cycles before the row set."""
    macs = np.full(row_sets, macs_full, dtype=np.int64)
    reads = np.full(row_sets, readouts // row_sets, dtype=np.int64)
    before = np.zeros(row_sets, dtype=np.int64)
    if row_sets > 0:
        macs[row_sets - 1] = macs_last
        before[0] = gwrite_cycles
    for r in range(readouts % row_sets if row_sets > 0 else 0):
        reads[r] += 1
    return macs, reads, before


@njit(cache=True)
def pim_rows_kernel(macs_of, reads_of, before_of, ganged, ranks, bankgroups, banks_per_group, t_rcd, t_ras,
                    t_rp, t_rtp, t_rrd_s, t_rrd_l, t_faw, t_cmd, t_rfc, t_refi, mac_spacing, bl, cl):
    per_rank = bankgroups * banks_per_group
    banks = ranks * per_rank
    ready = np.zeros(banks, dtype=np.int64)      # earliest next ACT per bank
    act_at = np.zeros(banks, dtype=np.int64)
    recent = np.full((ranks, 4), -(1 << 40), dtype=np.int64)  # last four ACTs per rank (tFAW)
    last_rank_act = np.full(ranks, -(1 << 40), dtype=np.int64)
    last_group_act = np.full(ranks * bankgroups, -(1 << 40), dtype=np.int64)
    t = 0
    next_ref = t_refi
    activates, macs, reads, refreshes, end = 0, 0, 0, 0, 0
    for r in range(len(macs_of)):
        if before_of[r] > 0:  # input writes / headers: the channel waits for its banks, then spends them
            start = t
            for b in range(banks):
                start = max(start, ready[b])
            t = start + before_of[r]
            end = max(end, t)
        while t_refi > 0 and t >= next_ref:
            start = t
            for b in range(banks):
                start = max(start, ready[b])
            t = start + (ranks - 1) * t_cmd + t_rfc
            for b in range(banks):
                ready[b] = t
            refreshes += ranks
            next_ref += t_refi
        bus = t - t_cmd
        if ganged:
            first = t
            for b in range(banks):
                first = max(first, ready[b])
            for b in range(banks):
                act_at[b] = first
            last_act = first
            bus = first
        else:
            last_act = t
            for j in range(banks):
                rank = j % ranks
                i = j // ranks
                group = i % bankgroups
                b = rank * per_rank + group * banks_per_group + i // bankgroups
                g = rank * bankgroups + group
                at = max(bus + t_cmd, ready[b], last_rank_act[rank] + t_rrd_s,
                         last_group_act[g] + t_rrd_l, recent[rank, 0] + t_faw)
                for w in range(3):
                    recent[rank, w] = recent[rank, w + 1]
                recent[rank, 3] = at
                last_rank_act[rank] = at
                last_group_act[g] = at
                act_at[b] = at
                bus = at
                last_act = max(last_act, at)
        activates += banks
        n_macs = macs_of[r]
        first_mac = max(last_act + t_rcd, bus + t_cmd)
        last_col = first_mac + (n_macs - 1) * mac_spacing
        macs += n_macs
        n_reads = reads_of[r]
        if n_reads > 0:
            last_col = last_col + mac_spacing + (n_reads - 1) * bl
            end = max(end, last_col + cl + bl)
        reads += n_reads
        bus = last_col
        if ganged:
            pre = max(act_at[0] + t_ras, last_col + t_rtp, bus + t_cmd)
            for b in range(banks):
                ready[b] = pre + t_rp
            bus = pre
        else:
            for j in range(banks):
                b = (j % ranks) * per_rank + (j // ranks) % bankgroups * banks_per_group + (j // ranks) // bankgroups
                pre = max(act_at[b] + t_ras, last_col + t_rtp, bus + t_cmd)
                ready[b] = pre + t_rp
                bus = pre
        t = bus + t_cmd
    for b in range(banks):
        end = max(end, ready[b])
    return end, activates, macs, reads, refreshes


def pim_gemv_py(row_sets, macs_full, macs_last, readouts, gwrite_bursts, ganged,
                ranks, bankgroups, banks_per_group, t_rcd, t_ras, t_rp, t_rtp,
                t_rrd_s, t_rrd_l, t_faw, t_cmd, t_rfc, t_refi, mac_spacing, bl, cl, log=None):
    """The pure-Python twin of :func:`pim_gemv_kernel`; ``log`` collects row commands."""
    macs = [macs_full] * row_sets
    if row_sets:
        macs[-1] = macs_last
    reads = [readouts // row_sets + (1 if r < readouts % row_sets else 0) for r in range(row_sets)]
    before = [gwrite_bursts * bl if r == 0 else 0 for r in range(row_sets)]
    return pim_rows_py(macs, reads, before, ganged, ranks, bankgroups, banks_per_group, t_rcd, t_ras, t_rp,
                       t_rtp, t_rrd_s, t_rrd_l, t_faw, t_cmd, t_rfc, t_refi, mac_spacing, bl, cl, log)


def pim_rows_py(macs_of, reads_of, before_of, ganged, ranks, bankgroups, banks_per_group, t_rcd, t_ras,
                t_rp, t_rtp, t_rrd_s, t_rrd_l, t_faw, t_cmd, t_rfc, t_refi, mac_spacing, bl, cl, log=None):
    """The pure-Python twin of :func:`pim_rows_kernel`; ``log`` collects row commands."""
    per_rank = bankgroups * banks_per_group
    banks = ranks * per_rank
    never = -(1 << 40)
    ready, act_at = [0] * banks, [0] * banks
    recent = [[never] * 4 for _ in range(ranks)]
    last_rank_act, last_group_act = [never] * ranks, [never] * (ranks * bankgroups)
    order = [_bank_of(j, ranks, bankgroups, banks_per_group) for j in range(banks)]
    t = 0
    next_ref = t_refi
    activates = macs = reads = refreshes = 0
    end = 0
    for r, (n_macs, n_reads, before) in enumerate(zip(macs_of, reads_of, before_of)):
        if before > 0:
            t = max([t] + ready) + before
            end = max(end, t)
        while t_refi > 0 and t >= next_ref:
            start = max([t] + ready)
            for rank in range(ranks):
                _record(log, start + rank * t_cmd, CMD_REF, rank, -1, -1, -1)
            t = start + (ranks - 1) * t_cmd + t_rfc
            ready = [t] * banks
            refreshes += ranks
            next_ref += t_refi
        if ganged:
            first = max([t] + ready)
            act_at = [first] * banks
            last_act = bus = first
        else:
            bus, last_act = t - t_cmd, t
            for j, (rank, group, b) in enumerate(order):
                g = rank * bankgroups + group
                at = max(bus + t_cmd, ready[b], last_rank_act[rank] + t_rrd_s,
                         last_group_act[g] + t_rrd_l, recent[rank][0] + t_faw)
                recent[rank] = recent[rank][1:] + [at]
                last_rank_act[rank] = last_group_act[g] = act_at[b] = bus = at
                last_act = max(last_act, at)
                _record(log, at, CMD_ACT, rank, group, b % banks_per_group, r)
        activates += banks
        first_mac = max(last_act + t_rcd, bus + t_cmd)
        last_col = first_mac + (n_macs - 1) * mac_spacing
        macs += n_macs
        if n_reads > 0:
            last_col += mac_spacing + (n_reads - 1) * bl
            end = max(end, last_col + cl + bl)
        reads += n_reads
        bus = last_col
        if ganged:
            pre = max(act_at[0] + t_ras, last_col + t_rtp, bus + t_cmd)
            ready = [pre + t_rp] * banks
            bus = pre
        else:
            for rank, group, b in order:
                pre = max(act_at[b] + t_ras, last_col + t_rtp, bus + t_cmd)
                ready[b] = pre + t_rp
                bus = pre
                _record(log, pre, CMD_PRE, rank, group, b % banks_per_group, r)
        t = bus + t_cmd
    return max([end] + ready), activates, macs, reads, refreshes


def _bank_of(j: int, ranks: int, bankgroups: int, banks_per_group: int) -> tuple[int, int, int]:
    """The j-th bank activated in a row set: (rank, bank group, bank index in the channel)."""
    rank, i = j % ranks, j // ranks
    group = i % bankgroups
    return rank, group, rank * bankgroups * banks_per_group + group * banks_per_group + i // bankgroups


def _record(log, cycle, command, rank, group, bank, row) -> None:
    if log is not None:
        log.append((cycle, command, rank, group, bank, row))
