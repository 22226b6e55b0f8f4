"""System-level accounting: energy is the sum of per-op counts x table plus leakage x time."""

import pytest

from simulator.experiment import parse_text
from simulator.run import run_experiment
from tests.conftest import SMALL_EXPERIMENT

QUICK_DECODE = """
name: acct
workload: {model: llama2-7b, phase: decode, batch: 4, seq_len: 256}
systems:
  - {name: npu, arch: tpuv4-like}
"""


@pytest.fixture(scope="module")
def decode():
    return run_experiment(parse_text(QUICK_DECODE)).system("npu")


def test_system_energy_is_ops_times_repeat_plus_static(decode):
    dynamic_pj = sum(op.energy_pj for op in decode.ops) * decode.repeat
    static_pj = decode.energy_pj_by_category["static"]
    assert decode.energy_j == pytest.approx((dynamic_pj + static_pj) * 1e-12, rel=1e-9)


def test_op_breakdown_sums_to_op_energy(decode):
    for op in decode.ops:
        assert sum(op.energy_pj_by_category.values()) == pytest.approx(op.energy_pj, rel=1e-12)
        assert op.energy_pj_by_category["compute"] >= 0 and op.energy_pj_by_category["dram"] > 0


def test_static_energy_is_leakage_times_time(decode):
    from arch import registry

    accel = registry.build(registry.preset_spec("tpuv4-like"))
    assert decode.energy_pj_by_category["static"] == pytest.approx(accel.leakage_w() * decode.seconds * 1e12)


def test_component_breakdown_matches_category_breakdown(decode):
    dynamic = sum(v for k, v in decode.energy_pj_by_category.items() if k != "static")
    assert sum(decode.energy_pj_by_component.values()) == pytest.approx(dynamic, rel=1e-12)


def test_derived_figures(decode):
    assert decode.tops_per_w == pytest.approx(2 * decode.macs / decode.energy_j / 1e12)
    assert decode.tops_per_mm2 == pytest.approx(decode.achieved_tops / decode.area_mm2)
    assert decode.energy_per_token_j == pytest.approx(decode.energy_j / 4)


def test_a_decode_step_is_dominated_by_dram_energy(decode):
    # A batch-4 decode reads every weight once per step: DRAM energy exceeds MAC energy.
    assert decode.energy_pj_by_category["dram"] > decode.energy_pj_by_category["compute"]


def test_small_experiment_energy_grows_with_work():
    small = run_experiment(parse_text(SMALL_EXPERIMENT)).system("small")
    bigger = run_experiment(parse_text(SMALL_EXPERIMENT.replace("M: 64, N: 64, K: 64", "M: 128, N: 64, K: 64")))
    assert bigger.system("small").energy_j > small.energy_j
