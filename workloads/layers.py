"""Analytic trace of one decoder layer for a prefill or decode step.

:func:`build_decoder_layer` turns a :class:`~workloads.models.ModelConfig` and a step
(phase, batch, sequence length, bit widths) into a :class:`~workloads.graph.Workload`
holding one decoder layer's ops and their data dependencies, with ``repeat`` set to
the number of layers. Op names are stable:

``attn_norm, q_proj, k_proj, v_proj, rope, attn_score, softmax, attn_context,
o_proj, attn_residual, ffn_norm`` then, for a dense FFN, ``ffn_gate`` (SwiGLU only),
``ffn_up, ffn_act, ffn_down``, and ``ffn_residual``. An MoE FFN has ``moe_router,
moe_topk, expert_gate, expert_up, expert_act, expert_down``, ``shared_*`` ops when
there are shared experts, and ``moe_combine``.

What is modelled, and how faithfully:

- Projections are GEMMs over all tokens of the step (``m`` = batch x seq_len in
  prefill, batch in decode) against weights; biases add ``extra_bytes``.
- Attention is a batched GEMM per KV group (``count`` = batch x kv_heads, ``m`` =
  query heads per group x query tokens), so grouped-query attention reads each K/V
  head once per group. The ``attention`` algorithm (:mod:`workloads.attention`)
  decides its ops: unfused score / softmax / context (the names above), or one
  fused ``attention`` op (plus ``attn_reduce`` when the KV is split). Decode reads K/V from the cache (operand ``kv``, ``kv_bits``)
  over ``seq_len + 1`` positions; prefill attends over the prompt's own K/V
  (operand ``activation``). Prefill computes the full ``seq_len x seq_len`` score
  matrix: causal masking's skipped half is not subtracted.
- RoPE is one op over the Q and K elements it rotates; ALiBi's bias is folded into
  the softmax and learned positions are added once before the first layer, so
  neither adds a per-layer op. Writing the new K/V into the cache is not a separate
  op (it is ``batch x kv_bytes_per_token / num_layers`` bytes per layer, small next
  to the cache read).
- SwiGLU's ``ffn_act`` is the fused SiLU(gate) x up pass: it reads the ``up``
  tensor as its ``extra_bytes``.
- MoE: tokens spread uniformly over the experts. ``batch x k`` routed token slots
  occupy ``min(num_experts, slots)`` experts with ``ceil(slots / active)`` tokens
  each; the expert GEMMs have ``count`` = active experts, so decode at small batch
  reads only the chosen experts' weights.
- Weight quantisation scales (:mod:`workloads.quant`) and tensor parallelism
  (:mod:`workloads.parallel`) are described in their modules.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workloads.errors import WorkloadError
from workloads.attention import SOFTMAX_PASSES, AttentionAlgorithm, attention_ops
from workloads.graph import Workload
from workloads.models import SMALL_PARAM_BITS, ModelConfig, Position
from workloads.op import Op, OpKind, Operand, Phase
from workloads.parallel import allreduce, insert_after, shard_config
from workloads.quant import DEFAULT_GROUP_SIZE, DEFAULT_SCALE_BITS, WeightQuant

Edges = list[tuple[str, str]]


@dataclass(frozen=True)
class _Step:
    """One step's dimensions and bit widths; makes ops with them."""

    config: ModelConfig
    phase: Phase
    batch: int
    seq_len: int
    weight_bits: float
    act_bits: float
    kv_bits: float
    quant: WeightQuant = WeightQuant()
    attention: AttentionAlgorithm = AttentionAlgorithm.UNFUSED
    softmax_passes: int = 1
    kv_splits: int | None = None  # None: workloads.attention's heuristic

    @property
    def query_len(self) -> int:
        return self.seq_len if self.phase is Phase.PREFILL else 1

    @property
    def kv_len(self) -> int:
        return self.seq_len if self.phase is Phase.PREFILL else self.seq_len + 1

    @property
    def tokens(self) -> int:
        return self.batch * self.query_len

    def gemm(self, name: str, m: int, k: int, n: int, *, count: int = 1,
             operand: Operand = Operand.WEIGHT, bias: bool = False) -> Op:
        b_bits = {Operand.WEIGHT: self.weight_bits, Operand.KV: self.kv_bits,
                  Operand.ACTIVATION: self.act_bits}[operand]
        extra = _bytes(count * n, SMALL_PARAM_BITS) if bias else 0
        if operand is Operand.WEIGHT:
            extra += self.quant.scale_bytes(k, n, count)
        return Op(name, OpKind.GEMM, m=m, n=n, k=k, count=count, a_bits=self.act_bits,
                  b_bits=b_bits, out_bits=self.act_bits, b_operand=operand,
                  phase=self.phase, extra_bytes=extra)

    def vector(self, name: str, kind: OpKind, m: int, n: int, *, count: int = 1,
               extra_bytes: int = 0) -> Op:
        return Op(name, kind, m=m, n=n, count=count, a_bits=self.act_bits,
                  b_bits=self.act_bits, out_bits=self.act_bits,
                  b_operand=Operand.ACTIVATION, phase=self.phase, extra_bytes=extra_bytes)

    def norm(self, name: str) -> Op:
        gains = _bytes(self.config.norm_parameter_count(), SMALL_PARAM_BITS)
        return self.vector(name, OpKind.NORM, self.tokens, self.config.hidden_size,
                           extra_bytes=gains)


def _bytes(elements: int, bits: float) -> int:
    return math.ceil(elements * bits / 8)


# -- attention ----------------------------------------------------------------------
def _attention(step: _Step, core: "AttentionCore | None" = None) -> tuple[list[Op], Edges]:
    """Norm, Q/K/V projections, RoPE, the attention ``core``, output projection, residual."""
    cfg, t = step.config, step.tokens
    ops = [
        step.norm("attn_norm"),
        step.gemm("q_proj", t, cfg.hidden_size, cfg.q_size, bias=cfg.qkv_bias),
        step.gemm("k_proj", t, cfg.hidden_size, cfg.kv_size, bias=cfg.qkv_bias),
        step.gemm("v_proj", t, cfg.hidden_size, cfg.kv_size, bias=cfg.qkv_bias),
    ]
    edges = [("attn_norm", "q_proj"), ("attn_norm", "k_proj"), ("attn_norm", "v_proj")]
    qk_sources = ["q_proj", "k_proj"]
    if cfg.position is Position.ROPE:
        rotated = max(1, round((cfg.q_size + cfg.kv_size) * cfg.rotary_fraction))
        ops.append(step.vector("rope", OpKind.ROPE, t, rotated))
        edges += [("q_proj", "rope"), ("k_proj", "rope")]
        qk_sources = ["rope"]
    core_ops, core_edges = (core or _uniform_core)(step, qk_sources)
    ops += core_ops + [
        step.gemm("o_proj", t, cfg.q_size, cfg.hidden_size, bias=cfg.out_bias),
        step.vector("attn_residual", OpKind.ADD, t, cfg.hidden_size),
    ]
    return ops, edges + core_edges + [("o_proj", "attn_residual")]


def attention_core(step: _Step, prefix: str, qk_sources: list[str], requests: int,
                   query_len: int, kv_len: int, operand: Operand) -> tuple[list[Op], Edges]:
    """The attention ops of ``requests`` alike requests, fed by the projections; ends in ``o_proj``.

    Unfused: score, softmax and context, one batched GEMM per KV group (``count`` =
    requests x kv_heads, ``m`` = query heads per group x ``query_len``, over
    ``kv_len`` positions); fused algorithms: see :mod:`workloads.attention`.
    """
    return attention_ops(step, prefix, qk_sources, requests, query_len, kv_len, operand)


def _uniform_core(step: _Step, qk_sources: list[str]) -> tuple[list[Op], Edges]:
    operand = Operand.KV if step.phase is Phase.DECODE else Operand.ACTIVATION
    return attention_core(step, "", qk_sources, step.batch, step.query_len, step.kv_len, operand)


AttentionCore = Callable[[_Step, list[str]], tuple[list[Op], Edges]]


# -- feed-forward -------------------------------------------------------------------
def _mlp(step: _Step, prefix: str, source: str, m: int, width: int,
         count: int = 1) -> tuple[list[Op], Edges]:
    """``count`` MLPs of ``width`` over ``m`` tokens each, fed by op ``source``."""
    cfg = step.config
    hidden, bias = cfg.hidden_size, cfg.mlp_bias
    ops = [step.gemm(f"{prefix}_up", m, hidden, width, count=count, bias=bias)]
    edges = [(source, f"{prefix}_up"), (f"{prefix}_up", f"{prefix}_act")]
    up_bytes = 0
    if cfg.activation.is_gated:
        ops.insert(0, step.gemm(f"{prefix}_gate", m, hidden, width, count=count, bias=bias))
        edges += [(source, f"{prefix}_gate"), (f"{prefix}_gate", f"{prefix}_act")]
        up_bytes = _bytes(count * m * width, step.act_bits)
    ops += [
        step.vector(f"{prefix}_act", OpKind.ACTIVATION, m, width, count=count,
                    extra_bytes=up_bytes),
        step.gemm(f"{prefix}_down", m, width, hidden, count=count, bias=bias),
    ]
    edges.append((f"{prefix}_act", f"{prefix}_down"))
    return ops, edges


def _moe(step: _Step) -> tuple[list[Op], Edges]:
    cfg, t = step.config, step.tokens
    slots = t * cfg.experts_per_token
    active = min(cfg.num_experts, slots)
    ops = [step.gemm("moe_router", t, cfg.hidden_size, cfg.num_experts),
           step.vector("moe_topk", OpKind.SOFTMAX, t, cfg.num_experts)]
    edges = [("ffn_norm", "moe_router"), ("moe_router", "moe_topk")]
    expert_ops, expert_edges = _mlp(step, "expert", "ffn_norm", math.ceil(slots / active),
                                    cfg.moe_ffn_size, count=active)
    ops += expert_ops
    edges += expert_edges + [("moe_topk", op.name) for op in expert_ops[:-2]]
    edges.append(("expert_down", "moe_combine"))
    summed = cfg.experts_per_token
    if cfg.num_shared_experts:
        shared_ops, shared_edges = _mlp(step, "shared", "ffn_norm", t,
                                        cfg.num_shared_experts * cfg.moe_ffn_size)
        ops += shared_ops
        edges += shared_edges + [("shared_down", "moe_combine")]
        summed += 1
    # Weighted sum of each token's expert outputs (and the shared output).
    ops.append(step.vector("moe_combine", OpKind.ADD, t, cfg.hidden_size, count=summed))
    return ops, edges


def _ffn(step: _Step) -> tuple[list[Op], Edges, str]:
    """The FFN ops after ``ffn_norm``, their edges, and the name of the last op."""
    if step.config.is_moe:
        ops, edges = _moe(step)
        return ops, edges, "moe_combine"
    ops, edges = _mlp(step, "ffn", "ffn_norm", step.tokens, step.config.ffn_size)
    return ops, edges, "ffn_down"


# -- public builders ------------------------------------------------------------------
def build_decoder_layer(config: ModelConfig, phase: str | Phase, batch: int, seq_len: int,
                        weight_bits: float = 16, act_bits: float = 16,
                        kv_bits: float = 16, *, weight_group_size: int | None = DEFAULT_GROUP_SIZE,
                        scale_bits: float = DEFAULT_SCALE_BITS, tp: int = 1,
                        attention: str | AttentionAlgorithm = AttentionAlgorithm.UNFUSED,
                        softmax_passes: int = 1, kv_splits: int | None = None) -> Workload:
    """One decoder layer of a prefill or decode step; ``repeat`` = ``num_layers``.

    ``seq_len`` is the prompt length (prefill) or the number of tokens already in
    the KV cache (decode, which then attends over ``seq_len + 1``). Below 16
    ``weight_bits``, each weight GEMM's ``extra_bytes`` holds its quantisation
    scales (see :mod:`workloads.quant`). With ``tp > 1`` the ops are those of one
    of ``tp`` tensor-parallel devices, with all-reduces (see :mod:`workloads.parallel`).
    ``attention``, ``softmax_passes`` and ``kv_splits`` choose the attention
    algorithm's ops (:mod:`workloads.attention`).
    """
    tp = _positive_int("tp", tp)
    algorithm = _attention_choice(attention, softmax_passes, kv_splits)
    quant = WeightQuant(_bits("weight_bits", weight_bits), weight_group_size, scale_bits)
    step = _Step(shard_config(config, tp), _parse_phase(phase), _positive_int("batch", batch),
                 _positive_int("seq_len", seq_len), weight_bits,
                 _bits("act_bits", act_bits), _bits("kv_bits", kv_bits), quant,
                 algorithm, softmax_passes, kv_splits)
    ops, edges = _layer_ops(step)
    if tp > 1:
        ops, edges = _with_allreduces(step, ops, edges, tp)
    suffix = f"-tp{tp}" if tp > 1 else ""
    return Workload(
        name=f"{config.name}-{step.phase.value}-b{batch}-s{seq_len}{suffix}",
        ops=tuple(ops),
        edges=tuple(edges),
        repeat=config.num_layers,
        phase=step.phase.value,
        batch=batch,
        tokens_per_step=step.tokens,
        meta=(("model", config.name), ("seq_len", seq_len), ("query_len", step.query_len),
              ("kv_len", step.kv_len), ("weight_bits", weight_bits),
              ("act_bits", act_bits), ("kv_bits", kv_bits),
              ("weight_group_size", weight_group_size), ("scale_bits", scale_bits), ("tp", tp),
              ("attention", algorithm.value), ("softmax_passes", softmax_passes)),
    )


def _layer_ops(step: _Step, core: AttentionCore | None = None) -> tuple[list[Op], Edges]:
    attn_ops, edges = _attention(step, core)
    ffn_ops, ffn_edges, ffn_last = _ffn(step)
    tail = step.vector("ffn_residual", OpKind.ADD, step.tokens, step.config.hidden_size)
    edges += ffn_edges + [(ffn_last, "ffn_residual"), ("attn_residual", "ffn_residual")]
    if not step.config.parallel_residual:
        edges.append(("attn_residual", "ffn_norm"))
    return attn_ops + [step.norm("ffn_norm")] + ffn_ops + [tail], edges


def _with_allreduces(step: _Step, ops: list[Op], edges: Edges, tp: int) -> tuple[list[Op], Edges]:
    ffn_last = "moe_combine" if step.config.is_moe else "ffn_down"
    for after, name in (("o_proj", "attn_allreduce"), (ffn_last, "ffn_allreduce")):
        op = allreduce(name, step.tokens, step.config.hidden_size, step.act_bits, tp, step.phase)
        ops, edges = insert_after(ops, edges, after, op)
    return ops, edges


_GEMM_KEYS = ("name", "kind", "M", "N", "K", "count", "bits", "a_bits", "b_bits", "out_bits",
              "b_operand")
_BITS_KEYS = ("bits", "a_bits", "b_bits", "out_bits")
_GEMM_REQUIRED = ("name", "kind", "M", "N", "K")


def build_gemm_list(ops: Sequence[Mapping[str, Any]], name: str = "gemm-list") -> Workload:
    """A chain of GEMMs from an explicit ``ops:`` list, each depending on the previous.

    Each entry: ``{name, kind: gemm, M, N, K}`` plus optional ``count`` (default 1),
    ``bits`` (all operands, default 16), ``a_bits`` / ``b_bits`` / ``out_bits`` (one
    operand each, overriding ``bits``) and ``b_operand`` (weight | kv | activation).
    Every bad entry is reported at once, as ``ops[i].key: problem``.
    """
    if isinstance(ops, (str, bytes, Mapping)) or not isinstance(ops, Sequence) or not ops:
        raise WorkloadError(f"ops: expected a non-empty list of GEMMs, got {ops!r}")
    errors: list[str] = []
    seen: dict[str, int] = {}
    built = []
    for index, entry in enumerate(ops):
        entry_errors = _gemm_entry_errors(index, entry, seen)
        errors += entry_errors
        if not entry_errors:
            built.append(_gemm_from_entry(entry))
    if errors:
        raise WorkloadError("invalid ops list:\n  " + "\n  ".join(errors))
    return Workload.chain(name, built)


def _gemm_entry_errors(index: int, entry: Any, seen: dict[str, int]) -> list[str]:
    where = f"ops[{index}]"
    if not isinstance(entry, Mapping):
        return [f"{where}: expected a mapping, got {entry!r}"]
    errors = [f"{where}: missing key {key!r}" for key in _GEMM_REQUIRED if key not in entry]
    for key in entry:
        if key not in _GEMM_KEYS:
            hint = _did_you_mean(str(key), _GEMM_KEYS)
            errors.append(f"{where}.{key}: unknown key{hint} (allowed: {', '.join(_GEMM_KEYS)})")
    if "name" in entry:
        op_name = entry["name"]
        if not isinstance(op_name, str) or not op_name:
            errors.append(f"{where}.name: must be a non-empty string, got {op_name!r}")
        elif op_name in seen:
            errors.append(f"{where}.name: duplicate name {op_name!r} (also ops[{seen[op_name]}])")
        else:
            seen[op_name] = index
    if "kind" in entry and entry["kind"] != OpKind.GEMM.value:
        errors.append(f"{where}.kind: only 'gemm' is supported here, got {entry['kind']!r}")
    for key in ("M", "N", "K", "count"):
        value = entry.get(key, 1)
        if not _is_positive_int(value):
            errors.append(f"{where}.{key}: must be a positive integer, got {value!r}")
    for key in _BITS_KEYS:
        if key in entry and not _is_valid_bits(entry[key]):
            errors.append(f"{where}.{key}: must be a number in (0, 64], got {entry[key]!r}")
    operand = entry.get("b_operand", Operand.WEIGHT.value)
    if operand not in {o.value for o in Operand}:
        errors.append(f"{where}.b_operand: must be one of "
                      f"{', '.join(o.value for o in Operand)}, got {operand!r}")
    return errors


def _did_you_mean(key: str, allowed: Sequence[str]) -> str:
    by_lower = {a.lower(): a for a in allowed}
    close = difflib.get_close_matches(key.lower(), list(by_lower), n=1)
    return f"; did you mean {by_lower[close[0]]!r}?" if close else ""


def _gemm_from_entry(entry: Mapping[str, Any]) -> Op:
    bits = entry.get("bits", 16)
    return Op(entry["name"], OpKind.GEMM, m=entry["M"], n=entry["N"], k=entry["K"],
              count=entry.get("count", 1), a_bits=entry.get("a_bits", bits),
              b_bits=entry.get("b_bits", bits), out_bits=entry.get("out_bits", bits),
              b_operand=Operand(entry.get("b_operand", Operand.WEIGHT.value)))


# -- argument checks ------------------------------------------------------------------
def _is_positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _is_valid_bits(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 64


def _positive_int(name: str, value: Any) -> int:
    if not _is_positive_int(value):
        raise WorkloadError(f"{name} must be a positive integer, got {value!r}")
    return value


def _bits(name: str, value: Any) -> float:
    if not _is_valid_bits(value):
        raise WorkloadError(f"{name} must be a number in (0, 64], got {value!r}")
    return value


def _attention_choice(attention: str | AttentionAlgorithm, softmax_passes: int,
                      kv_splits: int | None) -> AttentionAlgorithm:
    try:
        algorithm = AttentionAlgorithm(attention)
    except ValueError:
        raise WorkloadError(f"attention must be one of {', '.join(a.value for a in AttentionAlgorithm)}, "
                         f"got {attention!r}") from None
    if softmax_passes not in SOFTMAX_PASSES:
        raise WorkloadError(f"softmax_passes must be one of {SOFTMAX_PASSES}, got {softmax_passes!r}")
    if softmax_passes != 1 and algorithm is not AttentionAlgorithm.UNFUSED:
        raise WorkloadError(f"softmax_passes applies to attention 'unfused' (a fused kernel keeps its scores "
                         f"on chip), got softmax_passes {softmax_passes} with attention {algorithm.value!r}")
    if kv_splits is not None:
        _positive_int("kv_splits", kv_splits)
        if not algorithm.splits_kv:
            raise WorkloadError(f"kv_splits applies to attention 'flashdecoding' or 'flashdecoding++', "
                             f"got attention {algorithm.value!r}")
    return algorithm


def _parse_phase(phase: str | Phase) -> Phase:
    allowed = (Phase.PREFILL, Phase.DECODE)
    try:
        parsed = Phase(phase)
    except ValueError:
        parsed = None
    if parsed not in allowed:
        raise WorkloadError(f"phase must be one of {', '.join(p.value for p in allowed)}, "
                         f"got {phase!r}")
    return parsed
