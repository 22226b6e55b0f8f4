"""The fraction of a DRAM's peak bandwidth an access pattern attains, from the FR-FCFS controller.

What it models
--------------
A transfer of an op is a stream of bursts over the whole device. Its pattern
(:class:`AccessPattern`) is either *sequential* (consecutive addresses: weights,
activations, outputs) or *runs* of ``run_bytes`` contiguous bytes at unrelated,
run-aligned addresses (a request-head's KV block; runs of one burst are uniformly
random access). :func:`pattern_efficiency` schedules one backlogged stream of
that pattern, ``STREAM_BYTES`` long (several refresh intervals), with
:func:`arch.dram.schedule` on a DRAM preset and returns bytes moved over
(cycles x peak): row activates and precharges, bank conflicts, the four-activate
window, bus turnarounds and refresh as the controller sees them. Each (preset,
pattern) is scheduled once per process (``lru_cache``).

Runs of any length are timed through a grid: the time of one run, measured at
run lengths of ``burst_bytes x 2^j`` (and the sequential stream at
``SEQUENTIAL_RUN_BYTES`` and above), interpolated linearly in between, so that a
longer run never takes less time than a shorter one
(:func:`run_efficiency`).

How faithful
------------
The controller's steady-state rate on one pattern at a time, backlogged: no
interaction between the transfers of different ops (no bank or row-buffer state
carried from one op to the next, no refresh phase aligned to an op), no mix of
reads and writes inside one stream (an op's reads and writes are timed apart and
combined by :func:`mixed_efficiency`), and no ramp-up of a short transfer (a
memory's ``latency_cycles`` stands for the first access). Run starts are drawn
from a fixed seed (``RUN_SEED``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from arch.dram.addressing import requests_from_addresses, sequential_stream
from arch.dram.loading import load_preset
from arch.dram.scheduler import schedule
from arch.dram.spec import DramSpec

STREAM_BYTES = 16 << 20          # 16 MiB: about 20 us on one HBM3 stack, five refresh intervals (tREFI 3.9 us)
# Runs this long or longer are timed as the sequential stream: a 1 MiB run spans every bank of a rank in
# every channel (hbm2-neupims: 32 channels x 16 banks x 2 rows of 1 KiB), so its row hits are the stream's.
# The controller gives scattered 1 MiB runs slightly more than the sequential stream on a multi-rank preset
# (they use every rank, whose staggered refreshes then overlap; benchmarks/dram_timing_path.py prints both);
# the cap keeps the sequential figure and bounds the grid.
SEQUENTIAL_RUN_BYTES = 1 << 20
RUN_SEED = 0                     # the run starts' random addresses (any fixed seed: the result is deterministic)


@dataclass(frozen=True)
class AccessPattern:
    """How a transfer walks the address space: sequential, or runs of ``run_bytes`` at scattered addresses.

    ``run_bytes`` 0 means sequential; a run of one burst is uniformly random access.
    """

    run_bytes: int = 0
    is_write: bool = False

    def __post_init__(self) -> None:
        if self.run_bytes < 0:
            raise ValueError(f"run_bytes must be >= 0 (0: sequential), got {self.run_bytes}")

    @property
    def sequential(self) -> bool:
        return self.run_bytes == 0

    def describe(self) -> str:
        kind = "write" if self.is_write else "read"
        return f"sequential {kind}s" if self.sequential else f"{kind}s in {self.run_bytes} B runs"


SEQUENTIAL_READ = AccessPattern()
SEQUENTIAL_WRITE = AccessPattern(is_write=True)


def random_read(spec: DramSpec) -> AccessPattern:
    """Uniformly random reads of one burst each on ``spec``."""
    return AccessPattern(run_bytes=spec.organisation.burst_bytes)


def pattern_stream(spec: DramSpec, pattern: AccessPattern):
    """The backlogged request stream :func:`pattern_efficiency` schedules for ``pattern`` on ``spec``."""
    if pattern.sequential:
        return sequential_stream(spec, STREAM_BYTES, is_write=pattern.is_write)
    org = spec.organisation
    run = -(-pattern.run_bytes // org.burst_bytes) * org.burst_bytes
    runs = -(-STREAM_BYTES // run)
    starts = np.random.default_rng(RUN_SEED).integers(0, org.capacity_bytes // run, size=runs, dtype=np.int64)
    offsets = np.arange(0, run, org.burst_bytes, dtype=np.int64)
    addresses = (starts[:, None] * run + offsets[None, :]).ravel()
    return requests_from_addresses(spec, addresses, is_write=pattern.is_write)


@lru_cache(maxsize=256)
def pattern_efficiency(dram_preset: str, pattern: AccessPattern) -> float:
    """Fraction of ``dram_preset``'s peak bandwidth a backlogged stream of ``pattern`` attains."""
    spec = load_preset(dram_preset)
    return float(schedule(spec, pattern_stream(spec, pattern)).fraction_of_peak)


def _grid_run_bytes(spec: DramSpec, run_bytes: int) -> tuple[int, int]:
    """The grid points bracketing ``run_bytes``: powers of two times the burst, capped by the sequential run."""
    burst = spec.organisation.burst_bytes
    lo = burst
    while lo * 2 <= run_bytes and lo * 2 < SEQUENTIAL_RUN_BYTES:
        lo *= 2
    return lo, min(lo * 2, SEQUENTIAL_RUN_BYTES)


def _grid_efficiency(dram_preset: str, run_bytes: int, is_write: bool) -> float:
    run = 0 if run_bytes >= SEQUENTIAL_RUN_BYTES else run_bytes
    return pattern_efficiency(dram_preset, AccessPattern(run, is_write))


@lru_cache(maxsize=4096)
def run_efficiency(dram_preset: str, pattern: AccessPattern) -> float:
    """Fraction of the peak a stream of ``pattern`` attains, any run length.

    Sequential streams and runs of ``SEQUENTIAL_RUN_BYTES`` or more: the
    sequential stream's. Shorter runs: the time of one run (run bytes over the
    efficiency) interpolated linearly between the two grid points around it, the
    upper point's time raised to the lower's if the controller gave it less.
    """
    if pattern.sequential or pattern.run_bytes >= SEQUENTIAL_RUN_BYTES:
        return pattern_efficiency(dram_preset, AccessPattern(0, pattern.is_write))
    spec = load_preset(dram_preset)
    run = max(pattern.run_bytes, spec.organisation.burst_bytes)  # a shorter run still moves one burst
    lo, hi = _grid_run_bytes(spec, run)
    time_lo = lo / _grid_efficiency(dram_preset, lo, pattern.is_write)
    time = time_lo
    if run > lo:
        time_hi = max(hi / _grid_efficiency(dram_preset, hi, pattern.is_write), time_lo)
        time = time_lo + (run - lo) / (hi - lo) * (time_hi - time_lo)
    return min(1.0, pattern.run_bytes / time)


def mixed_efficiency(parts: tuple[tuple[int, float], ...]) -> float:
    """The efficiency of moving several parts ``(bytes, efficiency)`` one after another: total bytes over
    the sum of each part's bytes / efficiency (1.0 when nothing moves)."""
    total = sum(nbytes for nbytes, _ in parts)
    time = sum(nbytes / efficiency for nbytes, efficiency in parts if nbytes)
    return min(1.0, total / time) if total else 1.0
