"""The GPU baseline (``kind: gpu``): calibration, roofline, launch, energy, capacity, errors.

Golden numbers: measured A100 GEMM latencies (LLMCompass, REFERENCE_DATA.md "A100
measured GEMM"), the presets' published peaks and bandwidths (REFERENCE_DATA.md
"GPUs"), FGDRAM's 3.59 pJ/bit HBM path and AttAcc's 1.3 pJ/bit NVLink.
"""

import csv
import dataclasses
import math

import pytest
from pydantic import ValidationError

from arch import registry
from arch.contract import CapacityError, resident_bytes
from arch.gpu.collective import allreduce_candidates
from arch.gpu.model import UnsupportedDtypeError
from benchmarks.gpu_calibration import errors, gemm, measured_points, modelled_seconds
from mappers.schedule import map_workload
from simulator.engine import simulate
from simulator.experiment import parse_text
from simulator.run import run_experiment
from workloads.graph import Workload
from workloads.op import Op, OpKind, Operand

CAL_TOLERANCE = 0.05  # every measured point within 5 % (benchmarks/gpu_calibration.py prints the errors)


def gpu(preset="a100-80gb", **changes):
    return registry.build({**registry.preset_spec(preset), **changes})


def simulated_cycles(accel, op):
    return max(e.end for e in simulate(map_workload(Workload("w", (op,)), accel)))


# -- calibration ---------------------------------------------------------------
def test_reference_points_within_tolerance():
    a100 = gpu()
    # REFERENCE_DATA.md: N = K = 12288, M = 128 -> 0.2003 ms, M = 1024 -> 1.199 ms
    for m, measured_ms in ((128, 0.2003), (1024, 1.199)):
        model_ms = modelled_seconds(a100, m, 12288, 12288) * 1e3
        assert abs(model_ms - measured_ms) / measured_ms <= CAL_TOLERANCE, (m, model_ms)


def test_every_measured_point_within_tolerance():
    points = measured_points()
    assert len(points) == 20
    errs = [abs(e) for e in errors(gpu(), points)]
    assert max(errs) <= CAL_TOLERANCE
    assert sum(errs) / len(errs) <= 0.025


@pytest.mark.parametrize("preset", ["a100-80gb", "h100-sxm"])
def test_bigger_gemm_is_never_faster(preset):
    accel = gpu(preset)
    for n, k in ((12288, 12288), (4096, 4096), (128, 8192)):
        times = [accel.op_seconds(gemm(m, n, k)) for m in range(1, 4200, 37)]
        assert all(b >= a for a, b in zip(times, times[1:])), (n, k)
    times = [accel.op_seconds(gemm(8192, d, d)) for d in range(16, 9000, 61)]
    assert all(b >= a for a, b in zip(times, times[1:]))


# -- roofline ------------------------------------------------------------------
def test_decode_gemv_is_memory_bound_at_bandwidth_times_efficiency():
    a100 = gpu()
    op = Op("gemv", OpKind.GEMM, 1, 8192, 8192)
    spec = a100.spec
    # reads at the read ceiling, the output written at the (lower) write ceiling
    stream_s = (op.a_bytes + op.b_bytes) / (2.039e12 * 0.92) + op.out_bytes / (2.039e12 * 0.77)
    assert a100.op_seconds(op) == pytest.approx(stream_s + spec.launch_overhead_s, rel=1e-4)
    cost = a100.op_cost(op)
    assert cost.read_bytes + cost.write_bytes == op.min_bytes
    # all the math hides under the stream: beyond the launch, compute_cycles carries only the
    # write ceiling's extra cycles over the engine's read-rate transfer of the output
    write_extra = (math.ceil(op.out_bytes / spec.write_bytes_per_cycle)
                   - math.ceil(op.out_bytes / spec.stream_bytes_per_cycle))
    assert cost.compute_cycles == spec.launch_cycles + write_extra


def test_big_gemm_is_compute_bound_near_the_ceiling():
    a100 = gpu()
    op = gemm(8192, 8192, 8192)
    seconds = a100.op_seconds(op) - a100.spec.launch_overhead_s
    achieved = op.flops / seconds
    assert achieved <= 312e12 * a100.spec.gemm_efficiency_max
    assert achieved >= 0.85 * 312e12
    assert op.min_bytes / (2.039e12 * a100.spec.memory_efficiency_max) < 0.1 * seconds


@pytest.mark.parametrize("op", [gemm(1, 4096, 4096), gemm(4096, 4096, 4096), gemm(77, 300, 129),
                                Op("sm", OpKind.SOFTMAX, 32, 4096)])
def test_engine_time_is_max_of_compute_and_stream_plus_launch(op):
    a100 = gpu()
    assert simulated_cycles(a100, op) == round(a100.op_seconds(op) * a100.spec.clock_hz)
    assert simulated_cycles(a100, op) >= a100.roofline_cycles(op)


def test_wave_quantisation_shows_in_the_time():
    a100 = gpu()  # 108 SMs: 96 tiles of 128 x 128 fit one wave, 97..108 still one wave
    one_wave = a100.op_seconds(gemm(1024, 1536, 8192))   # 8 x 12 = 96 tiles
    still_one = a100.op_seconds(gemm(1152, 1536, 8192))  # 9 x 12 = 108 tiles
    assert still_one == pytest.approx(one_wave, rel=0.01)


# -- launch overhead -------------------------------------------------------------
def test_launch_overhead_is_added_once_per_op():
    op = gemm(64, 64, 64)
    with_launch, without = gpu(), gpu(launch_overhead_s=0.0)
    delta = with_launch.op_seconds(op) - without.op_seconds(op)
    assert delta == pytest.approx(with_launch.spec.launch_overhead_s, abs=1 / 1.41e9)
    assert with_launch.spec.launch_overhead_s == 2e-6
    assert with_launch.op_seconds(op) >= 2e-6


# -- energy ----------------------------------------------------------------------
def test_sm_energy_per_busy_cycle_is_tdp_split():
    a100 = gpu()
    table = a100.component_table()
    hbm_w = 2.039e12 * 8 * 3.59e-12          # FGDRAM host path at full bandwidth
    expected = (400 - 50 - hbm_w) / (108 * 1.41e9) * 1e12
    assert table["sm"].energy_pj_per_action["busy_cycle"] == pytest.approx(expected, rel=1e-12)
    assert table["hbm"].energy_pj_per_action["read_bit"] == pytest.approx(3.59)
    assert table["nvlink"].energy_pj_per_action["transfer_bit"] == pytest.approx(1.3)
    assert table["board"].leakage_w == 50
    assert a100.area_mm2() == {"sm": 0.0, "hbm": 0.0, "board": 0.0, "die": pytest.approx(826.0), "nvlink": 0.0}


def test_energy_is_counts_times_table():
    a100 = gpu()
    op = gemm(512, 4096, 4096)
    counts = a100.op_cost(op).action_counts
    assert counts["sm.busy_cycle"] == math.ceil(op.macs / (312e12 / 2 / 1.41e9 / 108))
    assert counts["hbm.read_bit"] == 8 * (op.a_bytes + op.b_bytes)
    assert counts["hbm.write_bit"] == 8 * op.out_bytes
    table = a100.component_table()
    expected = sum(n * table[k.split(".")[0]].energy_pj_per_action[k.split(".")[1]] for k, n in counts.items())
    assert a100.energy(counts).total_pj == pytest.approx(expected, rel=1e-12)


def test_full_speed_gemm_draws_at_most_the_tdp():
    for preset, tdp in (("a100-80gb", 400), ("h100-sxm", 700)):
        accel = gpu(preset)
        op = gemm(8192, 8192, 8192)
        watts = accel.energy(accel.op_cost(op).action_counts).total_pj * 1e-12 / accel.op_seconds(op)
        assert 0.75 * tdp < watts + accel.leakage_w() <= tdp


# -- H100 vs A100 ------------------------------------------------------------------
@pytest.mark.parametrize("op", [gemm(1, 8192, 8192), gemm(4096, 4096, 4096), Op("n", OpKind.NORM, 64, 8192)])
def test_h100_is_faster_than_a100(op):
    assert gpu("h100-sxm").op_seconds(op) < gpu("a100-80gb").op_seconds(op)


def test_8bit_gemm_uses_the_8bit_peak_and_w4a16_the_16bit_one():
    a100 = gpu()
    big8 = Op("g8", OpKind.GEMM, 8192, 8192, 8192, a_bits=8, b_bits=8, out_bits=8)
    assert a100.math_dtype(big8) == "int8" and gpu("h100-sxm").math_dtype(big8) in ("fp8", "int8")
    assert a100.op_seconds(big8) < 0.6 * a100.op_seconds(gemm(8192, 8192, 8192))
    assert a100.math_dtype(dataclasses.replace(big8, a_bits=16, b_bits=4)) == "fp16"


# -- all-reduce --------------------------------------------------------------------
def test_allreduce_is_nccls_fastest_algorithm_over_one_nvlink_direction():
    a100 = gpu()
    op = Op("ar", OpKind.ALLREDUCE, 64, 8192, devices=4)
    sent = 2 * 3 * op.comm_bytes // 4
    assert a100.op_cost(op).read_bytes == sent  # the ring's bytes are the link's traffic and energy
    candidates = allreduce_candidates(op.comm_bytes, 4, 300e9, 0.74, 4.75e-6)
    best = min(c.seconds for c in candidates)
    assert a100.allreduce_choice(op).seconds == best
    assert a100.op_seconds(op) == pytest.approx(best + a100.spec.launch_overhead_s, abs=2 / 1.41e9)
    assert a100.energy(a100.op_cost(op).action_counts).total_pj == pytest.approx(8 * sent * 1.3)
    assert not gpu(nvlink_bandwidth_bytes_per_s=0.0).supports(op)


def test_big_allreduce_is_a_ring_at_the_fitted_bus_bandwidth_plus_nccls_latency():
    a100 = gpu()
    op = Op("ar", OpKind.ALLREDUCE, 8192, 12288, devices=4)  # 201 MB per device
    choice = a100.allreduce_choice(op)
    assert (choice.algorithm.value, choice.protocol.value) == ("ring", "simple")
    # NCCL tuning.cc: ring/Simple base 8.4 us + 2 (p - 1) x 3.4 us per NVLink step; algorithm
    # bandwidth = bus x p / (2 (p - 1)); bus = 300 GB/s x 0.74 (fitted)
    expected = (8.4 + 6 * 3.4) * 1e-6 + 4.75e-6 + op.comm_bytes / (300e9 * 0.74 * 4 / 6)
    assert choice.seconds == pytest.approx(expected, rel=1e-12)


# -- capacity ----------------------------------------------------------------------
def test_weights_and_kv_beyond_hbm_are_a_clear_error():
    text = """
name: cap
workload: {model: llama2-70b, phase: decode, batch: 8, seq_len: 1024}
systems:
  - {name: a100, arch: a100-80gb}
"""
    result = run_experiment(parse_text(text))
    assert not result.systems
    (failure,) = result.failures
    assert "hbm_capacity_bytes" in failure.message and "80.00 GB" in failure.message


def test_resident_bytes_count_weights_and_kv_once_per_layer():
    ops = (Op("w", OpKind.GEMM, 8, 4096, 4096), Op("kv", OpKind.GEMM, 1, 1024, 128, count=32, b_operand=Operand.KV),
           Op("act", OpKind.GEMM, 8, 64, 64, b_operand=Operand.ACTIVATION), Op("n", OpKind.NORM, 8, 4096))
    workload = Workload("w", ops, repeat=3)
    assert resident_bytes(workload) == 3 * (4096 * 4096 * 2 + 32 * 128 * 1024 * 2)
    gpu(hbm_capacity_bytes=resident_bytes(workload)).check_workload(workload)
    with pytest.raises(CapacityError, match="hbm_capacity_bytes"):
        gpu(hbm_capacity_bytes=resident_bytes(workload) - 1).check_workload(workload)


# -- bad input ---------------------------------------------------------------------
def test_negative_bandwidth_names_the_key():
    with pytest.raises(ValidationError) as info:
        gpu(hbm_bandwidth_bytes_per_s=-1.0)
    assert info.value.errors()[0]["loc"] == ("hbm_bandwidth_bytes_per_s",)


def test_unknown_dtype_key_is_rejected_by_name():
    with pytest.raises(ValidationError) as info:
        gpu(peak_fp4_flops_per_s=1e15)
    assert info.value.errors()[0]["loc"] == ("peak_fp4_flops_per_s",)


def test_op_wider_than_every_peak_names_the_fields():
    with pytest.raises(UnsupportedDtypeError, match="peak_"):
        gpu(peak_fp32_flops_per_s=0.0).op_cost(Op("g", OpKind.GEMM, 8, 8, 8, a_bits=32, b_bits=32))


def test_idle_power_must_be_below_tdp():
    with pytest.raises(ValidationError, match="idle_power_w"):
        gpu(idle_power_w=400.0)


# -- end to end --------------------------------------------------------------------
def test_a100_runs_end_to_end_through_the_cli(cli, write, tmp_path):
    path = write("""
        name: gpu-e2e
        workload: {model: llama2-7b, phase: decode, batch: 8, seq_len: 1024}
        systems:
          - {name: a100, arch: a100-80gb}
          - {name: h100, arch: h100-sxm}
        """)
    code, out, err = cli("run", path, "--out", tmp_path / "out")
    assert code == 0, err
    rows = {row["system"]: row for row in csv.DictReader(open(tmp_path / "out" / "gpu-e2e" / "summary.csv"))}
    a100_ms, h100_ms = (1e3 * float(rows[name]["seconds"]) for name in ("a100", "h100"))
    # Llama-2-7B decode streams ~13.5 GB of weights per step: at least 13.5e9 / 2.039e12 = 6.6 ms on an A100
    assert 6.6 < a100_ms < 15 and h100_ms < a100_ms
