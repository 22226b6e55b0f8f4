"""Decode steps whose requests each have their own KV length (``workload.kv_lens``)."""

from __future__ import annotations

import math

import pytest

from simulator.errors import InputError
from simulator.experiment import parse_text
from simulator.run import run_experiment
from simulator.workload_spec import build_workload

BASE = """
name: kv
seed: {seed}
workload:
  model: {{hidden_size: 512, num_layers: 4, num_heads: 8, num_kv_heads: 2, ffn_size: 1376,
          vocab_size: 32000, activation: swiglu, norm: rmsnorm, position: rope, max_positions: 4096}}
  phase: decode
  batch: {batch}
{extra}
systems:
  - {{name: npu, arch: tpuv4-like}}
"""
SHAREGPT_LIKE = "  kv_lens: {kind: lognormal, median_tokens: 200, sigma: 1.0, low: 16, high: 2048}"


def load(extra: str, seed: int = 0, batch: int = 16):
    return parse_text(BASE.format(seed=seed, batch=batch, extra=extra))


def problems(extra: str, batch: int = 16) -> list[str]:
    with pytest.raises(InputError) as err:
        experiment = load(extra, batch=batch)
        build_workload(experiment.spec.workload)
    return [str(p) for p in err.value.problems]


def test_lengths_are_drawn_with_the_seed_and_recorded():
    first, again, other = load(SHAREGPT_LIKE), load(SHAREGPT_LIKE), load(SHAREGPT_LIKE, seed=1)
    lengths = first.spec.workload.kv_lens
    assert len(lengths) == 16 and all(16 <= n <= 2048 for n in lengths)
    assert lengths == again.spec.workload.kv_lens != other.spec.workload.kv_lens
    assert first.resolved()["workload"]["kv_lens"] == lengths
    assert build_workload(first.spec.workload) == build_workload(again.spec.workload)


def test_decode_attention_spans_the_mean_kv_length():
    experiment = load("  kv_lens: [100, 300, 601]", batch=3)
    workload = build_workload(experiment.spec.workload)
    score = workload.op("decode_attn_score")
    # 3 requests x 2 KV heads; each attends over its cached tokens plus the new one:
    # mean of (101, 301, 602) = 334.67, rounded up (workloads/serving_steps.py).
    assert (score.count, score.m, score.n) == (3 * 2, 4, math.ceil((101 + 301 + 602) / 3))
    assert dict(workload.meta)["kv_lens_max"] == 601 and workload.batch == 3


def test_equal_lengths_give_the_seq_len_step():
    fixed = build_workload(load("  kv_lens: {kind: fixed, tokens: 700}").spec.workload)
    uniform = build_workload(load("  seq_len: 700").spec.workload)
    assert fixed.total_flops == uniform.total_flops
    assert fixed.total_min_bytes == uniform.total_min_bytes


def test_longer_contexts_never_cost_fewer_cycles():
    short = run_experiment(load("  kv_lens: {kind: uniform, low: 100, high: 200}"))
    long = run_experiment(load("  kv_lens: {kind: uniform, low: 1000, high: 2000}"))
    assert long.systems[0].cycles > short.systems[0].cycles > 0


def test_kv_lens_and_seq_len_are_exclusive():
    [message] = problems(SHAREGPT_LIKE + "\n  seq_len: 512")
    assert message.startswith("workload.kv_lens: 'kv_lens' and 'seq_len' both set")
    assert "seq_len: 512" in message


def test_kv_lens_need_a_decode_step():
    text = BASE.format(seed=0, batch=4, extra=SHAREGPT_LIKE).replace("phase: decode", "phase: prefill")
    with pytest.raises(InputError) as err:
        parse_text(text)
    assert [str(p) for p in err.value.problems] == [
        "workload.kv_lens: per-request KV lengths need phase 'decode', got phase 'prefill'"]


def test_a_listed_length_per_request():
    [message] = problems("  kv_lens: [10, 20]", batch=3)
    assert message == "workload.kv_lens: lists 2 lengths but batch is 3: give one length per request"


def test_missing_distribution_parameters_are_named():
    [message] = problems("  kv_lens: {kind: fixed}")
    assert message == "workload.kv_lens: kind 'fixed' needs 'tokens'"
    [message] = problems("  kv_lens: {kind: lognormal, sigma: 1.0}")
    assert message.startswith("workload.kv_lens: kind 'lognormal' needs 'median_tokens'")
    [message] = problems("  kv_lens: {kind: uniform, low: 50, high: 10}")
    assert message.startswith("workload.kv_lens: uniform length needs low <= high")
