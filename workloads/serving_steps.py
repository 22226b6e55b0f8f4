"""One serving iteration as a decoder-layer workload, for timing it on a system.

:func:`iteration_workload` turns a :class:`~workloads.serving.Batch` (requests in
prefill chunks and in decode, each with its own KV length, as continuous batching
mixes them) into one decoder layer's ops, ``repeat`` = ``num_layers``, so a system
model can time the iteration.

What is modelled, and how faithfully:

- Token-wise ops (norms, projections, RoPE, FFN or MoE, residuals) run once over
  all the iteration's tokens: ``m`` = prefill chunk tokens + one per decode.
- Decode attention is one batched op over the decode requests, each attending
  over the decode requests' mean KV length rounded up (``decode_attn_score`` ...):
  FLOPs and KV-cache bytes are exact to within one position per request.
- Each prefill chunk has its own attention ops (``prefill{id}_attn_score`` ...),
  ``query_tokens x kv_tokens`` per head; a chunk that follows earlier chunks
  reads their K/V from the cache (operand ``kv``), a whole prompt attends over
  its own K/V (operand ``activation``). The causal half is not subtracted, as in
  :func:`~workloads.layers.build_decoder_layer`.
- Quantisation and tensor parallelism are as in ``build_decoder_layer``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from workloads.errors import WorkloadError
from workloads.graph import Workload
from workloads.attention import AttentionAlgorithm
from workloads.layers import (Edges, _attention_choice, _bits, _layer_ops, _positive_int, _Step,
                              _with_allreduces, attention_core)
from workloads.models import ModelConfig
from workloads.op import Op, Operand, Phase
from workloads.parallel import shard_config
from workloads.quant import DEFAULT_GROUP_SIZE, DEFAULT_SCALE_BITS, WeightQuant
from workloads.serving import Batch


@dataclass(frozen=True)
class _IterationStep(_Step):
    """A step whose token count is the iteration's, not batch x query length."""

    iteration_tokens: int = 1

    @property
    def tokens(self) -> int:
        return self.iteration_tokens


def iteration_workload(config: ModelConfig, batch: Batch, weight_bits: float = 16,
                       act_bits: float = 16, kv_bits: float = 16, *,
                       weight_group_size: int | None = DEFAULT_GROUP_SIZE,
                       scale_bits: float = DEFAULT_SCALE_BITS, tp: int = 1,
                       attention: str | AttentionAlgorithm = AttentionAlgorithm.UNFUSED,
                       softmax_passes: int = 1, kv_splits: int | None = None) -> Workload:
    """One decoder layer of serving iteration ``batch``; ``repeat`` = ``num_layers``.

    ``attention``, ``softmax_passes`` and ``kv_splits`` choose the attention ops
    as in :func:`workloads.layers.build_decoder_layer`.
    """
    if batch.size < 1:
        raise WorkloadError(f"iteration {batch.index} has no requests")
    tp = _positive_int("tp", tp)
    quant = WeightQuant(_bits("weight_bits", weight_bits), weight_group_size, scale_bits)
    step = _IterationStep(shard_config(config, tp), Phase.ANY, batch.size, 1, weight_bits,
                          _bits("act_bits", act_bits), _bits("kv_bits", kv_bits), quant,
                          attention=_attention_choice(attention, softmax_passes, kv_splits),
                          softmax_passes=softmax_passes, kv_splits=kv_splits,
                          iteration_tokens=batch.tokens)
    ops, edges = _layer_ops(step, core=lambda s, sources: _mixed_core(s, sources, batch))
    if tp > 1:
        ops, edges = _with_allreduces(step, ops, edges, tp)
    return Workload(
        name=f"{config.name}-iteration{batch.index}", ops=tuple(ops), edges=tuple(edges),
        repeat=config.num_layers, phase=_phase(batch), batch=batch.size,
        tokens_per_step=batch.tokens,
        meta=(("model", config.name), ("iteration", batch.index),
              ("prefill_tokens", batch.prefill_tokens), ("decode_requests", batch.decode_requests),
              ("kv_tokens", int(batch.kv_tokens.sum())), ("weight_bits", weight_bits),
              ("act_bits", act_bits), ("kv_bits", kv_bits),
              ("weight_group_size", weight_group_size), ("scale_bits", scale_bits), ("tp", tp)))


def _mixed_core(step: _Step, sources: list[str], batch: Batch) -> tuple[list[Op], Edges]:
    ops: list[Op] = []
    edges: Edges = []
    decode_kv = batch.kv_tokens[~batch.is_prefill]
    if len(decode_kv):
        kv = math.ceil(float(decode_kv.sum()) / len(decode_kv))
        ops, edges = attention_core(step, "decode_", sources, len(decode_kv), 1, kv, Operand.KV)
    prefill = np.flatnonzero(batch.is_prefill)
    for rid, query, kv in zip(batch.request_ids[prefill].tolist(),
                              batch.query_tokens[prefill].tolist(), batch.kv_tokens[prefill].tolist()):
        operand = Operand.KV if kv > query else Operand.ACTIVATION
        more_ops, more_edges = attention_core(step, f"prefill{rid}_", sources, 1, query, kv, operand)
        ops, edges = ops + more_ops, edges + more_edges
    return ops, edges


def _phase(batch: Batch) -> str:
    if batch.decode_requests == batch.size:
        return Phase.DECODE.value
    return Phase.PREFILL.value if batch.decode_requests == 0 else "mixed"


def bucket_batch(batch: Batch, kv_bucket_tokens: int = 64) -> Batch:
    """``batch`` with KV lengths rounded up to a multiple of ``kv_bucket_tokens``.

    Decodes all take their mean KV length (rounded up, then to the bucket), which
    is what :func:`iteration_workload` times anyway; prefill chunks keep their
    query tokens and round their KV length up. Iterations that differ only within
    a bucket then share one workload and one simulated time.
    """
    if kv_bucket_tokens < 1:
        raise WorkloadError(f"kv_bucket_tokens must be >= 1, got {kv_bucket_tokens}")
    kv = -(-batch.kv_tokens // kv_bucket_tokens) * kv_bucket_tokens
    decode = ~batch.is_prefill
    if decode.any():
        mean = math.ceil(float(batch.kv_tokens[decode].sum()) / int(decode.sum()))
        kv[decode] = -(-mean // kv_bucket_tokens) * kv_bucket_tokens
    return Batch(batch.index, batch.start_s, batch.request_ids, batch.is_prefill,
                 batch.query_tokens, kv)


def cached_latency(seconds_of: Callable[[Batch], Any],
                   kv_bucket_tokens: int = 64) -> Callable[[Batch], float]:
    """A latency function for :func:`~workloads.serving.simulate_serving` that calls
    ``seconds_of`` (e.g. build :func:`iteration_workload`, simulate it on a system)
    once per distinct bucketed iteration and reuses the answer.

    ``seconds_of`` returns seconds, or any object with a ``seconds`` attribute (a
    run's result, kept whole). The returned function exposes ``cache`` (key to
    that value) and ``counts`` (key to the number of iterations it timed), so
    per-iteration totals such as energy are ``sum(counts[k] * cache[k].energy_j)``.
    """
    cache: dict[tuple, Any] = {}
    counts: Counter[tuple] = Counter()

    def latency_s(batch: Batch) -> float:
        bucketed = bucket_batch(batch, kv_bucket_tokens)
        decode = ~bucketed.is_prefill
        prefill = bucketed.is_prefill
        key = (int(decode.sum()), int(bucketed.kv_tokens[decode].max(initial=0)),
               tuple(zip(bucketed.query_tokens[prefill].tolist(),
                         bucketed.kv_tokens[prefill].tolist())))
        if key not in cache:
            cache[key] = seconds_of(bucketed)
        counts[key] += 1
        value = cache[key]
        return float(getattr(value, "seconds", value))
    latency_s.cache = cache  # type: ignore[attr-defined]  # exposed for totals and tests
    latency_s.counts = counts  # type: ignore[attr-defined]
    return latency_s
