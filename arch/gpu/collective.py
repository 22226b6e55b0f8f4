"""All-reduce on one NVLink node: NCCL's cost model, ring or tree, LL / LL128 / Simple.

What it models
--------------
NCCL times a collective as ``latency + bytes / algorithm bandwidth`` for each
algorithm (ring, tree) and protocol (LL, LL128, Simple) and runs the fastest
(``ncclTopoTuneModel`` and ``ncclTopoGetAlgoTime`` in NVIDIA/nccl
``src/graph/tuning.cc``, commit 01afd20a77b5804e0ecf1042509dd9d20ebf9e93). This
module does the same for an all-reduce of ``nbytes`` per device over ``p``
devices of one node:

* **bus bandwidth**: one NVLink direction (half the published bidirectional
  total) times ``nvlink_efficiency_max`` (fitted), then NCCL's protocol factors:
  ring LL x 1/4 (LL sends 8-byte stores of 4 data bytes and 4 flag bytes, and
  NCCL derates it further), ring LL128 x 0.92 (120 of 128 bytes are data), tree
  x 0.9, tree LL x 0.9 / 3.8, tree LL128 x 0.9 x 7/9 (single node).
* **algorithm bandwidth**: a ring all-reduce moves ``2 (p - 1) / p`` of the
  tensor over each link (bus x p / (2 (p - 1))); a tree moves the tensor up and
  down (bus x 1/2).
* **latency**: NCCL's base latency of the algorithm and protocol plus, per
  step, the NVLink hop latency: ``2 (p - 1)`` steps for a ring, ``2 (p - 1)``
  hops up and down the intra-node chain for a tree; plus
  ``collective_latency_s`` (fitted): what a measured collective adds beyond
  NCCL's own estimate (kernel launch, host synchronisation).

How faithful
------------
NCCL's own first-order model, with its constants. Not modelled: NCCL's
per-size tree correction factors, its channel and thread-count reduction for
small messages, the absolute bandwidth caps of its tuning table (235 GB/s bus
bandwidth on compute capability 8.0, tree caps), NVLS / CollNet algorithms, and
multi-node topologies (one NVLink node only). The two fitted parameters are
fitted to a measured 4 x A100 NVLink all-reduce sweep
(``benchmarks/gpu_ops_calibration.py``) on half of its sizes and checked on the
other half.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Algorithm(str, Enum):
    RING = "ring"
    TREE = "tree"


class Protocol(str, Enum):
    LL = "ll"
    LL128 = "ll128"
    SIMPLE = "simple"


# NVIDIA/nccl src/graph/tuning.cc (commit 01afd20): baseLat, microseconds, per algorithm and protocol.
BASE_LATENCY_US: dict[tuple[Algorithm, Protocol], float] = {
    (Algorithm.TREE, Protocol.LL): 4.4, (Algorithm.TREE, Protocol.LL128): 4.4, (Algorithm.TREE, Protocol.SIMPLE): 0.0,
    (Algorithm.RING, Protocol.LL): 3.6, (Algorithm.RING, Protocol.LL128): 10.0, (Algorithm.RING, Protocol.SIMPLE): 8.4,
}
# Same file: hwLat[NCCL_HW_NVLINK], microseconds per step (ring) or per hop (tree).
NVLINK_HOP_LATENCY_US: dict[tuple[Algorithm, Protocol], float] = {
    (Algorithm.TREE, Protocol.LL): 0.52, (Algorithm.TREE, Protocol.LL128): 1.2, (Algorithm.TREE, Protocol.SIMPLE): 28.0,
    (Algorithm.RING, Protocol.LL): 0.47, (Algorithm.RING, Protocol.LL128): 1.9, (Algorithm.RING, Protocol.SIMPLE): 3.4,
}
# Same file, ncclTopoTuneModel's "model refinements" for an all-reduce on one node.
BUS_FACTOR: dict[tuple[Algorithm, Protocol], float] = {
    (Algorithm.RING, Protocol.LL): 1.0 / 4.0,
    (Algorithm.RING, Protocol.LL128): 0.92,
    (Algorithm.RING, Protocol.SIMPLE): 1.0,
    (Algorithm.TREE, Protocol.LL): 0.9 / 3.8,
    (Algorithm.TREE, Protocol.LL128): 0.9 * 7.0 / 9.0,
    (Algorithm.TREE, Protocol.SIMPLE): 0.9,
}


@dataclass(frozen=True)
class CollectiveTime:
    """The chosen algorithm and protocol of one all-reduce and its time."""

    algorithm: Algorithm
    protocol: Protocol
    seconds: float


def allreduce_candidates(nbytes: int, devices: int, link_bytes_per_s: float, efficiency: float,
                         extra_latency_s: float) -> tuple[CollectiveTime, ...]:
    """Every (algorithm, protocol)'s time for an all-reduce of ``nbytes`` per device over ``devices``
    devices whose links carry ``link_bytes_per_s`` each way; see the module docstring."""
    if devices < 2 or nbytes <= 0:
        return (CollectiveTime(Algorithm.RING, Protocol.SIMPLE, 0.0),)
    bus = link_bytes_per_s * efficiency
    steps = 2 * (devices - 1)
    times = []
    for (algorithm, protocol), factor in BUS_FACTOR.items():
        ratio = devices / steps if algorithm is Algorithm.RING else 0.5
        bandwidth = bus * factor * ratio
        latency_us = BASE_LATENCY_US[algorithm, protocol] + steps * NVLINK_HOP_LATENCY_US[algorithm, protocol]
        times.append(CollectiveTime(algorithm, protocol, latency_us * 1e-6 + extra_latency_s + nbytes / bandwidth))
    return tuple(times)


def allreduce_time(nbytes: int, devices: int, link_bytes_per_s: float, efficiency: float,
                   extra_latency_s: float) -> CollectiveTime:
    """The fastest (algorithm, protocol) for the all-reduce, as NCCL picks it, and its time."""
    return min(allreduce_candidates(nbytes, devices, link_bytes_per_s, efficiency, extra_latency_s),
               key=lambda t: t.seconds)
