"""A serving iteration as a layer workload: agrees with the uniform prefill/decode builders."""

import numpy as np
import pytest

from workloads.layers import build_decoder_layer
from workloads.models import load_model
from workloads.op import OpKind
from workloads.requests import LengthDist, poisson_requests
from workloads.serving import Batch, BatchLimits, simulate_serving
from workloads.serving_steps import bucket_batch, cached_latency, iteration_workload


def make_batch(prefill, decode):
    """``prefill``: (query, kv) pairs; ``decode``: kv lengths."""
    n_pre = len(prefill)
    return Batch(0, 0.0, np.arange(n_pre + len(decode)),
                 np.array([True] * n_pre + [False] * len(decode)),
                 np.array([q for q, _ in prefill] + [1] * len(decode), dtype=np.int64),
                 np.array([k for _, k in prefill] + list(decode), dtype=np.int64))


@pytest.mark.parametrize("model", ["llama2-7b", "mixtral-8x7b", "opt-6.7b"])
def test_all_decode_iteration_equals_the_decode_builder(model):
    config = load_model(model)
    w = iteration_workload(config, make_batch([], [513] * 8), weight_bits=4)
    reference = build_decoder_layer(config, "decode", batch=8, seq_len=512, weight_bits=4)
    assert w.total_flops == reference.total_flops
    assert w.total_min_bytes == reference.total_min_bytes
    assert (w.phase, w.tokens_per_step, w.repeat) == ("decode", 8, config.num_layers)


def test_single_prompt_iteration_equals_the_prefill_builder():
    config = load_model("llama3-8b")
    w = iteration_workload(config, make_batch([(300, 300)], []))
    reference = build_decoder_layer(config, "prefill", batch=1, seq_len=300)
    assert w.total_flops == reference.total_flops
    assert w.total_min_bytes == reference.total_min_bytes
    assert w.phase == "prefill"


def test_mixed_iteration_shapes():
    config = load_model("llama2-7b")
    batch = make_batch([(64, 64), (32, 96)], [100, 201, 300])
    w = iteration_workload(config, batch)
    assert w.phase == "mixed" and w.op("q_proj").m == 64 + 32 + 3
    score = w.op("decode_attn_score")
    assert (score.count, score.m, score.n) == (3 * 32, 1, 201)  # mean KV 200.33 -> 201
    chunk = w.op("prefill1_attn_score")
    assert (chunk.count, chunk.m, chunk.n, chunk.b_operand.value) == (32, 32, 96, "kv")
    assert w.op("prefill0_attn_score").b_operand.value == "activation"
    assert sorted(w.predecessors("o_proj")) == ["decode_attn_context", "prefill0_attn_context",
                                                "prefill1_attn_context"]
    sinks = [n for n in w.graph if w.graph.out_degree(n) == 0]
    assert sinks == ["ffn_residual"]


def test_tensor_parallel_iteration_has_allreduces():
    w = iteration_workload(load_model("llama2-70b"), make_batch([(16, 16)], [50]), tp=8)
    reduces = [op for op in w.ops if op.kind is OpKind.ALLREDUCE]
    assert [op.name for op in reduces] == ["attn_allreduce", "ffn_allreduce"]
    assert reduces[0].m == 17 and w.op("q_proj").n == 1024


def test_every_iteration_of_a_short_trace_builds():
    config = load_model("llama2-7b")
    requests = poisson_requests(20.0, LengthDist.uniform(8, 64), LengthDist.uniform(2, 16),
                                seed=0, count=30)
    flops = []
    simulate_serving(requests, lambda b: flops.append(iteration_workload(config, b).total_flops)
                     or 0.02, BatchLimits(max_batch=8, max_tokens_per_iter=64))
    assert len(flops) > 10 and min(flops) > 0


def test_bucketing_rounds_kv_up_and_shares_decode_means():
    bucketed = bucket_batch(make_batch([(10, 70)], [100, 130]), kv_bucket_tokens=64)
    assert bucketed.kv_tokens.tolist() == [128, 128, 128]
    assert bucketed.query_tokens.tolist() == [10, 1, 1]


def test_cached_latency_simulates_each_bucket_once():
    calls = []

    def seconds_of(batch):
        calls.append(batch)
        return 0.01 + 1e-6 * int(batch.kv_tokens.sum())
    latency = cached_latency(seconds_of, kv_bucket_tokens=256)
    requests = poisson_requests(5.0, LengthDist.fixed(100), LengthDist.fixed(50), seed=0, count=40)
    result = simulate_serving(requests, latency, BatchLimits(max_batch=8))
    assert len(calls) == len(latency.cache) < len(result.iteration_start_s) / 5
    assert sum(latency.counts.values()) == len(result.iteration_start_s)
    with pytest.raises(ValueError, match="kv_bucket_tokens must be >= 1"):
        bucket_batch(make_batch([], [5]), 0)


def test_cached_latency_keeps_whole_results():
    class Run:
        seconds, energy_j = 0.5, 2.0
    latency = cached_latency(lambda batch: Run(), kv_bucket_tokens=64)
    result = simulate_serving(poisson_requests(1.0, LengthDist.fixed(4), LengthDist.fixed(3),
                                               count=2), latency)
    assert result.iteration_latency_s.tolist() == [0.5] * len(result.iteration_start_s)
    energy_j = sum(n * latency.cache[key].energy_j for key, n in latency.counts.items())
    assert energy_j == 2.0 * len(result.iteration_start_s)
