"""The LUT tensor-core system spec: LUT arrays, their host (SMs or cores), memories.

A system is ``units = sm_count x tensor_cores_per_sm`` LUT tensor cores (a GPU
host whose MAC tensor cores are replaced, as the LUT Tensor Core paper's
A100-LUT/H100-LUT; or a standalone NPU with ``sm_count`` cores), each an
``array_m x (array_n x array_scale) x array_k`` LUT array: ``array_m`` tables of
``array_k`` activations are shared by ``array_n x array_scale`` weight columns.
One tensor core retires ``array_scale x array_m x array_n x array_k / w_bits``
MACs per cycle on ``w_bits``-bit weights (bit-serial; ISCA'25 Table 1,
``../shared/LUT_AND_WAFER.md`` §1.1.2). Each SM has a vector unit for the table
precompute, element-wise ops and the GEMMs the LUT arrays cannot run (B operands
wider than ``max_weight_bits``). Field names carry units.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt, model_validator

from arch.contract import SpecBase


class LutSpec(SpecBase):
    kind: Literal["lut"] = "lut"
    sm_count: PositiveInt = Field(description="SMs of a GPU host, or cores of a standalone LUT NPU")
    tensor_cores_per_sm: PositiveInt = Field(description="LUT tensor cores per SM or core")
    clock_hz: PositiveFloat = Field(description="clock of the LUT arrays and vector units")
    tech_node_nm: Literal[45, 28, 16, 7, 5] = Field(28, description="logic node of the LUT arrays (28: the paper's synthesis)")
    array_m: PositiveInt = Field(2, description="tables (activation rows) per LUT array")
    array_n: PositiveInt = Field(64, description="weight columns per LUT array at array_scale 1")
    array_k: int = Field(4, ge=1, le=8, description="activations per table (group size g)")
    array_scale: PositiveInt = Field(1, description="array-size multiple S: weight columns = array_n x S")
    symmetric_tables: bool = Field(True, description="tables of 2^(k-1) entries (weights reinterpreted as +-1)")
    offline_weight_flip: bool = Field(
        True, description="index inversion done offline on the weights (no negation circuit)")
    precompute_in_array: bool = Field(
        False, description="tables built by adders inside each array (conventional LUT design)")
    lut_entry_bits: int = Field(ge=2, le=32, description="bits per stored table entry (8 after table quantisation)")
    accumulator_bits: int = Field(32, ge=8, le=64, description="accumulator width of each MUX unit")
    max_weight_bits: int = Field(4, ge=1, le=8, description="widest B operand (bit planes) the LUT arrays run")
    weight_buffer_bits: int = Field(2, ge=1, le=8, description="weight bit planes buffered per array (Eq. 8's W_BIT)")
    int_b_bit_serial: bool = Field(
        False, description="GEMMs whose B operand is an integer KV cache or activation of at most 8 bits "
        "run bit-serially on the LUT arrays (B written in reinterpreted form)")
    max_activation_bits: int = Field(16, ge=2, le=32, description="widest A operand a table can be built from")
    vector_flops_per_cycle_per_sm: PositiveFloat = Field(description="vector (CUDA-core) FLOPs per cycle per SM")
    register_bytes_per_sm: int = Field(ge=0, description="register file per SM (informational, see notes)")
    smem_bytes_per_sm: int = Field(ge=0, description="shared memory per SM (informational, see notes)")
    hbm_bandwidth_bytes_per_s: PositiveFloat = Field(description="published DRAM bandwidth")
    memory_efficiency: float = Field(1.0, gt=0, le=1, description="achievable fraction of the DRAM bandwidth")
    write_efficiency: float | None = Field(None, gt=0, le=1, description="writes' fraction; unset: memory_efficiency")
    softmax_efficiency: float | None = Field(None, gt=0, le=1, description="softmax kernels' stream ceiling; "
                                                                          "unset: memory_efficiency")
    norm_efficiency: float | None = Field(None, gt=0, le=1, description="norm kernels' stream ceiling; "
                                                                       "unset: memory_efficiency")
    hbm_capacity_bytes: int = Field(ge=0, description="DRAM capacity; 0 = not checked")
    launch_overhead_s: NonNegativeFloat = Field(0.0, description="gap each kernel (op) adds")
    gemm_tiles: tuple[tuple[PositiveInt, PositiveInt], ...] = Field(
        (), description="thread-block output tiles (rows, cols) of a GPU host's LUT GEMMs, run in waves over "
        "the SMs (arch/lut/waves.py); empty: passes spread evenly over all tensor cores")
    gemm_efficiency: float = Field(1.0, gt=0, le=1, description="ceiling on the LUT tensor cores' issue rate "
                                   "inside a GPU host's tile loop")
    tile_overhead_k: int = Field(0, ge=0, description="per-tile prologue/epilogue of a GPU host's GEMM, in k-steps")
    host_area_mm2: NonNegativeFloat = Field(0.0, description="area of everything but the LUT arrays (0 = not counted)")

    @model_validator(mode="after")
    def _check(self) -> "LutSpec":
        if self.weight_buffer_bits > self.max_weight_bits:
            raise ValueError(f"weight_buffer_bits ({self.weight_buffer_bits}) must not exceed "
                             f"max_weight_bits ({self.max_weight_bits})")
        return self

    # -- derived ---------------------------------------------------------------
    @property
    def units(self) -> int:
        """LUT tensor cores in the system."""
        return self.sm_count * self.tensor_cores_per_sm

    @property
    def columns(self) -> int:
        """Weight columns sharing one table fetch: array_n x array_scale."""
        return self.array_n * self.array_scale

    def tc_macs_per_cycle(self, w_bits: int) -> float:
        """One tensor core's MACs per cycle on ``w_bits``-bit weights: S x M x N x K / W_BIT."""
        return self.array_m * self.columns * self.array_k / w_bits

    @property
    def stream_bytes_per_cycle(self) -> float:
        return self.hbm_bandwidth_bytes_per_s * self.memory_efficiency / self.clock_hz

    def bytes_per_cycle(self, efficiency: float | None) -> float:
        """DRAM bytes per cycle at ``efficiency`` of the bandwidth (unset: ``memory_efficiency``)."""
        return self.hbm_bandwidth_bytes_per_s * (efficiency or self.memory_efficiency) / self.clock_hz

    @property
    def vector_flops_per_cycle(self) -> float:
        return self.vector_flops_per_cycle_per_sm * self.sm_count

    @property
    def launch_cycles(self) -> int:
        return round(self.launch_overhead_s * self.clock_hz)


PrecomputeName = Literal["fused", "separate"]
