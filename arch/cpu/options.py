"""Mapper options of a CPU host: which kernel runs low-bit weight GEMMs."""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from arch.contract import MappingOptions


class CpuGemmKernel(str, Enum):
    """``lut``: T-MAC's table-lookup kernel (bit-serial planes, ``tbl``/``pshufb``);
    ``dequant``: llama.cpp's kernels (unpack the weights to int8, int8 dot products)."""

    LUT = "lut"
    DEQUANT = "dequant"


class CpuMappingOptions(MappingOptions):
    gemm_kernel: CpuGemmKernel = Field(CpuGemmKernel.LUT, description="low-bit weight GEMMs: lut | dequant")
