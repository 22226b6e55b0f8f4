"""The Duplex spec: an xPU, the HBM it reads, and logic-die processing units (Logic-PIM).

Duplex (MICRO'24, ``PAPERS.md``) puts an xPU for high-Op/B work next to HBM
stacks whose logic (buffer) dies carry processing units; extra TSVs give those
units more bandwidth to the DRAM dies than the xPU sees through the interposer.
The spec has four parts:

* ``xpu``: the high-Op/B processor, a systolic preset name or an inline systolic
  spec (``kind: systolic``), composed through :mod:`arch.systolic`'s public API;
* the external HBM path the xPU sees (``hbm_bandwidth_bytes_per_s`` replaces the
  xPU spec's own DRAM bandwidth, so both processors share one memory system);
* ``logic_pim``: the logic-die units (count, MACs and vector lanes per cycle,
  clock, buffer, datatype) and their internal bandwidth as a multiple of the
  external one;
* ``placement_threshold_flops_per_byte``: ops whose FLOPs per byte moved fall
  below it run on Logic-PIM, the rest on the xPU (see :mod:`mappers.placement`);
* ``dram``: a DRAM preset whose controller gives the streaming efficiency that
  derates both paths alike (null: both at peak).

``tech_node_nm`` is the logic die's node; the xPU keeps its own.
Field names carry units; bad values raise an error naming the key.
"""

from __future__ import annotations

from typing import Literal, Union

from pydantic import Field, PositiveFloat, PositiveInt, field_validator, model_validator

from arch import registry
from arch.contract import SpecBase
from arch.dram import list_presets
from arch.tech.errors import did_you_mean
from arch.systolic.spec import PE_DTYPE_BITS, SystolicSpec

# Default placement threshold in FLOPs per byte. Duplex (MICRO'24, abstract in
# PAPERS.md; REFERENCE_DATA.md "Headline results") targets Logic-PIM at Op/B "ranging
# from few to a few dozens": MoE expert layers sit at Op/B >= 1 and GQA attention at
# 4-8. 32 is the top of "a few dozens" read as 2-3 dozen: it covers GQA attention and
# MoE experts up to ~32 tokens per expert (fp16: Op/B = tokens per expert) and leaves
# dense projections of batches above 32 tokens to the xPU.
DEFAULT_THRESHOLD_FLOPS_PER_BYTE = 32.0


class LogicPimSpec(SpecBase):
    """Processing units on the HBM logic dies."""

    units: PositiveInt = Field(description="processing units over all stacks' logic dies")
    macs_per_cycle_per_unit: PositiveInt = Field(description="lanes x dot-product width of one unit")
    dot_width: PositiveInt = Field(16, description="reduction elements one lane multiplies per cycle")
    vector_lanes_per_unit: PositiveInt = Field(description="element-wise ops per cycle of one unit")
    clock_hz: PositiveFloat
    pe_dtype: Literal["int8", "fp8", "fp16", "bf16", "fp32"] = "fp16"
    buffer_bytes_per_unit: PositiveInt = Field(description="SRAM holding a unit's activation rows")
    internal_bandwidth_multiple: PositiveFloat = Field(
        description="logic-die <-> DRAM-die bandwidth as a multiple of the external HBM bandwidth")

    @field_validator("dot_width")
    @classmethod
    def _width_divides_macs(cls, value: int, info) -> int:
        macs = info.data.get("macs_per_cycle_per_unit")
        if macs is not None and macs % value:
            raise ValueError(f"dot_width {value} must divide macs_per_cycle_per_unit {macs}")
        return value

    @property
    def lanes_per_unit(self) -> int:
        """Output elements a unit produces in parallel (one dot product of ``dot_width`` each)."""
        return self.macs_per_cycle_per_unit // self.dot_width

    @property
    def pe_bits(self) -> int:
        return PE_DTYPE_BITS[self.pe_dtype]


class DuplexSpec(SpecBase):
    kind: Literal["duplex"] = "duplex"
    xpu: Union[str, SystolicSpec] = Field(description="systolic preset name or inline systolic spec")
    hbm_stacks: PositiveInt = Field(description="HBM stacks (documentation of the bandwidth; area not counted)")
    hbm_bandwidth_bytes_per_s: PositiveFloat = Field(description="external HBM bandwidth the xPU sees")
    hbm_latency_cycles: int = Field(0, ge=0, description="per-transfer latency, xPU cycles")
    hbm_capacity_bytes: int = Field(0, ge=0, description="0 = capacity not checked")
    logic_pim: LogicPimSpec
    placement_threshold_flops_per_byte: float = Field(
        DEFAULT_THRESHOLD_FLOPS_PER_BYTE, ge=0, description="0 = every op on the xPU")
    tech_node_nm: Literal[45, 28, 16, 7, 5] = Field(7, description="node of the logic-die units")
    dram: str | None = Field(
        "hbm3-6400", description="arch/dram preset whose FR-FCFS controller times a sequential read stream; "
        "both paths run at the fraction of peak it attains; null = both at peak")

    @field_validator("dram")
    @classmethod
    def _known_dram_preset(cls, value):
        if value is not None and value not in list_presets():
            raise ValueError(f"unknown DRAM preset {value!r};{did_you_mean(value, list_presets())} "
                             f"expected one of {list_presets()} or null")
        return value

    @field_validator("xpu")
    @classmethod
    def _known_systolic_preset(cls, value):
        if isinstance(value, str):
            try:
                raw = registry.preset_spec(value)
            except registry.UnknownNameError as err:
                raise ValueError(f"xpu: {err}") from None
            if raw.get("kind") != "systolic":
                raise ValueError(f"xpu preset {value!r} is of kind {raw.get('kind')!r}; expected 'systolic'")
        return value

    @model_validator(mode="after")
    def _units_split_over_cores(self):
        cores = self.xpu_spec().cores
        if self.logic_pim.units % cores:
            raise ValueError(f"logic_pim.units = {self.logic_pim.units} must be a multiple of the xPU's cores "
                             f"({cores}): the units form one slice per core")
        return self

    def xpu_spec(self) -> SystolicSpec:
        """The xPU's systolic spec, reading the external HBM path of this system."""
        raw = registry.preset_spec(self.xpu) if isinstance(self.xpu, str) else self.xpu.model_dump()
        raw.update(dram_bandwidth_bytes_per_s=self.hbm_bandwidth_bytes_per_s,
                   dram_latency_cycles=self.hbm_latency_cycles,
                   dram_capacity_bytes=self.hbm_capacity_bytes)
        return SystolicSpec.model_validate(raw)

    @property
    def clock_hz(self) -> float:
        """The system clock: the xPU's (logic-PIM cycles are converted to it)."""
        return self.xpu_spec().clock_hz

    @property
    def internal_bandwidth_bytes_per_s(self) -> float:
        return self.hbm_bandwidth_bytes_per_s * self.logic_pim.internal_bandwidth_multiple
