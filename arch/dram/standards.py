"""The constraint tables of the supported DRAM standards, as data.

Each table is a tuple of :class:`~arch.dram.constraints.ConstraintRule` whose
latencies name timing parameters; a preset supplies the numbers (in clock
cycles) under the same names. Levels: ``channel`` is one scheduled channel (a
pseudo-channel where the device has them), then rank, bank group and bank.

HBM2 follows DRAMsim3 as NeuPIMs uses it (``casys-kaist/NeuPIMs:
extern/NewtonSim/src/timing.cc``): its same-bank / other-banks-same-group /
other-groups-same-rank / other-ranks tables become rules at the bank, bank-group,
rank and rank-sibling levels; a pair listed at several levels is enforced at
each, so the largest applicable latency wins, as in DRAMsim3's ``max(burst,
tCCD)``. HBM3 follows ``CMU-SAFARI/ramulator2: python/ramulator/dram/hbm3.py``,
whose pseudo-channel rules sit at our channel level.

PIM commands (:data:`arch.dram.commands.PIM_COMMANDS`) are rules of the same
tables. Each addresses every bank of the scheduled channel, so a bank-level rule of
the host commands becomes a channel-level rule against the all-bank command (an
all-bank MAC reads every bank, so it waits tRCD after the latest ACT in the
channel: exact, not conservative). Their sources: AttAcc's HBM3-PIM timing applies tRC, tRCD, tRAS,
tRTP and tRP to ACTAB and PREAB and no tFAW, and spaces MACAB commands by a
column spacing (``scale-snu/attacc_simulator: pim_ramulator_src/HBM3-PIM.cpp``);
a result read and an input write are bursts on the data bus, timed like RD and
WR. With separate row and column command buses (HBM3) the all-bank ACT and PRE
take the row bus and the others the column bus. Not declared: the PIM units' own
pipeline latency (a MAC's result is read one MAC slot later, which the PIM
kernel schedules and tCCD_L covers here) and the power budget that limits
all-bank MAC spacing (``mac_spacing_cycles`` of a PIM memory).

Not modelled in either: auto-precharge (RDA/WRA), per-bank refresh, refresh
management (RFM), power-down and self-refresh.
"""

from __future__ import annotations

from enum import Enum

from arch.dram.commands import COLUMN_COMMANDS, DATA_IN_COMMANDS, DATA_OUT_COMMANDS, ROW_COMMANDS, Command, Level
from arch.dram.constraints import ConstraintRule, rule

ACT, PRE, RD, WR, REF = Command.ACT, Command.PRE, Command.RD, Command.WR, Command.REF
ACT_AB, PRE_AB, MAC_AB, RD_RES, WR_GB = Command.ACT_AB, Command.PRE_AB, Command.MAC_AB, Command.RD_RES, Command.WR_GB
OUT, IN = DATA_OUT_COMMANDS, DATA_IN_COMMANDS
CHANNEL, RANK, BANKGROUP, BANK = Level.CHANNEL, Level.RANK, Level.BANKGROUP, Level.BANK


class Standard(str, Enum):
    """A DRAM standard: picks the constraint table; the value is the YAML name."""

    HBM2 = "hbm2"
    HBM3 = "hbm3"


def _pim_rules(t_rc: str) -> tuple[ConstraintRule, ...]:
    """The bank-level rules of a standard restated against its all-bank commands.

    An all-bank command touches every bank of the channel, so each rule a
    per-bank command obeys at its bank holds at the channel between the all-bank
    command and any ACT or PRE of the channel. ``t_rc`` is the standard's
    ACT-to-ACT latency in a bank. Host column commands (RD, WR) and the PIM
    commands share only the buses: with dual row buffers the host reads through
    the other row buffer (NeuPIMs), so no bank rule links them.
    """
    return (
        rule(CHANNEL, (ACT, ACT_AB), ACT_AB, t_rc),
        rule(CHANNEL, ACT_AB, ACT, t_rc),
        rule(CHANNEL, (ACT, ACT_AB), MAC_AB, "tRCDRD"),
        rule(CHANNEL, (ACT, ACT_AB), PRE_AB, "tRAS"),
        rule(CHANNEL, ACT_AB, PRE, "tRAS"),
        rule(CHANNEL, (PRE, PRE_AB), ACT_AB, "tRP"),
        rule(CHANNEL, PRE_AB, ACT, "tRP"),
        rule(CHANNEL, MAC_AB, (PRE, PRE_AB), "tRTP"),
        # Column-to-column spacing within a bank group: an all-bank MAC uses every group.
        rule(CHANNEL, MAC_AB, (MAC_AB, RD_RES), "tCCD_L"),
        rule(CHANNEL, WR_GB, RD_RES, "CWL + BL + tWTR_S"),
    )


HBM2_RULES: tuple[ConstraintRule, ...] = (
    # Command bus: one command per channel per cycle (DRAMsim3 issues at most one,
    # and the NeuPIMs .ini sets hbm_dual_cmd = False).
    rule(CHANNEL, tuple(Command), tuple(Command), "tCMD"),
    # Data bus: one burst at a time; read-to-write turnaround on any bank or rank
    # (DRAMsim3 read_to_write = RL + burst - WL + tRTRS).
    rule(CHANNEL, OUT, OUT, "BL"),
    rule(CHANNEL, IN, IN, "BL"),
    rule(CHANNEL, OUT, IN, "CL + BL + tRTRS - CWL"),
    # Same rank, any bank group.
    rule(RANK, RD, RD, "tCCD_S"),
    rule(RANK, WR, WR, "tCCD_S"),
    rule(RANK, WR, RD, "CWL + BL + tWTR_S"),
    rule(RANK, ACT, ACT, "tRRD_S"),
    rule(RANK, ACT, ACT, "tFAW", window=4),
    # All-bank refresh: every bank precharged, then tRFC before the rank is used.
    rule(RANK, ACT, REF, "tRAS + tRP"),
    rule(RANK, PRE, REF, "tRP"),
    rule(RANK, REF, (ACT, REF), "tRFC"),
    # Another rank: data-bus handover (read_to_read_o = burst + tRTRS). DRAMsim3's
    # write_to_read_o = CWL + BL + tRTRS - CL is negative for HBM2 (CWL < CL), so
    # the bus never binds there and the rule is left out; write_to_write_o = BL is
    # the channel rule above.
    rule(RANK, RD, RD, "BL + tRTRS", sibling=True),
    # Same bank group.
    rule(BANKGROUP, RD, RD, "tCCD_L"),
    rule(BANKGROUP, WR, WR, "tCCD_L"),
    rule(BANKGROUP, WR, RD, "CWL + BL + tWTR_L"),
    rule(BANKGROUP, ACT, ACT, "tRRD_L"),
    # Same bank. DRAMsim3 derives tRC = tRAS + tRP.
    rule(BANK, ACT, ACT, "tRAS + tRP"),
    rule(BANK, ACT, RD, "tRCDRD"),
    rule(BANK, ACT, WR, "tRCDWR"),
    rule(BANK, ACT, PRE, "tRAS"),
    rule(BANK, PRE, ACT, "tRP"),
    rule(BANK, RD, PRE, "tRTP"),
    rule(BANK, WR, PRE, "CWL + BL + tWR"),
    # PIM all-bank commands (module docstring); DRAMsim3's tRC = tRAS + tRP.
    *_pim_rules("tRAS + tRP"),
    rule(CHANNEL, ACT_AB, REF, "tRAS + tRP"),
    rule(CHANNEL, PRE_AB, REF, "tRP"),
    rule(CHANNEL, REF, ACT_AB, "tRFC"),
)

HBM3_RULES: tuple[ConstraintRule, ...] = (
    # Separate row and column command buses; a command holds its bus for its
    # length (ramulator2 command_cycles: ACT 1.5 CK, PRE/REF 0.5 CK, RD/WR 1 CK,
    # rounded up here to whole cycles).
    rule(CHANNEL, ACT, ROW_COMMANDS, "tCMD_ACT"),
    rule(CHANNEL, (PRE, REF), ROW_COMMANDS, "tCMD_ROW"),
    rule(CHANNEL, COLUMN_COMMANDS, COLUMN_COMMANDS, "tCMD_COL"),
    # Pseudo-channel data bus and column-to-column timing.
    rule(CHANNEL, OUT, OUT, "BL"),
    rule(CHANNEL, IN, IN, "BL"),
    rule(CHANNEL, RD, RD, "tCCD_S"),
    rule(CHANNEL, WR, WR, "tCCD_S"),
    rule(CHANNEL, OUT, IN, "tRTW"),
    rule(CHANNEL, IN, OUT, "CWL + BL + tWTR_S"),
    # Activates and precharges across the pseudo-channel.
    rule(CHANNEL, ACT, ACT, "tRRD_S"),
    rule(CHANNEL, ACT, ACT, "tFAW", window=4),
    rule(CHANNEL, PRE, PRE, "tPPD"),
    # All-bank refresh (REFab is per pseudo-channel in ramulator2).
    rule(CHANNEL, ACT, REF, "tRC"),
    rule(CHANNEL, PRE, REF, "tRP"),
    rule(CHANNEL, REF, (ACT, REF), "tRFC"),
    # Same bank group.
    rule(BANKGROUP, RD, RD, "tCCD_L"),
    rule(BANKGROUP, WR, WR, "tCCD_L"),
    rule(BANKGROUP, WR, RD, "CWL + BL + tWTR_L"),
    rule(BANKGROUP, ACT, ACT, "tRRD_L"),
    # Same bank.
    rule(BANK, ACT, ACT, "tRC"),
    rule(BANK, ACT, RD, "tRCDRD"),
    rule(BANK, ACT, WR, "tRCDWR"),
    rule(BANK, ACT, PRE, "tRAS"),
    rule(BANK, PRE, ACT, "tRP"),
    rule(BANK, RD, PRE, "tRTP"),
    rule(BANK, WR, PRE, "CWL + BL + tWR"),
    # PIM all-bank commands (module docstring); PREAB, like PRE, is spaced tPPD.
    *_pim_rules("tRC"),
    rule(CHANNEL, (PRE, PRE_AB), (PRE, PRE_AB), "tPPD"),
    rule(CHANNEL, ACT_AB, REF, "tRC"),
    rule(CHANNEL, PRE_AB, REF, "tRP"),
    rule(CHANNEL, REF, ACT_AB, "tRFC"),
)

CONSTRAINT_RULES: dict[Standard, tuple[ConstraintRule, ...]] = {
    Standard.HBM2: HBM2_RULES,
    Standard.HBM3: HBM3_RULES,
}

# Parameters the controller itself reads, beyond those the rules name: read and
# write data latency (CL, CWL), burst length in cycles (BL) and the refresh
# interval (tREFI).
CONTROLLER_PARAMETERS = frozenset({"CL", "CWL", "BL", "tREFI"})
