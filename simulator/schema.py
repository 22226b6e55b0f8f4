"""The experiment file's schema (the user contract of DESIGN.md), as pydantic models.

Validation happens in two passes, as ZigZag does: this schema checks shapes,
types and ranges; :mod:`simulator.experiment` then applies cross-field rules
(unique system names, a baseline that exists, each system's accelerator spec)
and collects every error before reporting.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, PositiveInt, model_validator

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class Strict(BaseModel):
    model_config = {"extra": "forbid", "frozen": True}


Bits = Field(default=16, gt=0, le=32)


class GemmOpSpec(Strict):
    """One explicit GEMM: M tokens x K reduction times K x N weights, ``count`` times."""

    name: str = Field(pattern=NAME_PATTERN)
    kind: Literal["gemm"] = "gemm"
    M: PositiveInt
    N: PositiveInt
    K: PositiveInt
    count: PositiveInt = 1


class WorkloadSpec(Strict):
    model: str | dict[str, Any] | None = None
    ops: list[GemmOpSpec] | None = None
    phase: Literal["prefill", "decode"] = "decode"
    batch: PositiveInt = 1
    seq_len: PositiveInt = 1024
    weight_bits: float = Bits
    act_bits: float = Bits
    kv_bits: float = Bits

    @model_validator(mode="after")
    def _model_or_ops(self) -> "WorkloadSpec":
        if (self.model is None) == (self.ops is None):
            raise ValueError("give exactly one of 'model' (a preset, config.json path or inline fields) or 'ops'")
        if self.ops is not None and not self.ops:
            raise ValueError("'ops' must list at least one op")
        return self


class SystemEntry(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    arch: str | dict[str, Any]
    set: dict[str, Any] = Field(default_factory=dict)


class ReportSpec(Strict):
    baseline: str | None = None


class SweepSpec(Strict):
    grid: dict[str, list[Any]] = Field(min_length=1)


class TechBlock(Strict):
    """Technology overrides for every system (the node is per system: ``tech_node_nm``)."""

    overrides: dict[str, Any] = Field(default_factory=dict)
    allow_extrapolation: bool = False


class ExperimentSpec(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    seed: int = 0
    workload: WorkloadSpec
    systems: list[SystemEntry] = Field(min_length=1)
    report: ReportSpec = Field(default_factory=ReportSpec)
    sweep: SweepSpec | None = None
    tech: TechBlock = Field(default_factory=TechBlock)
