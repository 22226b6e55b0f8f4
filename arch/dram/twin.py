"""Pure-Python twin of the scheduler kernel, used in tests to check it.

Same policy as :mod:`arch.dram.kernel` (queue, FR-FCFS classes, refresh), written
the plain way: it steps one cycle at a time (skipping only cycles with an empty
queue and no refresh pending), keeps the recent issue cycles of every command at
every node, and asks the constraint table directly whether a command is legal,
instead of the kernel's precomputed "earliest next cycle" arrays and jumps. Equal
outputs from both mean the kernel's shortcuts change nothing.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass

import numpy as np

from arch.dram.commands import COMMAND_SCOPE, N_COMMANDS, Command, Level
from arch.dram.grouping import GroupedRequests
from arch.dram.spec import DramSpec

# Priority classes, best first.
REFRESH, ROW_HIT, OTHER = 0, 1, 2


class TimingHistory:
    """Recent issue cycles per (level, node, command); answers "earliest legal cycle"."""

    def __init__(self, spec: DramSpec):
        org = spec.organisation
        self.fanout = {Level.RANK: org.ranks_per_channel, Level.BANKGROUP: org.bankgroups_per_rank,
                       Level.BANK: org.banks_per_bankgroup}
        self.by_following = defaultdict(list)
        for c in spec.constraints:
            self.by_following[c.following].append(c)
        depth = max(c.window for c in spec.constraints)
        self.issued = defaultdict(lambda: deque(maxlen=depth))
        self.answers: dict[tuple, int] = {}  # valid until the next record()

    def earliest(self, command: Command, coords: tuple[int, ...]) -> int:
        """First cycle ``command`` at ``coords`` ((rank, bankgroup, bank) or (rank,)) is legal."""
        key = (command, coords)
        if key not in self.answers:
            self.answers[key] = self._earliest(command, coords)
        return self.answers[key]

    def _earliest(self, command: Command, coords: tuple[int, ...]) -> int:
        t = 0
        for c in self.by_following[command]:
            for node in self._nodes(c, coords):
                times = self.issued.get((c.level, node, c.preceding))
                if times is not None and len(times) >= c.window:
                    t = max(t, times[-c.window] + c.latency_cycles)
        return t

    def _nodes(self, c, coords):
        own = coords[:c.level]
        if not c.sibling:
            return (own,)
        return [own[:-1] + (j,) for j in range(self.fanout[c.level]) if j != own[-1]]

    def record(self, command: Command, coords: tuple[int, ...], t: int) -> None:
        self.answers.clear()
        for level in range(COMMAND_SCOPE[command] + 1):
            self.issued[(level, coords[:level], command)].append(t)


@dataclass
class _Request:
    index: int
    arrival: int
    is_write: bool
    coords: tuple[int, int, int]
    row: int


@dataclass
class _Candidate:
    priority: int
    command: Command
    coords: tuple[int, ...]
    request: _Request | None = None


class ChannelTwin:
    """One channel's controller, stepped cycle by cycle."""

    def __init__(self, spec: DramSpec, requests: list[_Request], channel: int, outputs):
        self.spec, self.channel, self.out = spec, channel, outputs
        self.org = spec.organisation
        self.timing = TimingHistory(spec)
        self.waiting = deque(requests)
        self.total = len(requests)
        self.queue: list[_Request] = []
        self.open_row: dict[tuple[int, int, int], int] = {}
        self.refresh_due = list(spec.first_refresh_cycles())
        self.refresh_pending = [False] * len(self.refresh_due)
        self.served = 0

    def run(self) -> None:
        t = 0
        while self.served < self.total:
            while self.served < self.total:
                self._admit(t)
                self._mark_refresh(t)
                choice = self._pick(t)
                if choice is None:
                    break
                self._issue(choice, t)
            t = self._next_cycle(t)

    def _admit(self, t: int) -> None:
        depth = self.spec.controller.queue_depth_requests
        while len(self.queue) < depth and self.waiting and self.waiting[0].arrival <= t:
            self.queue.append(self.waiting.popleft())

    def _mark_refresh(self, t: int) -> None:
        for rank, due in enumerate(self.refresh_due):
            if t >= due:
                self.refresh_pending[rank] = True

    def _next_cycle(self, t: int) -> int:
        if self.queue or any(self.refresh_pending):
            return t + 1
        events = list(self.refresh_due)
        if self.waiting:
            events.append(self.waiting[0].arrival)
        return max(t + 1, min(events, default=t + 1))

    def _candidates(self) -> list[_Candidate]:
        found = []
        for rank, pending in enumerate(self.refresh_pending):
            if pending:
                open_banks = sorted(b for b in self.open_row if b[0] == rank)
                found += [_Candidate(REFRESH, Command.PRE, b) for b in open_banks]
                if not open_banks:
                    found.append(_Candidate(REFRESH, Command.REF, (rank,)))
        for req in self.queue:
            if self.refresh_due and self.refresh_pending[req.coords[0]]:
                continue
            open_row = self.open_row.get(req.coords)
            if open_row == req.row:
                found.append(_Candidate(ROW_HIT, Command.WR if req.is_write else Command.RD, req.coords, req))
            elif open_row is None:
                found.append(_Candidate(OTHER, Command.ACT, req.coords, req))
            elif not any(q.coords == req.coords and q.row == open_row for q in self.queue):
                found.append(_Candidate(OTHER, Command.PRE, req.coords, req))
        return found

    def _pick(self, t: int) -> _Candidate | None:
        ready = [c for c in self._candidates() if self.timing.earliest(c.command, c.coords) <= t]
        return min(ready, key=lambda c: c.priority, default=None)

    def _issue(self, choice: _Candidate, t: int) -> None:
        command, coords, req = choice.command, choice.coords, choice.request
        self.timing.record(command, coords, t)
        self.out.counts[command] += 1
        row = -1
        if command is Command.REF:
            self.refresh_pending[coords[0]] = False
            self.refresh_due[coords[0]] += self.spec.timing_cycles["tREFI"]
        elif command is Command.PRE:
            row = self.open_row.pop(coords)
        elif command is Command.ACT:
            row = self.open_row[coords] = req.row
            self.out.needed_act[req.index] = True
        else:
            row = req.row
            latency = self.spec.write_latency_cycles if req.is_write else self.spec.read_latency_cycles
            self.out.completion[req.index] = t + latency
            self.queue.remove(req)
            self.served += 1
        if self.out.log is not None:
            bankgroup, bank = (coords[1], coords[2]) if len(coords) == 3 else (-1, -1)
            self.out.log.append((t, int(command), self.channel, coords[0], bankgroup, bank, row))


@dataclass
class _Outputs:
    completion: np.ndarray
    counts: np.ndarray
    needed_act: np.ndarray
    log: list | None


def _channel_requests(spec: DramSpec, grouped: GroupedRequests, channel: int) -> list[_Request]:
    org = spec.organisation
    per_rank = org.bankgroups_per_rank * org.banks_per_bankgroup
    lo, hi = grouped.channel_start[channel], grouped.channel_start[channel + 1]
    requests = []
    for i in range(lo, hi):
        bank_id = int(grouped.bank_id[i])
        coords = (bank_id // per_rank, bank_id % per_rank // org.banks_per_bankgroup,
                  bank_id % org.banks_per_bankgroup)
        requests.append(_Request(i, int(grouped.arrival[i]), bool(grouped.is_write[i]), coords,
                                 int(grouped.row[i])))
    return requests


def run_twin(spec: DramSpec, grouped: GroupedRequests, record_log: bool):
    """Same contract as :func:`arch.dram.scheduler.run_kernel`."""
    n = len(grouped.arrival)
    out = _Outputs(np.zeros(n, dtype=np.int64), np.zeros(N_COMMANDS, dtype=np.int64),
                   np.zeros(n, dtype=bool), [] if record_log else None)
    for channel in range(len(grouped.channel_start) - 1):
        ChannelTwin(spec, _channel_requests(spec, grouped, channel), channel, out).run()
    log = np.array(out.log if record_log else [], dtype=np.int64).reshape(-1, 7)
    return out.completion, out.counts, out.needed_act, log
