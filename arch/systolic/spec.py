"""The systolic-array NPU spec: array shape, dataflow, cores, memories, vector unit.

Field names carry units. Values are checked on construction; a preset file is
just a YAML mapping of these fields plus ``kind: systolic``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt

from arch.contract import SpecBase

# Bits of each PE datatype; an op whose activations are wider than this is rejected.
PE_DTYPE_BITS = {"int8": 8, "fp8": 8, "fp16": 16, "bf16": 16, "fp32": 32}


class SystolicSpec(SpecBase):
    kind: Literal["systolic"] = "systolic"
    rows: PositiveInt = Field(description="PE rows of one array")
    cols: PositiveInt = Field(description="PE columns of one array")
    dataflow: Literal["ws", "os", "is"] = "ws"
    cores: PositiveInt = Field(1, description="independent arrays, each with its own scratchpads")
    clock_hz: PositiveFloat = 1e9
    pe_dtype: Literal["int8", "fp8", "fp16", "bf16", "fp32"] = "fp16"
    ifmap_sram_bytes: PositiveInt = Field(description="input scratchpad per core (both buffers)")
    filter_sram_bytes: PositiveInt = Field(description="weight scratchpad per core (both buffers)")
    ofmap_sram_bytes: PositiveInt = Field(description="output/accumulator scratchpad per core")
    dram_bandwidth_bytes_per_s: PositiveFloat
    dram_latency_cycles: int = Field(0, ge=0)
    dram_capacity_bytes: int = Field(0, ge=0, description="0 = capacity not checked")
    vector_lanes: PositiveInt = Field(128, description="elements per cycle of each core's vector unit")
    tech_node_nm: Literal[45, 28, 16, 7, 5] = 45

    @property
    def pe_bits(self) -> int:
        return PE_DTYPE_BITS[self.pe_dtype]

    @property
    def pes_per_core(self) -> int:
        return self.rows * self.cols

    @property
    def dram_bytes_per_cycle(self) -> float:
        return self.dram_bandwidth_bytes_per_s / self.clock_hz
