"""Running the FR-FCFS scheduler on a request batch, and what comes back.

:func:`schedule` groups requests by channel, runs the Numba kernel
(:mod:`arch.dram.kernel`) or its pure-Python twin (:mod:`arch.dram.twin`) and
returns a :class:`ScheduleResult`: finish cycle, per-request completion cycles,
command counts, row hits and misses, achieved bandwidth and, on request, the
issued command log.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from arch.dram.addressing import RequestBatch
from arch.dram.channels import schedule_kernel
from arch.dram.commands import HOST_COMMANDS, Command
from arch.dram.grouping import GroupedRequests, group_requests
from arch.dram.kernel import LOG_COLUMNS
from arch.dram.spec import DramSpec
from arch.dram.twin import run_twin


class Engine(Enum):
    """Which implementation runs the scheduler."""

    JIT = "jit"    # the Numba kernel
    TWIN = "twin"  # the pure-Python, cycle-stepping twin (tests, small inputs)


@dataclass(frozen=True, eq=False)
class CommandLog:
    """Issued commands as parallel int64 arrays, sorted by cycle (stable per channel).

    ``rank``/``bankgroup``/``bank`` are -1 where a command does not address them
    (REF: bank group and bank); ``row`` is the row opened (ACT), accessed (RD/WR)
    or closed (PRE), -1 for REF.
    """

    cycle: np.ndarray
    command: np.ndarray
    channel: np.ndarray
    rank: np.ndarray
    bankgroup: np.ndarray
    bank: np.ndarray
    row: np.ndarray

    @classmethod
    def from_rows(cls, rows: np.ndarray) -> "CommandLog":
        rows = np.asarray(rows, dtype=np.int64).reshape(-1, LOG_COLUMNS)
        rows = rows[np.argsort(rows[:, 0], kind="stable")]
        return cls(*(np.ascontiguousarray(rows[:, i]) for i in range(LOG_COLUMNS)))

    def __len__(self) -> int:
        return len(self.cycle)

    def entries(self) -> list[tuple[int, Command, int, int, int, int, int]]:
        """The log as tuples ``(cycle, command, channel, rank, bankgroup, bank, row)``."""
        return [(int(t), Command(int(c)), int(ch), int(r), int(g), int(b), int(row))
                for t, c, ch, r, g, b, row in zip(self.cycle, self.command, self.channel, self.rank,
                                                  self.bankgroup, self.bank, self.row)]


@dataclass(frozen=True, eq=False)
class ScheduleResult:
    """Outcome of scheduling one request batch.

    ``completion_cycle[i]`` is the cycle request i's last data beat moved (input
    order); ``finish_cycle`` is their maximum. A request is a row miss if an ACT
    was issued on its behalf (its row was closed, or another row was open), a row
    hit otherwise. ``command_counts`` includes refresh PREs and REFs.
    """

    finish_cycle: int
    completion_cycle: np.ndarray
    command_counts: dict[Command, int]
    row_hits: int
    row_misses: int
    bytes_moved: int
    clock_hz: float
    peak_bandwidth_bytes_per_s: float
    log: CommandLog | None = None

    @property
    def seconds(self) -> float:
        return self.finish_cycle / self.clock_hz

    @property
    def bandwidth_bytes_per_s(self) -> float:
        return self.bytes_moved / self.seconds if self.finish_cycle else 0.0

    @property
    def fraction_of_peak(self) -> float:
        return self.bandwidth_bytes_per_s / self.peak_bandwidth_bytes_per_s

    @property
    def commands(self) -> int:
        return sum(self.command_counts.values())


def run_kernel(spec: DramSpec, grouped: GroupedRequests, record_log: bool, dedupe: bool = True):
    """Call the Numba kernel; returns (completion, counts, needed_act, log rows) in grouped order.
    ``dedupe``: channels whose requests repeat an earlier channel's copy its schedule (:mod:`arch.dram.channels`)."""
    org, timing, tables = spec.organisation, spec.timing_cycles, spec.compiled
    return schedule_kernel(
        grouped.arrival, grouped.is_write, grouped.bank_id, grouped.row, grouped.channel_start,
        org.ranks_per_channel, org.bankgroups_per_rank, org.banks_per_bankgroup,
        tables.latency, tables.sibling_latency, tables.command_scope, tables.window_level,
        tables.window_preceding, tables.window_following, tables.window_latency, tables.window_count,
        spec.read_latency_cycles, spec.write_latency_cycles,
        np.array(spec.first_refresh_cycles(), dtype=np.int64), timing["tREFI"],
        spec.controller.queue_depth_requests, record_log, dedupe=dedupe)


def schedule(spec: DramSpec, requests: RequestBatch, *, record_log: bool = False,
             engine: Engine = Engine.JIT) -> ScheduleResult:
    """Schedule ``requests`` on ``spec``'s channels with FR-FCFS and open-page row buffers."""
    grouped = group_requests(spec, requests)
    if engine is Engine.JIT:
        completion, counts, needed_act, log_rows = run_kernel(spec, grouped, record_log)
    else:
        completion, counts, needed_act, log_rows = run_twin(spec, grouped, record_log)
    return _result(spec, grouped, completion, counts, needed_act, log_rows if record_log else None)


def _result(spec: DramSpec, grouped: GroupedRequests, completion, counts, needed_act, log_rows) -> ScheduleResult:
    per_request = np.empty_like(completion)
    per_request[grouped.order] = completion
    misses = int(np.count_nonzero(needed_act))
    org = spec.organisation
    return ScheduleResult(
        finish_cycle=int(completion.max()) if len(completion) else 0,
        completion_cycle=per_request,
        command_counts={c: int(counts[c]) for c in HOST_COMMANDS},
        row_hits=len(completion) - misses,
        row_misses=misses,
        bytes_moved=len(completion) * org.burst_bytes,
        clock_hz=org.clock_hz,
        peak_bandwidth_bytes_per_s=org.peak_bandwidth_bytes_per_s,
        log=None if log_rows is None else CommandLog.from_rows(log_rows),
    )
