"""Op traces extracted from a real Hugging Face model (the optional ``torch`` extra).

:func:`extract_steps` builds a causal LM from a Hugging Face config with random
weights (``AutoModelForCausalLM.from_config``: nothing is downloaded), runs one
prefill over a random prompt and one decode step that reads the prefill's KV
cache, and records every matrix multiply each step executes. The result is a pair
of :class:`ExtractedStep` objects whose ops use the names and conventions of the
analytic builder (:func:`workloads.layers.build_decoder_layer`), so the two can be
compared op by op and an extracted step can be written as a trace file
(:func:`workloads.tracefile.export_workload`) and simulated.

How ops are captured, and why this tracer. The model runs eagerly under a
``TorchDispatchMode`` that sees each ATen operator after autograd and after
``nn.Linear`` / ``torch.matmul`` have been lowered: ``aten.mm``, ``aten.addmm``,
``aten.bmm``, ``aten.baddbmm`` (and ``aten.linear`` where a backend keeps it)
with their real operand shapes, plus ``aten._softmax``. Forward hooks on every
module say which module (``model.layers.3.self_attn.q_proj``) issued each op.
This was chosen over the alternatives because it needs no graph capture:
``torch.fx`` symbolic tracing breaks on the data-dependent control flow of the
KV cache and of MoE routing (which experts receive tokens), ``torch.export``
specialises or rejects that same control flow and would need a second export per
step, and the profiler reports op names and shapes but not reliably the module
that issued them. Under dispatch interception the routing really happens, so
each expert's GEMM has the token count the router gave it.

Conventions applied to the captured shapes (each exact in FLOPs):

- Attention runs with ``attn_implementation="eager"`` so that the score and
  context products are visible as two ``bmm`` per layer (a fused SDPA kernel is
  one opaque op). Eager grouped-query attention copies each K/V head to its
  query heads (``repeat_kv``) and multiplies per query head; the extracted op
  folds the heads of one KV group into ``m`` (``count`` = batch x KV heads,
  ``m`` = query heads per group x query tokens), the analytic convention in
  which a K/V head is read once per group.
- A fused gate-and-up expert weight (``gate_up_proj``, as ``transformers`` stores
  Mixtral experts) is split into ``expert{j}_gate`` and ``expert{j}_up`` halves.
  MoE experts run with ``experts_implementation="eager"`` (one GEMM per expert
  that received tokens); ``j`` numbers those experts in the order they ran,
  which is ascending expert index, and experts that received no token have no op.
- Prefill attention's operand is ``activation`` (the prompt's own K/V), decode's
  is ``kv`` (the cache), as in the analytic builder; bit widths are the
  ``bits`` argument (the model itself runs in float32 on the CPU).

What it does not capture: element-wise ops (norms, RoPE, activations, residual
adds) and data movement, whose ATen decomposition differs per model family;
the rotary table's position x frequency product (not a per-layer op); any
matmul issued by a module the name table below does not know keeps a name
made from its module path. Families known to the table: llama, mistral, qwen2,
mixtral (both expert layouts) and opt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workloads.errors import WorkloadError
from workloads.graph import Workload
from workloads.models import ModelConfig
from workloads.op import Op, OpKind, Operand, Phase

# Leaf module name -> op name of the analytic builder.
_LINEAR_NAMES = {
    "q_proj": "q_proj", "k_proj": "k_proj", "v_proj": "v_proj",
    "o_proj": "o_proj", "out_proj": "o_proj",
    "gate_proj": "ffn_gate", "up_proj": "ffn_up", "down_proj": "ffn_down",
    "fc1": "ffn_up", "fc2": "ffn_down",
    "gate": "moe_router", "lm_head": "lm_head",
}
# Per-expert linear layers of an ``experts.<j>`` module list (Mixtral's w1/w3/w2).
_EXPERT_LEAVES = {"w1": "gate", "w3": "up", "w2": "down",
                  "gate_proj": "gate", "up_proj": "up", "down_proj": "down"}
_LAYER = re.compile(r"(?:^|\.)layers\.(\d+)(?:\.|$)")
_EXPERT_ITEM = re.compile(r"experts\.(\d+)\.(\w+)$")
_ROTARY = "rotary_emb"


@dataclass(frozen=True)
class Record:
    """One captured ATen matmul or softmax: the module that issued it and its shape."""

    module: str
    aten: str
    m: int
    n: int
    k: int = 1
    count: int = 1
    bias: bool = False


@dataclass(frozen=True)
class ExtractedStep:
    """The ops of one extracted step, per layer, named as the analytic builder names them."""

    phase: Phase
    batch: int
    seq_len: int  # prompt length (prefill) or tokens already in the KV cache (decode)
    ops: tuple[Op, ...]  # op.layer: decoder layer index, -1 outside the layers (lm_head)
    records: tuple[Record, ...]  # what was captured, before renaming

    @property
    def num_layers(self) -> int:
        return 1 + max(op.layer for op in self.ops)

    def layer_ops(self, layer: int) -> list[Op]:
        return [op for op in self.ops if op.layer == layer]

    def layer_workload(self, layer: int) -> Workload:
        """Layer ``layer``'s ops as a chain in execution order (``repeat`` = 1)."""
        ops = self.layer_ops(layer)
        if not ops:
            raise WorkloadError(f"layer {layer}: no ops were captured (layers: 0..{self.num_layers - 1})")
        return Workload.chain(f"extracted-{self.phase.value}-layer{layer}", ops,
                              phase=self.phase.value, batch=self.batch,
                              tokens_per_step=self._tokens)

    def workload(self, name: str = "extracted") -> Workload:
        """Every captured op of the step (all layers, then the LM head) as one chain."""
        ops = [_renamed(op, f"layers.{op.layer}.{op.name}" if op.layer >= 0 else op.name)
               for op in self.ops]
        return Workload.chain(f"{name}-{self.phase.value}-b{self.batch}-s{self.seq_len}", ops,
                              phase=self.phase.value, batch=self.batch,
                              tokens_per_step=self._tokens,
                              meta=(("source", "workloads.extract"), ("seq_len", self.seq_len)))

    @property
    def _tokens(self) -> int:
        return self.batch * (self.seq_len if self.phase is Phase.PREFILL else 1)


# -- running the model ------------------------------------------------------------
def extract_steps(hf_config: Any, *, batch: int = 2, prompt_len: int = 8, seed: int = 0,
                  bits: float = 16) -> tuple[ExtractedStep, ExtractedStep]:
    """Prefill ``prompt_len`` tokens for ``batch`` requests, then decode one token each.

    ``hf_config`` is a ``transformers`` config object or a ``config.json`` mapping
    (with ``model_type``). ``seed`` fixes the random weights and prompt, and so
    the MoE routing. Returns the (prefill, decode) steps.
    """
    torch, transformers = _import_torch()
    config = _as_hf_config(hf_config, transformers)
    for name, value in (("batch", batch), ("prompt_len", prompt_len)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise WorkloadError(f"{name} must be a positive integer, got {value!r}")
    torch.manual_seed(seed)
    model = _build_model(config, transformers).eval()
    kv_heads = getattr(config, "num_key_value_heads", None) or config.num_attention_heads
    groups = config.num_attention_heads // kv_heads
    prompt = torch.randint(0, config.vocab_size, (batch, prompt_len))
    tracer = _tracer(torch, model)
    with torch.no_grad():
        with tracer as prefill:
            out = model(prompt, use_cache=True)
        prefill_records = tuple(prefill.records)
        next_token = out.logits[:, -1:].argmax(-1)
        with _tracer(torch, model) as decode:
            model(next_token, past_key_values=out.past_key_values, use_cache=True)
    steps = []
    for phase, records in ((Phase.PREFILL, prefill_records), (Phase.DECODE, tuple(decode.records))):
        ops = canonical_ops(records, phase, groups, bits)
        steps.append(ExtractedStep(phase, batch, prompt_len, tuple(ops), records))
    return steps[0], steps[1]


def analytic_config(hf_config: Any) -> ModelConfig:
    """The :class:`ModelConfig` the analytic builder uses for the same HF config."""
    _, transformers = _import_torch()
    config = _as_hf_config(hf_config, transformers)
    return ModelConfig.from_hf(config.to_dict(), name=f"extracted-{config.model_type}")


def _import_torch():
    try:
        import torch
        import transformers
    except ImportError as err:
        raise ImportError("extracting a trace needs the torch extra: "
                          "pip install -e '.[torch]'") from err
    return torch, transformers


def _as_hf_config(hf_config: Any, transformers) -> Any:
    if isinstance(hf_config, Mapping):
        fields = dict(hf_config)
        model_type = fields.pop("model_type", None)
        if not model_type:
            raise WorkloadError("hf_config: a config.json mapping needs 'model_type'")
        return transformers.AutoConfig.for_model(model_type, **fields)
    return hf_config


def _build_model(config: Any, transformers) -> Any:
    kwargs = {"attn_implementation": "eager"}
    if getattr(config, "num_local_experts", 0) or getattr(config, "num_experts", 0):
        kwargs["experts_implementation"] = "eager"
    return transformers.AutoModelForCausalLM.from_config(config, **kwargs)


def _tracer(torch, model):
    """A context manager recording matmuls and softmaxes with their issuing module."""
    from torch.utils._python_dispatch import TorchDispatchMode

    aten = torch.ops.aten
    captured = {aten.mm, aten.addmm, aten.bmm, aten.baddbmm, aten.linear, aten._softmax}

    class _Tracer(TorchDispatchMode):
        def __init__(self) -> None:
            super().__init__()
            self.records: list[Record] = []
            self.modules: list[str] = []
            self.handles: list[Any] = []

        def __enter__(self):
            for name, module in model.named_modules():
                self.handles.append(module.register_forward_pre_hook(self._enter_module(name)))
                self.handles.append(module.register_forward_hook(self._leave_module))
            return super().__enter__()

        def _enter_module(self, name: str):
            def hook(_module, _args) -> None:
                self.modules.append(name)
            return hook

        def _leave_module(self, _module, _args, _output) -> None:
            self.modules.pop()

        def __exit__(self, *exc):
            for handle in self.handles:
                handle.remove()
            return super().__exit__(*exc)

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func.overloadpacket in captured:
                where = self.modules[-1] if self.modules else ""
                self.records.append(_record(func.overloadpacket.__name__, where, args))
            return func(*args, **(kwargs or {}))

    return _Tracer()


def _record(aten: str, module: str, args: tuple) -> Record:
    """Shapes of one captured op in the ``m, n, k, count`` convention of :class:`Op`."""
    shapes = [tuple(a.shape) for a in args if hasattr(a, "shape")]
    if aten == "mm":
        (m, k), (_, n) = shapes
        return Record(module, aten, m, n, k)
    if aten == "addmm":
        _, (m, k), (_, n) = shapes
        return Record(module, aten, m, n, k, bias=True)
    if aten in ("bmm", "baddbmm"):
        (c, m, k), (_, _, n) = shapes[-2:]
        return Record(module, aten, m, n, k, count=c, bias=aten == "baddbmm")
    if aten == "linear":
        x, (n, k) = shapes[0], shapes[1]
        return Record(module, aten, _prod(x[:-1]), n, k, bias=len(shapes) > 2)
    x = shapes[0]  # _softmax: rows x width, rows = all leading dimensions
    return Record(module, aten, x[-2] if len(x) > 1 else 1, x[-1], count=_prod(x[:-2]))


def _prod(dims: tuple) -> int:
    total = 1
    for dim in dims:
        total *= dim
    return total


# -- renaming to the analytic convention -------------------------------------------
def canonical_ops(records: tuple[Record, ...] | list[Record], phase: Phase, groups: int,
                  bits: float = 16) -> list[Op]:
    """Captured records as ops named and shaped as :func:`build_decoder_layer` makes them."""
    namer = _Namer(phase, groups, bits)
    ops = []
    for record in records:
        ops += namer.ops(record)
    return ops


class _Namer:
    """Names records in order; attention and expert GEMMs are named by their position."""

    def __init__(self, phase: Phase, groups: int, bits: float) -> None:
        self.phase, self.groups, self.bits = phase, groups, bits
        self.attention_gemms: dict[str, int] = {}
        self.experts: dict[str, int] = {}

    def ops(self, record: Record) -> list[Op]:
        leaf = record.module.rsplit(".", 1)[-1]
        if leaf == _ROTARY:
            return []
        layer = _layer_of(record.module)
        if record.aten == "_softmax":
            return [self._softmax(record, leaf, layer)]
        if record.count > 1:
            return [self._attention(record, layer)]
        item = _EXPERT_ITEM.search(record.module)
        if item and item.group(2) in _EXPERT_LEAVES:
            return [self._gemm(f"expert{item.group(1)}_{_EXPERT_LEAVES[item.group(2)]}", record, layer)]
        if leaf == "experts":
            return self._fused_expert(record, layer)
        name = _LINEAR_NAMES.get(leaf, record.module.replace(".", "_") or "matmul")
        return [self._gemm(name, record, layer)]

    def _gemm(self, name: str, record: Record, layer: int, *, n: int | None = None,
              operand: Operand = Operand.WEIGHT, m: int | None = None, count: int = 1) -> Op:
        width = record.n if n is None else n
        extra = -(-int(count * width * self.bits) // 8) if record.bias else 0
        return Op(name, OpKind.GEMM, m=record.m if m is None else m, n=width, k=record.k,
                  count=count, a_bits=self.bits, b_bits=self.bits, out_bits=self.bits,
                  b_operand=operand, phase=self.phase, layer=layer, extra_bytes=extra)

    def _attention(self, record: Record, layer: int) -> Op:
        index = self.attention_gemms.get(record.module, 0)
        self.attention_gemms[record.module] = index + 1
        name = "attn_score" if index % 2 == 0 else "attn_context"
        operand = Operand.KV if self.phase is Phase.DECODE else Operand.ACTIVATION
        count, m = _fold_groups(record.count, record.m, self.groups)
        return self._gemm(name, record, layer, operand=operand, m=m, count=count)

    def _softmax(self, record: Record, leaf: str, layer: int) -> Op:
        if _LINEAR_NAMES.get(leaf) == "moe_router":
            name, count, m = "moe_topk", record.count, record.m
        else:
            name = "softmax"
            count, m = _fold_groups(record.count, record.m, self.groups)
        return Op(name, OpKind.SOFTMAX, m=m, n=record.n, count=count, a_bits=self.bits,
                  b_bits=self.bits, out_bits=self.bits, b_operand=Operand.ACTIVATION,
                  phase=self.phase, layer=layer)

    def _fused_expert(self, record: Record, layer: int) -> list[Op]:
        """Eager fused experts run gate_up then down per expert that got tokens."""
        index = self.experts.get(record.module, 0)
        self.experts[record.module] = index + 1
        j = index // 2
        if index % 2 == 1:
            return [self._gemm(f"expert{j}_down", record, layer)]
        half = record.n // 2
        return [self._gemm(f"expert{j}_gate", record, layer, n=half),
                self._gemm(f"expert{j}_up", record, layer, n=half)]


def _fold_groups(count: int, m: int, groups: int) -> tuple[int, int]:
    """Per-query-head instances -> per-KV-group instances with the group's heads in ``m``."""
    if groups > 1 and count % groups == 0:
        return count // groups, m * groups
    return count, m


def _layer_of(module: str) -> int:
    match = _LAYER.search(module)
    return int(match.group(1)) if match else -1


def _renamed(op: Op, name: str) -> Op:
    data = op.to_dict()
    data["name"] = name
    return Op.from_dict(data)
