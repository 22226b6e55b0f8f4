"""Request streams: Poisson arrivals, length distributions and CSV traces."""

import numpy as np
import pytest

from workloads.requests import LengthDist, RequestStream, poisson_requests, read_request_csv

FIXED = LengthDist.fixed(8)


def test_poisson_rate_and_gaps():
    requests = poisson_requests(10.0, FIXED, FIXED, seed=1, duration_s=1000)
    assert len(requests) == pytest.approx(10_000, rel=0.03)
    gaps = np.diff(requests.arrival_s)
    assert gaps.mean() == pytest.approx(0.1, rel=0.03)
    assert gaps.std() == pytest.approx(0.1, rel=0.05)  # exponential: std = mean
    assert requests.arrival_s[-1] <= 1000


def test_same_requests_at_every_rate_and_duration():
    lengths = LengthDist.uniform(1, 1000)
    slow = poisson_requests(1.0, lengths, lengths, seed=7, count=50)
    fast = poisson_requests(4.0, lengths, lengths, seed=7, count=50)
    assert np.allclose(slow.arrival_s, 4 * fast.arrival_s)
    assert np.array_equal(slow.prompt_tokens, fast.prompt_tokens)
    short = poisson_requests(2.0, lengths, lengths, seed=7, duration_s=10)
    long = poisson_requests(2.0, lengths, lengths, seed=7, duration_s=100)
    assert np.array_equal(short.arrival_s, long.arrival_s[:len(short)])
    assert poisson_requests(2.0, lengths, lengths, seed=7, count=50) == \
        poisson_requests(2.0, lengths, lengths, seed=7, count=50)


def test_length_distributions():
    rng = np.random.default_rng(0)
    uniform = LengthDist.uniform(10, 20).sample(rng, 10_000)
    assert uniform.min() == 10 and uniform.max() == 20
    lognormal = LengthDist.lognormal(200, 0.7, high=1000).sample(rng, 20_000)
    assert np.median(lognormal) == pytest.approx(200, rel=0.05)
    assert lognormal.min() >= 1 and lognormal.max() <= 1000
    assert LengthDist.fixed(5).sample(rng, 3).tolist() == [5, 5, 5]


@pytest.mark.parametrize("make, message", [
    (lambda: LengthDist.fixed(0), "fixed length must be >= 1"),
    (lambda: LengthDist.uniform(5, 2), "low <= high"),
    (lambda: LengthDist.lognormal(100, -1), "sigma >= 0"),
    (lambda: LengthDist("zipf"), "length kind must be one of"),
    (lambda: poisson_requests(0, FIXED, FIXED, count=1), "rate_per_s must be > 0"),
    (lambda: poisson_requests(1, FIXED, FIXED), "exactly one of count or duration_s"),
    (lambda: poisson_requests(1, FIXED, FIXED, count=-1), "count must be >= 0"),
])
def test_bad_stream_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_csv_with_header_comments_and_unsorted_rows(tmp_path):
    path = tmp_path / "trace.csv"
    path.write_text("arrival_s,prompt_tokens,output_tokens\n# a comment\n"
                    "0.5, 100, 20\n\n0.25,50,10\n0.5,7,7\n")
    requests = read_request_csv(path)
    assert requests.arrival_s.tolist() == [0.25, 0.5, 0.5]
    assert requests.prompt_tokens.tolist() == [50, 100, 7]  # ties keep file order
    assert requests.output_tokens.dtype == np.int64


def test_a_vidur_trace_replay_csv_reads_by_its_header(tmp_path):
    # microsoft/vidur data/processed_traces/*.csv: arrived_at (s), num_prefill_tokens, num_decode_tokens
    path = tmp_path / "vidur.csv"
    path.write_text("arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,4808,10\n0.052,3180,8\n")
    requests = read_request_csv(path)
    assert requests.arrival_s.tolist() == [0.0, 0.052]
    assert requests.prompt_tokens.tolist() == [4808, 3180] and requests.output_tokens.tolist() == [10, 8]


def test_a_header_finds_its_columns_in_any_order_and_ignores_the_others(tmp_path):
    path = tmp_path / "any.csv"
    path.write_text("id,output_tokens,Arrival_S,prompt_tokens\nr1,5,0.5,100\nr2,6,0.25,7\n")
    requests = read_request_csv(path)
    assert requests.arrival_s.tolist() == [0.25, 0.5] and requests.prompt_tokens.tolist() == [7, 100]
    assert requests.output_tokens.tolist() == [6, 5]
    path.write_text("arrival_s,prompt_tokens\n0,5\n")
    with pytest.raises(ValueError, match="line 1: the header has no column for output_tokens .names read: "
                                         "arrival_s or arrived_at; prompt_tokens or num_prefill_tokens"):
        read_request_csv(path)


def test_csv_malformed_rows_are_named_by_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("0.0,10,5\n1.0,-3,5\nx,1,1\n2.0,4\n3.0,4,2.5\n")
    with pytest.raises(ValueError) as error:
        read_request_csv(path)
    message = str(error.value)
    assert "line 2: prompt_tokens must be an integer >= 1, got '-3'" in message
    assert "line 3: arrival_s must be a number, got 'x'" in message
    assert "line 4: expected 3 values" in message
    assert "line 5: output_tokens must be an integer >= 1, got '2.5'" in message
    assert "line 1" not in message


def test_csv_missing_file_and_negative_arrival(tmp_path):
    with pytest.raises(FileNotFoundError, match="request trace not found"):
        read_request_csv(tmp_path / "none.csv")
    path = tmp_path / "neg.csv"
    path.write_text("-1,5,5\n")
    with pytest.raises(ValueError, match="line 1: arrival_s must be a finite number >= 0"):
        read_request_csv(path)


def test_stream_checks_its_arrays():
    with pytest.raises(ValueError, match="sorted by arrival_s"):
        RequestStream(np.array([1.0, 0.0]), np.array([1, 1]), np.array([1, 1]))
    with pytest.raises(ValueError, match="at least 1 prompt token"):
        RequestStream.from_rows([(0.0, 0, 1)])
