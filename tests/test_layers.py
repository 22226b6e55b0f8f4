"""The decoder-layer trace: op shapes, dependencies, FLOPs and bytes against hand counts."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workloads.layers import build_decoder_layer, build_gemm_list
from workloads.models import load_model
from workloads.op import OpKind, Operand

LLAMA_OPS = ["attn_norm", "q_proj", "k_proj", "v_proj", "rope", "attn_score", "softmax",
             "attn_context", "o_proj", "attn_residual", "ffn_norm", "ffn_gate", "ffn_up",
             "ffn_act", "ffn_down", "ffn_residual"]


def names(workload):
    return [op.name for op in workload.ops]


def gemm_flops(workload, *op_names):
    return sum(workload.op(name).flops for name in op_names)


def test_llama_decode_layer_ops_and_dependencies():
    w = build_decoder_layer(load_model("llama2-7b"), "decode", batch=8, seq_len=1024)
    assert names(w) == LLAMA_OPS
    assert (w.repeat, w.phase, w.batch, w.tokens_per_step) == (32, "decode", 8, 8)
    assert w.predecessors("rope") == ["k_proj", "q_proj"]
    assert w.predecessors("attn_score") == ["rope"]
    assert w.predecessors("attn_context") == ["softmax", "v_proj"]
    assert w.predecessors("ffn_norm") == ["attn_residual"]
    assert w.predecessors("ffn_act") == ["ffn_gate", "ffn_up"]
    assert w.predecessors("ffn_residual") == ["attn_residual", "ffn_down"]


def test_projection_gemm_shapes_decode_and_prefill():
    config = load_model("llama2-70b")
    decode = build_decoder_layer(config, "decode", batch=16, seq_len=512)
    prefill = build_decoder_layer(config, "prefill", batch=2, seq_len=512)
    for w, tokens in ((decode, 16), (prefill, 1024)):
        q, k, down = w.op("q_proj"), w.op("k_proj"), w.op("ffn_down")
        assert (q.m, q.k, q.n, q.b_operand) == (tokens, 8192, 8192, Operand.WEIGHT)
        assert (k.m, k.k, k.n) == (tokens, 8192, 8 * 128)
        assert (down.m, down.k, down.n) == (tokens, 28672, 8192)


def test_attention_is_batched_per_kv_group():
    config = load_model("llama2-70b")  # 64 query heads, 8 KV heads: groups of 8
    decode = build_decoder_layer(config, "decode", batch=4, seq_len=1000, kv_bits=8)
    score, context = decode.op("attn_score"), decode.op("attn_context")
    assert (score.count, score.m, score.k, score.n) == (4 * 8, 8, 128, 1001)
    assert (context.count, context.m, context.k, context.n) == (4 * 8, 8, 1001, 128)
    assert score.b_operand is Operand.KV and score.b_bits == 8
    # KV read = the cache of 4 requests x 1001 positions, K for the score, V for the context.
    kv_bytes = 4 * 1001 * config.kv_cache_bytes_per_token(8) / config.num_layers
    assert score.b_bytes + context.b_bytes == kv_bytes
    prefill = build_decoder_layer(config, "prefill", batch=4, seq_len=1000)
    score = prefill.op("attn_score")
    assert (score.count, score.m, score.k, score.n) == (32, 8 * 1000, 128, 1000)
    assert score.b_operand is Operand.ACTIVATION


def test_gqa_attention_bytes_shrink_by_query_groups():
    gqa = load_model("llama2-70b")
    mha = gqa.with_overrides(num_kv_heads=64)
    def kv_read(config):
        w = build_decoder_layer(config, "decode", batch=32, seq_len=2048)
        return w.op("attn_score").b_bytes + w.op("attn_context").b_bytes
    assert kv_read(mha) == 8 * kv_read(gqa)
    # Same arithmetic either way: only the grouping changes.
    flops = [build_decoder_layer(c, "decode", 32, 2048).op("attn_score").flops for c in (gqa, mha)]
    assert flops[0] == flops[1]


@pytest.mark.parametrize("name", ["llama2-7b", "llama2-70b", "opt-66b", "gpt3-175b", "qwen2-72b",
                                  "mixtral-8x7b"])
def test_decode_flops_per_token_are_twice_active_params_plus_attention(name):
    """Per token: 2 x active non-embedding params + 4 x layers x heads x head_dim x kv_len.

    Tolerance 0.1 %: the remainder is vector work (norms, softmax, RoPE, residuals),
    MoE routing, and norm gains/biases counted as parameters but not multiplied.
    """
    config, batch, seq_len = load_model(name), 1, 1024
    w = build_decoder_layer(config, "decode", batch=batch, seq_len=seq_len)
    params = config.num_layers * config.layer_parameter_count(active=True)
    attention = 4 * config.num_layers * config.q_size * (seq_len + 1)
    assert w.total_flops / batch == pytest.approx(2 * params + attention, rel=0.001)


def test_prefill_flops_count_every_prompt_token():
    config, batch, seq_len = load_model("llama2-7b"), 2, 512
    w = build_decoder_layer(config, "prefill", batch=batch, seq_len=seq_len)
    tokens = batch * seq_len
    params = config.num_layers * config.layer_parameter_count()
    attention = 4 * config.num_layers * config.q_size * seq_len * tokens  # full score matrix
    assert w.total_flops == pytest.approx(2 * params * tokens + attention, rel=0.001)


def test_decode_weight_bytes_equal_layer_parameters():
    config = load_model("llama2-7b")
    w = build_decoder_layer(config, "decode", batch=1, seq_len=16, weight_bits=4,
                            weight_group_size=None)  # scales: test_workload_quant.py
    weight_ops = [op for op in w.ops if op.kind is OpKind.GEMM and op.b_operand is Operand.WEIGHT]
    matrix_params = config.layer_parameter_count() - 2 * config.hidden_size  # minus norm gains
    assert sum(op.b_bytes for op in weight_ops) == matrix_params // 2


def test_gelu_model_has_no_gate_and_no_rope():
    w = build_decoder_layer(load_model("gpt3-175b"), "decode", batch=1, seq_len=100)
    assert "ffn_gate" not in names(w) and "rope" not in names(w)
    assert w.predecessors("attn_score") == ["k_proj", "q_proj"]
    assert w.predecessors("ffn_act") == ["ffn_up"]
    assert w.op("ffn_act").extra_bytes == 0
    assert w.op("q_proj").extra_bytes == 12288 * 2  # 16-bit bias


def test_swiglu_activation_reads_the_up_tensor():
    w = build_decoder_layer(load_model("llama2-7b"), "decode", batch=4, seq_len=100, act_bits=8)
    assert w.op("ffn_act").extra_bytes == 4 * 11008


def test_parallel_residual_feeds_both_branches_from_the_layer_input():
    neox = load_model({"model_type": "gpt_neox", "hidden_size": 768, "intermediate_size": 3072,
                       "num_hidden_layers": 12, "num_attention_heads": 12})
    w = build_decoder_layer(neox, "decode", batch=1, seq_len=10)
    assert w.predecessors("ffn_norm") == []
    assert w.op("rope").n == round(2 * 768 * 0.25)


def test_mixtral_decode_reads_only_the_chosen_experts():
    config = load_model("mixtral-8x7b")
    one = build_decoder_layer(config, "decode", batch=1, seq_len=100)
    up = one.op("expert_up")
    assert (up.count, up.m, up.k, up.n) == (2, 1, 4096, 14336)
    assert one.predecessors("expert_gate") == ["ffn_norm", "moe_topk"]
    assert one.predecessors("ffn_residual") == ["attn_residual", "moe_combine"]
    many = build_decoder_layer(config, "decode", batch=64, seq_len=100)
    assert (many.op("expert_up").count, many.op("expert_up").m) == (8, 16)  # 128 slots / 8


def test_shared_experts_run_on_every_token():
    config = load_model({"preset": "mixtral-8x7b", "num_experts": 64, "experts_per_token": 6,
                         "num_shared_experts": 2, "moe_ffn_size": 1408})
    w = build_decoder_layer(config, "prefill", batch=1, seq_len=128)
    assert (w.op("shared_up").m, w.op("shared_up").n) == (128, 2 * 1408)
    assert (w.op("expert_up").count, w.op("expert_up").m) == (64, 12)  # 768 slots / 64
    assert w.op("moe_combine").count == 7
    assert w.predecessors("moe_combine") == ["expert_down", "shared_down"]


@pytest.mark.parametrize("kwargs, message", [
    ({"phase": "train"}, "phase must be one of prefill, decode, got 'train'"),
    ({"phase": "any"}, "phase must be one of prefill, decode"),
    ({"batch": 0}, "batch must be a positive integer, got 0"),
    ({"seq_len": -1}, "seq_len must be a positive integer, got -1"),
    ({"seq_len": 2.5}, "seq_len must be a positive integer, got 2.5"),
    ({"weight_bits": 0}, r"weight_bits must be a number in \(0, 64\], got 0"),
    ({"kv_bits": 128}, r"kv_bits must be a number in \(0, 64\], got 128"),
])
def test_bad_step_arguments_are_named(kwargs, message):
    args = {"phase": "decode", "batch": 1, "seq_len": 16, **kwargs}
    with pytest.raises(ValueError, match=message):
        build_decoder_layer(load_model("llama2-7b"), **args)


@settings(max_examples=40, deadline=None)
@given(kv_heads=st.sampled_from([1, 2, 4, 8]), groups=st.sampled_from([1, 2, 4]),
       head_dim=st.sampled_from([32, 64, 128]), ffn=st.integers(1, 4096),
       gated=st.booleans(), batch=st.integers(1, 64), seq_len=st.integers(1, 4096),
       decode=st.booleans())
def test_any_shape_gives_a_single_sink_dag(kv_heads, groups, head_dim, ffn, gated, batch,
                                           seq_len, decode):
    heads = kv_heads * groups
    config = load_model({"hidden_size": heads * head_dim, "num_layers": 2, "num_heads": heads,
                         "num_kv_heads": kv_heads, "ffn_size": ffn,
                         "activation": "swiglu" if gated else "relu", "norm": "rmsnorm",
                         "vocab_size": 100, "position": "rope", "max_positions": 8192})
    w = build_decoder_layer(config, "decode" if decode else "prefill", batch, seq_len)
    sinks = [n for n in w.graph if w.graph.out_degree(n) == 0]
    assert sinks == ["ffn_residual"]
    assert [n for n in w.graph if w.graph.in_degree(n) == 0] == ["attn_norm"]
    assert w.total_flops > 0
    kv_read = w.op("attn_score").b_bytes + w.op("attn_context").b_bytes
    assert kv_read == batch * (seq_len + decode) * 2 * kv_heads * head_dim * 2


# -- explicit GEMM lists -------------------------------------------------------------
def test_gemm_list_builds_a_chain():
    w = build_gemm_list([
        {"name": "qkv", "kind": "gemm", "M": 512, "N": 12288, "K": 4096},
        {"name": "out", "kind": "gemm", "M": 512, "N": 4096, "K": 4096, "count": 2, "bits": 8},
        {"name": "kv", "kind": "gemm", "M": 1, "N": 64, "K": 128, "b_operand": "kv", "b_bits": 4},
    ])
    assert names(w) == ["qkv", "out", "kv"]
    assert w.edges == (("qkv", "out"), ("out", "kv"))
    assert w.op("qkv").flops == 2 * 512 * 12288 * 4096
    assert (w.op("out").count, w.op("out").a_bits, w.op("out").b_bits) == (2, 8, 8)
    assert (w.op("kv").b_operand, w.op("kv").b_bits, w.op("kv").a_bits) == (Operand.KV, 4, 16)


def test_gemm_list_reports_every_bad_entry_by_index_and_key():
    with pytest.raises(ValueError) as caught:
        build_gemm_list([
            {"name": "a", "kind": "gemm", "M": 1, "N": 2, "K": 3},
            {"name": "a", "kind": "conv", "M": -1, "N": 2, "k": 3},
            {"name": "c", "kind": "gemm", "M": 1, "N": 1, "K": 1, "bits": 0, "b_operand": "x"},
            "qkv",
        ])
    assert str(caught.value).splitlines()[1:] == [
        "  ops[1]: missing key 'K'",
        "  ops[1].k: unknown key; did you mean 'K'? (allowed: name, kind, M, N, K, count, "
        "bits, a_bits, b_bits, out_bits, b_operand)",
        "  ops[1].name: duplicate name 'a' (also ops[0])",
        "  ops[1].kind: only 'gemm' is supported here, got 'conv'",
        "  ops[1].M: must be a positive integer, got -1",
        "  ops[2].bits: must be a number in (0, 64], got 0",
        "  ops[2].b_operand: must be one of weight, kv, activation, got 'x'",
        "  ops[3]: expected a mapping, got 'qkv'",
    ]


@pytest.mark.parametrize("ops", [[], {}, "gemm", None])
def test_gemm_list_must_be_a_non_empty_list(ops):
    with pytest.raises(ValueError, match="ops: expected a non-empty list"):
        build_gemm_list(ops)


def test_vector_op_reads_its_whole_input_tensor():
    from workloads.op import Op, OpKind

    softmax = Op("s", OpKind.SOFTMAX, 32, 1025, count=4, a_bits=16, out_bits=16)
    assert softmax.a_bytes == 4 * 32 * 1025 * 2 == softmax.out_bytes
    add = Op("r", OpKind.ADD, 8, 4096, a_bits=16, b_bits=16, out_bits=16)
    assert add.min_bytes == 3 * 8 * 4096 * 2
