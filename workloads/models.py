"""LLM architecture configs: shapes, parameter counts, KV-cache size, and loading.

A :class:`ModelConfig` holds the shape of a decoder-only transformer: widths, layer
and head counts (with grouped-query attention), the feed-forward type, normalisation,
position encoding, vocabulary and, for mixture-of-experts models, the expert counts.
It holds no weights.

Parameter counts are exact for the architectures modelled (Llama/Mistral/Mixtral/
Qwen2 with RMSNorm and SwiGLU; OPT, GPT-2/GPT-3 and GPT-NeoX with LayerNorm and a
two-matrix MLP, biases as flagged) with three known omissions, each well under
0.01 % of a model's size: OPT's two spare rows of learned positions, OPT-350m's
input/output projections, and BitNet's extra sub-layer norms. The counts match the
published sizes (see ``tests/test_models.py``).

Models come from three places, all through :func:`load_model`: presets shipped in
``workloads/presets/*.yaml`` (each names its source), a Hugging Face ``config.json``
(see :mod:`workloads.hf_config`), or inline fields.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from workloads.errors import WorkloadError
from workloads.input_files import MAX_DATA_FILE_BYTES, InputFileError, read_input_bytes
from workloads import hf_config
from workloads.yamlio import load_yaml_file

PRESET_DIR = Path(__file__).with_name("presets")

# Biases and norm gains stay at 16 bits in fp16/bf16 checkpoints and are left
# unquantised by weight-only schemes (GPTQ, AWQ); used for their byte counts.
SMALL_PARAM_BITS = 16


class Activation(str, Enum):
    """Feed-forward type: SwiGLU has gate, up and down matrices; the others two."""

    SWIGLU = "swiglu"
    GELU = "gelu"
    RELU = "relu"

    @property
    def is_gated(self) -> bool:
        return self is Activation.SWIGLU


class Norm(str, Enum):
    RMSNORM = "rmsnorm"
    LAYERNORM = "layernorm"

    @property
    def params_per_channel(self) -> int:
        """RMSNorm has a gain per channel; LayerNorm a gain and a bias."""
        return 2 if self is Norm.LAYERNORM else 1


class Position(str, Enum):
    ROPE = "rope"
    LEARNED = "learned"
    ALIBI = "alibi"


PositiveInt = Annotated[int, Field(strict=True, gt=0)]
NonNegativeInt = Annotated[int, Field(strict=True, ge=0)]
Flag = Annotated[bool, Field(strict=True)]  # true or false, not 1 or "yes" (nor a number read as true)


class ModelConfig(BaseModel):
    """The shape of a decoder-only LLM. Frozen; unknown fields are errors.

    ``num_kv_heads`` defaults to ``num_heads`` (multi-head attention), ``head_dim``
    to ``hidden_size // num_heads`` and, for an MoE model, ``moe_ffn_size`` to
    ``ffn_size``. With ``num_experts > 0`` every layer's FFN is a mixture of
    ``num_experts`` routed experts (``experts_per_token`` chosen per token) plus
    ``num_shared_experts`` always-on experts, all ``moe_ffn_size`` wide.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, Field(min_length=1)] = "custom"
    hidden_size: PositiveInt
    num_layers: PositiveInt
    num_heads: PositiveInt
    num_kv_heads: PositiveInt = Field(
        default_factory=lambda data: data.get("num_heads", 1), validate_default=True)
    head_dim: PositiveInt = Field(
        default_factory=lambda data: data.get("hidden_size", 1) // data.get("num_heads", 1),
        validate_default=True)
    ffn_size: PositiveInt
    activation: Activation
    norm: Norm
    vocab_size: PositiveInt
    position: Position
    max_positions: PositiveInt
    rotary_fraction: Annotated[float, Field(strict=True, gt=0.0, le=1.0)] = 1.0  # share of head_dim rotated
    tied_embeddings: Flag = False
    qkv_bias: Flag = False
    out_bias: Flag = False  # attention output projection
    mlp_bias: Flag = False
    parallel_residual: Flag = False  # GPT-NeoX / GPT-J: attention and MLP read the same input
    num_experts: NonNegativeInt = 0
    experts_per_token: NonNegativeInt = 0
    num_shared_experts: NonNegativeInt = 0
    moe_ffn_size: NonNegativeInt = Field(
        default_factory=lambda data: data.get("ffn_size", 0) if data.get("num_experts") else 0,
        validate_default=True)
    source: str = ""  # model card / paper the numbers come from

    @model_validator(mode="after")
    def _check_cross_fields(self) -> "ModelConfig":
        errors = _cross_field_errors(self)
        if errors:
            raise WorkloadError("; ".join(errors))
        return self

    # -- shape ------------------------------------------------------------------
    @property
    def is_moe(self) -> bool:
        return self.num_experts > 0

    @property
    def query_groups(self) -> int:
        """Query heads per KV head (1: MHA, num_heads: MQA)."""
        return self.num_heads // self.num_kv_heads

    @property
    def q_size(self) -> int:
        return self.num_heads * self.head_dim

    @property
    def kv_size(self) -> int:
        """Width of K (and of V) for one token."""
        return self.num_kv_heads * self.head_dim

    # -- parameters -------------------------------------------------------------
    def attention_parameter_count(self) -> int:
        """Q, K, V and output projections of one layer, with their biases."""
        qkv_out = self.q_size + 2 * self.kv_size
        weights = self.hidden_size * qkv_out + self.q_size * self.hidden_size
        return weights + qkv_out * self.qkv_bias + self.hidden_size * self.out_bias

    def mlp_parameter_count(self, ffn_size: int | None = None) -> int:
        """One MLP (dense FFN or one expert) of width ``ffn_size``."""
        width = self.ffn_size if ffn_size is None else ffn_size
        matrices = 3 if self.activation.is_gated else 2
        biases = ((matrices - 1) * width + self.hidden_size) * self.mlp_bias
        return matrices * self.hidden_size * width + biases

    def norm_parameter_count(self) -> int:
        return self.hidden_size * self.norm.params_per_channel

    def ffn_parameter_count(self, *, active: bool = False) -> int:
        """A layer's FFN: dense MLP, or router + experts (only the chosen ones if ``active``)."""
        if not self.is_moe:
            return self.mlp_parameter_count()
        routed = self.experts_per_token if active else self.num_experts
        experts = (routed + self.num_shared_experts) * self.mlp_parameter_count(self.moe_ffn_size)
        return self.hidden_size * self.num_experts + experts

    def layer_parameter_count(self, *, active: bool = False) -> int:
        """One decoder layer: attention, FFN and its two norms."""
        return (self.attention_parameter_count() + self.ffn_parameter_count(active=active)
                + 2 * self.norm_parameter_count())

    def embedding_parameter_count(self) -> int:
        """Token (and learned position) embeddings plus the LM head unless tied."""
        tokens = self.vocab_size * self.hidden_size
        positions = self.max_positions * self.hidden_size if self.position is Position.LEARNED else 0
        head = 0 if self.tied_embeddings else self.vocab_size * self.hidden_size
        return tokens + positions + head

    def parameter_count(self, *, active: bool = False) -> int:
        """All parameters, or (``active``) those one token uses, embeddings included."""
        return (self.num_layers * self.layer_parameter_count(active=active)
                + self.embedding_parameter_count() + self.norm_parameter_count())

    def active_parameter_count(self) -> int:
        return self.parameter_count(active=True)

    def weight_bytes(self, weight_bits: float = 16) -> float:
        """Bytes of all parameters stored at ``weight_bits`` each."""
        return self.parameter_count() * weight_bits / 8

    def kv_cache_bytes_per_token(self, kv_bits: float = 16) -> float:
        """K and V of one token over all layers: 2 x layers x kv_heads x head_dim x bits / 8."""
        return 2 * self.num_layers * self.kv_size * kv_bits / 8

    # -- construction -------------------------------------------------------------
    @classmethod
    def from_hf(cls, config: Mapping[str, Any], name: str | None = None) -> "ModelConfig":
        """From a Hugging Face ``config.json`` mapping (see :mod:`workloads.hf_config`)."""
        fields = hf_config.hf_fields(config)
        fields["name"] = name or str(config.get("_name_or_path") or config["model_type"])
        return cls.from_fields(fields)

    def with_overrides(self, **changes: Any) -> "ModelConfig":
        """A validated copy with some fields changed."""
        return self.from_fields({**self.model_dump(), **changes})

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> "ModelConfig":
        """Validate ``fields``; every problem is reported at once, as ``field: problem``."""
        try:
            return cls.model_validate(fields)
        except ValidationError as error:
            name = fields.get("name", "custom")
            problems = "\n  ".join(
                _describe(e) for e in error.errors()
                if e["type"] != "default_factory_not_called")  # follows from another error
            raise WorkloadError(f"model {name!r}: invalid config:\n  {problems}") from None


def _describe(error: Mapping[str, Any]) -> str:
    """One pydantic error as ``field: message (got value)``."""
    field = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(field, list(ModelConfig.model_fields), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{field}: unknown field{hint}"
    if error["type"] == "missing":
        return f"{field}: required field missing"
    message = error["msg"].removeprefix("Value error, ")
    if not field:
        return message
    return f"{field}: {message} (got {error['input']!r})"


def _cross_field_errors(config: ModelConfig) -> list[str]:
    errors = []
    if config.num_heads % config.num_kv_heads:
        errors.append(f"num_heads ({config.num_heads}) must be a multiple of "
                      f"num_kv_heads ({config.num_kv_heads})")
    if config.is_moe:
        if not 1 <= config.experts_per_token <= config.num_experts:
            errors.append(f"experts_per_token must be in [1, num_experts={config.num_experts}], "
                          f"got {config.experts_per_token}")
        if config.moe_ffn_size < 1:
            errors.append("moe_ffn_size must be > 0 for an MoE model (num_experts > 0)")
    else:
        for field in ("experts_per_token", "num_shared_experts", "moe_ffn_size"):
            if getattr(config, field):
                errors.append(f"{field} must be 0 for a dense model (num_experts = 0)")
    if config.rotary_fraction != 1.0 and config.position is not Position.ROPE:
        errors.append("rotary_fraction applies only to position 'rope'")
    return errors


# -- loading ------------------------------------------------------------------------
def list_models() -> list[str]:
    """Names of the shipped presets."""
    return list(_preset_names())


@lru_cache(maxsize=1)
def _preset_names() -> tuple[str, ...]:
    """The preset folder's names, read once: it ships with the package and does not change while running."""
    return tuple(sorted(path.stem for path in PRESET_DIR.glob("*.yaml")))


def load_model(spec: "str | Path | Mapping[str, Any] | ModelConfig") -> ModelConfig:
    """A model from a preset name, a path to a ``config.json`` / YAML file, or fields.

    A mapping with ``model_type`` is read as a Hugging Face config; one with
    ``preset`` starts from that preset and overrides the other keys; any other
    mapping holds :class:`ModelConfig` fields.
    """
    if isinstance(spec, ModelConfig):
        return spec
    if isinstance(spec, Mapping):
        return _from_mapping(spec, default_name="custom")
    if isinstance(spec, str) and spec in _preset_names():
        return _load_preset(spec)
    path = Path(spec)
    if path.is_file():
        return _from_mapping(read_mapping(path), default_name=_name_from_path(path))
    if isinstance(spec, str) and not _looks_like_path(spec):
        raise WorkloadError(_unknown_preset_message(spec))
    raise FileNotFoundError(f"model file not found: {path}")


def _looks_like_path(spec: str) -> bool:
    return "/" in spec or "\\" in spec or Path(spec).suffix in (".json", ".yaml", ".yml")


def _from_mapping(data: Mapping[str, Any], default_name: str) -> ModelConfig:
    if "model_type" in data:
        return ModelConfig.from_hf(data, name=data.get("_name_or_path") or default_name)
    if "preset" in data:
        overrides = {key: value for key, value in data.items() if key != "preset"}
        return load_model(str(data["preset"])).with_overrides(**overrides)
    return ModelConfig.from_fields({"name": default_name, **data})


@lru_cache(maxsize=None)
def _load_preset(name: str) -> ModelConfig:
    data = read_mapping(PRESET_DIR / f"{name}.yaml")
    return ModelConfig.from_fields(data)


def _name_from_path(path: Path) -> str:
    return path.parent.name if path.stem == "config" and path.parent.name else path.stem


def _unknown_preset_message(name: str) -> str:
    names = list_models()
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown model preset {name!r}{hint} (presets: {', '.join(names)})"


# -- files: duplicate keys are errors ---------------------------------------------
def _reject_duplicate_json_keys(pairs: list[tuple[str, Any]]) -> dict:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise WorkloadError(f"duplicate key {key!r}")
        result[key] = value
    return result


def read_mapping(path: Path) -> dict[str, Any]:
    """A JSON or YAML file holding one mapping; duplicate keys are errors."""
    path = Path(path)
    if path.suffix != ".json":
        data = load_yaml_file(path)
    else:
        try:
            text = read_input_bytes(path, MAX_DATA_FILE_BYTES, "model file").decode("utf-8")
            data = json.loads(text, object_pairs_hook=_reject_duplicate_json_keys)
        except InputFileError as error:
            raise WorkloadError(str(error)) from None
        except ValueError as error:  # not UTF-8, not JSON, a duplicate key
            raise WorkloadError(f"{path}: {error}") from None
    if not isinstance(data, dict):
        raise WorkloadError(f"{path}: expected a mapping of fields, got {type(data).__name__}")
    return data
