"""Continuous batching of request streams: determinism, limits, TTFT/TPOT accounting."""

import numpy as np
import pytest

from workloads.requests import LengthDist, RequestStream, poisson_requests
from workloads.serving import Batch, BatchLimits, simulate_serving


def linear_latency(batch: Batch) -> float:
    """A fixed analytic model: 10 ms per iteration plus 50 us per token run."""
    return 0.010 + 50e-6 * batch.tokens


def stream(rate=5.0, count=200, seed=0):
    return poisson_requests(rate, LengthDist.uniform(16, 256), LengthDist.lognormal(64, 0.5, high=512),
                            seed=seed, count=count)


def test_same_seed_same_result_different_seed_differs():
    a = simulate_serving(stream(seed=3), linear_latency)
    b = simulate_serving(stream(seed=3), linear_latency)
    c = simulate_serving(stream(seed=4), linear_latency)
    assert a.summary() == b.summary()
    assert np.array_equal(a.finish_s, b.finish_s)
    assert a.summary() != c.summary()


def test_hand_computed_two_requests():
    requests = RequestStream.from_rows([(0.0, 10, 3), (0.5, 4, 1)])
    result = simulate_serving(requests, lambda batch: 0.1)
    # Request 0: prefill 0-0.1 (first token), decodes 0.1-0.2 and 0.2-0.3.
    # Request 1 arrives at 0.5 after the server idles: prefill 0.5-0.6, done (1 token).
    assert result.first_token_s.tolist() == pytest.approx([0.1, 0.6])
    assert result.finish_s.tolist() == pytest.approx([0.3, 0.6])
    assert result.ttft_s.tolist() == pytest.approx([0.1, 0.1])
    assert result.tpot_s[0] == pytest.approx(0.1) and np.isnan(result.tpot_s[1])
    assert result.iteration_kv_tokens.tolist() == [10, 11, 12, 4]
    assert result.output_tokens_per_s == pytest.approx(4 / 0.6)


def test_ttft_covers_the_wait_and_the_prefill_iteration():
    requests = stream(rate=40.0)
    seen = {}

    def latency(batch):
        value = linear_latency(batch)
        for rid in batch.request_ids[batch.is_prefill]:
            seen.setdefault(int(rid), (batch.start_s, value))
        return value
    result = simulate_serving(requests, latency, BatchLimits(max_batch=8))
    for rid, (start_s, latency_s) in seen.items():
        wait_s = start_s - requests.arrival_s[rid]
        assert wait_s >= 0
        assert result.ttft_s[rid] >= wait_s + latency_s - 1e-12
    assert len(seen) == len(requests)


def test_higher_rate_never_lowers_p99_ttft():
    p99 = [simulate_serving(stream(rate=rate, count=300), linear_latency,
                            BatchLimits(max_batch=16, kv_capacity_tokens=8192))
           .percentiles()["ttft_s"]["p99"] for rate in (1, 4, 16, 64)]
    assert p99 == sorted(p99)
    assert p99[-1] > 5 * p99[0]


def test_kv_capacity_and_max_batch_are_respected():
    capacity = 3000
    limits = BatchLimits(max_batch=12, kv_capacity_tokens=capacity)
    requests = stream(rate=50.0)
    batches = []

    def latency(batch):
        batches.append(batch)
        return linear_latency(batch)
    result = simulate_serving(requests, latency, limits)
    prompt, output = requests.prompt_tokens, requests.output_tokens
    for batch in batches:
        assert batch.size <= 12
        reserved = int((prompt[batch.request_ids] + output[batch.request_ids]).sum())
        assert batch.kv_tokens.sum() <= reserved <= capacity
    assert result.iteration_kv_tokens.max() <= capacity
    assert np.all(np.isfinite(result.finish_s))


def test_chunked_prefill_respects_the_token_budget():
    limits = BatchLimits(max_batch=8, max_tokens_per_iter=64)
    requests = RequestStream.from_rows([(0.0, 100, 4), (0.0, 30, 4)])
    batches = []
    simulate_serving(requests, lambda b: batches.append(b) or 0.01, limits)
    assert all(b.tokens <= 64 for b in batches)
    first = batches[0].entries()
    assert first == [(0, "prefill", 64, 64)]  # request 1 waits for budget behind request 0
    assert batches[1].entries() == [(0, "prefill", 36, 100), (1, "prefill", 28, 28)]


def test_decode_entries_report_kv_positions():
    requests = RequestStream.from_rows([(0.0, 5, 3)])
    batches = []
    simulate_serving(requests, lambda b: batches.append(b) or 0.01)
    assert [b.entries() for b in batches] == [[(0, "prefill", 5, 5)], [(0, "decode", 1, 6)],
                                              [(0, "decode", 1, 7)]]


def test_request_larger_than_the_cache_is_an_error():
    requests = RequestStream.from_rows([(0.0, 900, 200)])
    with pytest.raises(ValueError, match="request 0 needs 1100 KV tokens"):
        simulate_serving(requests, linear_latency, BatchLimits(kv_capacity_tokens=1000))


@pytest.mark.parametrize("value", [float("nan"), -1.0, float("inf")])
def test_bad_latency_is_named(value):
    with pytest.raises(ValueError, match="iteration 0"):
        simulate_serving(RequestStream.from_rows([(0.0, 5, 3)]), lambda b: value)


@pytest.mark.parametrize("kwargs, message", [
    ({"max_batch": 0}, "max_batch must be a positive integer"),
    ({"kv_capacity_tokens": -5}, "kv_capacity_tokens must be a positive integer"),
    ({"max_batch": 16, "max_tokens_per_iter": 8}, "max_tokens_per_iter must be an integer >= max_batch"),
])
def test_bad_limits(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BatchLimits(**kwargs)


def test_empty_stream_gives_empty_result():
    result = simulate_serving(poisson_requests(1.0, LengthDist.fixed(4), LengthDist.fixed(4),
                                               count=0), linear_latency)
    assert result.summary()["requests"] == 0 and result.summary()["ttft_s"]["p50"] is None


def test_a_long_trace_reports_its_finished_requests_as_it_runs(monkeypatch):
    import workloads.serving as serving

    monkeypatch.setattr(serving, "PROGRESS_INTERVAL_S", 0.0)  # report at every clock check
    requests = stream(seed=5)
    seen = []
    result = simulate_serving(requests, linear_latency, on_progress=lambda done, total: seen.append((done, total)))
    total = len(requests.arrival_s)
    assert len(seen) == result.iterations // serving.PROGRESS_CHECK_ITERATIONS + 1
    assert seen[-1] == (total, total) and all(t == total for _, t in seen)
    done = [d for d, _ in seen]
    assert done == sorted(done) and 0 <= done[0] < total
    assert simulate_serving(requests, linear_latency).finish_s.tolist() == result.finish_s.tolist()
