"""Serving metrics: TTFT, TPOT, end-to-end latency, throughput and percentiles.

A :class:`ServingResult` holds what :func:`workloads.serving.simulate_serving`
recorded: per request the end of the iteration that emitted its first token and
of the one that emitted its last, and per iteration its start, latency, batch
size and KV positions attended. Everything else is derived from those.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
import numpy as np

from workloads.requests import RequestStream

PERCENTILES = (50, 90, 99)


@dataclass(frozen=True, eq=False)
class ServingResult:
    """Per-request times (seconds, indexed like the stream) and per-iteration records."""

    requests: RequestStream
    first_token_s: np.ndarray
    finish_s: np.ndarray
    iteration_start_s: np.ndarray
    iteration_latency_s: np.ndarray
    iteration_batch_size: np.ndarray
    iteration_kv_tokens: np.ndarray  # positions attended over, summed over the batch
    # streamed over all iterations (the arrays above may be empty: simulate_serving(keep_iterations=False))
    iterations: int | None = None
    max_batch_size: int | None = None
    max_kv_tokens: int | None = None

    @property
    def ttft_s(self) -> np.ndarray:
        """Time to first token: arrival to the end of the iteration finishing the prompt."""
        return self.first_token_s - self.requests.arrival_s

    @property
    def tpot_s(self) -> np.ndarray:
        """Time per output token after the first; NaN for one-token outputs."""
        steps = self.requests.output_tokens - 1
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(steps > 0, (self.finish_s - self.first_token_s) / steps, np.nan)

    @property
    def e2e_s(self) -> np.ndarray:
        return self.finish_s - self.requests.arrival_s

    @property
    def makespan_s(self) -> float:
        if not len(self.requests):
            return 0.0
        return float(self.finish_s.max() - self.requests.arrival_s.min())

    @property
    def output_tokens_per_s(self) -> float:
        span = self.makespan_s
        return float(self.requests.output_tokens.sum()) / span if span > 0 else 0.0

    @property
    def total_tokens_per_s(self) -> float:
        """Prompt and output tokens processed per second."""
        span = self.makespan_s
        total = self.requests.prompt_tokens.sum() + self.requests.output_tokens.sum()
        return float(total) / span if span > 0 else 0.0

    def percentiles(self) -> dict[str, dict[str, float]]:
        """p50/p90/p99 of TTFT, TPOT and end-to-end latency, in seconds."""
        return {name: _percentiles(values) for name, values in
                (("ttft_s", self.ttft_s), ("tpot_s", self.tpot_s), ("e2e_s", self.e2e_s))}

    def summary(self) -> dict[str, object]:
        """JSON-ready figures (NaN written as null)."""
        stats = {name: {k: _json_float(v) for k, v in p.items()}
                 for name, p in self.percentiles().items()}
        streamed = self.iterations is not None
        return {"requests": len(self.requests),
                "iterations": self.iterations if streamed else len(self.iteration_start_s),
                "makespan_s": self.makespan_s, "output_tokens_per_s": self.output_tokens_per_s,
                "total_tokens_per_s": self.total_tokens_per_s,
                "max_batch_size": self.max_batch_size if streamed else int(self.iteration_batch_size.max(initial=0)),
                "max_kv_tokens": self.max_kv_tokens if streamed else int(self.iteration_kv_tokens.max(initial=0)),
                **stats}


def _percentiles(values: np.ndarray) -> dict[str, float]:
    values = values[~np.isnan(values)]
    if not len(values):
        return {f"p{p}": math.nan for p in PERCENTILES}
    return {f"p{p}": float(v) for p, v in zip(PERCENTILES, np.percentile(values, PERCENTILES))}


def _json_float(value: float) -> float | None:
    return None if math.isnan(value) else value
