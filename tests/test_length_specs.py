"""One converter from length specs to distributions: serving prompts and decode kv_lens agree."""

from pathlib import Path

import pytest

from simulator.errors import InputError
from simulator.schema import LengthSpec, ServingSpec
from simulator.serving_run import request_stream
from simulator.workload_spec import length_dist


@pytest.mark.parametrize("fields, message", [
    ({"kind": "lognormal", "sigma": 0.8}, "kind 'lognormal' needs 'median_tokens'"),
    ({"kind": "fixed"}, "kind 'fixed' needs 'tokens'"),
])
def test_a_missing_parameter_is_an_error_for_serving_and_for_kv_lens(fields, message):
    with pytest.raises(ValueError, match=message):
        length_dist(LengthSpec(**fields))  # the kv_lens path
    serving = ServingSpec(rate_per_s=1.0, count=4, prompt=LengthSpec(**fields))
    with pytest.raises(InputError, match=message):  # the serving path (it used to become 1-token requests)
        request_stream(serving, 0, Path("."))


def test_both_paths_draw_the_same_lengths():
    spec = LengthSpec(kind="lognormal", median_tokens=300, sigma=0.5, low=10, high=2000)
    stream = request_stream(ServingSpec(rate_per_s=1.0, count=64, prompt=spec), 0, Path("."))
    assert stream.prompt_tokens.min() >= 10 and stream.prompt_tokens.max() <= 2000
    assert 200 < float(sorted(stream.prompt_tokens)[32]) < 450  # the median is near 300
