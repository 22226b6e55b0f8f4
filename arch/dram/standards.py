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

Not modelled in either: auto-precharge (RDA/WRA), per-bank refresh, refresh
management (RFM), power-down and self-refresh.
"""

from __future__ import annotations

from enum import Enum

from arch.dram.commands import COLUMN_COMMANDS, ROW_COMMANDS, Command, Level
from arch.dram.constraints import ConstraintRule, rule

ACT, PRE, RD, WR, REF = Command.ACT, Command.PRE, Command.RD, Command.WR, Command.REF
CHANNEL, RANK, BANKGROUP, BANK = Level.CHANNEL, Level.RANK, Level.BANKGROUP, Level.BANK


class Standard(str, Enum):
    """A DRAM standard: picks the constraint table; the value is the YAML name."""

    HBM2 = "hbm2"
    HBM3 = "hbm3"


HBM2_RULES: tuple[ConstraintRule, ...] = (
    # Command bus: one command per channel per cycle (DRAMsim3 issues at most one,
    # and the NeuPIMs .ini sets hbm_dual_cmd = False).
    rule(CHANNEL, tuple(Command), tuple(Command), "tCMD"),
    # Data bus: one burst at a time; read-to-write turnaround on any bank or rank
    # (DRAMsim3 read_to_write = RL + burst - WL + tRTRS).
    rule(CHANNEL, RD, RD, "BL"),
    rule(CHANNEL, WR, WR, "BL"),
    rule(CHANNEL, RD, WR, "CL + BL + tRTRS - CWL"),
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
)

HBM3_RULES: tuple[ConstraintRule, ...] = (
    # Separate row and column command buses; a command holds its bus for its
    # length (ramulator2 command_cycles: ACT 1.5 CK, PRE/REF 0.5 CK, RD/WR 1 CK,
    # rounded up here to whole cycles).
    rule(CHANNEL, ACT, ROW_COMMANDS, "tCMD_ACT"),
    rule(CHANNEL, (PRE, REF), ROW_COMMANDS, "tCMD_ROW"),
    rule(CHANNEL, COLUMN_COMMANDS, COLUMN_COMMANDS, "tCMD_COL"),
    # Pseudo-channel data bus and column-to-column timing.
    rule(CHANNEL, RD, RD, "BL"),
    rule(CHANNEL, WR, WR, "BL"),
    rule(CHANNEL, RD, RD, "tCCD_S"),
    rule(CHANNEL, WR, WR, "tCCD_S"),
    rule(CHANNEL, RD, WR, "tRTW"),
    rule(CHANNEL, WR, RD, "CWL + BL + tWTR_S"),
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
)

CONSTRAINT_RULES: dict[Standard, tuple[ConstraintRule, ...]] = {
    Standard.HBM2: HBM2_RULES,
    Standard.HBM3: HBM3_RULES,
}

# Parameters the controller itself reads, beyond those the rules name: read and
# write data latency (CL, CWL), burst length in cycles (BL) and the refresh
# interval (tREFI).
CONTROLLER_PARAMETERS = frozenset({"CL", "CWL", "BL", "tREFI"})
