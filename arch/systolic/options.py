"""Mapper options of systolic hosts: the generic ones plus a per-op dataflow.

``dataflow`` (``ws``, ``os`` or ``is``) overrides the spec's dataflow for the
ops it is given to; the per-op mapping search (:mod:`mappers.mapping_search`)
tries each, as a Timeloop-style mapper picks a loop order per layer. A real
array fixed to one dataflow in hardware would not offer this choice: leave
``search`` off (or the dataflow fixed) to model such an array.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from arch.mapping_options import MappingOptions

DATAFLOWS = ("ws", "os", "is")


class SystolicMappingOptions(MappingOptions):
    dataflow: Literal["ws", "os", "is"] | None = Field(None, description="per-op dataflow; default the spec's")
