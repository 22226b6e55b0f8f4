"""Tensor parallelism: per-device shapes and the all-reduce ops."""

import pytest

from workloads.layers import build_decoder_layer
from workloads.models import load_model
from workloads.op import Op, OpKind, Operand


def test_llama2_70b_tp8_shapes_per_device():
    config = load_model("llama2-70b")  # 64 heads, 8 KV heads, ffn 28672
    w = build_decoder_layer(config, "decode", batch=16, seq_len=1000, tp=8)
    q, k, o = w.op("q_proj"), w.op("k_proj"), w.op("o_proj")
    assert (q.m, q.k, q.n) == (16, 8192, 8 * 128)
    assert (k.m, k.k, k.n) == (16, 8192, 1 * 128)
    assert (o.m, o.k, o.n) == (16, 8 * 128, 8192)
    score = w.op("attn_score")
    assert (score.count, score.m, score.n) == (16 * 1, 8, 1001)
    up, down = w.op("ffn_up"), w.op("ffn_down")
    assert (up.k, up.n) == (8192, 28672 // 8)
    assert (down.k, down.n) == (28672 // 8, 8192)
    assert w.name.endswith("-tp8") and dict(w.meta)["tp"] == 8


def test_allreduce_ops_bytes_and_dependencies():
    config = load_model("llama2-7b")
    w = build_decoder_layer(config, "prefill", batch=2, seq_len=128, tp=2, act_bits=16)
    for name, source, sink in (("attn_allreduce", "o_proj", "attn_residual"),
                               ("ffn_allreduce", "ffn_down", "ffn_residual")):
        op = w.op(name)
        assert op.kind is OpKind.ALLREDUCE and op.devices == 2
        assert op.comm_bytes == 2 * 128 * 4096 * 2  # tokens x hidden x 2 bytes
        assert op.flops == 0
        assert w.predecessors(name) == [source]
        assert name in w.predecessors(sink) and source not in w.predecessors(sink)


def test_tp_weight_bytes_split_evenly():
    config = load_model("llama2-7b")
    one = build_decoder_layer(config, "decode", batch=1, seq_len=16)
    four = build_decoder_layer(config, "decode", batch=1, seq_len=16, tp=4)

    def weights(w):
        return sum(op.b_bytes for op in w.ops if op.b_operand is Operand.WEIGHT and op.kind is OpKind.GEMM)
    assert weights(four) * 4 == weights(one)


def test_tp_flops_of_gemms_split_evenly():
    config = load_model("llama2-13b")
    one = build_decoder_layer(config, "prefill", batch=1, seq_len=64)
    two = build_decoder_layer(config, "prefill", batch=1, seq_len=64, tp=2)
    macs = [sum(op.macs for op in w.ops) for w in (one, two)]
    assert macs[1] * 2 == macs[0]


def test_kv_heads_replicated_when_fewer_than_devices():
    config = load_model("llama3-8b")  # 32 heads, 8 KV heads
    w = build_decoder_layer(config, "decode", batch=4, seq_len=100, tp=16)
    assert w.op("q_proj").n == 2 * 128 and w.op("k_proj").n == 128
    assert w.op("attn_score").m == 2  # 2 query heads share the device's KV head


def test_moe_tp_splits_every_expert_and_reduces_after_combine():
    config = load_model("mixtral-8x7b")
    w = build_decoder_layer(config, "decode", batch=4, seq_len=100, tp=2)
    assert w.op("expert_up").n == config.moe_ffn_size // 2
    assert w.predecessors("ffn_allreduce") == ["moe_combine"]
    assert w.op("moe_router").n == 8  # the router is replicated, not split


def test_tp1_has_no_allreduce_and_old_op_dicts_are_unchanged():
    w = build_decoder_layer(load_model("llama2-7b"), "decode", batch=1, seq_len=16)
    assert all(op.kind is not OpKind.ALLREDUCE for op in w.ops)
    assert "devices" not in Op("g", OpKind.GEMM, 1, 1, 1).to_dict()


@pytest.mark.parametrize("tp, message", [
    (3, r"num_heads \(32\) is not a multiple of tp"),
    (0, "tp must be a positive integer"),
])
def test_bad_tp_is_named(tp, message):
    with pytest.raises(ValueError, match=message):
        build_decoder_layer(load_model("llama2-7b"), "decode", batch=1, seq_len=16, tp=tp)
