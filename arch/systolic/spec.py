"""The systolic-array NPU spec: array shape, dataflow, cores, memories, vector unit, link.

Field names carry units. Values are checked on construction; a preset file is
just a YAML mapping of these fields plus ``kind: systolic``. A scratchpad's
half (one buffer) must hold one array row of PE words.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt, ValidationInfo, field_validator

from arch.contract import SpecBase
from arch.memory_timing import MemoryTiming, check_standard
from arch.tech.errors import did_you_mean

# Bits of each PE datatype; an op whose activations are wider than this is rejected.
PE_DTYPE_BITS = {"int8": 8, "fp8": 8, "fp16": 16, "bf16": 16, "fp32": 32}
DATAFLOWS = ("ws", "os", "is")


class VectorLaneOps(SpecBase):
    """Lane-operations per element of each vector function (one lane-op = one lane-cycle).

    Defaults follow ONNXim's vector-core cost (PSAL-POSTECH/ONNXim:
    src/SystolicWS.cc ``get_vector_compute_cycles``) with its configured
    primitive latencies of 1 cycle (configs/systolic_ws_128x128_c4_simple_noc_tpuv4.json:
    add/mul/exp/gelu/add_tree latency 1), counting each reduction tree as one
    pass over the elements:

    * softmax: add + exp + mul passes and two trees (max, sum) = 5 (ONNXim SOFTMAX);
    * norm: RMSNorm = square (mul) + sum tree + scale (mul) + gain (mul) = 4, derived
      from ONNXim's LAYERNORM (2 add + 3 mul + 2 trees = 7) less the mean tree, the
      subtraction and the bias add; set 7 for a LayerNorm model;
    * activation: SiLU/GELU pass (ONNXim GELU/SWISH, 1) + the gate multiply (1) = 2;
    * add, mul: 1 (ONNXim ADD, MUL);
    * rope: 2 multiplies + 1 add per output element = 3 (derived from the rotation
      x1 cos - x2 sin; ONNXim has no RoPE instruction).
    """

    softmax: PositiveFloat = 5.0
    norm: PositiveFloat = 4.0
    activation: PositiveFloat = 2.0
    add: PositiveFloat = 1.0
    mul: PositiveFloat = 1.0
    rope: PositiveFloat = 3.0


class SystolicSpec(SpecBase):
    # Defaults a user's own design may inherit without meaning to: each is noted in the results when a
    # design that is not a preset leaves it unset (the presets choose theirs explicitly).
    unset_default_notes: ClassVar[dict[str, str]] = {
        "fold_timing": ("fold_timing is left at its default 'scalesim' (SCALE-Sim's fold timing: each fold "
                        "preloads its weights before streaming, so decode GEMVs pay a full fold per tile); the "
                        "tpuv4-like, tpu7x-like and neupims-npu presets set 'pipelined'"),
        "instance_timing": ("instance_timing is left at its default 'separate' (each request-head GEMM of an "
                            "attention op pays its own fill and drain); the tpuv4-like, tpu7x-like and neupims-npu "
                            "presets set 'streamed' (one fill and drain per batch of instances)"),
    }
    kind: Literal["systolic"] = "systolic"
    rows: PositiveInt = Field(description="PE rows of one array")
    cols: PositiveInt = Field(description="PE columns of one array")
    dataflow: Literal["ws", "os", "is"] = "ws"
    fold_timing: Literal["scalesim", "pipelined"] = Field(
        "scalesim", description="scalesim: every fold pays fill and drain (SCALE-Sim 3.0.0); "
        "pipelined: the next fold's stationary tile shifts in while the current one streams")
    instance_timing: Literal["separate", "streamed"] = Field(
        "separate", description="an op of many same-shape GEMMs (decode attention: one per request and head); "
        "separate: each pays its own fill and drain; streamed (with pipelined folds): one fill and drain per "
        "batch of instances on a core, the next instance's tile shifting in while the current one drains")
    cores: PositiveInt = Field(1, description="independent arrays, each with its own scratchpads")
    clock_hz: PositiveFloat = 1e9
    pe_dtype: Literal["int8", "fp8", "fp16", "bf16", "fp32"] = "fp16"
    ifmap_sram_bytes: PositiveInt = Field(description="input scratchpad per core (both buffers)")
    filter_sram_bytes: PositiveInt = Field(description="weight scratchpad per core (both buffers)")
    ofmap_sram_bytes: PositiveInt = Field(description="output/accumulator scratchpad per core")
    dram_bandwidth_bytes_per_s: PositiveFloat
    dram_latency_cycles: int = Field(0, ge=0)
    dram_capacity_bytes: int = Field(0, ge=0, description="0 = capacity not checked; a step whose weights "
                                     "and KV cache exceed it runs with a warning in its results")
    dram_timing: MemoryTiming = Field(
        MemoryTiming.BANDWIDTH, description="bandwidth: transfers at dram_bandwidth_bytes_per_s; dram: at the "
        "fraction of it dram_standard's FR-FCFS controller attains on each transfer's access pattern")
    dram_standard: str | None = Field(None, description="DRAM preset (arch/dram/presets) that times transfers "
                                      "under dram_timing: dram")
    vector_lanes: PositiveInt = Field(128, description="elements per cycle of each core's vector unit")
    vector_clock_hz: PositiveFloat | None = Field(None, description="vector unit clock; None = clock_hz")
    vector_lane_ops_per_element: VectorLaneOps = Field(default_factory=VectorLaneOps)
    link_bandwidth_bytes_per_s: NonNegativeFloat = Field(
        0.0, description="chip-to-chip bandwidth one device sends to its ring neighbour; 0 = no link")
    link_latency_cycles: int = Field(0, ge=0, description="per ring step, in array clock cycles")
    tech_node_nm: Literal[45, 28, 16, 7, 5] = 45

    @field_validator("dataflow", mode="before")
    @classmethod
    def _known_dataflow(cls, value):
        if isinstance(value, str) and value not in DATAFLOWS:
            raise ValueError(f"unknown dataflow {value!r};{did_you_mean(value, DATAFLOWS)} "
                             "expected 'ws', 'os' or 'is'")
        return value

    @field_validator("dram_standard")
    @classmethod
    def _known_standard(cls, standard: str | None, info: ValidationInfo) -> str | None:
        return check_standard(standard, info.data.get("dram_timing"), "dram_timing")

    @field_validator("ifmap_sram_bytes", "filter_sram_bytes", "ofmap_sram_bytes")
    @classmethod
    def _holds_one_array_row(cls, capacity: int, info: ValidationInfo) -> int:
        """One buffer (half the scratchpad) holds one array row of PE words."""
        rows, cols, dtype = (info.data.get(key) for key in ("rows", "cols", "pe_dtype"))
        if rows is None or cols is None or dtype is None:
            return capacity  # reported on those fields
        words = rows if info.field_name == "ifmap_sram_bytes" else cols
        row_bytes = words * PE_DTYPE_BITS[dtype] / 8
        if capacity / 2 < row_bytes:
            raise ValueError(
                f"half of it (one buffer) must hold one array row of {words} {dtype} words "
                f"({row_bytes:g} bytes), so at least {int(2 * row_bytes)} bytes")
        return capacity

    @property
    def pe_bits(self) -> int:
        return PE_DTYPE_BITS[self.pe_dtype]

    @property
    def pes_per_core(self) -> int:
        return self.rows * self.cols

    @property
    def dram_bytes_per_cycle(self) -> float:
        return self.dram_bandwidth_bytes_per_s / self.clock_hz

    @property
    def vector_clock_ratio(self) -> float:
        """Array cycles per vector-unit cycle."""
        return self.clock_hz / (self.vector_clock_hz or self.clock_hz)

    @property
    def link_bytes_per_cycle(self) -> float:
        return self.link_bandwidth_bytes_per_s / self.clock_hz
