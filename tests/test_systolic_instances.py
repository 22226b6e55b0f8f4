"""Ops of many same-shape GEMMs (decode attention): instances separate vs streamed.

``separate``: each instance pays its own fill and drain (the timing before
streaming existed); ``streamed``: the instances' folds form one pipelined chain,
one fill and drain per op part. Single GEMMs (``count = 1``) and SCALE-Sim fold
timing are unaffected (tests/test_systolic_kernel.py keeps the golden values).
"""

import pytest
from hypothesis import given, settings, strategies as st

from arch import registry
from arch.systolic.kernel import DATAFLOW_CODE, gemm_compute, gemm_kernel, gemm_kernel_py
from mappers.schedule import map_workload
from simulator.engine import simulate
from workloads.graph import Workload
from workloads.op import Op, OpKind, Operand

dims = st.integers(1, 3000)
sides = st.integers(1, 300)
counts = st.integers(1, 300)
dataflows = st.sampled_from(sorted(DATAFLOW_CODE))


def build(preset, **overrides):
    spec = registry.preset_spec(preset)
    spec.update(overrides)
    return registry.build(spec)


def simulated_cycles(accel, ops):
    return max(e.end for e in simulate(map_workload(Workload(name="w", ops=tuple(ops)), accel)))


def score_op(count, kv_positions=1025, head_dim=128):
    """Decode attention scores: one query row against the cached keys, per request and head."""
    return Op("attn_score", OpKind.GEMM, 1, kv_positions, head_dim, count=count, b_operand=Operand.KV)


def test_decode_score_instances_hand_computed():
    # q K^T of one head, 1025 cached positions, d = 128, on a 128 x 128 ws array:
    # S_row = k = 128 (1 row fold), S_col = n = 1025 (9 column folds), T = m = 1,
    # fill and drain 2*128 + 128 - 2 = 382, exchange = rows = 128.
    one = (9 - 1) * 128 + 1 + 382 - 1
    assert one == 1406
    for k in (1, 2, 7, 256):
        separate = gemm_compute(1, 1025, 128, 128, 128, "ws", "pipelined", k, "separate")
        streamed = gemm_compute(1, 1025, 128, 128, 128, "ws", "pipelined", k, "streamed")
        assert separate.compute_cycles == k * one
        # one chain of 9k folds: (9k - 1) x 128 + 1 + 382 - 1
        assert streamed.compute_cycles == (9 * k - 1) * 128 + 382
        assert (streamed.ifmap_sram_reads, streamed.filter_sram_reads, streamed.ofmap_sram_writes) == (
            separate.ifmap_sram_reads, separate.filter_sram_reads, separate.ofmap_sram_writes)
        assert streamed.filter_sram_reads == k * 128 * 1025
    assert gemm_compute(1, 1025, 128, 128, 128, "ws", "pipelined", 256, "streamed").compute_cycles == 295_166


def test_prefill_instances_hide_the_exchange_behind_the_stream():
    # 512 query rows per fold stream longer than the 128-cycle exchange: each extra
    # instance adds its folds x 512 cycles, one fill and drain for the whole chain.
    streamed = gemm_compute(512, 512, 128, 128, 128, "ws", "pipelined", 3, "streamed")
    assert streamed.compute_cycles == (3 * 4 - 1) * 512 + 512 + 382 - 1
    separate = gemm_compute(512, 512, 128, 128, 128, "ws", "pipelined", 3, "separate")
    assert separate.compute_cycles - streamed.compute_cycles == 2 * (382 - 1)


@settings(max_examples=300, deadline=None)
@given(dims, dims, dims, sides, sides, dataflows, counts)
def test_streamed_never_slower_than_separate_and_one_instance_is_unchanged(m, n, k, rows, cols, dataflow, count):
    args = (m, n, k, rows, cols, dataflow, "pipelined", count)
    streamed, separate = gemm_compute(*args, "streamed"), gemm_compute(*args, "separate")
    if rows == cols == 1 and dataflow == "os":
        # no fill or drain on one PE: SCALE-Sim's "- 1" (the last cycle's index, kernel docstring)
        # is taken once per instance when separate, once per chain when streamed
        assert streamed.compute_cycles == separate.compute_cycles + count - 1
    else:
        assert streamed.compute_cycles <= separate.compute_cycles
    assert separate.compute_cycles == count * gemm_compute(m, n, k, rows, cols, dataflow, "pipelined").compute_cycles
    # never faster than the array's MAC bound (every PE busy every cycle)
    assert streamed.compute_cycles >= count * m * n * k / (rows * cols) - 1
    if count == 1:
        assert streamed == separate
    # SCALE-Sim fold timing pays fill and drain per fold: instance timing changes nothing
    assert (gemm_compute(m, n, k, rows, cols, dataflow, "scalesim", count, "streamed")
            == gemm_compute(m, n, k, rows, cols, dataflow, "scalesim", count, "separate"))


@settings(max_examples=200, deadline=None)
@given(dims, dims, dims, sides, sides, dataflows, counts, st.integers(1, 50))
def test_streamed_more_instances_never_cost_fewer_cycles(m, n, k, rows, cols, dataflow, count, extra):
    base = gemm_compute(m, n, k, rows, cols, dataflow, "pipelined", count, "streamed")
    more = gemm_compute(m, n, k, rows, cols, dataflow, "pipelined", count + extra, "streamed")
    assert more.compute_cycles >= base.compute_cycles


@settings(max_examples=200, deadline=None)
@given(dims, dims, dims, sides, sides, st.sampled_from(sorted(DATAFLOW_CODE.values())), st.integers(0, 1), counts,
       st.integers(0, 1))
def test_jitted_kernel_equals_python_twin_with_instances(m, n, k, rows, cols, code, fold, count, instance_timing):
    args = (m, n, k, rows, cols, code, fold, count, instance_timing)
    assert gemm_kernel(*args) == gemm_kernel_py(*args)


@pytest.mark.parametrize("kernel", [gemm_kernel, gemm_kernel_py], ids=["jit", "py"])
def test_kernels_reject_unknown_instance_timing_code(kernel):
    with pytest.raises(ValueError, match="instance_timing_code"):
        kernel(4, 4, 4, 2, 2, 1, 1, 2, 2)


def test_unknown_instance_timing_is_rejected_with_its_name():
    with pytest.raises(ValueError, match="instance_timing"):
        gemm_compute(4, 4, 4, 2, 2, "ws", "pipelined", 2, "batched")
    with pytest.raises(ValueError, match="instance_timing"):
        build("tpuv4-like", instance_timing="batched")


@pytest.mark.parametrize("preset", ["tpuv4-like", "tpu7x-like", "neupims-npu"])
@pytest.mark.parametrize("count", [1, 8, 256, 1024])
def test_through_the_engine_streamed_between_bandwidth_bound_and_separate(preset, count):
    op = score_op(count)
    streamed, separate = build(preset), build(preset, instance_timing="separate")
    assert streamed.spec.instance_timing == "streamed"
    fast, slow = simulated_cycles(streamed, [op]), simulated_cycles(separate, [op])
    assert fast <= slow
    assert fast >= op.min_bytes / streamed.spec.dram_bytes_per_cycle  # never faster than the HBM allows
    assert fast >= streamed.roofline_cycles(op)


def test_instance_timing_changes_cycles_not_energy():
    op = score_op(256)
    streamed, separate = build("tpuv4-like"), build("tpuv4-like", instance_timing="separate")
    assert streamed.op_cost(op).actions == separate.op_cost(op).actions
    assert streamed.op_cost(op).traffic == separate.op_cost(op).traffic
    assert streamed.op_cost(op).compute_cycles < separate.op_cost(op).compute_cycles


def test_single_gemms_are_unaffected():
    for op in (Op("gemv", OpKind.GEMM, 1, 4096, 4096), Op("prefill", OpKind.GEMM, 512, 4096, 4096)):
        assert build("tpuv4-like").op_cost(op) == build("tpuv4-like", instance_timing="separate").op_cost(op)


def test_notes_name_the_instance_timing():
    assert any("instances streamed" in note for note in build("tpuv4-like").notes())
    assert any("own fill and drain" in note for note in build("tpuv4-like", instance_timing="separate").notes())
