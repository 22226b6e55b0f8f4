"""Composed serving latency (simulator/serving_compose.py) against the exact whole-layer path."""

import tracemalloc
from pathlib import Path

import pytest

from simulator.experiment import resolve_system
from simulator.run import run_system
from simulator.schema import WorkloadSpec
from simulator.serving_compose import AdaptiveLine, replay_s
from simulator.serving_run import _iteration, composed_latency, request_stream
from workloads.models import ModelConfig
from workloads.requests import LengthDist, poisson_requests
from workloads.serving import BatchLimits, simulate_serving
from workloads.serving_steps import cached_latency

MODEL = {"hidden_size": 512, "num_layers": 4, "num_heads": 8, "ffn_size": 1376, "vocab_size": 32000,
         "activation": "swiglu", "norm": "rmsnorm", "position": "rope", "max_positions": 4096}
# the composed path's stated per-iteration bounds (docs/workloads.md, simulator/serving_compose.py):
SINGLE_GROUP_BOUND = 0.003  # one attention group: interpolation tolerance 0.1 % + boundary skew
MULTI_GROUP_BOUND = 0.03  # several attention groups: the overlap replay ignores memory contention


def test_adaptive_line_is_exact_on_a_line_with_few_samples():
    calls = []
    line = AdaptiveLine(lambda x: calls.append(x) or 3.0 + 2.0 * x, tolerance=1e-9)
    for x in (5, 77, 300, 1000):
        assert sum(w * line.value(a) for a, w in line.weights(x)) == pytest.approx(3.0 + 2.0 * x)
    assert len(set(calls)) == len(calls) <= 4 * 3  # ends and midpoint of each octave used


def test_adaptive_line_refines_to_exact_across_a_step():
    step = lambda x: 10.0 if x <= 40 else 20.0  # noqa: E731
    line = AdaptiveLine(step, tolerance=1e-3)
    for x in (33, 40, 41, 63):
        assert sum(w * line.value(a) for a, w in line.weights(x)) == step(x)


def test_replay_overlaps_one_groups_vector_op_under_anothers_array_op():
    a = (("array", 2.0), ("vector", 3.0), ("array", 2.0))
    b = (("array", 1.0), ("vector", 4.0), ("array", 1.0))
    chain = ((0, 1), (1, 2))
    assert replay_s([(a, chain)]) == 7.0 and replay_s([(b, chain)]) == 6.0
    # array: a0 0-2, b0 2-3; vector: a1 2-5, b1 5-9; array: a2 5-7, b2 9-10
    assert replay_s([(a, chain), (b, chain)]) == 10.0


def test_composed_iterations_equal_exact_within_the_stated_bounds():
    spec = WorkloadSpec.model_validate({"model": MODEL, "phase": "serving", "serving": {
        "rate_per_s": 20000, "count": 12, "prompt": {"kind": "uniform", "low": 16, "high": 200},
        "output": {"kind": "uniform", "low": 2, "high": 8}, "max_batch": 16}})
    config = ModelConfig.model_validate({"name": "small", **MODEL})
    requests = request_stream(spec.serving, 3, Path("."))
    system = resolve_system("npu", "tpuv4-like", {}, [], Path("."))
    exact = cached_latency(lambda b: run_system(_iteration(spec, config, b), system)[0], 64)
    composed = composed_latency(spec, config, system, run_system)
    single, multi = [], []

    def both(batch):
        e, c = exact(batch), composed(batch)
        groups = int((~batch.is_prefill).any()) + int(batch.is_prefill.sum())
        (multi if groups > 1 else single).append(c / e - 1)
        return e
    simulate_serving(requests, both, BatchLimits(max_batch=16))
    assert len(single) >= 5 and len(multi) >= 2  # decode-only and one-prompt iterations, and mixed ones
    assert max(map(abs, single)) <= SINGLE_GROUP_BOUND, single
    assert max(map(abs, multi)) <= MULTI_GROUP_BOUND, multi


def test_streamed_serving_memory_does_not_grow_with_iterations():
    def peak_bytes(output_tokens: int, keep: bool) -> int:
        requests = poisson_requests(50.0, LengthDist.fixed(64), LengthDist.fixed(output_tokens), seed=0,
                                    count=200)
        tracemalloc.start()
        simulate_serving(requests, lambda batch: 1e-3 * batch.size, BatchLimits(max_batch=32),
                         keep_iterations=keep)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak
    kept_growth = peak_bytes(800, True) - peak_bytes(100, True)
    streamed_growth = peak_bytes(800, False) - peak_bytes(100, False)
    assert kept_growth > 500_000  # ~4,400 more iterations kept: the check can fail
    assert streamed_growth < kept_growth / 20


def test_a_serving_experiment_runs_composed_and_says_so(cli, write, tmp_path):
    import json
    text = f"""
name: serve
seed: 1
workload:
  model: {json.dumps(MODEL)}
  phase: serving
  serving:
    rate_per_s: 200
    count: 8
    prompt: {{kind: uniform, low: 16, high: 120}}
    output: {{kind: fixed, tokens: 4}}
    max_batch: 8
    latency: composed
systems:
  - {{name: npu, arch: tpuv4-like}}
"""
    code, _, err = cli("run", write(text, "composed.yaml"), "--out", tmp_path / "out")
    assert code == 0, err
    npu = json.loads((tmp_path / "out/serve/results.json").read_text())["systems"]["npu"]
    assert npu["serving"]["requests"] == 8 and npu["serving"]["iterations"] >= 4
    assert 0 < npu["serving"]["ttft_s"]["p50"] <= npu["serving"]["ttft_s"]["p99"]
    assert npu["energy_j"] > 0
    assert any("composed from" in note and "checked against the whole layer" in note for note in npu["notes"])
    assert not [w for w in npu["warnings"] if w.startswith("serving:")]


def test_composing_warns_where_a_system_overlaps_the_groups():
    """NeuPIMs interleaves decode sub-batches (attention on PIM under GEMMs on the NPU): the spot check bites."""
    from simulator.serving_run import run_serving_system
    spec = WorkloadSpec.model_validate({"model": MODEL, "phase": "serving", "serving": {
        "rate_per_s": 20000, "count": 4, "prompt": {"kind": "uniform", "low": 16, "high": 120},
        "output": {"kind": "fixed", "tokens": 3}, "max_batch": 8, "latency": "composed"}})
    config = ModelConfig.model_validate({"name": "small", **MODEL})
    system = resolve_system("pim", "neupims", {}, [], Path("."))
    result = run_serving_system(spec, config, request_stream(spec.serving, 3, Path(".")), system, run_system)
    assert [w for w in result.warnings if "use serving.latency: exact" in w]


def test_uninterpolated_composition_is_the_sum_of_groups_simulated_at_their_own_sizes():
    from workloads.serving_groups import _batch, decode_attention_group, token_group
    from simulator.serving_compose import iteration_kind
    spec = WorkloadSpec.model_validate({"model": MODEL, "phase": "serving", "serving": {
        "rate_per_s": 100, "count": 2, "prompt": {"kind": "fixed", "tokens": 16},
        "output": {"kind": "fixed", "tokens": 2}}})
    config = ModelConfig.model_validate({"name": "small", **MODEL})
    system = resolve_system("npu", "tpuv4-like", {}, [], Path("."))
    composed = composed_latency(spec, config, system, run_system)
    batch = _batch(37, 128)  # 37 is no octave end: the interpolated value uses other sizes' runs
    direct = (run_system(token_group(config, 37), system)[0].seconds
              + run_system(decode_attention_group(config, 37, 128), system)[0].seconds)
    assert composed.uninterpolated_s(batch) == pytest.approx(direct, rel=1e-12)
    assert not composed.counts  # a diagnosis, not part of the run's energy totals
    assert composed(batch) != direct and composed(batch) == pytest.approx(direct, rel=SINGLE_GROUP_BOUND)
    assert [iteration_kind(b) for b in (batch, _batch(0, 1, ((20, 20),)), _batch(3, 64, ((20, 20),)),
                                        _batch(0, 1, ((20, 20), (8, 64))))] == \
        ["decodes only", "one prompt", "several attention groups", "several attention groups"]
