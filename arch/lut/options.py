"""Mapper options of a LUT system: where the table precompute runs."""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from arch.contract import MappingOptions


class Precompute(str, Enum):
    """Where a LUT GEMM's tables are built (LUT Tensor Core §3.1.1, Table 4).

    ``fused``: into the preceding element-wise op, which writes tables instead of
    activations (its arithmetic overlaps that op's memory-bound pass);
    ``separate``: its own kernel on the vector units, reading the activations and
    writing the tables to DRAM before the GEMM reads them.
    """

    FUSED = "fused"
    SEPARATE = "separate"


class LutMappingOptions(MappingOptions):
    precompute: Precompute = Field(Precompute.FUSED, description="where LUT tables are built: fused | separate")
