"""DRAM commands and the levels of the device hierarchy they address.

The hierarchy under one scheduled channel (a pseudo-channel where the device has
them) is channel > rank > bank group > bank. A command addresses a node at its
*scope* level: ACT, PRE, RD and WR address one bank, REF (all-bank refresh)
addresses one rank. Timing constraints are declared per level (see
:mod:`arch.dram.constraints`); a constraint at level L links two commands that
share the same node at level L.
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


N_LEVELS = len(Level)
N_COMMANDS = len(Command)

# The level of the node each command addresses.
COMMAND_SCOPE: dict[Command, Level] = {
    Command.ACT: Level.BANK,
    Command.PRE: Level.BANK,
    Command.RD: Level.BANK,
    Command.WR: Level.BANK,
    Command.REF: Level.RANK,
}

ROW_COMMANDS = (Command.ACT, Command.PRE, Command.REF)
COLUMN_COMMANDS = (Command.RD, Command.WR)

