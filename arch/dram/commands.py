"""DRAM commands and the levels of the device hierarchy they address.

The hierarchy under one scheduled channel (a pseudo-channel where the device has
them) is channel > rank > bank group > bank. A command addresses a node at its
*scope* level: ACT, PRE, RD and WR address one bank, REF (all-bank refresh)
addresses one rank. Timing constraints are declared per level (see
:mod:`arch.dram.constraints`); a constraint at level L links two commands that
share the same node at level L.

The PIM commands of an HBM with compute next to its banks (Newton/NeuPIMs,
AttAcc) are commands of the same tables, each addressing one scheduled channel
(every bank of it at once): ``ACT_AB`` and ``PRE_AB`` open and close the same row in every bank
(AttAcc's ACTAB/PREAB, ``scale-snu/attacc_simulator:
pim_ramulator_src/HBM3-PIM.cpp``; NewtonSim's G_ACT), ``MAC_AB`` multiplies one
column of every open row into the bank units (COMP, MACAB), ``RD_RES`` reads a
burst of results out (READRES) and ``WR_GB`` writes a burst of input vector into
the units' global buffer (GWRITE). The host's FR-FCFS scheduler issues only
:data:`HOST_COMMANDS`; the PIM kernel's command streams use the rest and are
replayed by the same legality checker.
"""

from __future__ import annotations

from enum import IntEnum


class Level(IntEnum):
    """Hierarchy levels, outermost first; the value is the depth."""

    CHANNEL = 0
    RANK = 1
    BANKGROUP = 2
    BANK = 3


class Command(IntEnum):
    """DRAM commands; the value indexes every per-command array."""

    ACT = 0
    PRE = 1
    RD = 2
    WR = 3
    REF = 4
    ACT_AB = 5
    PRE_AB = 6
    MAC_AB = 7
    RD_RES = 8
    WR_GB = 9


N_LEVELS = len(Level)
HOST_COMMANDS = (Command.ACT, Command.PRE, Command.RD, Command.WR, Command.REF)
PIM_COMMANDS = (Command.ACT_AB, Command.PRE_AB, Command.MAC_AB, Command.RD_RES, Command.WR_GB)
# The scheduler's command set: the arrays its kernel reads are indexed by the
# host commands only (their values are 0 .. N_COMMANDS - 1).
N_COMMANDS = len(HOST_COMMANDS)

# The level of the node each command addresses.
COMMAND_SCOPE: dict[Command, Level] = {
    Command.ACT: Level.BANK,
    Command.PRE: Level.BANK,
    Command.RD: Level.BANK,
    Command.WR: Level.BANK,
    Command.REF: Level.RANK,
    Command.ACT_AB: Level.CHANNEL,
    Command.PRE_AB: Level.CHANNEL,
    Command.MAC_AB: Level.CHANNEL,
    Command.RD_RES: Level.CHANNEL,
    Command.WR_GB: Level.CHANNEL,
}

# Which command bus a command holds, where the standard has separate row and
# column buses (HBM3).
ROW_COMMANDS = (Command.ACT, Command.PRE, Command.REF, Command.ACT_AB, Command.PRE_AB)
COLUMN_COMMANDS = (Command.RD, Command.WR, Command.MAC_AB, Command.RD_RES, Command.WR_GB)
# Commands that move a burst over the data bus, out of and into the device.
DATA_OUT_COMMANDS = (Command.RD, Command.RD_RES)
DATA_IN_COMMANDS = (Command.WR, Command.WR_GB)

