"""Model configs: published parameter counts, KV-cache size, loading and validation."""

import json
import re

import pytest
from pydantic import ValidationError

from workloads.hf_config import SUPPORTED_MODEL_TYPES
from workloads.models import ModelConfig, Position, WorkloadError, list_models, load_model

PRESETS = [
    "llama2-7b", "llama2-13b", "llama2-70b", "llama3-8b", "llama3-70b",
    "opt-6.7b", "opt-13b", "opt-30b", "opt-66b", "opt-175b",
    "gpt3-7b", "gpt3-13b", "gpt3-30b", "gpt3-175b",
    "mixtral-8x7b", "qwen2-72b", "bitnet-b1.58-3b",
]


def test_every_preset_is_listed_and_names_its_source():
    assert set(PRESETS) <= set(list_models())
    for name in list_models():
        config = load_model(name)
        assert config.name == name
        assert config.source


# Exact totals of the released checkpoints (sum of tensor sizes, as the Hugging Face
# model pages report them).
EXACT_PARAMETERS = {
    "llama2-7b": 6_738_415_616,
    "llama2-13b": 13_015_864_320,
    "llama2-70b": 68_976_648_192,
    "llama3-8b": 8_030_261_248,
    "llama3-70b": 70_553_706_496,
    "mixtral-8x7b": 46_702_792_704,
}


@pytest.mark.parametrize("name, expected", EXACT_PARAMETERS.items())
def test_parameter_count_equals_released_checkpoint(name, expected):
    assert load_model(name).parameter_count() == expected


# Published sizes, relative tolerance. Sources: Llama 2 paper (arXiv 2307.09288)
# Table 1 and model cards; Meta-Llama-3 model cards; Mixtral paper (arXiv 2401.04088):
# 46.7B total, 12.9B active; Qwen2-72B model card 72.7B; OPT paper (arXiv 2205.01068)
# Table 1; GPT-3 paper (arXiv 2005.14165) Table 2.1 (6.7B, 13.0B, 175.0B); NeuPIMs'
# GPT3-30B (model_params_b 30 in configs/model_configs/gpt3-30B.json).
PUBLISHED_BILLIONS = [
    ("llama2-7b", 6.74, 0.005),
    ("llama2-70b", 69.0, 0.005),
    ("llama3-8b", 8.03, 0.005),
    ("llama3-70b", 70.6, 0.005),
    ("mixtral-8x7b", 46.7, 0.005),
    ("qwen2-72b", 72.7, 0.005),
    ("opt-6.7b", 6.7, 0.01),
    ("opt-30b", 30.0, 0.005),
    ("opt-66b", 66.0, 0.005),
    ("opt-175b", 175.0, 0.005),
    ("gpt3-7b", 6.7, 0.01),
    ("gpt3-13b", 13.0, 0.015),  # d_model 5120 (40 x 128) rather than the table's 5140
    ("gpt3-30b", 30.0, 0.005),
    ("gpt3-175b", 175.0, 0.005),
]


@pytest.mark.parametrize("name, billions, tolerance", PUBLISHED_BILLIONS)
def test_parameter_count_matches_published_size(name, billions, tolerance):
    assert load_model(name).parameter_count() == pytest.approx(billions * 1e9, rel=tolerance)


def test_mixtral_active_parameters_per_token():
    mixtral = load_model("mixtral-8x7b")
    assert mixtral.active_parameter_count() == pytest.approx(12.9e9, rel=0.005)
    assert mixtral.active_parameter_count() < mixtral.parameter_count()


def test_dense_models_use_every_parameter_per_token():
    for name in ("llama2-7b", "opt-13b", "qwen2-72b"):
        config = load_model(name)
        assert config.active_parameter_count() == config.parameter_count()


def test_bitnet_3b_count_by_hand():
    # 26 layers of 4 x 3200^2 attention + 3 x 3200 x 8640 SwiGLU + two RMSNorm gains,
    # tied 32002 x 3200 embedding, final norm: 3.32 B.
    layer = 4 * 3200**2 + 3 * 3200 * 8640 + 2 * 3200
    assert load_model("bitnet-b1.58-3b").parameter_count() == 26 * layer + 32002 * 3200 + 3200


def test_opt_misses_only_the_two_spare_position_rows():
    # facebook/opt-6.7b holds 6,658,473,984 parameters; its learned position table has
    # max_positions + 2 rows (OPTLearnedPositionalEmbedding offset), not modelled.
    assert load_model("opt-6.7b").parameter_count() == 6_658_473_984 - 2 * 4096


@pytest.mark.parametrize("name, kv_bits, expected", [
    ("llama2-7b", 16, 2 * 32 * 32 * 128 * 2),    # 512 KiB per token
    ("llama2-70b", 16, 2 * 80 * 8 * 128 * 2),    # GQA: 320 KiB
    ("llama3-8b", 8, 2 * 32 * 8 * 128 * 1),
    ("gpt3-175b", 4, 2 * 96 * 96 * 128 * 0.5),
])
def test_kv_cache_bytes_per_token(name, kv_bits, expected):
    assert load_model(name).kv_cache_bytes_per_token(kv_bits) == expected


def test_gqa_shrinks_kv_cache_by_query_groups():
    gqa = load_model("llama2-70b")
    mha = gqa.with_overrides(num_kv_heads=64)
    assert gqa.query_groups == 8
    assert mha.kv_cache_bytes_per_token() == 8 * gqa.kv_cache_bytes_per_token()


def test_weight_bytes():
    assert load_model("llama2-7b").weight_bytes(4) == 6_738_415_616 / 2


# -- loading ---------------------------------------------------------------------
def test_unknown_preset_suggests_close_names():
    with pytest.raises(ValueError, match=r"unknown model preset 'llama2-7'.*did you mean 'llama2-7b'"):
        load_model("llama2-7")
    with pytest.raises(ValueError, match=r"did you mean 'opt-6.7b'"):
        load_model("opt-6.7")


def test_missing_file_is_reported():
    with pytest.raises(FileNotFoundError, match="no/such/config.json"):
        load_model("no/such/config.json")


def test_inline_fields_and_defaults():
    config = load_model({"name": "tiny", "hidden_size": 256, "num_layers": 2, "num_heads": 4,
                         "ffn_size": 1024, "activation": "gelu", "norm": "layernorm",
                         "vocab_size": 1000, "position": "learned", "max_positions": 512})
    assert (config.num_kv_heads, config.head_dim, config.moe_ffn_size) == (4, 64, 0)
    assert config.position is Position.LEARNED


def test_preset_with_overrides():
    short = load_model({"preset": "llama2-7b", "num_layers": 2})
    assert short.num_layers == 2 and short.hidden_size == 4096


def test_yaml_file_of_fields_takes_its_name_from_the_file(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text("hidden_size: 128\nnum_layers: 2\nnum_heads: 2\nffn_size: 256\n"
                    "activation: relu\nnorm: layernorm\nvocab_size: 10\nposition: alibi\n"
                    "max_positions: 64\n")
    config = load_model(path)
    assert (config.name, config.head_dim) == ("tiny", 64)
    assert config.parameter_count() == 2 * (4 * 128**2 + 2 * 128 * 256 + 4 * 128) + 2 * 10 * 128 + 256


def test_unknown_preset_inside_a_mapping_suggests():
    with pytest.raises(ValueError, match="did you mean 'mixtral-8x7b'"):
        load_model({"preset": "mixtral-8x7", "num_layers": 2})


def test_config_is_frozen_hashable_and_round_trips():
    config = load_model("mixtral-8x7b")
    with pytest.raises(ValidationError, match="frozen"):
        config.hidden_size = 1
    assert ModelConfig.from_fields(config.model_dump()) == config
    assert ModelConfig.from_fields(config.model_dump(mode="json")) == config
    assert hash(config) == hash(load_model("mixtral-8x7b"))


@pytest.mark.parametrize("field", ["hidden_size", "num_layers", "num_heads", "num_kv_heads",
                                   "head_dim", "ffn_size", "vocab_size", "max_positions"])
@pytest.mark.parametrize("value", [0, -4])
def test_non_positive_sizes_are_rejected_naming_the_field(field, value):
    with pytest.raises(ValueError, match=rf"{field}: Input should be greater than 0 \(got {value}\)"):
        load_model({"preset": "llama2-7b", field: value})


def test_every_error_is_reported_at_once():
    with pytest.raises(ValueError) as caught:
        load_model({"preset": "llama2-7b", "hidden_size": -1, "num_layers": 0, "hiden": 3})
    message = str(caught.value)
    assert "hidden_size:" in message and "num_layers:" in message
    assert "hiden: unknown field; did you mean 'hidden_size'?" in message


@pytest.mark.parametrize("changes, message", [
    ({"num_kv_heads": 3}, "num_heads (32) must be a multiple of num_kv_heads (3)"),
    ({"experts_per_token": 2}, "experts_per_token must be 0 for a dense model"),
    ({"num_experts": 8, "experts_per_token": 9}, "experts_per_token must be in [1, num_experts=8]"),
    ({"rotary_fraction": 0.5, "position": "alibi"}, "rotary_fraction applies only to position 'rope'"),
    ({"activation": "swish"}, "activation: Input should be 'swiglu', 'gelu' or 'relu'"),
    ({"num_heads": "32"}, "num_heads: Input should be a valid integer"),
])
def test_cross_field_and_type_errors(changes, message):
    with pytest.raises(ValueError, match="invalid config") as caught:
        load_model({"preset": "llama2-7b", **changes})
    assert message in str(caught.value)


def test_duplicate_keys_in_files_are_errors(tmp_path):
    yaml_file = tmp_path / "model.yaml"
    yaml_file.write_text("hidden_size: 64\nhidden_size: 128\n")
    with pytest.raises(ValueError, match="duplicate key 'hidden_size'"):
        load_model(yaml_file)
    json_file = tmp_path / "config.json"
    json_file.write_text('{"model_type": "llama", "hidden_size": 64, "hidden_size": 128}')
    with pytest.raises(ValueError, match="duplicate key 'hidden_size'"):
        load_model(json_file)


# -- Hugging Face config.json -----------------------------------------------------------
# Shape keys of the public config.json files named in each entry; the expected count is
# the checkpoint's published total.
HF_CONFIGS = {
    "meta-llama/Llama-2-7b-hf": ({
        "model_type": "llama", "hidden_size": 4096, "intermediate_size": 11008,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32,
        "hidden_act": "silu", "max_position_embeddings": 4096, "vocab_size": 32000,
        "tie_word_embeddings": False}, 6_738_415_616),
    "mistralai/Mistral-7B-v0.1": ({
        "model_type": "mistral", "hidden_size": 4096, "intermediate_size": 14336,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
        "hidden_act": "silu", "max_position_embeddings": 32768, "vocab_size": 32000,
        "sliding_window": 4096, "tie_word_embeddings": False}, 7_241_732_096),
    "mistralai/Mixtral-8x7B-v0.1": ({
        "model_type": "mixtral", "hidden_size": 4096, "intermediate_size": 14336,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
        "num_local_experts": 8, "num_experts_per_tok": 2, "hidden_act": "silu",
        "max_position_embeddings": 32768, "vocab_size": 32000}, 46_702_792_704),
    "Qwen/Qwen2-72B": ({
        "model_type": "qwen2", "hidden_size": 8192, "intermediate_size": 29568,
        "num_hidden_layers": 80, "num_attention_heads": 64, "num_key_value_heads": 8,
        "hidden_act": "silu", "max_position_embeddings": 131072, "vocab_size": 152064,
        "tie_word_embeddings": False}, 72_706_203_648),
    "facebook/opt-6.7b": ({
        "model_type": "opt", "hidden_size": 4096, "ffn_dim": 16384, "num_hidden_layers": 32,
        "num_attention_heads": 32, "activation_function": "relu",
        "max_position_embeddings": 2048, "vocab_size": 50272, "enable_bias": True,
        "word_embed_proj_dim": 4096}, 6_658_473_984 - 2 * 4096),
    "gpt2": ({
        "model_type": "gpt2", "n_embd": 768, "n_layer": 12, "n_head": 12, "n_inner": None,
        "n_positions": 1024, "vocab_size": 50257, "activation_function": "gelu_new"},
        124_439_808),
    "EleutherAI/pythia-160m": ({
        "model_type": "gpt_neox", "hidden_size": 768, "intermediate_size": 3072,
        "num_hidden_layers": 12, "num_attention_heads": 12, "hidden_act": "gelu",
        "max_position_embeddings": 2048, "vocab_size": 50304, "rotary_pct": 0.25,
        "use_parallel_residual": True, "tie_word_embeddings": False}, 162_322_944),
}


@pytest.mark.parametrize("repo", HF_CONFIGS)
def test_hf_config_json_loads_with_published_count(tmp_path, repo):
    fields, expected = HF_CONFIGS[repo]
    folder = tmp_path / repo.split("/")[-1]
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(fields))
    config = load_model(folder / "config.json")
    assert config.name == folder.name
    assert config.parameter_count() == expected


def test_every_supported_model_type_is_covered():
    assert {fields["model_type"] for fields, _ in HF_CONFIGS.values()} == set(SUPPORTED_MODEL_TYPES)


def test_hf_family_specifics():
    def hf(repo):
        return ModelConfig.from_hf(HF_CONFIGS[repo][0])
    assert hf("Qwen/Qwen2-72B").qkv_bias and not hf("Qwen/Qwen2-72B").out_bias
    assert hf("mistralai/Mistral-7B-v0.1").num_kv_heads == 8
    mixtral = hf("mistralai/Mixtral-8x7B-v0.1")
    assert (mixtral.num_experts, mixtral.experts_per_token, mixtral.moe_ffn_size) == (8, 2, 14336)
    opt = hf("facebook/opt-6.7b")
    assert opt.tied_embeddings and opt.activation.value == "relu" and opt.mlp_bias
    assert hf("gpt2").ffn_size == 4 * 768
    neox = hf("EleutherAI/pythia-160m")
    assert neox.parallel_residual and neox.rotary_fraction == 0.25


def test_hf_inline_mapping_uses_name_or_path():
    fields = {**HF_CONFIGS["gpt2"][0], "_name_or_path": "gpt2"}
    assert load_model(fields).name == "gpt2"


def test_unsupported_model_type_lists_supported_ones():
    with pytest.raises(ValueError, match=r"unsupported Hugging Face model_type 'falcon'; "
                                         r"supported: gpt2, gpt_neox, llama, mistral, mixtral, opt, qwen2"):
        load_model({"model_type": "falcon", "hidden_size": 4544})


def test_hf_missing_shape_key_is_named():
    fields = dict(HF_CONFIGS["meta-llama/Llama-2-7b-hf"][0])
    del fields["intermediate_size"]
    with pytest.raises(ValueError, match="llama config.json: missing required key 'intermediate_size'"):
        load_model(fields)


def test_hf_unsupported_activation_is_named():
    fields = {**HF_CONFIGS["meta-llama/Llama-2-7b-hf"][0], "hidden_act": "gelu"}
    with pytest.raises(ValueError, match="hidden_act 'gelu' is not supported"):
        load_model(fields)


@pytest.mark.parametrize("field,value,message", [
    ("rotary_fraction", True, "rotary_fraction: Input should be a valid number (got True)"),
    ("qkv_bias", 1, "qkv_bias: Input should be a valid boolean (got 1)"),
    ("tied_embeddings", "yes", "tied_embeddings: Input should be a valid boolean (got 'yes')"),
])
def test_a_boolean_for_a_number_or_a_number_for_a_flag_is_refused(field, value, message):
    fields = load_model("llama2-7b").model_dump()
    with pytest.raises(WorkloadError, match=re.escape(message)):
        ModelConfig.from_fields({**fields, field: value})
