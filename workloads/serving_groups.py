"""A serving iteration split into op groups that are timed apart and composed.

:func:`~workloads.serving_steps.iteration_workload` builds one decoder layer per
iteration; timing every distinct iteration means one full map-and-simulate each.
The groups here let a latency model time each part once per distinct size and
add the parts up (:mod:`simulator.serving_compose`):

- :func:`token_group`: every op that is not attention core (norms, projections,
  RoPE, FFN or MoE, residuals, tensor-parallel all-reduces). Its ops depend only
  on the iteration's token count ``m``.
- :func:`decode_attention_group`: the batched decode attention (score, softmax,
  context or a fused kernel) of ``n`` decodes at KV length ``kv``.
- :func:`prefill_attention_group`: one prefill chunk's attention, ``query``
  tokens over ``kv`` positions.

What is lost by composing, and how faithfully: in the whole-layer simulation the
attention core starts when the projections feeding it end on each core and ends
into ``o_proj``; decode and prefill attention ops of one iteration interleave on
the units (one's softmax on the vector unit while another's score GEMM runs on
the array). Timed apart, the groups lose that overlap and the per-core skew at
the boundaries; :mod:`simulator.serving_compose` credits the overlap by a
replay of the groups' ops, and ``benchmarks/serving_scale.py`` measures what
remains on whole traces.
"""

from __future__ import annotations

import numpy as np

from workloads.graph import Workload
from workloads.models import ModelConfig
from workloads.serving import Batch
from workloads.serving_steps import iteration_workload

CORE_PREFIXES = ("decode_", "prefill")  # the attention-core op names of iteration_workload


def _batch(decodes: int, decode_kv: int, prefill: tuple[tuple[int, int], ...] = ()) -> Batch:
    size = decodes + len(prefill)
    return Batch(0, 0.0, np.arange(size, dtype=np.int64),
                 np.array([False] * decodes + [True] * len(prefill)),
                 np.array([1] * decodes + [q for q, _ in prefill], dtype=np.int64),
                 np.array([decode_kv] * decodes + [kv for _, kv in prefill], dtype=np.int64))


def _is_core(name: str) -> bool:
    return name.startswith(CORE_PREFIXES)


def token_group(config: ModelConfig, tokens: int, **quant) -> Workload:
    """The token-wise ops of an iteration over ``tokens`` tokens; the attention core is bypassed.

    Each edge into the removed core is joined to each edge out of it, so ``o_proj``
    still waits for the projections (and RoPE) that fed the attention.
    """
    whole = iteration_workload(config, _batch(tokens, 1), **quant)
    core = {op.name for op in whole.ops if _is_core(op.name)}
    into = {src for src, dst in whole.edges if dst in core and src not in core}
    out_of = {dst for src, dst in whole.edges if src in core and dst not in core}
    edges = [(s, d) for s, d in whole.edges if s not in core and d not in core]
    edges += sorted((s, d) for s in into for d in out_of)
    return Workload(name=f"{config.name}-tokens{tokens}", ops=tuple(o for o in whole.ops if o.name not in core),
                    edges=tuple(edges), repeat=whole.repeat, phase=whole.phase, batch=tokens,
                    tokens_per_step=tokens, meta=whole.meta)


def _core_only(whole: Workload, name: str, batch: int) -> Workload:
    ops = tuple(op for op in whole.ops if _is_core(op.name))
    names = {op.name for op in ops}
    return Workload(name=name, ops=ops, edges=tuple((s, d) for s, d in whole.edges if s in names and d in names),
                    repeat=whole.repeat, phase=whole.phase, batch=batch, tokens_per_step=0, meta=whole.meta)


def decode_attention_group(config: ModelConfig, decodes: int, kv_tokens: int, **quant) -> Workload:
    """The batched attention of ``decodes`` decode requests each attending over ``kv_tokens``."""
    whole = iteration_workload(config, _batch(decodes, kv_tokens), **quant)
    return _core_only(whole, f"{config.name}-decode-attn{decodes}x{kv_tokens}", decodes)


def prefill_attention_group(config: ModelConfig, query_tokens: int, kv_tokens: int, chunks: int = 1,
                            **quant) -> Workload:
    """``chunks`` alike prefill chunks' attention: ``query_tokens`` over ``kv_tokens`` positions each."""
    whole = iteration_workload(config, _batch(0, 1, ((query_tokens, kv_tokens),) * chunks), **quant)
    return _core_only(whole, f"{config.name}-prefill-attn{chunks}x{query_tokens}x{kv_tokens}", chunks)
