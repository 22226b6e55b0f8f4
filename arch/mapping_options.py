"""Typed mapper options: what an experiment may set per system under ``mapping:``.

Models say what each unit can run and at what cost; mappers choose. The choices
a mapper makes can be steered by these options, validated like a spec (frozen,
unknown keys rejected with "did you mean"):

* ``split_cores``: the most instances one op is split across (0 = all of its
  unit's instances, 1 = never split);
* ``split_dim``: the dimension GEMMs are split along (``count``, ``n`` or
  ``m``; default: chosen per op by the split search);
* ``placement``: which unit runs an op when several can (:class:`PlacementRule`),
  with ``placement_threshold_flops_per_byte`` for the intensity rule;
* ``sub_batches`` and ``unroll_layers_max``: sub-batch interleaving of decode
  layers (NeuPIMs) and how many layers are unrolled to reach its steady state;
  ``sub_batch_choice: faster`` simulates the step both ways and keeps the faster;
* ``search``: search each op's mapping for ``cycles``, ``energy`` or ``edp``
  (:mod:`mappers.mapping_search`) instead of taking the defaults above.

A family whose mapping has choices of its own (a mesh's GEMM algorithm or region
size) subclasses :class:`MappingOptions` and names the subclass in its model's
``mapping_options_type``. The model's ``default_mapping(phase, batch)`` gives the
values it asks for; an experiment's ``mapping:`` overrides them.
"""

from __future__ import annotations

from enum import Enum

from typing import Literal

from pydantic import Field

from arch.strict_model import StrictModel


class SplitDim(str, Enum):
    COUNT = "count"
    N = "n"
    M = "m"


class SearchObjective(str, Enum):
    """What the per-op mapping search minimises (:mod:`mappers.mapping_search`)."""

    CYCLES = "cycles"
    ENERGY = "energy"
    EDP = "edp"  # energy-delay product


class PlacementRule(str, Enum):
    """How the mapper picks a unit among those that can run an op."""

    FIRST = "first"                  # the model's first candidate unit
    INTENSITY = "intensity"          # below the FLOP/byte threshold: a near-memory unit (Duplex's Op/B rule)
    KV_NEAR_MEMORY = "kv_near_memory"  # GEMMs whose B operand is the KV cache: a near-memory unit (NeuPIMs)
    HOST = "host"                    # never a near-memory unit
    NEAR_MEMORY = "near_memory"      # a near-memory unit whenever one can run the op


class MappingOptions(StrictModel):
    """Mapper options of one system (module docstring)."""

    model_config = {"use_enum_values": False}

    split_cores: int = Field(0, ge=0, description="most instances one op is split across; 0 = all")
    split_dim: SplitDim | None = Field(None, description="GEMM split dimension; default chosen per op")
    placement: PlacementRule = Field(PlacementRule.FIRST, description="which unit runs an op when several can")
    placement_threshold_flops_per_byte: float | None = Field(
        None, ge=0, description="intensity rule: ops below this FLOP/byte go to a near-memory unit")
    sub_batches: int = Field(1, ge=1, description="decode sub-batches interleaved (1 = off)")
    unroll_layers_max: int = Field(1, ge=1, description="layers unrolled to reach the interleaving steady state")
    sub_batch_choice: Literal["fixed", "faster"] = Field(
        "fixed", description="fixed: interleave as sub_batches says; faster: simulate the step with and without "
                             "interleaving and keep the faster")
    search: SearchObjective | None = Field(
        None, description="search each op's mapping (split, core count, the family's choices) for this objective")

    def with_defaults(self, defaults: dict) -> "MappingOptions":
        """These options over a system's defaults: fields set here win."""
        given = self.model_dump(exclude_unset=True)
        return type(self).model_validate({**defaults, **given})
