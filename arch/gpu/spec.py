"""The GPU baseline spec: peak rates, HBM, SMs, power, die, and the efficiency curve.

Field names carry units. Peak tensor throughput is one field per datatype
(``peak_<dtype>_flops_per_s``; integer types count ops); 0 means the part has
no tensor-core path for that type. The efficiency parameters
(``gemm_efficiency_max``, ``tile_overhead_k``, ``memory_efficiency_max``) are
fitted to measured GEMM latencies (see ``benchmarks/gpu_calibration.py`` and
``docs/gpu.md``). The stream ceilings of HBM writes and of the reduction kernels
(``write_efficiency_max``, ``softmax_efficiency_max``, ``norm_efficiency_max``)
and the collective's link efficiency and latency (``nvlink_efficiency_max``,
``collective_latency_s``) are fitted to measured element-wise kernels and
all-reduces (``benchmarks/gpu_ops_calibration.py``); left unset, a stream
ceiling is ``memory_efficiency_max`` (no derating). The other numbers of a
preset are published figures or marked assumptions, each with its source in the
preset file.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt, model_validator

from arch.contract import SpecBase

# Datatype classes by operand width: an op whose widest operand has at most
# ``bits`` bits may run on any of ``dtypes``; the first class (narrowest) whose
# dtypes the part has is used, so 8-bit data runs on 16-bit units if need be.
DTYPE_CLASSES: tuple[tuple[int, tuple[str, ...]], ...] = (
    (8, ("int8", "fp8")),
    (16, ("fp16", "bf16")),
    (32, ("fp32",)),
)
DTYPES = tuple(d for _, dtypes in DTYPE_CLASSES for d in dtypes)

Tile = tuple[PositiveInt, PositiveInt]


class GpuSpec(SpecBase):
    kind: Literal["gpu"] = "gpu"
    sm_count: PositiveInt = Field(description="streaming multiprocessors")
    clock_hz: PositiveFloat = Field(description="tensor-core clock the peak rates are quoted at")
    peak_fp16_flops_per_s: NonNegativeFloat = Field(0.0, description="dense fp16 tensor FLOP/s")
    peak_bf16_flops_per_s: NonNegativeFloat = Field(0.0, description="dense bf16 tensor FLOP/s")
    peak_fp8_flops_per_s: NonNegativeFloat = Field(0.0, description="dense fp8 tensor FLOP/s; 0 = none")
    peak_int8_flops_per_s: NonNegativeFloat = Field(0.0, description="dense int8 tensor op/s; 0 = none")
    peak_fp32_flops_per_s: NonNegativeFloat = Field(0.0, description="fp32 FLOP/s (CUDA cores)")
    vector_flops_per_s: PositiveFloat = Field(description="CUDA-core FLOP/s for element-wise ops")
    sfu_exps_per_sm_cycle: NonNegativeFloat = Field(
        0.0, description="exponentials (exp2) per SM per clock on the special-function units, a pipe beside the "
                         "CUDA cores; 0 = exponentials counted as CUDA-core FLOPs")
    hbm_bandwidth_bytes_per_s: PositiveFloat
    hbm_capacity_bytes: int = Field(ge=0, description="0 = capacity not checked")
    l2_bytes: int = Field(0, ge=0, description="L2 cache (informational; see docs/gpu.md)")
    nvlink_bandwidth_bytes_per_s: NonNegativeFloat = Field(
        0.0, description="total NVLink bandwidth, both directions, as published; 0 = no all-reduce")
    launch_overhead_s: NonNegativeFloat = Field(description="gap each kernel adds in a stream of kernels")
    gemm_tiles: tuple[Tile, ...] = Field(((128, 128), (128, 256), (256, 128)), min_length=1,
                                         description="output tile (rows, cols) per thread block")
    gemm_efficiency_max: float = Field(gt=0, le=1, description="ceiling on tensor-core issue rate (fitted)")
    tile_overhead_k: int = Field(ge=0, description="per-tile prologue/epilogue in k-steps (fitted)")
    memory_efficiency_max: float = Field(gt=0, le=1, description="ceiling on HBM stream rate (fitted)")
    write_efficiency_max: float | None = Field(
        None, gt=0, le=1, description="ceiling on the HBM write-stream rate (fitted); unset: memory_efficiency_max")
    softmax_efficiency_max: float | None = Field(
        None, gt=0, le=1, description="HBM rate a softmax kernel reaches, reads and writes (fitted); "
                                      "unset: memory_efficiency_max")
    norm_efficiency_max: float | None = Field(
        None, gt=0, le=1, description="HBM rate a normalisation kernel reaches, reads and writes (fitted); "
                                      "unset: memory_efficiency_max")
    nvlink_efficiency_max: float = Field(
        1.0, gt=0, le=1, description="bus bandwidth a collective reaches over one NVLink direction (fitted)")
    collective_latency_s: NonNegativeFloat = Field(
        0.0, description="fixed time per collective beyond NCCL's modelled latencies (fitted)")
    tdp_w: PositiveFloat = Field(description="board power at full load")
    idle_power_w: NonNegativeFloat = Field(description="board power with nothing running")
    die_area_mm2: PositiveFloat
    process_node: str = Field("", description="foundry process, informational (e.g. 'TSMC N7')")

    @model_validator(mode="after")
    def _check(self) -> "GpuSpec":
        if self.idle_power_w >= self.tdp_w:
            raise ValueError(f"idle_power_w ({self.idle_power_w}) must be below tdp_w ({self.tdp_w})")
        if not any(self.peak_flops_per_s(d) for d in DTYPES):
            raise ValueError("peak_*_flops_per_s: at least one datatype needs a peak above 0")
        for name in ("write_efficiency_max", "softmax_efficiency_max", "norm_efficiency_max"):
            value = getattr(self, name)
            if value is not None and value > self.memory_efficiency_max:
                raise ValueError(f"{name} ({value}) must not exceed memory_efficiency_max "
                                 f"({self.memory_efficiency_max}), the read-stream ceiling")
        return self

    def peak_flops_per_s(self, dtype: str) -> float:
        return float(getattr(self, f"peak_{dtype}_flops_per_s"))

    def math_dtype(self, bits: float) -> str | None:
        """The datatype an op with ``bits``-bit operands runs in (highest peak of its class)."""
        for width, dtypes in DTYPE_CLASSES:
            if bits <= width:
                present = [d for d in dtypes if self.peak_flops_per_s(d) > 0]
                if present:
                    return max(present, key=self.peak_flops_per_s)
        return None

    def macs_per_sm_cycle(self, dtype: str) -> float:
        return self.peak_flops_per_s(dtype) / 2 / self.clock_hz / self.sm_count

    @property
    def stream_bytes_per_cycle(self) -> float:
        """Achievable HBM bytes per cycle: bandwidth x memory_efficiency_max / clock."""
        return self.hbm_bandwidth_bytes_per_s * self.memory_efficiency_max / self.clock_hz

    @property
    def write_bytes_per_cycle(self) -> float:
        """Achievable HBM write bytes per cycle: bandwidth x write_efficiency_max / clock."""
        return self.hbm_bandwidth_bytes_per_s * self.write_efficiency / self.clock_hz

    @property
    def write_efficiency(self) -> float:
        return self.memory_efficiency_max if self.write_efficiency_max is None else self.write_efficiency_max

    def kernel_efficiency(self, name: str) -> float:
        """Stream ceiling of a reduction kernel (``softmax`` or ``norm``); unset: memory_efficiency_max."""
        value = getattr(self, f"{name}_efficiency_max")
        return self.memory_efficiency_max if value is None else value

    @property
    def nvlink_bytes_per_cycle(self) -> float:
        """One direction of NVLink (half the published bidirectional total) per cycle."""
        return self.nvlink_bandwidth_bytes_per_s / 2 / self.clock_hz

    @property
    def launch_cycles(self) -> int:
        return round(self.launch_overhead_s * self.clock_hz)
