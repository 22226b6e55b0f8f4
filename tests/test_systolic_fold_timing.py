"""Pipelined fold timing: weight preload overlapped with streaming (decode GEMVs become memory-bound).

The SCALE-Sim timing stays the default and keeps its golden values
(tests/test_systolic_kernel.py); these tests check the pipelined mode against
its formula, against the SCALE-Sim timing, and through the engine.
"""

import pytest
from hypothesis import given, settings, strategies as st

from arch import registry
from arch.systolic.kernel import DATAFLOW_CODE, gemm_compute
from arch.systolic.model import SystolicArray
from mappers.schedule import map_workload
from simulator.engine import simulate
from workloads.graph import Workload
from workloads.op import Op, OpKind

dims = st.integers(1, 5000)
sides = st.integers(1, 300)
dataflows = st.sampled_from(sorted(DATAFLOW_CODE))


def neupims(**overrides):
    spec = registry.preset_spec("neupims-npu")
    spec.update(overrides)
    return registry.build(spec)


def simulated_cycles(accel, ops):
    return max(e.end for e in simulate(map_workload(Workload(name="w", ops=tuple(ops)), accel)))


@settings(max_examples=300, deadline=None)
@given(dims, dims, dims, sides, sides, dataflows)
def test_pipelined_never_exceeds_scalesim_and_equals_it_for_one_fold(m, n, k, rows, cols, dataflow):
    scalesim = gemm_compute(m, n, k, rows, cols, dataflow)
    pipelined = gemm_compute(m, n, k, rows, cols, dataflow, "pipelined")
    assert pipelined.compute_cycles <= scalesim.compute_cycles
    assert (pipelined.row_folds, pipelined.col_folds, pipelined.ifmap_sram_reads) == (
        scalesim.row_folds, scalesim.col_folds, scalesim.ifmap_sram_reads)
    if scalesim.row_folds * scalesim.col_folds == 1:
        assert pipelined.compute_cycles == scalesim.compute_cycles


@settings(max_examples=200, deadline=None)
@given(dims, dims, dims, sides, sides, dataflows, st.sampled_from(["m", "n", "k"]), st.integers(1, 1000))
def test_pipelined_more_work_never_costs_fewer_cycles(m, n, k, rows, cols, dataflow, grown, extra):
    shape = {"m": m, "n": n, "k": k}
    base = gemm_compute(**shape, rows=rows, cols=cols, dataflow=dataflow, fold_timing="pipelined")
    shape[grown] += extra
    bigger = gemm_compute(**shape, rows=rows, cols=cols, dataflow=dataflow, fold_timing="pipelined")
    assert bigger.compute_cycles >= base.compute_cycles


def test_pipelined_ws_gemv_hand_computed():
    # 1 x 4096 x 4096 on 128 x 128, ws: 32 x 32 = 1024 folds of T = 1 token.
    # SCALE-Sim: 1024 x (1 + 2*128 + 128 - 2) - 1 = 392,191.
    # Pipelined: 1023 x max(1, 128) + 1 + 382 - 1 = 131,326 (weight shift-in bound).
    assert gemm_compute(1, 4096, 4096, 128, 128, "ws").compute_cycles == 392_191
    assert gemm_compute(1, 4096, 4096, 128, 128, "ws", "pipelined").compute_cycles == 131_326
    # 512 tokens per fold hide the 128-cycle shift-in: 1023 x 512 + 512 + 382 - 1
    assert gemm_compute(512, 4096, 4096, 128, 128, "ws", "pipelined").compute_cycles == 524_669


def test_unknown_fold_timing_is_rejected():
    with pytest.raises(ValueError, match="fold_timing"):
        gemm_compute(4, 4, 4, 2, 2, "ws", "overlapped")


@pytest.mark.parametrize("n", [4096, 8192, 16384])
def test_decode_gemv_on_the_neupims_npu_is_memory_bound_when_pipelined(n):
    # neupims-npu: 8 cores of 128 x 128 ws at 1 GHz and 1024 B/cycle of HBM2.
    # Pipelined, one core takes a 32 KiB weight tile per 128 cycles (256 B/cycle),
    # so 8 cores want 2048 B/cycle > 1024: DRAM bounds the GEMV.
    op = Op("gemv", OpKind.GEMM, 1, n, 4096)
    accel = neupims()
    assert accel.spec.fold_timing == "pipelined"
    memory_cycles = op.min_bytes / accel.spec.dram_bytes_per_cycle
    cycles = simulated_cycles(accel, [op])
    assert memory_cycles <= cycles <= 1.04 * memory_cycles
    # the SCALE-Sim timing on the same system is bound by the array instead
    assert simulated_cycles(neupims(fold_timing="scalesim"), [op]) > 1.4 * memory_cycles


def test_pipelined_never_slower_than_scalesim_through_the_engine():
    for op in (Op("gemv", OpKind.GEMM, 1, 4096, 4096), Op("prefill", OpKind.GEMM, 512, 4096, 4096),
               Op("attn", OpKind.GEMM, 1, 2049, 128, count=64)):
        assert simulated_cycles(neupims(), [op]) <= simulated_cycles(neupims(fold_timing="scalesim"), [op])


def test_default_fold_timing_is_scalesim_and_tpuv1_keeps_it():
    assert registry.build(registry.preset_spec("scalesim-default")).spec.fold_timing == "scalesim"
    assert registry.build(registry.preset_spec("tpuv1-like")).spec.fold_timing == "scalesim"
    for preset in ("neupims-npu", "tpuv4-like", "tpu7x-like"):
        assert registry.build(registry.preset_spec(preset)).spec.fold_timing == "pipelined"


def test_fold_timing_changes_cycles_not_energy():
    op = Op("gemv", OpKind.GEMM, 1, 4096, 4096)
    fast, slow = neupims(), neupims(fold_timing="scalesim")
    assert fast.op_cost(op).actions == slow.op_cost(op).actions
    assert fast.op_cost(op).compute_cycles < slow.op_cost(op).compute_cycles
    assert isinstance(fast, SystolicArray)
