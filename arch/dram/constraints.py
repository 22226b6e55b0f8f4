"""Timing constraints as data, in the manner of Ramulator 2.

A DRAM standard's timing is a list of rules, each read as: "a *following* command
may not issue until *latency* cycles after a *preceding* command to the same node
at *level*" (``REFERENCE_DATA.md``, "Timing as data"). Two refinements cover the
rest of a JEDEC timing table:

* ``window = n > 1``: the latency counts from the n-th most recent preceding
  command, so at most n preceding commands fall in any ``latency`` window (tFAW:
  four ACTs per window).
* ``sibling = True``: the rule links commands to *different* nodes with the same
  parent at ``level`` (rank-to-rank data-bus handover, say), instead of the same node.

A :class:`ConstraintRule` holds the latency as an expression over named timing
parameters (``"CWL + BL + tWR"``); :func:`build_constraint_table` fills in the
numbers of a preset, and :func:`compile_constraints` packs the table into the
dense arrays the scheduler kernel reads. Nothing outside this table decides when
a command may issue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from arch.dram.commands import COMMAND_SCOPE, HOST_COMMANDS, N_COMMANDS, N_LEVELS, Command, Level

# Latency of a command pair without a constraint: so negative that issue cycle +
# latency never raises an earliest cycle (the kernel adds it without a branch).
NO_CONSTRAINT = -(1 << 40)

_TERM = re.compile(r"\s*([+-]?)\s*([A-Za-z_]\w*|\d+)\s*")


class TimingTableError(ValueError):
    """A timing table that cannot be built: missing or unknown parameters, negative latencies."""


def _as_commands(commands: Command | Iterable[Command]) -> tuple[Command, ...]:
    if isinstance(commands, Command):
        return (commands,)
    return tuple(commands)


def parse_latency(expression: str) -> tuple[tuple[int, str], ...]:
    """Split ``"CL + BL - CWL"`` into ``((1, "CL"), (1, "BL"), (-1, "CWL"))``."""
    terms, pos = [], 0
    while pos < len(expression):
        match = _TERM.match(expression, pos)
        if match is None or match.end() == pos or (terms and not match.group(1)):
            raise TimingTableError(f"cannot parse latency expression {expression!r} at {expression[pos:]!r}")
        terms.append((-1 if match.group(1) == "-" else 1, match.group(2)))
        pos = match.end()
    if not terms:
        raise TimingTableError("empty latency expression")
    return tuple(terms)


def parameter_names(expression: str) -> tuple[str, ...]:
    """The timing parameter names an expression uses, in order."""
    return tuple(token for _, token in parse_latency(expression) if not token.isdigit())


def evaluate_latency(expression: str, timing_cycles: Mapping[str, int]) -> int:
    """The value in cycles of ``expression``; every name must be in ``timing_cycles``."""
    total = 0
    for sign, token in parse_latency(expression):
        total += sign * (int(token) if token.isdigit() else timing_cycles[token])
    return total


@dataclass(frozen=True)
class ConstraintRule:
    """One line of a standard's timing table, with the latency still symbolic."""

    level: Level
    preceding: tuple[Command, ...]
    following: tuple[Command, ...]
    latency: str
    window: int = 1
    sibling: bool = False

    def __post_init__(self) -> None:
        parse_latency(self.latency)
        if self.window < 1:
            raise TimingTableError(f"{self}: window must be >= 1")
        if self.sibling and (self.level == Level.CHANNEL or self.window > 1):
            raise TimingTableError(f"{self}: sibling rules need a level below channel and window 1")
        for command in self.preceding + self.following:
            if COMMAND_SCOPE[command] < self.level:
                raise TimingTableError(
                    f"{self}: {command.name} addresses a {COMMAND_SCOPE[command].name.lower()}, "
                    f"so it has no node at level {self.level.name.lower()}"
                )

    def __str__(self) -> str:
        pre = "/".join(c.name for c in self.preceding)
        fol = "/".join(c.name for c in self.following)
        extra = f", window {self.window}" if self.window > 1 else ""
        other = " (other nodes)" if self.sibling else ""
        return f"{self.level.name.lower()}{other} {pre} -> {fol} = {self.latency}{extra}"


def rule(level: Level, preceding, following, latency: str, *, window: int = 1,
         sibling: bool = False) -> ConstraintRule:
    """Shorthand for a :class:`ConstraintRule`; commands may be one or a tuple."""
    return ConstraintRule(level, _as_commands(preceding), _as_commands(following), latency, window, sibling)


@dataclass(frozen=True)
class TimingConstraint:
    """One resolved constraint: a single command pair with its latency in cycles."""

    level: Level
    preceding: Command
    following: Command
    latency_cycles: int
    window: int = 1
    sibling: bool = False
    expression: str = ""

    def describe(self) -> str:
        where = f"{self.level.name.lower()}{' (other nodes)' if self.sibling else ''}"
        window = f" within a window of {self.window}" if self.window > 1 else ""
        return (f"{where} {self.preceding.name} -> {self.following.name} needs "
                f"{self.latency_cycles} cycles ({self.expression}){window}")


def required_parameters(rules: Iterable[ConstraintRule]) -> set[str]:
    return {name for r in rules for name in parameter_names(r.latency)}


def build_constraint_table(rules: Iterable[ConstraintRule],
                           timing_cycles: Mapping[str, int]) -> tuple[TimingConstraint, ...]:
    """Expand ``rules`` into one constraint per command pair, with numbers from ``timing_cycles``.

    Raises :class:`TimingTableError` listing every missing parameter and every rule
    whose latency comes out negative.
    """
    rules = tuple(rules)
    errors = [f"timing_cycles.{name}: missing (needed by: {', '.join(str(r) for r in rules if name in parameter_names(r.latency))})"
              for name in sorted(required_parameters(rules) - set(timing_cycles))]
    if errors:
        raise TimingTableError("; ".join(errors))
    table = []
    for r in rules:
        cycles = evaluate_latency(r.latency, timing_cycles)
        if cycles < 0:
            values = ", ".join(f"{n}={timing_cycles[n]}" for n in parameter_names(r.latency))
            errors.append(f"constraint {r} is negative ({cycles} cycles with {values})")
        table += [TimingConstraint(r.level, p, f, cycles, r.window, r.sibling, r.latency)
                  for p in r.preceding for f in r.following]
    if errors:
        raise TimingTableError("; ".join(errors))
    return tuple(table)


@dataclass(frozen=True, eq=False)
class CompiledTiming:
    """The constraint table as dense int64 arrays for the kernel.

    ``latency[level, preceding, following]`` and ``sibling_latency[...]`` hold the
    largest latency of the plain and sibling constraints of that triple, or
    ``NO_CONSTRAINT``. Window constraints are listed one per row in the
    ``window_*`` arrays. ``command_scope[command]`` is the level of the node a
    command addresses.
    """

    latency: np.ndarray
    sibling_latency: np.ndarray
    window_level: np.ndarray
    window_preceding: np.ndarray
    window_following: np.ndarray
    window_latency: np.ndarray
    window_count: np.ndarray
    command_scope: np.ndarray

    def __eq__(self, other) -> bool:
        if not isinstance(other, CompiledTiming):
            return NotImplemented
        return all(np.array_equal(getattr(self, name), getattr(other, name)) for name in self.__dataclass_fields__)


def compile_constraints(table: Iterable[TimingConstraint]) -> CompiledTiming:
    """Pack the constraints between host commands (the scheduler's command set) into arrays."""
    shape = (N_LEVELS, N_COMMANDS, N_COMMANDS)
    plain = np.full(shape, NO_CONSTRAINT, dtype=np.int64)
    sibling = np.full(shape, NO_CONSTRAINT, dtype=np.int64)
    windows = []
    for c in table:
        if c.preceding not in HOST_COMMANDS or c.following not in HOST_COMMANDS:
            continue
        if c.window > 1:
            windows.append((c.level, c.preceding, c.following, c.latency_cycles, c.window))
            continue
        target = sibling if c.sibling else plain
        index = (c.level, c.preceding, c.following)
        target[index] = max(target[index], c.latency_cycles)
    columns = np.array(windows, dtype=np.int64).reshape(len(windows), 5).T
    scope = np.array([COMMAND_SCOPE[c] for c in HOST_COMMANDS], dtype=np.int64)
    return CompiledTiming(plain, sibling, *(np.ascontiguousarray(col) for col in columns), scope)
