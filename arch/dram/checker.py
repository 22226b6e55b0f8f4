"""Timing legality of a command log, checked without the scheduler's code.

:func:`check_command_log` replays a :class:`~arch.dram.scheduler.CommandLog`
channel by channel, in log order, and reports every:

* cycle that goes backwards within a channel;
* broken constraint of the spec's table: for each command, every constraint it
  follows is checked against the matching earlier commands at the same node
  (or, for sibling rules, at the other nodes under the same parent), counting
  from the ``window``-th most recent one for window rules such as tFAW;
* illegal bank-state transition: ACT to an open bank, PRE/RD/WR to a closed bank
  or with a row other than the open one, REF while a bank of the rank is open;
  for the PIM all-bank commands, ACT_AB while a bank of the channel is open and
  MAC_AB unless every bank of the channel has its row open (PRE_AB closes every
  bank; RD_RES and WR_GB move data to and from the bank units and need no row);
* refresh shortfall (when the spec's controller refreshes): at each REF and at
  the end of the log, a rank may owe at most ``max_refresh_debt`` of the
  ``cycle // tREFI`` refreshes due by then.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from arch.dram.commands import COMMAND_SCOPE, Command, Level
from arch.dram.scheduler import CommandLog
from arch.dram.spec import DramSpec, RefreshPolicy


@dataclass(frozen=True)
class Violation:
    """One illegal command: its position in the log and what it broke."""

    index: int
    cycle: int
    channel: int
    command: Command
    message: str


def check_command_log(spec: DramSpec, log: CommandLog, *, max_refresh_debt: int = 1) -> list[Violation]:
    """Every violation in ``log`` (empty when the log is legal), in log order."""
    found: list[Violation] = []
    for channel in np.unique(log.channel):
        indices = np.flatnonzero(log.channel == channel)
        found += _ChannelReplay(spec, int(channel), max_refresh_debt).replay(log, indices)
    return sorted(found, key=lambda v: v.index)


def _where(coords: tuple[int, ...]) -> str:
    names = ("rank", "bank group", "bank")
    return ", ".join(f"{name} {value}" for name, value in zip(names, coords)) or "the channel"


class _ChannelReplay:
    def __init__(self, spec: DramSpec, channel: int, max_refresh_debt: int):
        org = spec.organisation
        self.spec, self.channel, self.max_debt = spec, channel, max_refresh_debt
        self.counts = {Level.RANK: org.ranks_per_channel, Level.BANKGROUP: org.bankgroups_per_rank,
                       Level.BANK: org.banks_per_bankgroup}
        self.history: dict[tuple, list[int]] = defaultdict(list)
        self.open_rows: dict[tuple[int, int, int], int] = {}
        self.refreshes = defaultdict(int)
        self.check_refresh = spec.controller.refresh is not RefreshPolicy.NONE
        self.found: list[Violation] = []

    def replay(self, log: CommandLog, indices: np.ndarray) -> list[Violation]:
        last_cycle = 0
        for i in indices:
            cycle, command = int(log.cycle[i]), Command(int(log.command[i]))
            coords = (int(log.rank[i]), int(log.bankgroup[i]), int(log.bank[i]))[:COMMAND_SCOPE[command]]
            self.index, self.cycle, self.command, self.row = int(i), cycle, command, int(log.row[i])
            if cycle < last_cycle:
                self._report(f"cycle goes back from {last_cycle}")
            last_cycle = max(last_cycle, cycle)
            self._check_timing(coords)
            self._check_state(coords)
            self._record(coords)
        if self.check_refresh and len(indices):
            self.cycle = last_cycle
            for rank in range(self.counts[Level.RANK]):
                self._check_refresh_debt(rank, "by the end of the log")
        return self.found

    def _report(self, message: str) -> None:
        self.found.append(Violation(self.index, self.cycle, self.channel, self.command, message))

    def _nodes(self, constraint, coords):
        own = coords[:constraint.level]
        if not constraint.sibling:
            return [own]
        return [own[:-1] + (j,) for j in range(self.counts[constraint.level]) if j != own[-1]]

    def _check_timing(self, coords) -> None:
        for constraint in self.spec.constraints:
            if constraint.following is not self.command:
                continue
            for node in self._nodes(constraint, coords):
                earlier = self.history.get((constraint.level, node, constraint.preceding), [])
                if len(earlier) < constraint.window:
                    continue
                allowed = earlier[-constraint.window] + constraint.latency_cycles
                if self.cycle < allowed:
                    self._report(f"{self.command.name} at {_where(coords)} is {allowed - self.cycle} cycles "
                                 f"early: {constraint.describe()}")

    def _banks(self, ranks) -> list[tuple[int, int, int]]:
        return [(r, g, b) for r in ranks for g in range(self.counts[Level.BANKGROUP])
                for b in range(self.counts[Level.BANK])]

    def _all_banks(self) -> list[tuple[int, int, int]]:
        return self._banks(range(self.counts[Level.RANK]))

    def _check_state(self, coords) -> None:
        command, row = self.command, self.row
        if command is Command.REF:
            still_open = sorted(b for b in self.open_rows if b[0] == coords[0])
            if still_open:
                self._report(f"REF to rank {coords[0]} with banks open: {still_open}")
            return
        if command is Command.ACT_AB:
            if self.open_rows:
                self._report(f"ACT_AB with banks open: {sorted(self.open_rows)}")
            return
        if command is Command.MAC_AB:
            wrong = [b for b in self._all_banks() if self.open_rows.get(b) != row]
            if wrong:
                self._report(f"MAC_AB of row {row}: {len(wrong)} banks do not have it open (first {wrong[0]})")
            return
        if command in (Command.PRE_AB, Command.RD_RES, Command.WR_GB):
            return
        open_row = self.open_rows.get(coords)
        if command is Command.ACT and open_row is not None:
            self._report(f"ACT to {_where(coords)}, which has row {open_row} open")
        elif command is not Command.ACT and open_row != row:
            state = "closed" if open_row is None else f"row {open_row} open"
            self._report(f"{command.name} of row {row} at {_where(coords)}, which has {state}")

    def _record(self, coords) -> None:
        command = self.command
        for level in range(COMMAND_SCOPE[command] + 1):
            self.history[(level, coords[:level], command)].append(self.cycle)
        if command is Command.ACT:
            self.open_rows[coords] = self.row
        elif command is Command.PRE:
            self.open_rows.pop(coords, None)
        elif command is Command.ACT_AB:
            self.open_rows.update({bank: self.row for bank in self._all_banks()})
        elif command is Command.PRE_AB:
            self.open_rows.clear()
        elif command is Command.REF:
            if self.check_refresh:
                self._check_refresh_debt(coords[0], "before this REF")
            self.refreshes[coords[0]] += 1

    def _check_refresh_debt(self, rank: int, when: str) -> None:
        due = self.cycle // self.spec.timing_cycles["tREFI"]
        debt = due - self.refreshes[rank]
        if debt > self.max_debt:
            self._report(f"rank {rank} owes {debt} refreshes {when} (at most {self.max_debt} allowed)")
