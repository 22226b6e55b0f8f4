"""The wafer-scale mesh spec (Cerebras WSE-2/3 class): PE grid, per-PE SRAM, links, PLMR latencies.

Field names carry units. A preset is a YAML mapping of these fields plus
``kind: wafer``. Four latency fields are *calibrated* (``relay_latency_cycles``,
``call_overhead_cycles``, ``step_sync_cycles``, ``op_overhead_cycles``): each
preset's comments name the configuration they were fitted on, and
``benchmarks/wafer_validation.py`` refits them there and predicts the others.
Everything else is a published figure or a marked assumption, cited in the preset.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt, model_validator

from arch.contract import SpecBase

WORD_BITS = 16  # the mesh kernels count fp16 words


class WaferSpec(SpecBase):
    kind: Literal["wafer"] = "wafer"
    mesh_width_pe: PositiveInt = Field(description="program rectangle width (x) in PEs")
    mesh_height_pe: PositiveInt = Field(description="program rectangle height (y) in PEs")
    die_pe_count: PositiveInt = Field(description="cores on the die (area and static power), >= the rectangle")
    clock_hz: PositiveFloat = Field(description="PE clock cycles are converted to seconds at")
    sram_bytes_per_pe: PositiveInt = Field(description="local SRAM of one PE")
    reserved_sram_bytes_per_pe: NonNegativeInt = Field(
        description="SRAM of a PE taken by code, task tables and runtime buffers (not for data)")
    link_bits: PositiveInt = Field(32, description="bits one link moves to a neighbour per cycle")
    fp16_macs_per_cycle_per_pe: PositiveInt = Field(1, description="fp16 multiply-accumulates per cycle of one PE")
    hop_latency_cycles: NonNegativeFloat = Field(1.0, description="alpha: cycles per hardware-forwarded hop")
    relay_latency_cycles: NonNegativeFloat = Field(
        description="beta (calibrated): cycles a PE takes to receive, add/re-address and forward a message")
    call_overhead_cycles: NonNegativeInt = Field(
        description="calibrated: fixed cycles of one vector instruction call (fmach, DSD op) on a PE")
    step_sync_cycles: NonNegativeInt = Field(
        description="calibrated: cycles a GEMM step waits for its shifts' completion tasks")
    op_overhead_cycles: NonNegativeInt = Field(
        0, description="calibrated: fixed cycles per op (phase launch, barrier) outside the profiled phases")
    routing_colors: PositiveInt = Field(description="routable colours (distinct routing paths) per PE")
    reserved_colors: NonNegativeInt = Field(0, description="colours the runtime (memcpy) reserves")
    host_link_bandwidth_bytes_per_s: PositiveFloat = Field(description="host <-> wafer I/O bandwidth")
    host_link_latency_s: float = Field(0.0, ge=0, description="fixed overhead of one small host transfer")
    die_area_mm2: PositiveFloat = Field(description="the whole wafer's area (vendor)")
    die_area_node_nm: Literal[45, 28, 16, 7, 5] = Field(7, description="the node die_area_mm2 is quoted at")
    core_power_w: PositiveFloat = Field(description="power of one core (constant-power energy convention)")
    tech_node_nm: Literal[45, 28, 16, 7, 5] = 7

    @model_validator(mode="after")
    def _consistent(self) -> "WaferSpec":
        if self.reserved_sram_bytes_per_pe >= self.sram_bytes_per_pe:
            raise ValueError(f"reserved_sram_bytes_per_pe ({self.reserved_sram_bytes_per_pe}) must be below "
                             f"sram_bytes_per_pe ({self.sram_bytes_per_pe})")
        if self.reserved_colors >= self.routing_colors:
            raise ValueError(f"reserved_colors ({self.reserved_colors}) must be below routing_colors "
                             f"({self.routing_colors})")
        if self.link_bits % WORD_BITS:
            raise ValueError(f"link_bits ({self.link_bits}) must be a multiple of {WORD_BITS} (fp16 words)")
        if self.die_pe_count < self.mesh_width_pe * self.mesh_height_pe:
            raise ValueError(f"die_pe_count ({self.die_pe_count}) must be >= mesh_width_pe x mesh_height_pe "
                             f"({self.mesh_width_pe * self.mesh_height_pe})")
        return self

    @property
    def pe_count(self) -> int:
        """PEs of the program rectangle."""
        return self.mesh_width_pe * self.mesh_height_pe

    @property
    def max_region_pe(self) -> int:
        """The side of the largest square region."""
        return min(self.mesh_width_pe, self.mesh_height_pe)

    @property
    def usable_sram_bytes_per_pe(self) -> int:
        return self.sram_bytes_per_pe - self.reserved_sram_bytes_per_pe

    @property
    def link_words_per_cycle(self) -> int:
        """e: fp16 words one link carries per cycle."""
        return self.link_bits // WORD_BITS

    @property
    def free_colors(self) -> int:
        return self.routing_colors - self.reserved_colors

    @property
    def sram_bytes(self) -> int:
        return self.pe_count * self.sram_bytes_per_pe
