"""Splitting GEMMs across the cores of a systolic NPU that share one DRAM."""

import pytest
from hypothesis import given, settings, strategies as st

from arch.systolic.model import SystolicArray
from arch.systolic.spec import SystolicSpec
from mappers.schedule import map_workload
from mappers.split import best_split, split_dims, split_op
from simulator.engine import simulate
from workloads.graph import Workload
from workloads.op import Op, OpKind, Operand


def spec(cores=1, bandwidth_bytes_per_s=1.2e12, rows=128, cols=128):
    return SystolicSpec(rows=rows, cols=cols, dataflow="ws", cores=cores, clock_hz=1e9, pe_dtype="fp16",
                        ifmap_sram_bytes=16 << 20, filter_sram_bytes=16 << 20, ofmap_sram_bytes=4 << 20,
                        dram_bandwidth_bytes_per_s=bandwidth_bytes_per_s)


def run(system_spec, ops, edges=(), mapping=None):
    schedule = map_workload(Workload(name="w", ops=tuple(ops), edges=tuple(edges)),
                            SystolicArray(system_spec), mapping)
    events = simulate(schedule)
    return max(e.end for e in events), schedule, events


def model(cores=1, bandwidth_bytes_per_s=1.2e12):
    return SystolicArray(spec(cores=cores, bandwidth_bytes_per_s=bandwidth_bytes_per_s))


def test_split_along_n_keeps_the_work():
    op = Op("ffn_up", OpKind.GEMM, 512, 11008, 4096, extra_bytes=1001)
    parts = split_op(op, 4, "n")
    assert [p.name for p in parts] == ["ffn_up#0", "ffn_up#1", "ffn_up#2", "ffn_up#3"]
    assert [p.n for p in parts] == [2752] * 4 and {(p.m, p.k) for p in parts} == {(512, 4096)}
    assert sum(p.macs for p in parts) == op.macs and sum(p.extra_bytes for p in parts) == 1001


def test_batched_ops_split_instances_and_parts_are_never_empty():
    attn = Op("score", OpKind.GEMM, 1, 1024, 128, count=32, b_operand=Operand.KV)
    assert split_dims(attn) == ("count",) and split_dims(Op("o", OpKind.GEMM, 9, 9, 9)) == ("n", "m")
    assert [p.count for p in split_op(attn, 3, "count")] == [11, 11, 10]
    assert split_op(Op("tiny", OpKind.GEMM, 3, 2, 8), 4, "m") == tuple(
        Op(f"tiny#{i}", OpKind.GEMM, 1, 2, 8) for i in range(3))
    assert split_op(attn, 1, "n") == (attn,)


def test_best_split_spreads_a_compute_bound_gemm_along_n():
    accel = model(cores=4)
    parts = best_split(Op("qkv", OpKind.GEMM, 512, 12288, 4096), 4, accel.op_cost, 1200.0)
    assert [p.n for p in parts] == [3072] * 4


def test_best_split_cuts_m_when_n_is_narrow():
    accel = model(cores=4)
    parts = best_split(Op("narrow", OpKind.GEMM, 4096, 128, 4096), 4, accel.op_cost, 1200.0)
    assert [p.m for p in parts] == [1024] * 4 and {p.n for p in parts} == {128}


def test_best_split_keeps_a_memory_bound_gemv_whole_when_splitting_only_adds_traffic():
    accel = model(cores=4, bandwidth_bytes_per_s=64e9)
    op = Op("gemv", OpKind.GEMM, 64, 4096, 4096)
    assert best_split(op, 4, accel.op_cost, 64.0) == (op,)


def test_task_names_are_unique_and_successors_wait_for_every_part():
    ops = [Op("up", OpKind.GEMM, 64, 1024, 512), Op("act", OpKind.ACTIVATION, 64, 1024),
           Op("down", OpKind.GEMM, 64, 512, 1024)]
    _, schedule, events = run(spec(cores=4), ops, [("up", "act"), ("act", "down")])
    names = [t.name for t in schedule.tasks]
    # the vector op is cut along its rows over the four vector units, as the GEMMs over the arrays
    assert names == ["up#0", "up#1", "up#2", "up#3", "act#0", "act#1", "act#2", "act#3",
                     "down#0", "down#1", "down#2", "down#3"]
    deps = {t.name: t.deps for t in schedule.tasks}
    groups = {t.name: t.group for t in schedule.tasks}
    assert deps["act#2"] == ("up",) and deps["down#0"] == ("act",)  # a dependency is on the whole op ...
    assert [n for n, g in groups.items() if g == "act"] == ["act#0", "act#1", "act#2", "act#3"]
    events_by = {e.task: e for e in events}  # ... which is done when its last part is
    assert min(events_by[f"down#{i}"].start for i in range(4)) >= max(events_by[f"act#{i}"].end for i in range(4))
    assert {t.unit_instance for t in schedule.tasks if t.name.startswith("act#")} == {
        "vector[0]", "vector[1]", "vector[2]", "vector[3]"}
    assert sum(t.op.m for t in schedule.tasks if t.name.startswith("act#")) == 64
    assert sorted(e.task for e in events) == sorted(names)
    assert {t.unit_instance for t in schedule.tasks if t.name.startswith("up#")} == {
        "array[0]", "array[1]", "array[2]", "array[3]"}


def test_split_cores_one_keeps_ops_whole():
    _, schedule, _ = run(spec(cores=4), [Op("up", OpKind.GEMM, 64, 1024, 512)], mapping={"split_cores": 1})
    assert [t.name for t in schedule.tasks] == ["up"]


@settings(max_examples=25, deadline=None)
@given(m=st.integers(256, 2048), n=st.integers(512, 8192), k=st.integers(512, 8192))
def test_more_cores_never_slow_a_large_gemm(m, n, k):
    op = Op("big", OpKind.GEMM, m, n, k)
    cycles = [run(spec(cores=cores), [op])[0] for cores in (1, 2, 4, 8)]
    assert cycles == sorted(cycles, reverse=True)


def test_a_large_gemm_speeds_up_nearly_linearly():
    op = Op("qkv", OpKind.GEMM, 512, 12288, 4096)
    one, four = run(spec(cores=1), [op])[0], run(spec(cores=4), [op])[0]
    assert 3.5 < one / four <= 4.0


def test_a_memory_bound_op_does_not_speed_up_with_cores():
    op = Op("gemv", OpKind.GEMM, 1, 4096, 4096)
    one = run(spec(cores=1, bandwidth_bytes_per_s=64e9), [op])[0]
    four = run(spec(cores=4, bandwidth_bytes_per_s=64e9), [op])[0]
    assert four == pytest.approx(one, rel=0.05)


def test_four_cores_sharing_one_dram_are_slower_than_with_four_times_the_bandwidth():
    op = Op("gemv", OpKind.GEMM, 8, 4096, 4096)
    shared = run(spec(cores=4, bandwidth_bytes_per_s=64e9), [op])[0]
    private = run(spec(cores=4, bandwidth_bytes_per_s=4 * 64e9), [op])[0]
    assert shared > 2 * private


def test_the_run_summary_reports_each_part_as_an_op():
    try:
        from arch.tech import TechLibrary  # noqa: F401  (energy needs the technology library)
    except ImportError:
        pytest.skip("arch.tech.TechLibrary is not available")
    from simulator.run import summarise
    ops = (Op("up", OpKind.GEMM, 64, 1024, 512), Op("act", OpKind.ACTIVATION, 64, 1024))
    workload = Workload(name="w", ops=ops, edges=(("up", "act"),))
    accel = SystolicArray(spec(cores=2))
    schedule = map_workload(workload, accel)
    result = summarise("npu", accel, workload, schedule, simulate(schedule))
    assert [o.name for o in result.ops] == ["up#0", "up#1", "act#0", "act#1"]
    assert sum(o.macs for o in result.ops) == ops[0].macs and result.cycles == max(o.end_cycle for o in result.ops)
