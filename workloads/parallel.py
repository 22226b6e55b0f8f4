"""Tensor parallelism (Megatron-LM style) for one decoder layer.

With ``tp`` devices, each device holds ``num_heads / tp`` query heads and the
matching K/V heads, and ``1 / tp`` of the FFN width (of every expert, for an MoE
model). Q/K/V and gate/up projections are split by output column, the output and
down projections by input row, so each device ends attention and the FFN with a
partial sum of the full ``tokens x hidden`` activation that an all-reduce adds
up. :func:`shard_config` gives the per-device shape; the layer builder then sizes
every op per device and inserts :func:`allreduce` ops after ``o_proj`` and after
the FFN (``ffn_down``, or ``moe_combine`` for an MoE layer).

What is modelled, and how faithfully:

- When there are fewer KV heads than devices (e.g. 8 KV heads, tp = 16), each
  KV head is replicated on ``tp / num_kv_heads`` devices, as vLLM does; each
  device then holds one KV head.
- Norms, residual adds, the MoE router and RoPE's share of the replicated work are
  repeated on every device (not split); biases of row-split projections are
  counted on every device.
- The all-reduce op carries the per-device tensor (``tokens x hidden`` at
  ``act_bits``) and the group size in ``Op.devices``; the algorithm (ring, tree)
  and its link costs belong to the system model, not to the workload.
- Sequence parallelism and expert parallelism (experts placed on different
  devices, with all-to-all dispatch) are not modelled.
"""

from __future__ import annotations

from workloads.errors import WorkloadError
from workloads.models import ModelConfig
from workloads.op import Op, OpKind, Operand, Phase

Edges = list[tuple[str, str]]


def shard_config(config: ModelConfig, tp: int) -> ModelConfig:
    """The shape one of ``tp`` tensor-parallel devices holds; ``config`` itself for tp = 1."""
    errors = shard_errors(config, tp)
    if errors:
        raise WorkloadError(f"tp={tp} does not split model {config.name!r}: " + "; ".join(errors))
    if tp == 1:
        return config
    changes = {"num_heads": config.num_heads // tp,
               "num_kv_heads": max(1, config.num_kv_heads // tp)}
    if config.is_moe:
        changes["moe_ffn_size"] = config.moe_ffn_size // tp
    else:
        changes["ffn_size"] = config.ffn_size // tp
    return config.with_overrides(**changes)


def shard_errors(config: ModelConfig, tp: int) -> list[str]:
    """Every reason ``tp`` devices cannot split ``config`` evenly."""
    errors = []
    if config.num_heads % tp:
        errors.append(f"num_heads ({config.num_heads}) is not a multiple of tp")
    kv = config.num_kv_heads
    if (kv >= tp and kv % tp) or (kv < tp and tp % kv):
        errors.append(f"num_kv_heads ({kv}) must be a multiple or a divisor of tp")
    width_name = "moe_ffn_size" if config.is_moe else "ffn_size"
    width = getattr(config, width_name)
    if width % tp:
        errors.append(f"{width_name} ({width}) is not a multiple of tp")
    return errors


def allreduce(name: str, tokens: int, hidden_size: int, act_bits: float, tp: int,
              phase: Phase) -> Op:
    """All-reduce of a ``tokens x hidden_size`` activation across ``tp`` devices."""
    return Op(name, OpKind.ALLREDUCE, m=tokens, n=hidden_size, a_bits=act_bits,
              b_bits=act_bits, out_bits=act_bits, b_operand=Operand.ACTIVATION, phase=phase,
              devices=tp)


def insert_after(ops: list[Op], edges: Edges, after: str, new: Op) -> tuple[list[Op], Edges]:
    """``new`` placed right after op ``after``, taking over all of its out-edges."""
    position = next(i for i, op in enumerate(ops) if op.name == after)
    rewired = [(new.name if src == after else src, dst) for src, dst in edges]
    return ops[:position + 1] + [new] + ops[position + 1:], rewired + [(after, new.name)]
