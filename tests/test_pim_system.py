"""The NPU+PIM system: placement, single vs dual row buffers, sub-batch interleaving."""

import pytest

from arch import registry
from arch.contract import PlacementRule
from mappers.subbatch import interleave, map_step, scale_op, sub_batch_sizes, unroll_depth
from simulator.engine import simulate
from simulator.schema import WorkloadSpec
from simulator.workload_spec import build_workload
from workloads.op import Op, OpKind, Operand


def system(preset="neupims", **changes):
    raw = registry.preset_spec(preset)
    for key, value in changes.items():
        if key == "row_buffers":
            raw["pim"]["row_buffers"] = value
        else:
            raw[key] = value
    return registry.build(raw)


def decode(model="gpt3-7b", batch=256, seq_len=700):
    return build_workload(WorkloadSpec(model=model, phase="decode", batch=batch, seq_len=seq_len))


def per_layer_cycles(accel, workload):
    stepped, schedule = map_step(workload, accel)
    timeline = simulate(schedule)
    return max(e.end for e in timeline) * stepped.repeat / workload.repeat, timeline


def busy_intervals(timeline, unit_prefix):
    merged = []
    for start, end in sorted((e.start, e.end) for e in timeline if e.unit.startswith(unit_prefix)):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def overlap_share(timeline):
    """Share of the PIM units' busy time during which an NPU array is busy too."""
    pim, npu = busy_intervals(timeline, "pim"), busy_intervals(timeline, "array")
    both = sum(max(0, min(e1, e2) - max(s1, s2)) for s1, e1 in pim for s2, e2 in npu)
    return both / sum(e - s for s, e in pim)


# -- placement ------------------------------------------------------------------------
def test_kv_attention_runs_on_pim_channels_and_the_rest_on_the_npu():
    accel = system()
    _, schedule = map_step(decode(batch=64, seq_len=256), accel)
    units = {t.name.split(".")[-1].split("#")[0]: t.unit for t in schedule.tasks}
    assert units["attn_score"] == units["attn_context"] == "pim"
    assert units["q_proj"] == units["ffn_down"] == "array" and units["softmax"] == "vector"
    assert len({t.instance for t in schedule.tasks if t.unit == "pim"}) == 32  # every channel


def test_the_npu_reads_the_pim_hbm_bandwidth():
    accel = system()
    assert accel.npu.spec.dram_bandwidth_bytes_per_s == pytest.approx(32 * 16 * 2 * 1e9)  # 1024 GB/s


def test_single_row_buffer_holds_the_memory_dual_does_not():
    op = Op("attn_score", OpKind.GEMM, 1, 300, 128, count=64, b_operand=Operand.KV)
    assert system(row_buffers=1).op_cost(op, "pim").holds == ("dram",)
    assert system(row_buffers=2).op_cost(op, "pim").holds == ()


# -- single vs dual -------------------------------------------------------------------
@pytest.mark.parametrize("interleaving", [True, False])
@pytest.mark.parametrize("batch,seq_len", [(16, 128), (64, 512), (256, 700)])
def test_dual_row_buffers_are_never_slower(interleaving, batch, seq_len):
    workload = decode(batch=batch, seq_len=seq_len)
    fast = {"sub_batch_interleaving": interleaving, "unroll_layers_max": 2}  # a property of any depth
    dual, _ = per_layer_cycles(system(**fast, row_buffers=2), workload)
    single, _ = per_layer_cycles(system(**fast, row_buffers=1), workload)
    assert dual <= single


# -- sub-batch interleaving -----------------------------------------------------------
def test_interleaving_helps_at_batch_256():
    workload = decode()
    on, _ = per_layer_cycles(system(sub_batch_interleaving=True), workload)
    off, _ = per_layer_cycles(system(sub_batch_interleaving=False), workload)
    assert on < 0.95 * off


def test_interleaving_makes_pim_and_npu_busy_at_the_same_time():
    # With interleaving, NPU arrays work through most of PIM's busy time; without it
    # only v_proj (which does not feed the score GEMV) overlaps the PIM.
    workload = decode()
    _, with_timeline = per_layer_cycles(system(sub_batch_interleaving=True), workload)
    _, without_timeline = per_layer_cycles(system(sub_batch_interleaving=False), workload)
    assert overlap_share(with_timeline) > 0.4
    assert overlap_share(without_timeline) < 0.2


def test_auto_interleaves_decode_batches_of_256_and_more_as_the_neupims_readme():
    accel = system()
    kv = {"placement": PlacementRule.KV_NEAR_MEMORY, "channel_placement": "clb"}
    interleaved = {**kv, "sub_batches": 2, "unroll_layers_max": 4, "sub_batch_choice": "fixed"}
    assert accel.default_mapping("decode", 256) == interleaved
    assert accel.default_mapping("decode", 255) == kv and accel.default_mapping("decode", 32) == kv
    assert accel.default_mapping("decode", 1) == kv and accel.default_mapping("prefill", 256) == kv
    faster = system(sub_batch_interleaving="faster")
    assert faster.default_mapping("decode", 32) == {**interleaved, "sub_batch_choice": "faster"}
    assert system("npu-pim-naive").default_mapping("decode", 256) == {**kv, "channel_placement": "round_robin"}
    assert accel.mapping_options({"sub_batches": 1}, "decode", 256).sub_batches == 1  # an experiment overrides


def test_the_quickstart_batch_is_no_slower_with_auto_than_with_interleaving_off():
    # Quickstart: Llama-2-7B decode at batch 32 (the neupims system of experiments/quickstart.yaml).
    import yaml

    from simulator.experiment import load_experiment, parse_experiment
    from simulator.run import run_experiment
    workload = load_experiment("experiments/quickstart.yaml").spec.workload.model_dump(mode="json", exclude_none=True,
                                                                                      exclude_defaults=True)
    modes = {"auto": "auto", "interleave-off": False, "interleave-on": True, "faster": "faster"}
    data = {"name": "q", "workload": workload,
            "systems": [{"name": name, "arch": "neupims", "set": {"sub_batch_interleaving": mode}}
                        for name, mode in modes.items()]}
    cycles = {s.name: s.cycles for s in run_experiment(parse_experiment(yaml.safe_load(yaml.safe_dump(data)))).systems}
    assert cycles["auto"] <= cycles["interleave-off"] < cycles["interleave-on"]
    assert cycles["faster"] == min(cycles["interleave-off"], cycles["interleave-on"])


def test_interleave_splits_the_batch_and_unrolls_layers():
    workload = decode(batch=5, seq_len=64)
    split = interleave(workload, 2, layers=4)
    assert split.repeat == workload.repeat // 4 and len(split.ops) == 2 * 4 * len(workload.ops)
    ops = {op.name: op for op in split.ops}
    assert ops["sb0.l0.q_proj"].m == 3 and ops["sb1.l0.q_proj"].m == 2
    assert ops["sb0.l3.attn_score"].count == 3 * workload.op("attn_score").count // 5
    assert ("sb1.l0.ffn_residual", "sb1.l1.attn_norm") in split.edges
    assert not any(a.startswith("sb0") and b.startswith("sb1") for a, b in split.edges)
    assert sum(op.macs for op in split.ops) * split.repeat == sum(op.macs for op in workload.ops) * workload.repeat


def test_unroll_depth_divides_the_layers():
    assert [unroll_depth(n, 4) for n in (32, 40, 48, 30, 7, 1)] == [4, 4, 4, 3, 1, 1]
    assert sub_batch_sizes(7, 2) == [4, 3]


def test_an_op_without_a_batch_dimension_cannot_be_split():
    with pytest.raises(ValueError, match=r"op 'router'.*multiple of the batch \(8\)"):
        scale_op(Op("router", OpKind.GEMM, 3, 5, 7, count=5), 8, 4)
