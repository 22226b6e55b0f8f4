"""Mapping options of a wafer-scale mesh: the GEMM algorithm, the all-reduce, regions per phase, KV placement.

An experiment sets them per system under ``mapping:``; unset fields take the
defaults here. Region sides default to WaferLLM's LLaMA3-8B configuration
(prefill on 660 x 660 PEs, decode on 360 x 360; [WL] §7.1, Table 2);
:func:`arch.wafer.partition.autotune_regions` picks them per workload instead.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import Field

from arch.mapping_options import MappingOptions


class GemmAlgorithm(str, Enum):
    MESHGEMM = "meshgemm"
    SUMMA = "summa"
    CANNON = "cannon"
    ALLGATHER = "allgather"


class AllreduceAlgorithm(str, Enum):
    KTREE = "ktree"
    PIPELINE = "pipeline"
    RING = "ring"


class KvPlacement(str, Enum):
    SHIFT = "shift"      # WaferLLM: the oldest KV of each row moves to the row above (all rows fill)
    CONCAT = "concat"    # PagedAttention-like: each new token's KV goes to one row of PEs


class WaferMappingOptions(MappingOptions):
    """Mapper options of a wafer system (module docstring)."""

    gemm_algorithm: GemmAlgorithm = Field(GemmAlgorithm.MESHGEMM, description="distributed GEMM of prefill")
    allreduce_algorithm: AllreduceAlgorithm = Field(AllreduceAlgorithm.KTREE,
                                                    description="all-reduce of GEMVs, norms and softmax")
    ktree_phases: int = Field(2, ge=1, le=8, description="K of the K-tree all-reduce (WaferLLM: 2)")
    ktree_groups: int = Field(0, ge=0, description="top-level K-tree groups (group_num); 0 = about p^(1/K)")
    prefill_region_pe: int = Field(660, ge=1, description="side of the square region prefill runs on")
    decode_region_pe: int = Field(360, ge=1, description="side of the square region decode runs on")
    gemv_max_rows: int = Field(32, ge=1, description="GEMMs with at most this many rows outside decode run as GEMVs")
    kv_placement: KvPlacement = Field(KvPlacement.SHIFT, description="where new tokens' KV cache goes")
    kv_appended_tokens: int = Field(0, ge=0, description="decode tokens appended since the KV cache was laid "
                                    "out evenly; concatenation puts them all on the same PEs")
    step_phase: Literal["prefill", "decode", "any"] = Field("any", description="the phase of the step being mapped (set by the model): "
                            "ops of no phase of their own (serving iterations) run on that phase's region")
