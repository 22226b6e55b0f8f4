"""Mapper options of NPU+PIM systems: the NPU's (systolic) options plus request placement on channels.

``channel_placement`` says how a decode step's requests are placed on the PIM
channels, each request's K and V whole in one channel (NeuPIMs keeps a request's
KV cache in one channel): ``even`` deals the attention op's instances evenly over
the channels, as if every request had the batch's mean KV length; ``round_robin``
puts request ``i`` on channel ``i mod channels`` (the artefact's ``rr`` traces);
``clb`` puts each request, in arrival order, on the channel whose requests' summed
latency estimate is lowest (NeuPIMs' channel load balancing,
``casys-kaist/NeuPIMs: src/scheduler/Scheduler.cc``). With ``round_robin`` and
``clb`` each channel is timed with its own requests' KV lengths and the PIM op
ends with its slowest channel (:mod:`mappers.pim_channels`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from arch.systolic.options import SystolicMappingOptions


class NeupimsMappingOptions(SystolicMappingOptions):
    channel_placement: Literal["even", "round_robin", "clb"] | None = Field(
        None, description="placement of decode requests on PIM channels; default the spec's")
