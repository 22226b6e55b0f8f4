"""PIM command timing read from the DRAM standard's constraint table, and its legality check.

The PIM kernels (:mod:`arch.pim.kernel`) take one int64 *device vector*:
the channel's organisation, then every latency and command-bus spacing the
all-bank GEMV needs. :func:`device_vector` fills it from the constraint table of
the PIM memory's DRAM spec (:mod:`arch.dram.standards`), where the PIM commands
(ACT_AB, PRE_AB, MAC_AB, RD_RES, WR_GB) are declared next to the host's. A
latency "within level L" is the largest the table sets for the command pair at
any level from the channel down to L (two commands to the same bank share every
level above it); a bus spacing is the channel-level latency alone. Ganged
activation reads the all-bank commands' rules, per-bank activation ACT's and
PRE's. Nothing here names a standard: a new standard's table is enough.

:func:`check_stream` runs the kernel's twin on a short, representative stream
(dense and NeuPIMs-layout row sets, input writes, result reads and two
refreshes) and replays its full command log through
:func:`arch.dram.check_command_log`; :func:`stream_violations` is what
:class:`arch.pim.spec.PimMemorySpec` calls to refuse a memory whose PIM stream
breaks a rule (a MAC spacing below tCCD_L, say). Its refreshes are brought
forward (they fall due after the second row set) so the short stream covers
them; the REF rules do not depend on tREFI.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from arch.dram import CommandLog, DramSpec, RefreshPolicy, check_command_log
from arch.dram.commands import Command, Level
from arch.pim.kernel import T_REFI, T_RFC, device_array, pim_rows_py

ACT, PRE, RD, REF = Command.ACT, Command.PRE, Command.RD, Command.REF
ACT_AB, PRE_AB, MAC_AB, RD_RES = Command.ACT_AB, Command.PRE_AB, Command.MAC_AB, Command.RD_RES


def within(dram: DramSpec, level: Level, preceding: Command, following: Command) -> int:
    """The largest same-node latency of the pair at any level down to ``level`` (0 without one)."""
    values = (dram.latency_cycles(Level(lv), preceding, following) for lv in range(level + 1))
    return max([0] + [v for v in values if v is not None])


def bus(dram: DramSpec, preceding: Command, following: Command) -> int:
    """The channel-level spacing of the pair (the command and data buses), 0 without one."""
    return within(dram, Level.CHANNEL, preceding, following)


def faw_cycles(dram: DramSpec) -> int:
    """The four-activate window of the table (0 without one); the kernel keeps four ACTs per rank."""
    windows = [c for c in dram.constraints if c.window > 1 and (c.preceding, c.following) == (ACT, ACT)
               and c.level <= Level.RANK and not c.sibling]
    if any(c.window != 4 for c in windows):
        raise ValueError(f"dram {dram.name!r}: the PIM kernel models a four-activate window, the table has "
                         f"{sorted({c.window for c in windows})}")
    return max([0] + [c.latency_cycles for c in windows])


def column_slot(dram: DramSpec) -> int:
    """Cycles one column command holds the command bus (RD to MAC_AB at the channel), at least 1."""
    return max(1, bus(dram, RD, MAC_AB))


def shared_bus_spacing(slot: int, bl: int) -> int:
    """Smallest MAC spacing that leaves the command bus room for host reads at full rate.

    With dual row buffers the host's RD commands (one per ``BL`` cycles at full
    bandwidth) and the PIM's MAC commands share the channel's column command bus,
    which takes one command per ``slot`` cycles: 1/BL + 1/spacing <= 1/slot (derived).
    """
    if bl <= slot:
        return 1 << 20  # the host alone fills the bus
    return math.ceil(slot * bl / (bl - slot))


def device_vector(pim, dual_bus: bool):
    """The kernels' device vector for PIM memory ``pim`` (a :class:`~arch.pim.spec.PimMemorySpec`)."""
    dram = pim.dram_spec
    org, tc = dram.organisation, dram.timing_cycles
    ganged = pim.all_bank_activation == "ganged"
    act, pre = (ACT_AB, PRE_AB) if ganged else (ACT, PRE)
    spacing = pim.mac_spacing()
    if dual_bus:
        spacing = max(spacing, shared_bus_spacing(column_slot(dram), tc["BL"]))
    refresh_interval = 0 if dram.controller.refresh is RefreshPolicy.NONE else tc["tREFI"]
    refresh_busy = within(dram, Level.RANK, REF, act) + (org.ranks_per_channel - 1) * bus(dram, REF, REF)
    if refresh_interval and refresh_interval <= refresh_busy:
        raise ValueError(f"dram {dram.name!r}: timing_cycles.tREFI = {refresh_interval} must exceed the "
                         f"{refresh_busy} cycles its ranks' refreshes take (tRFC), or refresh never ends")
    return device_array(
        ganged=int(ganged), ranks=org.ranks_per_channel, bankgroups=org.bankgroups_per_rank,
        banks_per_group=org.banks_per_bankgroup,
        t_rcd=within(dram, Level.BANK, act, MAC_AB), t_ras=within(dram, Level.BANK, act, pre),
        t_rp=within(dram, Level.BANK, pre, act), t_rc=within(dram, Level.BANK, act, act),
        t_rtp=within(dram, Level.BANK, MAC_AB, pre),
        t_rrd_s=within(dram, Level.RANK, ACT, ACT), t_rrd_l=within(dram, Level.BANKGROUP, ACT, ACT),
        t_faw=faw_cycles(dram), t_rfc=within(dram, Level.RANK, REF, act),
        t_refi=refresh_interval,
        mac_spacing=spacing, bl=tc["BL"], cl=tc["CL"],
        act_to_act=bus(dram, act, act), pre_to_pre=bus(dram, pre, pre), pre_to_act=bus(dram, pre, act),
        act_to_col=bus(dram, act, MAC_AB), col_to_pre=max(bus(dram, MAC_AB, pre), bus(dram, RD_RES, pre)),
        ref_to_ref=bus(dram, REF, REF),
    )


@lru_cache(maxsize=256)
def frozen_array(values: tuple[int, ...]) -> np.ndarray:
    """A read-only int64 array of ``values``, one per distinct tuple."""
    array = np.array(values, dtype=np.int64)
    array.flags.writeable = False
    return array


def command_log(rows, device) -> tuple[CommandLog, int]:
    """The twin's full command log of ``rows`` (MACs, result reads, cycles before, per row set) on one
    channel, and its cycles."""
    log: list = []
    cycles, *_ = pim_rows_py(*rows, device, log=log)
    entries = sorted((t, c, 0, rank, group, bank, row) for t, c, rank, group, bank, row in log)
    return CommandLog.from_rows(entries), int(cycles)


def sample_rows(pim) -> tuple[list[int], list[int], list[int]]:
    """A short stream that exercises every command: a dense GEMV's input writes before its first row
    set, NeuPIMs-layout writes between row sets, several result reads, a row set with one MAC."""
    bl = pim.dram_spec.timing_cycles["BL"]
    macs = [4, 4, 1, 3, 4, 2]
    reads = [1, 3, 0, 2, 1, 4]
    before = [3 * bl, 0, 7 * bl + 1, 0, bl, 0]
    return macs, reads, before


def stream_violations(pim, dual_bus: bool = False) -> list[str]:
    """Every rule the PIM memory's sample stream breaks (empty when legal), as messages."""
    return list(_violations(pim.model_dump_json(), pim, dual_bus))


def check_stream(pim, dual_bus: bool = False) -> None:
    """Raise ValueError naming the first broken rule of the sample stream."""
    found = stream_violations(pim, dual_bus)
    if found:
        raise ValueError(f"dram = {pim.dram!r}: the PIM command stream breaks the DRAM timing table "
                         f"({len(found)} violations; first: {found[0]})")


@lru_cache(maxsize=64)
def _violations(key: str, pim, dual_bus: bool) -> tuple[str, ...]:
    device = device_vector(pim, dual_bus)
    rows = sample_rows(pim)
    if device[T_REFI] > 0:  # bring the refreshes forward: due after the second row set, then every two
        two = pim_rows_py(rows[0][:2], rows[1][:2], rows[2][:2], _no_refresh(device))[0]
        device[T_REFI] = int(two) + int(device[T_RFC])
    log, _ = command_log(rows, device)
    spec = pim.dram_spec.with_changes(controller={"refresh": "none"})  # refresh debt: not what is checked
    return tuple(f"{v.command.name} at cycle {v.cycle}: {v.message}" for v in check_command_log(spec, log))


def _no_refresh(device):
    copy = device.copy()
    copy[T_REFI] = 0
    return copy
