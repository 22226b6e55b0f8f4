"""Composed serving-iteration latency: op groups timed once per size, interpolated, summed.

The exact path (``serving.latency: exact``) simulates every distinct bucketed
iteration as a whole decoder layer. The composed path (``composed``; ``exact`` is the default)
times three op groups of :mod:`workloads.serving_groups` apart and adds them:

    latency = tokens(m) + decode_attention(n, kv) + sum over prefill chunks attention(q, kv)

with ``m`` the iteration's tokens, ``n`` its decodes at their mean KV length and
``(q, kv)`` each prefill chunk; KV lengths are bucketed as on the exact path
(``kv_bucket_tokens``). Each group is a function of one integer (``m``; ``n`` per
KV bucket; ``q`` per KV bucket) and is sampled lazily on an adaptive grid:

- the integers are cut into octaves ``[2^k, 2^(k+1)]``; an interval is used for
  linear interpolation only after its midpoint has been simulated and the line
  through its ends met the midpoint within ``tolerance`` (relative); otherwise it
  is halved, down to neighbouring integers (exact). The midpoint is then kept as
  an anchor, so each half is interpolated with a line checked over twice its span.
- This is an estimate, not a proof: a step narrower than a checked interval can
  hide between checks. A rigorous bound holds where the group's time never falls
  as its size grows (the conformance rule "more work never costs less"): the
  value lies between the interval's end values; :attr:`ComposedLatency.bracket`
  reports, over the trace, the widest sum of those end-value gaps in one
  iteration relative to that iteration's latency.
- Attention groups of one iteration (decode, each prefill chunk) overlap on the
  units in a whole-layer simulation (one's softmax on the vector unit under
  another's score GEMM). Each group keeps its ops' unit kinds and spans;
  :func:`replay_s` replays the groups together, each unit kind serving its ops
  first come first served, and the composed time is credited the difference
  between the groups' replays apart and together. The replay does not model
  memory contention between the overlapped ops.

Energy and MACs are composed with the same weights as the time (each anchor's
run contributes its weight). Token-wise ops and attention are serial at their boundary (``o_proj`` waits
for the attention; the attention waits for the projections), so adding them
loses only the per-core skew at the boundary.
``benchmarks/serving_scale.py`` measures the error on whole traces and per
iteration; :meth:`ComposedLatency.uninterpolated_s` separates the interpolation's
share of it from composing's (on Llama-2-7B on ``tpuv4-like`` the boundary, not
the grid, dominates: docs/workloads.md).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

import numpy as np

from workloads.serving import Batch
from workloads.serving_steps import bucket_batch


@dataclass(frozen=True)
class GroupRun:
    """What is kept of one simulated group: seconds, energy, MACs (not its ops)."""

    seconds: float
    energy_pj_by_category: dict
    energy_pj_by_component: dict
    macs: float
    ops: tuple[tuple[str, float], ...] = ()  # attention groups: (unit kind, seconds) per op, in order
    edges: tuple[tuple[int, int], ...] = ()  # dependencies between those ops, by index


def replay_s(groups: list[tuple[tuple[tuple[str, float], ...], tuple[tuple[int, int], ...]]]) -> float:
    """Makespan of independent op chains sharing unit kinds, each unit serving ops first come first served.

    Every op of a group holds its whole unit kind (all instances) for its
    duration; an op requests its unit when its dependencies are done, ties in
    order of the groups then ops, as the engine's tasks queue on a unit.
    """
    ops = [(unit, seconds) for group, _ in groups for unit, seconds in group]
    deps = [0] * len(ops)
    after: list[list[int]] = [[] for _ in ops]
    base = 0
    for group, edges in groups:
        for src, dst in edges:
            after[base + src].append(base + dst)
            deps[base + dst] += 1
        base += len(group)
    ready_s = [0.0] * len(ops)
    heap = [(0.0, i) for i in range(len(ops)) if not deps[i]]
    free_s: dict[str, float] = {}
    end_s = 0.0
    while heap:
        ready, i = heapq.heappop(heap)
        unit, seconds = ops[i]
        done = max(ready, free_s.get(unit, 0.0)) + seconds
        free_s[unit], end_s = done, max(end_s, done)
        for j in after[i]:
            ready_s[j] = max(ready_s[j], done)
            deps[j] -= 1
            if not deps[j]:
                heapq.heappush(heap, (ready_s[j], j))
    return end_s


class AdaptiveLine:
    """``f`` on the integers >= 1, sampled lazily and interpolated where checked linear."""

    def __init__(self, f: Callable[[int], float], tolerance: float) -> None:
        self.f, self.tolerance = f, tolerance
        self.values: dict[int, float] = {}
        self.linear: dict[tuple[int, int], bool] = {}  # checked interval -> linear within tolerance

    def value(self, x: int) -> float:
        if x not in self.values:
            self.values[x] = float(self.f(x))
        return self.values[x]

    def weights(self, x: int) -> tuple[tuple[int, float], ...]:
        """Anchors and their weights whose sum interpolates ``f(x)``."""
        lo = 1 << (x.bit_length() - 1)
        hi = lo * 2
        while True:
            if x in (lo, hi) or x in self.values:
                return ((x, 1.0),)
            mid = (lo + hi) // 2
            if hi - lo > 1 and not self._checked(lo, hi):
                lo, hi = (lo, mid) if x < mid else (mid, hi)
                continue
            a, b = (lo, mid) if x < mid else (mid, hi)
            self.value(a), self.value(b)
            w = (x - a) / (b - a)
            return ((a, 1.0 - w), (b, w))

    def _checked(self, lo: int, hi: int) -> bool:
        key = (lo, hi)
        if key not in self.linear:
            mid = (lo + hi) // 2
            line = self.value(lo) + (self.value(hi) - self.value(lo)) * (mid - lo) / (hi - lo)
            actual = self.value(mid)
            self.linear[key] = abs(line - actual) <= self.tolerance * max(actual, 1e-300)
        return self.linear[key]


def iteration_kind(batch: Batch) -> str:
    """``"decodes only"``, ``"one prompt"`` (one prefill chunk, no decodes) or ``"several attention groups"``."""
    prefills = int(np.count_nonzero(batch.is_prefill))
    if prefills + int(prefills < batch.size) > 1:
        return "several attention groups"
    return "one prompt" if prefills else "decodes only"


class ComposedLatency:
    """A ``latency_s(batch)`` for :func:`~workloads.serving.simulate_serving` composed from op groups.

    ``simulate(kind, size, kv)`` returns a :class:`GroupRun` for group ``kind``
    (``"tokens"``, ``"decode"``, ``"prefill"``). Per iteration only running sums
    (weights per simulated group) are kept, so memory grows with the number of
    distinct group sizes, not with the trace.
    """

    def __init__(self, simulate: Callable[[str, int, int], GroupRun], kv_bucket_tokens: int = 64,
                 tolerance: float = 1e-3, exact_s: Callable[[Batch], float] | None = None) -> None:
        self.simulate, self.kv_bucket_tokens, self.tolerance = simulate, kv_bucket_tokens, tolerance
        self.exact_s = exact_s  # if given, the first iteration of each kind is also timed exactly
        self.spot_checks: dict[str, tuple[float, float]] = {}  # kind -> (composed, exact) seconds
        self.runs: dict[tuple[str, int, int], GroupRun] = {}
        self.lines: dict[tuple[str, int], AdaptiveLine] = {}
        self.counts: defaultdict[tuple[str, int, int], float] = defaultdict(float)  # run -> total weight
        self.iterations = 0
        self._gap_s = 0.0  # this iteration's end-value gaps so far
        self.bracket = 0.0  # widest (end-value gap of the interpolations used) / iteration latency

    def _line(self, kind: str, kv: int) -> AdaptiveLine:
        key = (kind, kv)
        if key not in self.lines:
            self.lines[key] = AdaptiveLine(lambda x: self._run(kind, x, kv).seconds, self.tolerance)
        return self.lines[key]

    def _run(self, kind: str, size: int, kv: int) -> GroupRun:
        key = (kind, size, kv)
        if key not in self.runs:
            self.runs[key] = self.simulate(kind, size, kv)
        return self.runs[key]

    def _group(self, kind: str, size: int, kv: int, chains: list, interpolate: bool = True) -> float:
        seconds = 0.0
        durations: np.ndarray | None = None
        weights = self._line(kind, kv).weights(size) if interpolate else ((size, 1.0),)
        anchors = [(w, self._run(kind, x, kv), (kind, x, kv)) for x, w in weights if w]
        for w, run, key in anchors:
            seconds += w * run.seconds
            if interpolate:
                self.counts[key] += w
        if len(anchors) > 1:
            self._gap_s += abs(anchors[1][1].seconds - anchors[0][1].seconds)
        first = anchors[0][1]
        if first.ops and all(len(run.ops) == len(first.ops) for _, run, _ in anchors):
            durations = sum(w * np.array([s for _, s in run.ops]) for w, run, _ in anchors)
            chains.append((tuple((unit, float(s)) for (unit, _), s in zip(first.ops, durations)), first.edges))
        return seconds

    def __call__(self, batch: Batch) -> float:
        self.iterations += 1
        bucketed = bucket_batch(batch, self.kv_bucket_tokens)
        self._gap_s = 0.0
        seconds, groups = self._compose(bucketed, interpolate=True)
        if seconds > 0:
            self.bracket = max(self.bracket, self._gap_s / seconds)
        kind = iteration_kind(bucketed)
        if self.exact_s is not None and kind not in self.spot_checks:
            self.spot_checks[kind] = (seconds, float(self.exact_s(bucketed)))  # as the exact path times it
        return seconds

    def uninterpolated_s(self, batch: Batch) -> float:
        """``batch`` composed from groups simulated at their own sizes (no interpolation), for diagnosis.

        The difference to :meth:`__call__` is the interpolation's error; the
        difference to the whole-layer simulation is what composing itself loses
        (boundary skew, overlap the replay misjudges). Not counted in the totals.
        """
        return self._compose(bucket_batch(batch, self.kv_bucket_tokens), interpolate=False)[0]

    def _compose(self, bucketed: Batch, interpolate: bool) -> tuple[float, int]:
        decode, prefill = ~bucketed.is_prefill, bucketed.is_prefill
        chains: list = []
        seconds = self._group("tokens", bucketed.tokens, 0, [], interpolate)
        decodes = int(np.count_nonzero(decode))
        if decodes:
            seconds += self._group("decode", decodes, int(bucketed.kv_tokens[decode].max()), chains, interpolate)
        for q, kv in zip(bucketed.query_tokens[prefill].tolist(), bucketed.kv_tokens[prefill].tolist()):
            seconds += self._group("prefill", q, kv, chains, interpolate)
        if len(chains) > 1:  # attention groups overlap on the units: credit what the replay hides
            seconds -= sum(replay_s([chain]) for chain in chains) - replay_s(chains)
        return seconds, len(chains)

    def simulations(self) -> int:
        return len(self.runs)

    def totals(self) -> tuple[dict, dict, float]:
        """Energy by category, by component (pJ) and MACs summed over the trace's iterations."""
        by_category: defaultdict[str, float] = defaultdict(float)
        by_component: defaultdict[str, float] = defaultdict(float)
        macs = 0.0
        for key, weight in self.counts.items():
            run = self.runs[key]
            for name, pj in run.energy_pj_by_category.items():
                by_category[name] += weight * pj
            for name, pj in run.energy_pj_by_component.items():
                by_component[name] += weight * pj
            macs += weight * run.macs
        return dict(by_category), dict(by_component), macs
