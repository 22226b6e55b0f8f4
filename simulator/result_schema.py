"""The shape of a ``results.json`` as ``xpusim report`` reads it back: validated models of a system and an op.

:mod:`simulator.result_io` checks every system entry against :class:`SystemEntry`
before it builds a :class:`~simulator.results.SystemResult`, so that a results file
edited by hand or written by something else is refused naming the key (``systems.a100.
cycles: Input should be a valid integer``) instead of failing in the report. Only the
fields the report reads are checked; the derived ones a run also writes (``seconds``,
``energy_j``, ``tokens_per_s`` ...) are recomputed from these and ignored.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import Field, NonNegativeInt, PlainValidator, PositiveInt, model_validator

from arch.strict_model import FieldErrors, StrictModel


def _number(value: Any, positive: bool = False) -> int | float:
    """A finite number >= 0 (> 0 if ``positive``), kept as written: an int stays an int, so the report
    prints it as the run did."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("expected a number")
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"expected a number {'>' if positive else '>='} 0")
    return value


Number = Annotated[Any, PlainValidator(_number)]
PositiveNumber = Annotated[Any, PlainValidator(lambda value: _number(value, positive=True))]


class _Entry(StrictModel):
    model_config = {**StrictModel.model_config, "extra": "ignore"}


class OpEntry(_Entry):
    name: str
    kind: str
    unit: str
    start_cycle: NonNegativeInt
    end_cycle: NonNegativeInt
    compute_cycles: NonNegativeInt
    stall_cycles: NonNegativeInt
    memory_cycles: NonNegativeInt
    macs: NonNegativeInt
    flops: NonNegativeInt
    read_bytes: NonNegativeInt
    write_bytes: NonNegativeInt
    energy_pj: Number
    bound: str
    energy_breakdown_pj: dict[str, Number] = Field(default_factory=dict)
    utilisation: Number | None = None
    actions: dict[str, Number] = Field(default_factory=dict)
    mapping: str = ""
    dram_efficiency: Number | None = None
    dram_bandwidth_bytes_per_s: Number | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> "OpEntry":
        if self.end_cycle < self.start_cycle:
            raise FieldErrors([f"end_cycle: {self.end_cycle} is before start_cycle ({self.start_cycle})"])
        return self


class SystemEntry(_Entry):
    kind: str
    clock_hz: PositiveNumber
    cycles: NonNegativeInt
    layer_cycles: NonNegativeInt
    repeat: PositiveInt
    energy_by_component_j: dict[str, Number]
    energy_breakdown_j: dict[str, Number]
    area_breakdown_mm2: dict[str, Number]
    tokens: NonNegativeInt
    macs: NonNegativeInt
    peak_macs_per_cycle: Number
    ops: list[OpEntry]
    notes: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    devices: PositiveInt = 1
    serving: dict[str, Any] | None = None
    mapping_search: dict[str, Any] | None = None
    memories: dict[str, dict[str, Any]] = Field(default_factory=dict)


class FailureEntry(_Entry):
    system: str
    message: str


class ResultsEntry(_Entry):
    """The file's top level; ``systems`` maps each name to its (separately checked) entry."""

    name: str
    xpusim_version: str
    seed: NonNegativeInt
    baseline: str | None = None
    experiment: dict[str, Any]
    systems: dict[str, Any]
    failures: list[FailureEntry] = Field(default_factory=list)
