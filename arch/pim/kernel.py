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
   cycle the DRAM table allows: the command bus's ACT-to-ACT spacing, tRRD_S
   within a rank, tRRD_L within a bank group, at most four ACTs per tFAW per rank,
   tRP after the bank's last PRE and tRC after its last ACT;
2. MACs: the first all-bank MAC ``tRCD`` after the last ACT, then one every
   ``mac_spacing`` cycles (tCCD_L, a power-limited spacing such as AttAcc's
   nCCDAB, or a shared unit's pace);
3. result reads: the row set's share of the ``readouts`` (each one burst on the
   data bus, ``BL`` cycles apart), starting one MAC slot after the last MAC;
4. precharge: ganged -- one all-bank PRE at max(ACT + tRAS, last column command
   + tRTP); faw_limited -- one PRE per bank, the bus's PRE-to-PRE spacing apart
   (tPPD on HBM3), each at max(its ACT + tRAS, last column command + tRTP). The
   bank may be activated max(tRP after the PRE, tRC after the ACT) later.

Before a row set with channel cycles to spend (``before``: input writes, PIM
headers) the channel waits for its banks' precharge and spends them (dense: the
input vectors, ``gwrite_bursts`` bursts ``BL`` apart, before the first row set).
Refresh: when a refresh is due (every
tREFI) at a row-set boundary, every rank is refreshed once all its banks are
precharged, and the banks rest tRFC. The op ends when the last result burst has
arrived (``CL + BL`` after its read) or the last precharge has completed.

Every latency and command-bus spacing comes from the DRAM spec's constraint
table, packed by :func:`arch.pim.command_timing.device_vector` into one int64
array indexed by the constants below (ganged activation uses the all-bank
commands' rules, per-bank activation ACT's and PRE's), so one kernel serves
every DRAM standard the tables declare.

Returns ``(cycles, bank_activates, mac_commands, readouts, refreshes)``. The
twin takes an optional ``log`` list and appends every command as ``(cycle,
command, rank, bank group, bank, row)`` with the codes of
:class:`arch.dram.commands.Command` (all-bank and refresh commands with bank
group and bank -1; an input write's cycles as back-to-back WR_GB bursts), so a
stream is replayed by :func:`arch.dram.check_command_log` against the same
table (:mod:`arch.pim.command_timing`). Not modelled: overlap of the next row
set's activation with this one's MACs; the PIM header of NeuPIMs' layout is
channel time without a command of its own.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from arch.dram.commands import Command

CMD_ACT, CMD_PRE, CMD_REF = int(Command.ACT), int(Command.PRE), int(Command.REF)
CMD_ACT_AB, CMD_PRE_AB, CMD_MAC_AB = int(Command.ACT_AB), int(Command.PRE_AB), int(Command.MAC_AB)
CMD_RD_RES, CMD_WR_GB = int(Command.RD_RES), int(Command.WR_GB)

# Entries of the device vector (arch.pim.command_timing.device_vector): organisation, then cycles.
DEVICE_FIELDS = ("ganged", "ranks", "bankgroups", "banks_per_group", "t_rcd", "t_ras", "t_rp", "t_rc", "t_rtp",
                 "t_rrd_s", "t_rrd_l", "t_faw", "t_rfc", "t_refi", "mac_spacing", "bl", "cl",
                 "act_to_act", "pre_to_pre", "pre_to_act", "act_to_col", "col_to_pre", "ref_to_ref")
(GANGED, RANKS, BANKGROUPS, BANKS_PER_GROUP, T_RCD, T_RAS, T_RP, T_RC, T_RTP, T_RRD_S, T_RRD_L, T_FAW, T_RFC,
 T_REFI, MAC_SPACING, BL, CL, ACT_TO_ACT, PRE_TO_PRE, PRE_TO_ACT, ACT_TO_COL, COL_TO_PRE, REF_TO_REF) = \
    range(len(DEVICE_FIELDS))


def device_array(**values: int) -> np.ndarray:
    """The device vector from named entries (every field of ``DEVICE_FIELDS``)."""
    missing = sorted(set(DEVICE_FIELDS) - set(values))
    if missing or set(values) - set(DEVICE_FIELDS):
        raise ValueError(f"device vector: missing {missing}, unknown {sorted(set(values) - set(DEVICE_FIELDS))}")
    return np.array([int(values[name]) for name in DEVICE_FIELDS], dtype=np.int64)


def pim_gemv_kernel(row_sets, macs_full, macs_last, readouts, gwrite_bursts, device):
    """The dense case: its row sets laid out with numpy (:func:`dense_rows`), then timed by the jitted
    :func:`pim_rows_kernel` (the only part compiled, shared with every other layout)."""
    macs, reads, before = dense_rows(int(row_sets), int(macs_full), int(macs_last), int(readouts),
                                     int(gwrite_bursts) * int(device[BL]))
    return pim_rows_kernel(macs, reads, before, device)


def dense_rows(row_sets, macs_full, macs_last, readouts, gwrite_cycles):
    """Per-row-set arrays of a densely packed GEMV: MACs, result reads, channel cycles before the row set."""
    macs = np.full(row_sets, macs_full, dtype=np.int64)
    reads = np.full(row_sets, readouts // row_sets if row_sets > 0 else 0, dtype=np.int64)
    before = np.zeros(row_sets, dtype=np.int64)
    if row_sets > 0:
        macs[row_sets - 1] = macs_last
        before[0] = gwrite_cycles
        reads[: readouts % row_sets] += 1
    return macs, reads, before


@njit(cache=True)
def pim_rows_kernel(macs_of, reads_of, before_of, device):
    ganged, ranks, bankgroups, banks_per_group = device[GANGED], device[RANKS], device[BANKGROUPS], \
        device[BANKS_PER_GROUP]
    t_refi, mac_spacing, bl = device[T_REFI], device[MAC_SPACING], device[BL]
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
            t = start + (ranks - 1) * device[REF_TO_REF] + device[T_RFC]
            for b in range(banks):
                ready[b] = t
            refreshes += ranks
            next_ref += t_refi
        if ganged:
            bus = t
            for b in range(banks):
                bus = max(bus, ready[b])
            for b in range(banks):
                act_at[b] = bus
            last_act = bus
        else:
            slot, last_act, bus = t, t, t
            for j in range(banks):
                rank = j % ranks
                i = j // ranks
                group = i % bankgroups
                b = rank * per_rank + group * banks_per_group + i // bankgroups
                g = rank * bankgroups + group
                at = max(slot, ready[b], last_rank_act[rank] + device[T_RRD_S],
                         last_group_act[g] + device[T_RRD_L], recent[rank, 0] + device[T_FAW])
                for w in range(3):
                    recent[rank, w] = recent[rank, w + 1]
                recent[rank, 3] = at
                last_rank_act[rank] = at
                last_group_act[g] = at
                act_at[b] = at
                bus = at
                slot = at + device[ACT_TO_ACT]
                last_act = max(last_act, at)
        activates += banks
        n_macs = macs_of[r]
        first_mac = max(last_act + device[T_RCD], bus + device[ACT_TO_COL])
        last_col = first_mac + (n_macs - 1) * mac_spacing
        macs += n_macs
        n_reads = reads_of[r]
        if n_reads > 0:
            last_col = last_col + mac_spacing + (n_reads - 1) * bl
            end = max(end, last_col + device[CL] + bl)
        reads += n_reads
        slot = last_col + device[COL_TO_PRE]
        if ganged:
            pre = max(act_at[0] + device[T_RAS], last_col + device[T_RTP], slot)
            for b in range(banks):
                ready[b] = max(pre + device[T_RP], act_at[b] + device[T_RC])
        else:
            pre = slot
            for j in range(banks):
                b = (j % ranks) * per_rank + (j // ranks) % bankgroups * banks_per_group + (j // ranks) // bankgroups
                pre = max(act_at[b] + device[T_RAS], last_col + device[T_RTP], slot)
                ready[b] = max(pre + device[T_RP], act_at[b] + device[T_RC])
                slot = pre + device[PRE_TO_PRE]
        t = pre + device[PRE_TO_ACT]
    for b in range(banks):
        end = max(end, ready[b])
    return end, activates, macs, reads, refreshes


def pim_gemv_py(row_sets, macs_full, macs_last, readouts, gwrite_bursts, device, log=None):
    """The pure-Python twin of :func:`pim_gemv_kernel`; ``log`` collects every command."""
    macs = [macs_full] * row_sets
    if row_sets:
        macs[-1] = macs_last
    reads = [readouts // row_sets + (1 if r < readouts % row_sets else 0) for r in range(row_sets)]
    before = [gwrite_bursts * int(device[BL]) if r == 0 else 0 for r in range(row_sets)]
    return pim_rows_py(macs, reads, before, device, log)


def pim_rows_py(macs_of, reads_of, before_of, device, log=None):
    """The pure-Python twin of :func:`pim_rows_kernel`; ``log`` collects every command."""
    d = [int(x) for x in device]
    ganged, ranks, bankgroups, banks_per_group = d[GANGED], d[RANKS], d[BANKGROUPS], d[BANKS_PER_GROUP]
    t_refi, mac_spacing, bl = d[T_REFI], d[MAC_SPACING], d[BL]
    banks = ranks * bankgroups * banks_per_group
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
            start = max([t] + ready)
            _record_all(log, [start + k * bl for k in range(before // bl)], CMD_WR_GB, r)
            t = start + before
            end = max(end, t)
        while t_refi > 0 and t >= next_ref:
            start = max([t] + ready)
            for rank in range(ranks):
                _record(log, start + rank * d[REF_TO_REF], CMD_REF, rank, -1, -1, -1)
            t = start + (ranks - 1) * d[REF_TO_REF] + d[T_RFC]
            ready = [t] * banks
            refreshes += ranks
            next_ref += t_refi
        if ganged:
            last_act = bus = max([t] + ready)
            act_at = [bus] * banks
            _record_all(log, [bus], CMD_ACT_AB, r)
        else:
            slot = last_act = bus = t
            for rank, group, b in order:
                g = rank * bankgroups + group
                at = max(slot, ready[b], last_rank_act[rank] + d[T_RRD_S],
                         last_group_act[g] + d[T_RRD_L], recent[rank][0] + d[T_FAW])
                recent[rank] = recent[rank][1:] + [at]
                last_rank_act[rank] = last_group_act[g] = act_at[b] = bus = at
                slot = at + d[ACT_TO_ACT]
                last_act = max(last_act, at)
                _record(log, at, CMD_ACT, rank, group, b % banks_per_group, r)
        activates += banks
        first_mac = max(last_act + d[T_RCD], bus + d[ACT_TO_COL])
        _record_all(log, [first_mac + k * mac_spacing for k in range(n_macs)], CMD_MAC_AB, r)
        last_col = first_mac + (n_macs - 1) * mac_spacing
        macs += n_macs
        if n_reads > 0:
            _record_all(log, [last_col + mac_spacing + k * bl for k in range(n_reads)], CMD_RD_RES, r)
            last_col += mac_spacing + (n_reads - 1) * bl
            end = max(end, last_col + d[CL] + bl)
        reads += n_reads
        slot = last_col + d[COL_TO_PRE]
        if ganged:
            pre = max(act_at[0] + d[T_RAS], last_col + d[T_RTP], slot)
            ready = [max(pre + d[T_RP], a + d[T_RC]) for a in act_at]
            _record_all(log, [pre], CMD_PRE_AB, r)
        else:
            pre = slot
            for rank, group, b in order:
                pre = max(act_at[b] + d[T_RAS], last_col + d[T_RTP], slot)
                ready[b] = max(pre + d[T_RP], act_at[b] + d[T_RC])
                slot = pre + d[PRE_TO_PRE]
                _record(log, pre, CMD_PRE, rank, group, b % banks_per_group, r)
        t = pre + d[PRE_TO_ACT]
    return max([end] + ready), activates, macs, reads, refreshes


def _bank_of(j: int, ranks: int, bankgroups: int, banks_per_group: int) -> tuple[int, int, int]:
    """The j-th bank activated in a row set: (rank, bank group, bank index in the channel)."""
    rank, i = j % ranks, j // ranks
    group = i % bankgroups
    return rank, group, rank * bankgroups * banks_per_group + group * banks_per_group + i // bankgroups


def _record(log, cycle, command, rank, group, bank, row) -> None:
    if log is not None:
        log.append((cycle, command, rank, group, bank, row))


def _record_all(log, cycles, command, row) -> None:
    """An all-bank command (every bank of the channel) at each of ``cycles``."""
    if log is not None:
        log.extend((cycle, command, 0, -1, -1, row) for cycle in cycles)
