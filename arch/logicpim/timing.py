"""The fraction of an HBM's peak bandwidth a streamed read attains, from the DRAM controller model.

What it models
--------------
Both of Duplex's paths read the same DRAM dies: the xPU through the logic die's
PHYs and the interposer, Logic-PIM through the TSVs to the logic die. Neither
moves data at the interface peak: rows must be activated and precharged, banks
refreshed, and the controller's queue bounds how far ahead it looks. This module
times a backlogged sequential read stream (the access pattern of a decode step's
weights and KV cache) with :mod:`arch.dram`'s per-channel FR-FCFS controller on
a DRAM preset (:func:`arch.dram.access.pattern_efficiency`) and returns bytes
moved over (cycles x peak bytes per cycle): the factor by which both paths are
derated, so that they are timed alike.

How faithful
------------
One stream long enough to span several refresh intervals
(``arch.dram.access.STREAM_BYTES``); the fraction is the controller's, for the
preset's address mapping and queue depth. Not captured: a pattern other than
sequential reads (writes, KV gathers), and the internal path's extra bank-group
parallelism and its power limit beyond the bandwidth multiple the spec already takes.
"""

from __future__ import annotations

from arch.dram.access import SEQUENTIAL_READ, STREAM_BYTES, pattern_efficiency

__all__ = ["STREAM_BYTES", "stream_efficiency"]


def stream_efficiency(dram_preset: str) -> float:
    """Fraction of ``dram_preset``'s peak bandwidth a backlogged sequential read stream attains."""
    return pattern_efficiency(dram_preset, SEQUENTIAL_READ)
