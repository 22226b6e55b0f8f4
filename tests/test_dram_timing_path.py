"""DRAM timing on the run path: ``dram_timing: bandwidth | dram`` on a systolic NPU's memory.

Under ``dram`` each transfer carries the fraction of the peak the DRAM preset's
FR-FCFS controller (arch/dram) attains on its access pattern; the figures are
taken from the controller in these tests, never typed in.
"""

from __future__ import annotations

import math

import pytest

from arch.contract import Memory
from arch.dram import load_preset, random_stream, schedule, sequential_stream
from arch.dram.access import (RUN_SEED, SEQUENTIAL_READ, SEQUENTIAL_RUN_BYTES, SEQUENTIAL_WRITE, STREAM_BYTES,
                              AccessPattern, mixed_efficiency, pattern_efficiency, random_read, run_efficiency)
from arch.logicpim.timing import stream_efficiency
from arch.memory_timing import MemoryTiming
from arch.registry import build
from arch.systolic.model import SystolicArray
from arch.systolic.spec import SystolicSpec
from mappers.schedule import Schedule, Task
from simulator.cli import main as cli_main
from simulator.engine import clear_simulation_cache, simulate
from simulator.experiment import parse_text
from simulator.run import run_experiment
from workloads.op import Op, OpKind, Operand

HBM_PRESETS = ("hbm2-neupims", "hbm3-6400")


def _spec(**changes) -> SystolicSpec:
    base = dict(rows=32, cols=32, cores=1, ifmap_sram_bytes=1 << 20, filter_sram_bytes=1 << 20,
                ofmap_sram_bytes=1 << 20, dram_bandwidth_bytes_per_s=1e11, dram_capacity_bytes=0)
    return SystolicSpec(**(base | changes))


def _dram(standard: str = "hbm2-neupims", **changes) -> SystolicArray:
    return SystolicArray(_spec(dram_timing="dram", dram_standard=standard, **changes))


def _gemv(n: int = 4096, k: int = 4096) -> Op:
    return Op("gemv", OpKind.GEMM, 1, n, k)


def _kv_gemm(kv_tokens: int, instances: int = 32, head_dim: int = 128) -> Op:
    """A decode attention score op: one 1 x head_dim by head_dim x kv_tokens GEMM per request-head."""
    return Op("score", OpKind.GEMM, 1, kv_tokens, head_dim, count=instances, b_operand=Operand.KV)


# -- the controller's figures --------------------------------------------------------------------
@pytest.mark.parametrize("preset", HBM_PRESETS)
@pytest.mark.parametrize("pattern", [SEQUENTIAL_READ, SEQUENTIAL_WRITE])
def test_streaming_attains_at_least_90_percent_of_peak(preset, pattern):
    spec = load_preset(preset)
    measured = schedule(spec, sequential_stream(spec, STREAM_BYTES, is_write=pattern.is_write)).fraction_of_peak
    assert pattern_efficiency(preset, pattern) == measured
    assert measured >= 0.90


@pytest.mark.parametrize("preset", HBM_PRESETS)
def test_random_reads_at_the_controllers_measured_rate(preset):
    spec = load_preset(preset)
    burst = spec.organisation.burst_bytes
    measured = schedule(spec, random_stream(spec, STREAM_BYTES // burst, seed=RUN_SEED)).fraction_of_peak
    assert run_efficiency(preset, random_read(spec)) == measured
    assert measured < 0.6 * pattern_efficiency(preset, SEQUENTIAL_READ)  # activates and bank conflicts cost


def test_logic_pim_derating_is_the_shared_sequential_figure():
    for preset in HBM_PRESETS:
        assert stream_efficiency(preset) == pattern_efficiency(preset, SEQUENTIAL_READ)


def test_long_runs_are_timed_as_the_sequential_stream():
    assert run_efficiency("hbm2-neupims", AccessPattern(SEQUENTIAL_RUN_BYTES)) == \
        pattern_efficiency("hbm2-neupims", SEQUENTIAL_READ)


def test_mixed_efficiency_adds_the_parts_times():
    # 100 B at 0.5 (200) + 300 B at 1.0 (300): 400 B in 500 -> 0.8
    assert mixed_efficiency(((100, 0.5), (300, 1.0))) == pytest.approx(0.8)
    assert mixed_efficiency(()) == 1.0


# -- on the run path -----------------------------------------------------------------------------
@pytest.mark.parametrize("preset", HBM_PRESETS)
def test_a_gemv_carries_the_mix_of_its_patterns(preset):
    op = _gemv()
    cost = _dram(preset).op_cost(op)
    (traffic,) = cost.traffic
    expected = mixed_efficiency(((traffic.read_bytes, pattern_efficiency(preset, SEQUENTIAL_READ)),
                                 (traffic.write_bytes, pattern_efficiency(preset, SEQUENTIAL_WRITE))))
    assert traffic.efficiency == expected
    assert traffic.efficiency >= 0.90


def test_kv_reads_are_runs_of_one_request_head():
    op = _kv_gemm(kv_tokens=1024)
    (traffic,) = _dram().op_cost(op).traffic
    run = AccessPattern(op.b_bytes // op.count)  # 1024 tokens x 128 x 2 B = 256 KiB per request-head
    a_bytes = traffic.read_bytes - op.b_bytes
    expected = mixed_efficiency(((a_bytes, pattern_efficiency("hbm2-neupims", SEQUENTIAL_READ)),
                                 (op.b_bytes, run_efficiency("hbm2-neupims", run)),
                                 (traffic.write_bytes, pattern_efficiency("hbm2-neupims", SEQUENTIAL_WRITE))))
    assert traffic.efficiency == expected


def _simulated_cycles(model: SystolicArray, op: Op) -> int:
    cost = model.op_cost(op)
    clear_simulation_cache()
    (event,) = simulate(Schedule((Task(op.name, op, cost.unit, 0, cost, ()),), model.units(), model.memories(),
                                 model.clock_hz))
    return event.end - event.start


def test_a_memory_bound_op_takes_its_bytes_over_the_derated_bandwidth():
    # 64 cores' worth of array on a thin memory: the GEMV's time is its transfers
    model = _dram(rows=128, cols=128, dram_bandwidth_bytes_per_s=1e10)
    op = _gemv()
    cost = model.op_cost(op)
    (traffic,) = cost.traffic
    memory = model.memories()[0]
    cycles = _simulated_cycles(model, op)
    assert cycles >= memory.transfer_cycles(traffic.total_bytes, traffic.efficiency)
    peak = _simulated_cycles(SystolicArray(_spec(rows=128, cols=128, dram_bandwidth_bytes_per_s=1e10)), op)
    assert cycles / peak == pytest.approx(1 / traffic.efficiency, rel=0.01)


def test_random_access_op_runs_at_the_random_rate():
    # a KV GEMM with one burst per request-head (head_dim 32 x 1 token x 2 B = 64 B): uniformly random reads
    spec = load_preset("hbm2-neupims")
    op = _kv_gemm(kv_tokens=1, instances=4096, head_dim=spec.organisation.burst_bytes // 2)
    (traffic,) = _dram().op_cost(op).traffic
    random = run_efficiency("hbm2-neupims", random_read(spec))
    b_time = op.b_bytes / random
    rest = traffic.total_bytes - op.b_bytes
    assert traffic.total_bytes / traffic.efficiency >= b_time + rest / 1.0
    assert traffic.total_bytes / traffic.efficiency <= b_time + rest / 0.9


@pytest.mark.parametrize("preset", HBM_PRESETS)
def test_more_kv_never_costs_less(preset):
    model = _dram(preset)
    memory: Memory = model.memories()[0]
    previous = 0
    # across grid points (powers of two) and the sequential cap, including their neighbours
    tokens = sorted({t for p in range(0, 13) for t in (2**p - 1, 2**p, 2**p + 1, 3 * 2**p) if t >= 1})
    for kv in tokens:
        (traffic,) = model.op_cost(_kv_gemm(kv, instances=8)).traffic
        cycles = memory.transfer_cycles(traffic.total_bytes, traffic.efficiency)
        assert cycles >= previous, f"kv {kv}"
        previous = cycles


def test_more_instances_and_wider_gemms_never_cost_less():
    model = _dram()
    for small, large in ((_kv_gemm(256, 8), _kv_gemm(256, 16)), (_gemv(1024), _gemv(2048)),
                         (_gemv(1024, 1024), _gemv(1024, 4096))):
        assert _simulated_cycles(model, large) >= _simulated_cycles(model, small)


# -- bandwidth: as before ------------------------------------------------------------------------
def test_bandwidth_timing_moves_at_the_peak():
    model = SystolicArray(_spec(dram_timing="bandwidth", dram_standard="hbm3-6400"))
    for op in (_gemv(), _kv_gemm(100), Op("sm", OpKind.SOFTMAX, 8, 1024)):
        (traffic,) = model.op_cost(op).traffic
        assert traffic.efficiency == 1.0
    assert model.op_cost(_gemv()) == SystolicArray(_spec()).op_cost(_gemv())
    assert SystolicArray(_spec()).notes() == model.notes()


EXPERIMENT = """\
name: t
seed: 0
workload: {{model: llama2-7b, phase: decode, batch: 4, seq_len: 256}}
systems:
  - name: npu
    arch: neupims-npu
    set: {{{set}}}
"""


def _run(setting: str):
    result = run_experiment(parse_text(EXPERIMENT.format(set=setting)))
    assert not result.failures
    return result.systems[0]


def test_bandwidth_timing_leaves_a_decode_step_unchanged_and_dram_timing_slows_it():
    default, bandwidth = _run(""), _run("dram_timing: bandwidth, dram_standard: hbm2-neupims")
    timed = _run("dram_timing: dram, dram_standard: hbm2-neupims")
    assert default.to_dict() == bandwidth.to_dict()
    assert all(op.dram_efficiency == 1.0 for op in default.ops if op.read_bytes + op.write_bytes)
    assert timed.cycles > default.cycles
    efficiencies = {op.dram_efficiency for op in timed.ops if op.read_bytes + op.write_bytes}
    spec = load_preset("hbm2-neupims")
    sequential = max(pattern_efficiency("hbm2-neupims", p) for p in (SEQUENTIAL_READ, SEQUENTIAL_WRITE))
    assert run_efficiency("hbm2-neupims", random_read(spec)) < min(efficiencies) <= max(efficiencies) <= sequential
    for op in timed.ops:  # achieved bandwidth: the op's DRAM bytes over its time, never above the peak
        assert op.dram_bandwidth_bytes_per_s == pytest.approx(
            (op.read_bytes + op.write_bytes) * timed.clock_hz / op.total_cycles)
        assert op.dram_bandwidth_bytes_per_s <= timed.memories["dram"]["bandwidth_bytes_per_s"] * (1 + 1e-9)
    assert any("hbm2-neupims FR-FCFS controller" in note for note in timed.notes)


# -- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize("setting, key, words", [
    ("dram_timing: drm", "systems.npu.set.dram_timing", "'bandwidth' or 'dram'"),
    ("dram_timing: dram", "dram_standard", "needs a DRAM standard"),
    ("dram_timing: dram, dram_standard: hbm3", "systems.npu.set.dram_standard", "did you mean 'hbm3-6400'"),
])
def test_validate_refuses_a_bad_timing_naming_the_key(tmp_path, capsys, setting, key, words):
    path = tmp_path / "bad.yaml"
    path.write_text(EXPERIMENT.format(set=setting))
    assert cli_main(["validate", str(path)]) != 0
    err = " ".join(capsys.readouterr().err.split())
    assert key in err and words in err


def test_the_option_round_trips_through_the_registry():
    model = build({"kind": "systolic", **_spec(dram_timing="dram", dram_standard="hbm3-6400").model_dump(mode="json")})
    assert model.spec.dram_timing is MemoryTiming.DRAM and model.spec.dram_standard == "hbm3-6400"
    assert math.isclose(model.op_cost(_gemv()).traffic[0].efficiency,
                        _dram("hbm3-6400").op_cost(_gemv()).traffic[0].efficiency)


@pytest.mark.parametrize("preset", ["tpuv4-like", "neupims-npu"])
def test_a_dram_timed_preset_passes_the_conformance_checker(preset):
    from arch.registry import preset_spec
    from simulator.conformance import check_accelerator

    spec = preset_spec(preset) | {"dram_timing": "dram", "dram_standard": "hbm2-neupims"}
    check_accelerator(build(spec))


def test_ops_csv_carries_each_ops_dram_efficiency_and_bandwidth(tmp_path):
    import csv
    import json

    path = tmp_path / "timed.yaml"
    path.write_text(EXPERIMENT.format(set="dram_timing: dram, dram_standard: hbm3-6400"))
    assert cli_main(["run", str(path), "--out", str(tmp_path / "out"), "--no-figures"]) == 0
    ops = json.loads((tmp_path / "out/t/results.json").read_text())["systems"]["npu"]["ops"]
    rows = list(csv.DictReader((tmp_path / "out/t/ops.csv").open()))
    assert len(rows) == len(ops)
    for row, op in zip(rows, ops):
        assert float(row["dram_efficiency"]) == pytest.approx(op["dram_efficiency"])
        assert float(row["dram_bandwidth_bytes_per_s"]) == pytest.approx(op["dram_bandwidth_bytes_per_s"])
    assert max(op["dram_efficiency"] for op in ops) <= pattern_efficiency("hbm3-6400", SEQUENTIAL_WRITE) + 1e-12
