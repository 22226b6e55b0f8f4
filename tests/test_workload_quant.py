"""Quantised weights: scale bytes per group, per tensor, and in the layer trace."""

import math

import pytest

from workloads.layers import build_decoder_layer
from workloads.models import load_model
from workloads.op import OpKind, Operand
from workloads.quant import TERNARY_BITS, WeightQuant

# Llama-2-7B, one layer: q, k, v, o are 4096 x 4096; gate, up 4096 x 11008; down 11008 x 4096.
LLAMA7B_LAYER_WEIGHTS = 4 * 4096 * 4096 + 3 * 4096 * 11008


def weight_bytes(workload):
    return sum(op.b_bytes for op in workload.ops
               if op.kind is OpKind.GEMM and op.b_operand is Operand.WEIGHT)


def test_llama2_7b_w4_g128_weight_bytes_include_scales():
    w = build_decoder_layer(load_model("llama2-7b"), "decode", batch=1, seq_len=16, weight_bits=4)
    packed = LLAMA7B_LAYER_WEIGHTS // 2  # 4 bits
    scales = LLAMA7B_LAYER_WEIGHTS // 128 * 2  # one 16-bit scale per 128 weights (K divides)
    assert weight_bytes(w) == packed + scales == 104_349_696
    q = w.op("q_proj")
    assert q.extra_bytes == 4096 * (4096 // 128) * 2
    assert q.b_bits == 4 and q.a_bits == 16  # the mixed-precision GEMM a LUT core sees


def test_effective_bits_per_weight_at_group_128():
    assert WeightQuant(4, 128, 16).bits_per_weight(4096, 4096) == pytest.approx(4.125)
    assert WeightQuant(2, 64, 16).bits_per_weight(4096, 4096) == pytest.approx(2.25)


def test_partial_last_group_gets_its_own_scale():
    # k = 11008 = 86 x 128: exact; k = 300 needs ceil(300 / 128) = 3 groups per column.
    assert WeightQuant(4, 128).scale_bytes(300, 10) == 10 * 3 * 2


def test_unquantised_and_no_scale_settings_add_nothing():
    config = load_model("llama2-7b")
    fp16 = build_decoder_layer(config, "decode", batch=1, seq_len=16)
    assert weight_bytes(fp16) == LLAMA7B_LAYER_WEIGHTS * 2
    assert WeightQuant(4, None).scale_bytes(4096, 4096) == 0
    assert WeightQuant(16, 128).scale_bytes(4096, 4096) == 0


def test_ternary_per_tensor_scale_bitnet():
    config = load_model("bitnet-b1.58-3b")
    w = build_decoder_layer(config, "decode", batch=1, seq_len=16, weight_bits=1.58,
                            act_bits=8, weight_group_size=0)
    matrices = sum(1 for op in w.ops if op.kind is OpKind.GEMM and op.b_operand is Operand.WEIGHT)
    params = sum(op.count * op.k * op.n for op in w.ops
                 if op.kind is OpKind.GEMM and op.b_operand is Operand.WEIGHT)
    expected = sum(math.ceil(round(op.count * op.k * op.n * 1.58) / 8) for op in w.ops
                   if op.kind is OpKind.GEMM and op.b_operand is Operand.WEIGHT)
    assert weight_bytes(w) == expected + 2 * matrices  # one 16-bit scale per matrix
    assert weight_bytes(w) == pytest.approx(params * 1.58 / 8, rel=1e-4)
    assert TERNARY_BITS == pytest.approx(1.585, abs=1e-3)


def test_moe_expert_scales_count_every_active_expert():
    config = load_model("mixtral-8x7b")
    w = build_decoder_layer(config, "decode", batch=64, seq_len=16, weight_bits=4)
    up = w.op("expert_up")
    assert up.count == 8
    assert up.extra_bytes == 8 * config.moe_ffn_size * (config.hidden_size // 128) * 2


def test_kv_operands_carry_no_weight_scales():
    w = build_decoder_layer(load_model("llama2-7b"), "decode", batch=2, seq_len=16, weight_bits=4)
    assert w.op("attn_score").extra_bytes == 0


@pytest.mark.parametrize("kwargs, message", [
    ({"weight_group_size": -1}, "weight_group_size must be a positive integer, 0"),
    ({"weight_group_size": 1.5}, "weight_group_size"),
    ({"scale_bits": 0}, r"scale_bits must be a number in \(0, 64\]"),
])
def test_bad_quantisation_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_decoder_layer(load_model("llama2-7b"), "decode", batch=1, seq_len=16,
                            weight_bits=4, **kwargs)
