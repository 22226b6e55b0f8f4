"""The DRAM/HBM spec: organisation, timing parameters, address mapping, controller.

A :class:`DramSpec` is frozen and validated on construction; every error names the
field (dotted path) and the bad value. Timing parameters are integers in clock
cycles of the DRAM command clock (``organisation.clock_hz``), under JEDEC-style
names (``tRCDRD``, ``CL``, ...); the standard's rule table (:mod:`arch.dram.standards`)
says which names it needs, and an unknown or missing name is an error. ``BL`` is
the burst's length on the data bus in clock cycles (not beats).
"""

from __future__ import annotations

from enum import Enum
from pydantic import Field, PositiveFloat, PositiveInt, PrivateAttr, field_validator, model_validator

from arch.dram.commands import Command, Level
from arch.tech.errors import hint_clause
from arch.dram.constraints import (
    CompiledTiming,
    TimingConstraint,
    TimingTableError,
    build_constraint_table,
    compile_constraints,
    required_parameters,
)
from arch.dram.standards import CONSTRAINT_RULES, CONTROLLER_PARAMETERS, Standard
from arch.strict_model import StrictModel


class _Frozen(StrictModel):
    pass


class AddressField(str, Enum):
    """A component of a decoded DRAM address; the value is the YAML name."""

    ROW = "row"
    RANK = "rank"
    BANKGROUP = "bankgroup"
    BANK = "bank"
    COLUMN = "column"
    PSEUDO_CHANNEL = "pseudo_channel"
    CHANNEL = "channel"


class RefreshPolicy(str, Enum):
    """When each rank's all-bank refresh falls due; the value is the YAML name."""

    NONE = "none"                  # no refresh (timing studies only)
    STAGGERED = "staggered"        # rank r first at (r+1)*tREFI/ranks, then every tREFI (DRAMsim3 default)
    SIMULTANEOUS = "simultaneous"  # every rank at tREFI, 2*tREFI, ...


class DramOrganisation(_Frozen):
    """How the device is built: counts per level, burst and bus size, clock.

    ``ranks_per_channel`` and all counts below it are per scheduled channel, which
    is a pseudo-channel when ``pseudo_channels_per_channel`` > 1; a column is one
    burst-sized column address, so a row holds ``columns_per_row * burst_bytes``.
    """

    channels: PositiveInt
    pseudo_channels_per_channel: PositiveInt = 1
    ranks_per_channel: PositiveInt = 1
    bankgroups_per_rank: PositiveInt
    banks_per_bankgroup: PositiveInt
    rows_per_bank: PositiveInt
    columns_per_row: PositiveInt = Field(description="burst-sized column addresses per row")
    burst_bytes: PositiveInt = Field(description="bytes moved by one RD or WR")
    bus_width_bits: PositiveInt = Field(description="data pins of one scheduled (pseudo-)channel")
    transfers_per_clock: PositiveInt = Field(2, description="data beats per command-clock cycle")
    clock_hz: PositiveFloat = Field(description="command clock; tCK = 1 / clock_hz")

    @model_validator(mode="after")
    def _burst_is_whole_cycles(self) -> "DramOrganisation":
        per_cycle = self.bus_width_bits // 8 * self.transfers_per_clock
        if self.bus_width_bits % 8 or self.burst_bytes % per_cycle:
            raise ValueError(
                f"burst_bytes ({self.burst_bytes}) must be a whole number of bus cycles of "
                f"bus_width_bits/8 x transfers_per_clock = {self.bus_width_bits / 8 * self.transfers_per_clock:g} bytes"
            )
        return self

    @property
    def tck_ns(self) -> float:
        return 1e9 / self.clock_hz

    @property
    def scheduled_channels(self) -> int:
        """Independent channels the controller schedules: channels x pseudo-channels."""
        return self.channels * self.pseudo_channels_per_channel

    @property
    def banks_per_channel(self) -> int:
        return self.ranks_per_channel * self.bankgroups_per_rank * self.banks_per_bankgroup

    @property
    def page_bytes(self) -> int:
        return self.columns_per_row * self.burst_bytes

    @property
    def capacity_bytes(self) -> int:
        return self.scheduled_channels * self.banks_per_channel * self.rows_per_bank * self.page_bytes

    @property
    def bytes_per_cycle_per_channel(self) -> int:
        return self.bus_width_bits // 8 * self.transfers_per_clock

    @property
    def burst_cycles(self) -> int:
        return self.burst_bytes // self.bytes_per_cycle_per_channel

    @property
    def peak_bandwidth_bytes_per_s(self) -> float:
        return self.scheduled_channels * self.bytes_per_cycle_per_channel * self.clock_hz

    def field_counts(self) -> dict[AddressField, int]:
        """How many values each address field takes."""
        return {
            AddressField.ROW: self.rows_per_bank,
            AddressField.RANK: self.ranks_per_channel,
            AddressField.BANKGROUP: self.bankgroups_per_rank,
            AddressField.BANK: self.banks_per_bankgroup,
            AddressField.COLUMN: self.columns_per_row,
            AddressField.PSEUDO_CHANNEL: self.pseudo_channels_per_channel,
            AddressField.CHANNEL: self.channels,
        }


class ControllerSpec(_Frozen):
    """The per-channel memory controller: request queue and refresh policy."""

    queue_depth_requests: PositiveInt = 32
    refresh: RefreshPolicy = RefreshPolicy.STAGGERED


class DramSpec(_Frozen):
    """A complete DRAM/HBM device plus its controller."""

    name: str
    standard: Standard
    organisation: DramOrganisation
    timing_cycles: dict[str, int]
    address_mapping: tuple[AddressField, ...] = Field(description="fields from most to least significant")
    controller: ControllerSpec = ControllerSpec()

    _constraints: tuple[TimingConstraint, ...] = PrivateAttr()
    _compiled: CompiledTiming = PrivateAttr()
    _same_node: dict = PrivateAttr()

    @field_validator("timing_cycles")
    @classmethod
    def _non_negative(cls, timing: dict[str, int]) -> dict[str, int]:
        bad = [f"timing_cycles.{k} = {v}: must be >= 0 cycles" for k, v in timing.items() if v < 0]
        if bad:
            raise ValueError("; ".join(bad))
        return timing

    @field_validator("address_mapping")
    @classmethod
    def _is_permutation(cls, mapping: tuple[AddressField, ...]) -> tuple[AddressField, ...]:
        missing = [f.value for f in AddressField if f not in mapping]
        repeated = sorted({f.value for f in mapping if mapping.count(f) > 1})
        if missing or repeated:
            raise ValueError(f"address_mapping must name every field once; missing {missing}, repeated {repeated}")
        return mapping

    @model_validator(mode="after")
    def _build_table(self) -> "DramSpec":
        rules = CONSTRAINT_RULES[self.standard]
        known = required_parameters(rules) | CONTROLLER_PARAMETERS
        errors = [_unknown_message(name, known) for name in sorted(set(self.timing_cycles) - known)]
        errors += [f"timing_cycles.{name}: missing (read by the controller)"
                   for name in sorted(CONTROLLER_PARAMETERS - required_parameters(rules) - set(self.timing_cycles))]
        try:
            table = build_constraint_table(rules, self.timing_cycles)
        except TimingTableError as err:
            errors.append(str(err))
        if errors:
            raise ValueError("; ".join(errors))
        if self.timing_cycles["BL"] != self.organisation.burst_cycles:
            raise ValueError(f"timing_cycles.BL = {self.timing_cycles['BL']} but the organisation moves "
                             f"burst_bytes in {self.organisation.burst_cycles} cycles")
        if self.timing_cycles["tREFI"] < 1 and self.controller.refresh is not RefreshPolicy.NONE:
            raise ValueError("timing_cycles.tREFI = 0: refresh needs a positive interval")
        self._constraints = table
        self._compiled = compile_constraints(table)
        same_node: dict = {}
        for c in table:
            if c.window == 1 and not c.sibling:
                key = (c.level, c.preceding, c.following)
                same_node[key] = max(same_node.get(key, c.latency_cycles), c.latency_cycles)
        self._same_node = same_node
        return self

    def with_changes(self, **sections) -> "DramSpec":
        """A validated copy; mapping-valued sections merge into the current ones.

        ``spec.with_changes(timing_cycles={"tREFI": 400}, organisation={"channels": 2})``
        """
        data = self.model_dump()
        for key, value in sections.items():
            data[key] = {**data[key], **value} if isinstance(value, dict) and isinstance(data.get(key), dict) else value
        return DramSpec.model_validate(data)

    @property
    def constraints(self) -> tuple[TimingConstraint, ...]:
        """The resolved constraint table, one entry per (preceding, following) pair."""
        return self._constraints

    @property
    def compiled(self) -> CompiledTiming:
        return self._compiled

    def latency_cycles(self, level: Level, preceding: Command, following: Command) -> int | None:
        """The largest same-node latency the table sets for this triple, or None."""
        return self._same_node.get((level, preceding, following))

    @property
    def read_latency_cycles(self) -> int:
        """RD issue to the last data beat: CL + BL."""
        return self.timing_cycles["CL"] + self.timing_cycles["BL"]

    @property
    def write_latency_cycles(self) -> int:
        """WR issue to the last data beat: CWL + BL."""
        return self.timing_cycles["CWL"] + self.timing_cycles["BL"]

    def first_refresh_cycles(self) -> tuple[int, ...]:
        """The cycle each rank's first refresh falls due; empty without refresh."""
        ranks, interval = self.organisation.ranks_per_channel, self.timing_cycles["tREFI"]
        if self.controller.refresh is RefreshPolicy.NONE:
            return ()
        if self.controller.refresh is RefreshPolicy.SIMULTANEOUS:
            return (interval,) * ranks
        return tuple((r + 1) * interval // ranks for r in range(ranks))


def _unknown_message(name: str, known: set[str]) -> str:
    return f"timing_cycles.{name}: unknown parameter for this standard{hint_clause(name, known)}"

