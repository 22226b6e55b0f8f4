"""Per-op DRAM figures for the results: the efficiency its transfers were timed at, and the bandwidth it achieved.

* ``dram_efficiency``: the fraction of the DRAM memories' peak the op's transfers
  were given (its :class:`~arch.costs.Traffic` efficiencies, combined over its DRAM
  memories by time: total bytes over the sum of bytes / efficiency); 1.0 when they
  move at the peak (``timing: bandwidth``), ``None`` for an op that moves no DRAM
  bytes.
* ``dram_bandwidth_bytes_per_s``: the op's DRAM bytes over its whole time in the
  schedule (start to end, stalls and compute included), as a profiler reports a
  kernel's DRAM throughput; ``None`` without DRAM bytes.
"""

from __future__ import annotations

from typing import Iterable

from arch.costs import Memory, MemoryKind, OpCost, Traffic


def _dram_traffic(cost: OpCost, memories: Iterable[Memory]) -> tuple[Traffic, ...]:
    dram = {m.name for m in memories if m.kind is MemoryKind.DRAM}
    return tuple(t for t in cost.traffic if t.memory in dram and t.total_bytes)


def dram_efficiency(cost: OpCost, memories: Iterable[Memory]) -> float | None:
    traffic = _dram_traffic(cost, memories)
    if not traffic:
        return None
    return sum(t.total_bytes for t in traffic) / sum(t.total_bytes / t.efficiency for t in traffic)


def dram_bandwidth_bytes_per_s(cost: OpCost, memories: Iterable[Memory], cycles: int,
                               clock_hz: float) -> float | None:
    nbytes = sum(t.total_bytes for t in _dram_traffic(cost, memories))
    return nbytes * clock_hz / cycles if nbytes and cycles > 0 else None
