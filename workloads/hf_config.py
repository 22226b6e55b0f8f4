"""Hugging Face ``config.json`` -> :class:`workloads.models.ModelConfig` fields.

Reads the keys that fix a model's shape, per ``model_type``, and returns a plain
dict of ``ModelConfig`` fields (the caller validates it). Nothing is downloaded.

Shape keys (widths, layer and head counts) are required; a missing one is an error
naming the key. Other keys fall back to the default of the matching ``transformers``
config class (``LlamaConfig``, ``OPTConfig``, ... in ``transformers/models/*/
configuration_*.py``), which is what ``from_pretrained`` would use.

Supported ``model_type`` values and what each implies:

- ``llama``, ``mistral``, ``mixtral``, ``qwen2``: RMSNorm, SwiGLU MLP, RoPE. Llama
  may set ``attention_bias`` (Q/K/V/O) and ``mlp_bias``; Qwen2 has Q/K/V biases;
  Mixtral replaces every MLP with ``num_local_experts`` experts, top
  ``num_experts_per_tok``. Mistral's sliding window is not modelled (attention
  spans the whole context).
- ``opt``: LayerNorm, ReLU MLP, learned positions, biases (``enable_bias``), tied
  embeddings. OPT-350m's ``word_embed_proj_dim`` projections are not modelled.
- ``gpt2``: LayerNorm, GELU MLP of ``n_inner`` (default 4 x ``n_embd``), learned
  positions, biases, tied embeddings.
- ``gpt_neox``: LayerNorm, GELU MLP, rotary on ``rotary_pct`` of each head,
  biases, parallel residual (``use_parallel_residual``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from workloads.errors import WorkloadError

_GELU_NAMES = ("gelu", "gelu_new", "gelu_fast", "gelu_pytorch_tanh", "gelu_python", "gelu_accurate")
_SILU_NAMES = ("silu", "swish")


class _Reader:
    """Key access that names the model type and the key in its errors."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.model_type = config["model_type"]

    def require(self, key: str) -> Any:
        value = self.config.get(key)
        if value is None:
            raise WorkloadError(f"{self.model_type} config.json: missing required key {key!r}")
        return value

    def get(self, key: str, default: Any) -> Any:
        value = self.config.get(key)
        return default if value is None else value

    def activation(self, key: str, default: str, allowed: Mapping[str, str]) -> str:
        name = self.get(key, default)
        if name not in allowed:
            raise WorkloadError(f"{self.model_type} config.json: {key} {name!r} is not supported "
                             f"(supported: {', '.join(sorted(allowed))})")
        return allowed[name]


_GATED = {name: "swiglu" for name in _SILU_NAMES}
_PLAIN = {"relu": "relu", **{name: "gelu" for name in _GELU_NAMES}}


def _llama_family(cfg: _Reader, *, max_positions: int, vocab_size: int,
                  qkv_bias: bool | None = None) -> dict[str, Any]:
    """Llama-style decoder; defaults from the model type's ``transformers`` config class."""
    attention_bias = bool(cfg.get("attention_bias", False))
    fields = {
        "hidden_size": cfg.require("hidden_size"),
        "num_layers": cfg.require("num_hidden_layers"),
        "num_heads": cfg.require("num_attention_heads"),
        "num_kv_heads": cfg.get("num_key_value_heads", cfg.require("num_attention_heads")),
        "ffn_size": cfg.require("intermediate_size"),
        "activation": cfg.activation("hidden_act", "silu", _GATED),
        "norm": "rmsnorm",
        "vocab_size": cfg.get("vocab_size", vocab_size),
        "position": "rope",
        "max_positions": cfg.get("max_position_embeddings", max_positions),
        "tied_embeddings": bool(cfg.get("tie_word_embeddings", False)),
        "qkv_bias": attention_bias if qkv_bias is None else qkv_bias,
        "out_bias": attention_bias,
        "mlp_bias": bool(cfg.get("mlp_bias", False)),
    }
    if cfg.config.get("head_dim") is not None:
        fields["head_dim"] = cfg.config["head_dim"]
    return fields


def _llama(cfg: _Reader) -> dict[str, Any]:
    return _llama_family(cfg, max_positions=2048, vocab_size=32000)  # LlamaConfig defaults


def _mistral(cfg: _Reader) -> dict[str, Any]:
    return _llama_family(cfg, max_positions=4096 * 32, vocab_size=32000)  # MistralConfig defaults


def _mixtral(cfg: _Reader) -> dict[str, Any]:
    fields = _llama_family(cfg, max_positions=4096 * 32, vocab_size=32000)  # MixtralConfig
    fields.update(num_experts=cfg.get("num_local_experts", 8),
                  experts_per_token=cfg.get("num_experts_per_tok", 2),
                  moe_ffn_size=fields["ffn_size"])
    return fields


def _qwen2(cfg: _Reader) -> dict[str, Any]:
    # Qwen2Attention: q/k/v projections with bias, o_proj without.
    fields = _llama_family(cfg, max_positions=32768, vocab_size=151936, qkv_bias=True)
    fields["out_bias"] = False
    return fields


def _opt(cfg: _Reader) -> dict[str, Any]:
    bias = bool(cfg.get("enable_bias", True))
    return {
        "hidden_size": cfg.require("hidden_size"),
        "num_layers": cfg.require("num_hidden_layers"),
        "num_heads": cfg.require("num_attention_heads"),
        "ffn_size": cfg.require("ffn_dim"),
        "activation": cfg.activation("activation_function", "relu", _PLAIN),
        "norm": "layernorm",
        "vocab_size": cfg.get("vocab_size", 50272),
        "position": "learned",
        "max_positions": cfg.get("max_position_embeddings", 2048),
        "tied_embeddings": bool(cfg.get("tie_word_embeddings", True)),
        "qkv_bias": bias, "out_bias": bias, "mlp_bias": bias,
    }


def _gpt2(cfg: _Reader) -> dict[str, Any]:
    hidden = cfg.require("n_embd")
    return {
        "hidden_size": hidden,
        "num_layers": cfg.require("n_layer"),
        "num_heads": cfg.require("n_head"),
        "ffn_size": cfg.get("n_inner", 4 * hidden),
        "activation": cfg.activation("activation_function", "gelu_new", _PLAIN),
        "norm": "layernorm",
        "vocab_size": cfg.get("vocab_size", 50257),
        "position": "learned",
        "max_positions": cfg.get("n_positions", 1024),
        "tied_embeddings": bool(cfg.get("tie_word_embeddings", True)),
        "qkv_bias": True, "out_bias": True, "mlp_bias": True,
    }


def _gpt_neox(cfg: _Reader) -> dict[str, Any]:
    attention_bias = bool(cfg.get("attention_bias", True))
    return {
        "hidden_size": cfg.require("hidden_size"),
        "num_layers": cfg.require("num_hidden_layers"),
        "num_heads": cfg.require("num_attention_heads"),
        "ffn_size": cfg.require("intermediate_size"),
        "activation": cfg.activation("hidden_act", "gelu", _PLAIN),
        "norm": "layernorm",
        "vocab_size": cfg.get("vocab_size", 50432),
        "position": "rope",
        "rotary_fraction": float(cfg.get("rotary_pct", 0.25)),
        "max_positions": cfg.get("max_position_embeddings", 2048),
        "tied_embeddings": bool(cfg.get("tie_word_embeddings", False)),
        "qkv_bias": attention_bias, "out_bias": attention_bias, "mlp_bias": True,
        "parallel_residual": bool(cfg.get("use_parallel_residual", True)),
    }


_CONVERTERS: dict[str, Callable[[_Reader], dict[str, Any]]] = {
    "llama": _llama,
    "mistral": _mistral,
    "mixtral": _mixtral,
    "qwen2": _qwen2,
    "opt": _opt,
    "gpt2": _gpt2,
    "gpt_neox": _gpt_neox,
}

SUPPORTED_MODEL_TYPES: tuple[str, ...] = tuple(sorted(_CONVERTERS))


def hf_fields(config: Mapping[str, Any]) -> dict[str, Any]:
    """``ModelConfig`` fields (without ``name``) from a ``config.json`` mapping."""
    model_type = config.get("model_type")
    converter = _CONVERTERS.get(model_type)
    if converter is None:
        raise WorkloadError(f"unsupported Hugging Face model_type {model_type!r}; "
                         f"supported: {', '.join(SUPPORTED_MODEL_TYPES)}")
    return converter(_Reader(config))
