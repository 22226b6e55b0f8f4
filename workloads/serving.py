"""Serving: continuous (iteration-level) batching of a request stream, and its metrics.

:func:`simulate_serving` runs the scheduling loop of an Orca / vLLM-style server
over a :class:`~workloads.requests.RequestStream`. Each iteration it

1. admits waiting requests that have arrived, first come first served, while the
   running set is below ``max_batch`` and the KV cache can hold them;
2. forms a :class:`Batch`: every running request whose prompt is done decodes one
   token; requests still in prefill run their remaining prompt (or, with a
   ``max_tokens_per_iter`` budget, chunks of it in admission order after the
   decodes are counted: chunked prefill);
3. asks ``latency_s(batch)`` how long the iteration takes and advances the clock;
4. the request whose prompt completes emits its first token at the end of that
   iteration; each decode emits one more; a request leaves when it has emitted
   ``output_tokens`` tokens, freeing its batch slot and KV space.

What is modelled, and how faithfully:

- KV capacity is reserved at admission for ``prompt + output`` tokens (Orca's
  reservation of the maximum length), so the cache never overflows and no request
  is ever preempted. vLLM allocates pages on demand and preempts on overflow,
  admitting more requests at the same capacity; that policy is not modelled.
- Admission is strictly FCFS: a request that does not fit blocks those behind it.
- The clock is the sum of iteration latencies; scheduling itself takes no time.
  When nothing runs, the clock jumps to the next arrival.

The loop is vectorised over the running requests with numpy, so a one-hour trace
at 10 requests/s forms its batches in seconds (``benchmarks/serving_trace_speed.py``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from workloads.errors import WorkloadError
from workloads.requests import RequestStream
from workloads.serving_metrics import ServingResult

__all__ = ["Batch", "BatchLimits", "ServingResult", "simulate_serving"]


@dataclass(frozen=True)
class BatchLimits:
    """What bounds a batch: running requests, KV-cache tokens, tokens per iteration."""

    max_batch: int = 256
    kv_capacity_tokens: int = 1 << 20
    max_tokens_per_iter: int | None = None  # chunked-prefill budget; None: whole prompts

    def __post_init__(self) -> None:
        for name in ("max_batch", "kv_capacity_tokens"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise WorkloadError(f"{name} must be a positive integer, got {value!r}")
        budget = self.max_tokens_per_iter
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int)
                                   or budget < self.max_batch):
            raise WorkloadError(f"max_tokens_per_iter must be an integer >= max_batch "
                             f"({self.max_batch}) so every decode fits, got {budget!r}")


@dataclass(frozen=True, eq=False)
class Batch:
    """One iteration: per request, its phase, tokens run now and KV positions attended.

    ``kv_tokens`` counts the positions each request attends over, this iteration's
    tokens included: ``prompt + generated`` for a decode (so a decode step of
    :func:`~workloads.layers.build_decoder_layer` has ``seq_len = kv_tokens - 1``),
    the prompt done so far for a prefill chunk.
    """

    index: int
    start_s: float
    request_ids: np.ndarray
    is_prefill: np.ndarray
    query_tokens: np.ndarray
    kv_tokens: np.ndarray

    @property
    def size(self) -> int:
        return len(self.request_ids)

    @property
    def tokens(self) -> int:
        return int(self.query_tokens.sum())

    @property
    def prefill_tokens(self) -> int:
        return int(self.query_tokens[self.is_prefill].sum())

    @property
    def decode_requests(self) -> int:
        return int(self.size - np.count_nonzero(self.is_prefill))

    def entries(self) -> list[tuple[int, str, int, int]]:
        """``(request_id, "prefill" | "decode", query_tokens, kv_tokens)`` per request."""
        phases = np.where(self.is_prefill, "prefill", "decode")
        return [(int(r), str(p), int(q), int(k)) for r, p, q, k in
                zip(self.request_ids, phases, self.query_tokens, self.kv_tokens)]


LatencyFn = Callable[[Batch], float]


PROGRESS_INTERVAL_S = 0.5      # how often a long trace reports its progress
PROGRESS_CHECK_ITERATIONS = 64  # iterations between looks at the clock


def simulate_serving(requests: RequestStream, latency_s: LatencyFn,
                     limits: BatchLimits = BatchLimits(), keep_iterations: bool = True,
                     on_progress: Callable[[int, int], None] | None = None) -> ServingResult:
    """Run continuous batching over ``requests``; ``latency_s(batch)`` times each iteration.

    With ``keep_iterations=False`` the per-iteration records are not kept (the
    result's ``iteration_*`` arrays are empty); their count and maxima are
    streamed, so memory grows with the requests, not with the iterations.
    ``on_progress(finished, total)`` is called about every
    :data:`PROGRESS_INTERVAL_S` of wall time with the requests finished so far, and
    once at the end.
    """
    too_big = np.flatnonzero(requests.prompt_tokens + requests.output_tokens
                             > limits.kv_capacity_tokens)
    if len(too_big):
        i = int(too_big[0])
        raise WorkloadError(f"request {i} needs {requests.prompt_tokens[i] + requests.output_tokens[i]} "
                         f"KV tokens, more than kv_capacity_tokens={limits.kv_capacity_tokens}")
    return _Loop(requests, limits, keep_iterations).run(latency_s, on_progress)


class _Loop:
    """The iteration loop's state: running requests as parallel arrays in admission order."""

    def __init__(self, requests: RequestStream, limits: BatchLimits, keep_iterations: bool = True) -> None:
        self.requests, self.limits, self.keep_iterations = requests, limits, keep_iterations
        self.iterations = self.max_batch_size = self.max_kv_tokens = 0
        self.arrival_s = requests.arrival_s.tolist()
        self.need_tokens = (requests.prompt_tokens + requests.output_tokens).tolist()
        self.first_token_s = np.full(len(requests), np.nan)
        self.finish_s = np.full(len(requests), np.nan)
        empty = np.zeros(0, dtype=np.int64)
        self.ids, self.prompt, self.output, self.done, self.generated = (empty,) * 5
        self.next_request, self.reserved_tokens, self.clock_s = 0, 0, 0.0
        self.prefilling = 0  # running requests whose prompt is not done
        self.records: list[tuple[float, float, int, int]] = []

    def run(self, latency_s: LatencyFn, on_progress: Callable[[int, int], None] | None = None) -> ServingResult:
        total = len(self.arrival_s)
        reported_at = time.monotonic()
        while self.next_request < total or len(self.ids):
            if not len(self.ids) and self.arrival_s[self.next_request] > self.clock_s:
                self.clock_s = self.arrival_s[self.next_request]
            self._admit()
            self._step(latency_s)
            if on_progress is not None and self.iterations % PROGRESS_CHECK_ITERATIONS == 0:
                if time.monotonic() - reported_at >= PROGRESS_INTERVAL_S:
                    on_progress(self.next_request - len(self.ids), total)
                    reported_at = time.monotonic()
        if on_progress is not None:
            on_progress(total, total)
        table = np.array(self.records, dtype=np.float64).reshape(-1, 4)
        sizes, kv = table[:, 2].astype(np.int64), table[:, 3].astype(np.int64)
        return ServingResult(self.requests, self.first_token_s, self.finish_s, table[:, 0],
                             table[:, 1], sizes, kv, iterations=self.iterations,
                             max_batch_size=self.max_batch_size, max_kv_tokens=self.max_kv_tokens)

    def _admit(self) -> None:
        first, i, room = self.next_request, self.next_request, self.limits.max_batch - len(self.ids)
        capacity = self.limits.kv_capacity_tokens
        while (i < len(self.arrival_s) and i - first < room and self.arrival_s[i] <= self.clock_s
               and self.reserved_tokens + self.need_tokens[i] <= capacity):
            self.reserved_tokens += self.need_tokens[i]
            i += 1
        if i == first:
            return
        new = np.arange(first, i)
        zeros = np.zeros(i - first, dtype=np.int64)
        self.ids = np.concatenate([self.ids, new])
        self.prompt = np.concatenate([self.prompt, self.requests.prompt_tokens[first:i]])
        self.output = np.concatenate([self.output, self.requests.output_tokens[first:i]])
        self.done = np.concatenate([self.done, zeros])
        self.generated = np.concatenate([self.generated, zeros])
        self.prefilling += i - first
        self.next_request = i

    def _chunks(self, prefill: np.ndarray) -> np.ndarray:
        """Prompt tokens each request runs now (0 for decodes)."""
        remaining = np.where(prefill, self.prompt - self.done, 0)
        budget = self.limits.max_tokens_per_iter
        if budget is None:
            return remaining
        left = budget - (len(prefill) - np.count_nonzero(prefill))
        before = np.cumsum(remaining) - remaining  # tokens granted to earlier admissions
        return np.clip(left - before, 0, remaining)

    def _step(self, latency_s: LatencyFn) -> None:
        if self.prefilling:
            prefill = self.done < self.prompt
            chunk = self._chunks(prefill)
            query = np.where(prefill, chunk, 1)
            kv = np.where(prefill, self.done + chunk, self.prompt + self.generated)
            runs = query > 0
            batch = Batch(self.iterations, self.clock_s, self.ids[runs], prefill[runs],
                          query[runs], kv[runs])
        else:  # decode only: the common case, without masks
            prefill = chunk = None
            batch = Batch(self.iterations, self.clock_s, self.ids,
                          np.zeros(len(self.ids), dtype=bool), np.ones(len(self.ids), np.int64),
                          self.prompt + self.generated)
        latency = float(latency_s(batch))
        if not (math.isfinite(latency) and latency >= 0):
            raise WorkloadError(f"latency_s returned {latency!r} for iteration {batch.index}; "
                             "expected a finite number of seconds >= 0")
        kv_tokens = int(batch.kv_tokens.sum())
        if self.keep_iterations:
            self.records.append((self.clock_s, latency, batch.size, kv_tokens))
        self.iterations += 1
        self.max_batch_size = max(self.max_batch_size, batch.size)
        self.max_kv_tokens = max(self.max_kv_tokens, kv_tokens)
        self.clock_s += latency
        if prefill is None:
            self.generated = self.generated + 1
        else:
            self._advance_prefill(prefill, chunk)
        self._retire()

    def _advance_prefill(self, prefill: np.ndarray, chunk: np.ndarray) -> None:
        self.done = self.done + chunk
        first = prefill & (self.done == self.prompt)
        self.first_token_s[self.ids[first]] = self.clock_s
        self.prefilling -= int(np.count_nonzero(first))
        self.generated = self.generated + (~prefill) + first

    def _retire(self) -> None:
        """Requests that emitted their last token leave, freeing their slot and KV space."""
        finished = self.generated >= self.output
        if finished.any():
            self.finish_s[self.ids[finished]] = self.clock_s
            self.reserved_tokens -= int((self.prompt[finished] + self.output[finished]).sum())
            keep = ~finished
            self.ids, self.prompt, self.output = self.ids[keep], self.prompt[keep], self.output[keep]
            self.done, self.generated = self.done[keep], self.generated[keep]
