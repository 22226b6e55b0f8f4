"""The CPU host spec: cores and threads, SIMD issue, achievable DRAM bandwidth, kernel costs.

A CPU host runs LLM decode on ``threads`` of its ``cores``. Each core issues
``simd_pipes`` SIMD instructions per cycle on ``simd_bits``-wide registers; a
table lookup instruction (NEON ``tbl``, x86 ``pshufb``) looks up ``simd_bits / 8``
one-byte entries of 16-entry tables (16 lanes per 128 bits). Two low-bit GEMM
kernels are costed by the SIMD instructions they issue:

* the LUT kernel (T-MAC): ``lut_simd_ops_per_lookup_vector`` instructions per
  vector of table lookups (index extraction, lookup, widening accumulation and
  the per-group epilogue of T-MAC's inner loop);
* the dequantisation kernel (llama.cpp): ``dequant_simd_ops_per_weight``
  instructions per weight, by weight bits (unpack, int8 dot product, scale),
  issued at ``dequant_issue_efficiency`` of the full rate (a fitted fraction:
  the listings' dependency chains, horizontal reductions and port limits are
  not counted one by one).

Achievable DRAM read bandwidth with ``t`` threads is
``min(t x bandwidth_1t, bandwidth_all, dram_bandwidth)``: a core sustains only
so many outstanding misses, and the CPU complex saturates well below the
package's published bandwidth on these devices.

Each op of the graph ends at a barrier of its threads (llama.cpp's ggml graph
executor, which T-MAC's kernels run inside too, synchronises its threads after
every node, and does single-thread work between nodes: quantising the activation
row, a batch-1 element-wise op's one row). On ``t`` threads an op takes
``op_sync_s x (1 - 1/t)`` longer than an even split of its one-thread time:
nothing on one thread, saturating at ``op_sync_s`` (ASSUMPTION: Amdahl's form
with a fixed per-op share; T-MAC's measured thread curves, printed by the
benchmark, check the shape). Field names carry units.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt, field_validator, model_validator

from arch.contract import SpecBase


class CpuSpec(SpecBase):
    kind: Literal["cpu"] = "cpu"
    cores: PositiveInt = Field(description="cores of the kind the threads run on")
    threads: PositiveInt = Field(description="threads the kernels run on (one per core)")
    clock_hz: PositiveFloat = Field(description="core clock while running the kernels")
    tech_node_nm: Literal[45, 28, 16, 7, 5] = Field(description="logic node: the technology library's node nearest the chip's")
    simd_bits: Literal[128, 256] = Field(description="SIMD register width (NEON 128, AVX2 256)")
    simd_pipes: PositiveInt = Field(description="SIMD instructions issued per cycle per core")
    lut_group_activations: int = Field(4, ge=2, le=4, description="activations per table (g; 16-entry tables)")
    lut_entry_bits: int = Field(8, ge=8, le=16, description="bits per table entry (int8 after table quantisation)")
    lut_max_weight_bits: int = Field(4, ge=1, le=8, description="widest weights the LUT kernel runs (bit planes)")
    lut_simd_ops_per_lookup_vector: PositiveFloat = Field(
        description="SIMD instructions per vector of table lookups in the LUT kernel's inner loop")
    dequant_simd_ops_per_weight: tuple[tuple[int, PositiveFloat], ...] = Field(
        description="dequantisation kernel: SIMD instructions per weight, by weight bits ({bits: instructions})")
    dequant_issue_efficiency: tuple[tuple[int, float], ...] = Field(
        (), description="dequantisation kernel: fraction of full SIMD issue its loop attains, by weight bits "
                        "({bits: fraction in (0, 1]}; none listed = 1)")
    dram_bandwidth_bytes_per_s: PositiveFloat = Field(description="published DRAM bandwidth of the package")
    bandwidth_1t_bytes_per_s: PositiveFloat = Field(description="achievable read bandwidth of one thread")
    bandwidth_all_bytes_per_s: PositiveFloat = Field(description="achievable read bandwidth of the CPU complex")
    dram_capacity_bytes: int = Field(0, ge=0, description="DRAM capacity; 0 = not checked")
    op_sync_s: NonNegativeFloat = Field(
        0.0, description="per-op thread synchronisation at many threads: op_sync_s x (1 - 1/threads) per op")

    @field_validator("dequant_simd_ops_per_weight", mode="before")
    @classmethod
    def _formats(cls, value):
        pairs = tuple(value.items()) if isinstance(value, dict) else tuple(tuple(p) for p in value or ())
        if not pairs or any(len(p) != 2 or not isinstance(p[0], int) or not 1 <= p[0] <= 16 for p in pairs):
            raise ValueError("expected a non-empty mapping of weight bits (1-16) to instructions per weight")
        return tuple(sorted(pairs))

    @field_validator("dequant_issue_efficiency", mode="before")
    @classmethod
    def _efficiencies(cls, value):
        pairs = tuple(value.items()) if isinstance(value, dict) else tuple(tuple(p) for p in value or ())
        if any(len(p) != 2 or not isinstance(p[0], int) or not 1 <= p[0] <= 16
               or not isinstance(p[1], (int, float)) or not 0 < p[1] <= 1 for p in pairs):
            raise ValueError("expected a mapping of weight bits (1-16) to a fraction of full issue in (0, 1]")
        return tuple(sorted(pairs))

    @model_validator(mode="after")
    def _check(self) -> "CpuSpec":
        if self.threads > self.cores:
            raise ValueError(f"threads ({self.threads}) must not exceed cores ({self.cores})")
        return self

    # -- derived ---------------------------------------------------------------
    @property
    def lookup_lanes(self) -> int:
        """Table entries one lookup instruction fetches: one byte per lane."""
        return self.simd_bits // 8

    @property
    def fp32_lanes(self) -> int:
        return self.simd_bits // 32

    def bandwidth_bytes_per_s(self, threads: int | None = None) -> float:
        """Achievable DRAM read bandwidth with ``threads`` threads (module docstring)."""
        t = self.threads if threads is None else threads
        return min(t * self.bandwidth_1t_bytes_per_s, self.bandwidth_all_bytes_per_s, self.dram_bandwidth_bytes_per_s)

    @property
    def stream_bytes_per_cycle(self) -> float:
        return self.bandwidth_bytes_per_s() / self.clock_hz

    @property
    def sync_cycles(self) -> int:
        """Cycles each op takes beyond an even split over ``threads``: ``op_sync_s x (1 - 1/threads)``."""
        return round(self.op_sync_s * (1.0 - 1.0 / self.threads) * self.clock_hz)

    def dequant_ops_per_weight(self, w_bits: float) -> float:
        """Instructions per weight of the narrowest listed format holding ``w_bits`` (else the widest)."""
        return _by_bits(self.dequant_simd_ops_per_weight, w_bits)

    def dequant_efficiency(self, w_bits: float) -> float:
        """Fraction of full issue of the narrowest listed format holding ``w_bits`` (1 when none is listed)."""
        return _by_bits(self.dequant_issue_efficiency, w_bits) if self.dequant_issue_efficiency else 1.0


def _by_bits(table: tuple[tuple[int, float], ...], w_bits: float) -> float:
    for bits, value in table:
        if bits >= w_bits - 1e-9:
            return value
    return table[-1][1]
