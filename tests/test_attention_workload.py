"""Attention algorithms as a workload choice: the ops they build and the bytes those ops move."""

import pytest

from simulator.errors import InputError
from simulator.schema import WorkloadSpec
from simulator.workload_spec import build_workload
from workloads.attention import kv_splits_heuristic
from workloads.layers import build_decoder_layer
from workloads.models import load_model
from workloads.op import Op, OpKind, SoftmaxScheme
from workloads.tracefile import workload_from_dict, workload_to_dict

CORE = ("attn_score", "softmax", "attn_context", "attention", "attn_reduce")


def core(config, attention="unfused", batch=2, seq_len=999, phase="decode", **kw):
    workload = build_decoder_layer(config, phase, batch, seq_len, attention=attention, **kw)
    return workload, {op.name: op for op in workload.ops if op.name in CORE}


@pytest.fixture(scope="module")
def gqa():
    # 8 query heads over 2 KV groups: 4 query rows per instance in decode
    return load_model({"name": "gqa", "hidden_size": 512, "num_layers": 2, "num_heads": 8, "num_kv_heads": 2,
                       "ffn_size": 1024, "activation": "swiglu", "norm": "rmsnorm", "vocab_size": 100,
                       "position": "rope", "max_positions": 4096})


@pytest.mark.parametrize("passes", [1, 2, 3])
@pytest.mark.parametrize("phase", ["decode", "prefill"])
def test_fused_attention_saves_exactly_the_score_matrix_traffic(gqa, passes, phase):
    _, unfused = core(gqa, phase=phase, softmax_passes=passes)
    _, fused = core(gqa, "flash2", phase=phase)
    score = unfused["attn_score"]
    score_bytes = score.out_bytes  # count x m x kv at act_bits
    unfused_bytes = sum(op.min_bytes for op in unfused.values())
    # score written, read `passes` times and written as P by the softmax, P read by the context GEMM
    assert unfused_bytes - fused["attention"].min_bytes == (3 + passes) * score_bytes
    assert fused["attention"].macs == unfused["attn_score"].macs + unfused["attn_context"].macs


def test_two_pass_softmax_reads_two_thirds_of_three_pass_and_writes_the_same(gqa):
    _, three = core(gqa, softmax_passes=3)
    _, two = core(gqa, softmax_passes=2)
    assert 3 * two["softmax"].a_bytes == 2 * three["softmax"].a_bytes
    assert two["softmax"].out_bytes == three["softmax"].out_bytes
    assert two["softmax"].flops == three["softmax"].flops  # passes move bytes, not work


@pytest.mark.parametrize("attention", ["flashdecoding", "flashdecoding++"])
def test_split_kv_writes_float32_partials_that_a_reduction_op_reads(gqa, attention):
    workload, ops = core(gqa, attention, kv_splits=5)
    fused, reduce = ops["attention"], ops["attn_reduce"]
    rows = fused.count * fused.m  # 2 requests x 2 groups x 4 query heads
    assert (fused.kv_splits, reduce.kv_splits, rows) == (5, 5, 16)
    assert fused.out_bytes == 5 * rows * (gqa.head_dim + 1) * 4  # partial output + one statistic per row
    assert reduce.a_bytes + reduce.b_bytes == fused.out_bytes
    assert reduce.out_bytes == rows * gqa.head_dim * 2
    assert ("attention", "attn_reduce") in workload.edges and ("attn_reduce", "o_proj") in workload.edges


def test_unified_max_has_fewer_nonmatmul_flops_and_the_same_bytes(gqa):
    _, online = core(gqa, "flashdecoding", kv_splits=4)
    _, unified = core(gqa, "flashdecoding++", kv_splits=4)
    a, b = online["attention"], unified["attention"]
    assert (a.softmax_scheme, b.softmax_scheme) == (SoftmaxScheme.ONLINE, SoftmaxScheme.UNIFIED_MAX)
    assert a.min_bytes == b.min_bytes and a.macs == b.macs
    assert a.nonmatmul_flops - b.nonmatmul_flops == 2 * a.scores  # max and rescale per score


def test_split_heuristic_reproduces_flash_attn_documented_example():
    # flash_api.cpp: "batch * n_heads = 48 and we have 108 SMs, having 2 splits (efficiency = 0.89)"
    # -- 108 block slots, i.e. 54 SMs of two blocks each.
    assert kv_splits_heuristic(48, 1, 1 << 16, 128, sm_count=54) == 2
    assert kv_splits_heuristic(4096, 1, 1 << 16, 128) == 1  # enough blocks: no split
    assert kv_splits_heuristic(1, 1, 100, 128) == 1  # one KV block cannot be split


def test_splits_grow_as_the_batch_shrinks_on_llama2_7b():
    config = load_model("llama2-7b")
    splits = [core(config, "flashdecoding", batch=b, seq_len=8192)[1]["attention"].kv_splits for b in (1, 2, 64)]
    assert splits[0] > splits[1] > splits[2] == 1


def test_fused_ops_round_trip_through_a_trace_file(gqa):
    workload, _ = core(gqa, "flashdecoding++", kv_splits=3)
    again = workload_from_dict(workload_to_dict(workload))
    assert again.ops == workload.ops


def test_op_rejects_fields_for_the_wrong_kind():
    with pytest.raises(ValueError, match="passes applies to softmax"):
        Op("g", OpKind.GEMM, m=1, n=1, k=1, passes=2)
    with pytest.raises(ValueError, match="kv_splits applies to attention"):
        Op("s", OpKind.SOFTMAX, m=1, n=1, kv_splits=2)


@pytest.mark.parametrize("fields,key,text", [
    ({"attention": "flash2", "softmax_passes": 3}, "workload.softmax_passes", "applies to attention 'unfused'"),
    ({"attention": "flash2", "kv_splits": 4}, "workload.kv_splits", "'flashdecoding'"),
    ({"attention": "flash2", "ops": [{"name": "a", "M": 1, "N": 1, "K": 1}], "model": None},
     "workload.attention", "not to an 'ops' list"),
])
def test_bad_attention_choices_name_the_key(fields, key, text):
    spec = WorkloadSpec(**{"model": "llama2-7b", **fields})
    with pytest.raises(InputError) as raised:
        build_workload(spec)
    assert key in str(raised.value) and text in str(raised.value)


def test_schema_lists_the_algorithms():
    with pytest.raises(ValueError, match="flashdecoding"):
        WorkloadSpec(model="llama2-7b", attention="flash3")


def test_kv_lens_decode_batches_take_the_algorithm():
    spec = WorkloadSpec(model="llama2-7b", batch=3, kv_lens=[100, 2000, 5000], attention="flashdecoding")
    kinds = {op.kind for op in build_workload(spec).ops}
    assert OpKind.ATTENTION in kinds and OpKind.ATTN_REDUCE in kinds and OpKind.SOFTMAX not in kinds


def test_fused_kinds_name_the_option_that_chose_them():
    assert "workload.attention" in OpKind.ATTENTION.chosen_by and "unfused" in OpKind.ATTN_REDUCE.chosen_by
    assert OpKind.GEMM.chosen_by == "" and OpKind.SOFTMAX.chosen_by == ""
