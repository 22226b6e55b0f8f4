"""How a model's DRAM transfers are timed: at a bandwidth, or by a DRAM standard's controller.

A spec with an HBM/DRAM main memory offers ``<memory>_timing`` (:class:`MemoryTiming`)
and ``<memory>_standard`` (a DRAM preset of ``arch/dram/presets``):

* ``bandwidth`` (default): every transfer moves at the memory's peak bandwidth
  (its :class:`~arch.costs.Traffic` efficiency is 1), as before the option existed;
* ``dram``: each transfer carries the fraction of the peak that the standard's
  FR-FCFS controller attains on its access pattern (:mod:`arch.dram.access`):
  sequential for weights, activations and outputs, runs of one request-head's
  block for a KV cache. The memory's own bandwidth stays the peak; the standard
  supplies the fraction (row activates, bank conflicts, refresh), so a spec whose
  bandwidth differs from the preset's is derated by the preset's timing.

:func:`dram_traffic` builds the :class:`~arch.costs.Traffic` of one op over such a
memory: reads and writes in parts of their own patterns, combined into one
efficiency by total time (:func:`arch.dram.access.mixed_efficiency`).
"""

from __future__ import annotations

from enum import Enum

from arch.costs import Traffic
from arch.dram.access import SEQUENTIAL_WRITE, AccessPattern, mixed_efficiency, run_efficiency
from arch.dram.loading import list_presets
from arch.tech.errors import hint_clause


class MemoryTiming(str, Enum):
    """How transfers over a DRAM memory are timed; the value is the YAML name."""

    BANDWIDTH = "bandwidth"  # at the memory's peak bandwidth
    DRAM = "dram"            # at the fraction of the peak the DRAM standard's controller gives the pattern


def check_standard(standard: str | None, timing: MemoryTiming | None, timing_key: str) -> str | None:
    """``standard`` checked to name a DRAM preset, and present when ``timing`` is ``dram``
    (a ValueError saying what is expected otherwise; pydantic names the field)."""
    known = list_presets()
    if standard is None:
        if timing is MemoryTiming.DRAM:
            raise ValueError(f"{timing_key}: dram needs a DRAM standard to time transfers with; "
                             f"expected one of {', '.join(known)}")
        return None
    if standard not in known:
        raise ValueError(f"unknown DRAM standard {standard!r}{hint_clause(standard, known)} "
                         f"(known: {', '.join(known)})")
    return standard


def dram_traffic(memory: str, timing: MemoryTiming, standard: str | None,
                 reads: tuple[tuple[int, AccessPattern], ...], write_bytes: int,
                 write_pattern: AccessPattern = SEQUENTIAL_WRITE) -> tuple[Traffic, ...]:
    """One op's traffic over ``memory``: the ``(bytes, pattern)`` read parts and the writes, with the
    efficiency ``timing`` gives them (1.0 under ``bandwidth``)."""
    read_bytes = sum(nbytes for nbytes, _ in reads)
    if timing is not MemoryTiming.DRAM or read_bytes + write_bytes == 0:
        return (Traffic(memory, read_bytes, write_bytes),)
    parts = tuple((nbytes, run_efficiency(standard, pattern)) for nbytes, pattern in reads if nbytes)
    if write_bytes:
        parts += ((write_bytes, run_efficiency(standard, write_pattern)),)
    return (Traffic(memory, read_bytes, write_bytes, mixed_efficiency(parts)),)
