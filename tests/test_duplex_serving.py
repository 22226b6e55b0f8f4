"""Duplex under a continuous-batching serving mix, and its reproduction claims."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator import api
from simulator.reproduce import duplex as repro
from simulator.reproduce.claims import Verdict
from workloads.yamlio import load_yaml_file

SERVING = Path(__file__).resolve().parent.parent / "experiments" / "duplex-serving.yaml"


def small_mix(count: int, systems=("xpu", "duplex")) -> dict:
    """The serving experiment, fewer and shorter requests, only the named systems."""
    raw = load_yaml_file(SERVING)
    raw["workload"]["serving"].update(count=count, output={"kind": "fixed", "tokens": 16},
                                      prompt={"kind": "fixed", "tokens": 128}, max_batch=8)
    raw["systems"] = [s for s in raw["systems"] if s["name"] in systems]
    raw["report"] = {"baseline": systems[0]}
    return raw


@pytest.fixture(scope="module")
def runs():
    return {count: {s.name: s for s in api.run(small_mix(count)).result.systems} for count in (4, 8)}


def test_serving_mix_completes_with_every_request(runs):
    for count, systems in runs.items():
        for system in systems.values():
            assert system.serving is not None
            assert system.seconds > 0 and system.tokens_per_s > 0
            # TTFT never after the request's end-to-end time
            assert system.serving["ttft_s"]["p50"] <= system.serving["e2e_s"]["p50"]


def test_duplex_beats_its_xpu_under_the_mix(runs):
    # Logic-PIM takes the memory-bound MoE and attention ops at 3x the external bandwidth
    for systems in runs.values():
        assert systems["duplex"].tokens_per_s > 1.2 * systems["xpu"].tokens_per_s


def test_more_requests_never_less_time(runs):
    for name in ("xpu", "duplex"):
        assert runs[8][name].seconds >= runs[4][name].seconds


def test_no_launch_overhead_h100_is_never_slower():
    systems = {s.name: s for s in api.run(small_mix(4, ("h100", "h100-nolaunch"))).result.systems}
    assert systems["h100-nolaunch"].seconds < systems["h100"].seconds


def test_decode_claims_quick_subset():
    claims = repro.decode()
    by_key = {c.key: c for c in claims}
    gain = by_key["decode_best/h100/gain"]
    assert gain.verdict is Verdict.PASS and gain.computed > 1.0
    # removing the launch overhead lowers the ratio (the H100 gets faster), never raises it
    assert by_key["decode_best/h100-nolaunch/up_to"].computed < by_key["decode_best/h100/up_to"].computed
    # every claim that misses has its reason; none fails
    assert all(c.verdict is not Verdict.FAIL for c in claims)
