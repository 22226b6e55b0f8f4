"""Mapper options of systolic hosts: the generic ones plus a per-op dataflow.

``dataflow`` (``ws``, ``os`` or ``is``) overrides the spec's dataflow for the
ops it is given to; ``tile_sram_fraction`` (1, 1/2 or 1/4) lets an op's tiles use
only that share of each scratchpad (smaller tiles: more pipelined steps, more
re-reads). The per-op mapping search (:mod:`mappers.mapping_search`) tries each
dataflow with whole and half scratchpads, as a Timeloop-style mapper picks a loop
order and tile sizes per layer. A real
array fixed to one dataflow in hardware would not offer this choice: leave
``search`` off (or the dataflow fixed) to model such an array.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from arch.mapping_options import MappingOptions

DATAFLOWS = ("ws", "os", "is")


TILE_SRAM_FRACTIONS = (1.0, 0.5)  # the shares the mapping search tries


class SystolicMappingOptions(MappingOptions):
    dataflow: Literal["ws", "os", "is"] | None = Field(None, description="per-op dataflow; default the spec's")
    tile_sram_fraction: Literal[1.0, 0.5, 0.25] | None = Field(
        None, description="share of each scratchpad an op's tiles may use; default all of it")
