"""Ops extracted from real (tiny, random-weight) Hugging Face models against the analytic builder.

For Llama (GQA), OPT (MHA, biases, ReLU MLP) and Mixtral (GQA, 4 experts, top 2),
one prefill of 8 tokens x 2 requests and one decode step over the KV cache are
traced; every layer's GEMMs and softmaxes must have the shapes (and so the FLOPs)
that ``build_decoder_layer`` gives for the same config, phase, batch and length.
MoE experts are compared by totals: the router sends each token to 2 of the 4
experts, so the extracted experts' token counts sum to tokens x 2, which is what
the analytic builder's ``count`` x ``m`` holds when the slots divide evenly.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from workloads.extract import analytic_config, canonical_ops, extract_steps  # noqa: E402
from workloads.layers import build_decoder_layer  # noqa: E402
from workloads.op import OpKind, Phase  # noqa: E402
from workloads.tracefile import export_workload, import_workload  # noqa: E402

BATCH, PROMPT = 2, 8
TINY = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, vocab_size=128,
            max_position_embeddings=64)


def _configs():
    return {
        "llama": transformers.LlamaConfig(**TINY, intermediate_size=128, num_key_value_heads=2),
        "opt": transformers.OPTConfig(**TINY, ffn_dim=128, word_embed_proj_dim=64),
        "mixtral": transformers.MixtralConfig(**TINY, intermediate_size=96, num_key_value_heads=2,
                                              num_local_experts=4, num_experts_per_tok=2),
    }


@pytest.fixture(scope="module")
def traced():
    return {family: (cfg, extract_steps(cfg, batch=BATCH, prompt_len=PROMPT, seed=0))
            for family, cfg in _configs().items()}


def _shapes(ops):
    return [(op.name, op.kind, op.m, op.n, op.k, op.count, op.b_operand) for op in ops]


def _analytic(cfg, step):
    layer = build_decoder_layer(analytic_config(cfg), step.phase, step.batch, step.seq_len)
    return [op for op in layer.ops if op.kind in (OpKind.GEMM, OpKind.SOFTMAX)]


@pytest.mark.parametrize("family", ["llama", "opt"])
@pytest.mark.parametrize("phase", [0, 1], ids=["prefill", "decode"])
def test_dense_layers_match_the_analytic_builder(traced, family, phase):
    cfg, steps = traced[family]
    step = steps[phase]
    expected = _analytic(cfg, step)
    assert step.num_layers == 2
    for layer in range(step.num_layers):
        ops = step.layer_ops(layer)
        assert _shapes(ops) == _shapes(expected)
        assert sum(op.flops for op in ops) == sum(op.flops for op in expected)


def test_gqa_is_folded_per_kv_group_and_decode_reads_the_cache(traced):
    _, (prefill, decode) = traced["llama"]
    score = {s.phase: next(op for op in s.layer_ops(0) if op.name == "attn_score")
             for s in (prefill, decode)}
    # 4 query heads over 2 KV heads: count = batch x 2, m = 2 heads x query tokens.
    assert (score[Phase.PREFILL].count, score[Phase.PREFILL].m) == (BATCH * 2, 2 * PROMPT)
    assert (score[Phase.DECODE].count, score[Phase.DECODE].m) == (BATCH * 2, 2)
    assert score[Phase.DECODE].n == PROMPT + 1  # the cached prompt plus the new token
    assert score[Phase.DECODE].b_operand.value == "kv"


def _experts(ops, part):
    return [op for op in ops if op.name.startswith("expert") and op.name.endswith(f"_{part}")]


@pytest.mark.parametrize("phase", [0, 1], ids=["prefill", "decode"])
def test_mixtral_layers_match_with_expert_totals(traced, phase):
    cfg, steps = traced["mixtral"]
    step = steps[phase]
    expected = _analytic(cfg, step)
    tokens = BATCH * (PROMPT if step.phase is Phase.PREFILL else 1)
    slots = tokens * cfg.num_experts_per_tok
    assert slots % cfg.num_local_experts == 0  # so the analytic count x m is exactly the slots
    for layer in range(step.num_layers):
        ops = step.layer_ops(layer)
        shared = [op for op in ops if not op.name.startswith("expert")]
        assert _shapes(shared) == _shapes([op for op in expected if not op.name.startswith("expert")])
        for part in ("gate", "up", "down"):
            mine, (theirs,) = _experts(ops, part), _experts(expected, part)
            assert 1 <= len(mine) <= cfg.num_local_experts
            assert {(op.n, op.k) for op in mine} == {(theirs.n, theirs.k)}
            assert all(op.m <= tokens for op in mine)  # a token visits an expert at most once
            assert sum(op.m for op in mine) == slots == theirs.count * theirs.m
            assert sum(op.flops for op in mine) == theirs.flops
        assert sum(op.flops for op in ops) == sum(op.flops for op in expected)


def test_same_seed_same_trace_and_lm_head_outside_the_layers(traced):
    cfg, (prefill, _) = traced["mixtral"]
    again, _ = extract_steps(cfg, batch=BATCH, prompt_len=PROMPT, seed=0)
    assert again.records == prefill.records
    (head,) = [op for op in prefill.ops if op.layer == -1]
    assert (head.name, head.k, head.n) == ("lm_head", 64, 128)


def test_extracted_step_round_trips_through_a_trace_file(traced, tmp_path):
    _, (_, decode) = traced["opt"]
    workload = decode.workload("opt-tiny")
    assert [op.name for op in workload.ops][:2] == ["layers.0.q_proj", "layers.0.k_proj"]
    back = import_workload(export_workload(workload, tmp_path / "opt.json"))
    assert back.ops == workload.ops and back.edges == workload.edges
    assert back.total_flops == decode.layer_workload(0).total_flops * 2 + 2 * 2 * 64 * 128


def test_config_json_mapping_is_accepted_and_checked():
    mapping = _configs()["llama"].to_dict()
    prefill, _ = extract_steps(mapping, batch=1, prompt_len=4)
    assert prefill.layer_ops(0)[0].m == 4
    del mapping["model_type"]
    with pytest.raises(ValueError, match="model_type"):
        extract_steps(mapping)
    with pytest.raises(ValueError, match="prompt_len must be a positive integer"):
        extract_steps(_configs()["llama"], prompt_len=0)


def test_fused_expert_weight_is_split_into_gate_and_up():
    from workloads.extract import Record

    records = [Record("model.layers.1.mlp.experts", "mm", m=3, n=20, k=8),
               Record("model.layers.1.mlp.experts", "mm", m=3, n=8, k=10)]
    ops = canonical_ops(records, Phase.DECODE, groups=1)
    assert [(op.name, op.m, op.n, op.k, op.layer) for op in ops] == [
        ("expert0_gate", 3, 10, 8, 1), ("expert0_up", 3, 10, 8, 1), ("expert0_down", 3, 8, 10, 1)]
