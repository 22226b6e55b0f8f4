"""The attention core of a layer as each attention algorithm runs it: its ops and their bytes.

:func:`attention_ops` builds the ops between the Q/K/V projections and ``o_proj``
for one :class:`AttentionAlgorithm`:

* ``unfused``: score GEMM, softmax, context GEMM -- three kernels; the score
  matrix (``m x kv`` per instance) is written by the first, read ``passes``
  times and written by the softmax, and read by the context GEMM. ``passes``
  is the softmax's reads of its input: 1 when a row stays on chip between the
  passes (a GPU's row-per-block softmax at moderate lengths), 3 for the
  classic out-of-cache three-pass softmax (max; sum of exponentials;
  normalise), 2 for the two-pass softmax (Dukhan and Ablavatski 2020), whose
  (mantissa, exponent) sums need no max pass.
* ``flash2``: one fused ``attention`` op (FlashAttention-2, Dao 2023): Q, K and
  V are read once and only the output is written; the scores never reach memory.
* ``flashdecoding``: the fused op with each instance's KV positions cut into
  ``kv_splits`` chunks (Dao, Haziza, Massa and Sizov 2023, "Flash-Decoding for
  long-context inference"), whose float32 partial outputs and log-sum-exp per row
  are written and combined by an ``attn_reduce`` op.
* ``flashdecoding++``: the same split, with the unified-max softmax of
  FlashDecoding++ (Hong et al. 2024): fewer non-matmul FLOPs per score (no max,
  no rescale); the partials (unnormalised output and sum) are combined by a sum.
  The overflow fallback's recomputation is not costed: it runs only when a score
  leaves the unified max's bound, which the paper reports as rare.

The number of KV splits, when not given, is flash-attn's ``num_splits_heuristic``
(Dao-AILab/flash-attention, ``csrc/flash_attn/flash_api.cpp``) evaluated for
:data:`REFERENCE_SM_COUNT` streaming multiprocessors: it splits only while
fewer blocks than 80 % of the SMs' slots exist, and takes the fewest splits
whose wave efficiency is within 85 % of the best.
"""

from __future__ import annotations

import dataclasses
import math
from enum import Enum

from workloads.op import PARTIAL_BITS, Op, OpKind, Operand, SoftmaxScheme

Edges = list[tuple[str, str]]


class AttentionAlgorithm(str, Enum):
    """How a layer's attention runs; the value is the name used in experiment files."""

    UNFUSED = "unfused"
    FLASH2 = "flash2"
    FLASHDECODING = "flashdecoding"
    FLASHDECODING_PP = "flashdecoding++"

    @property
    def splits_kv(self) -> bool:
        return self in (AttentionAlgorithm.FLASHDECODING, AttentionAlgorithm.FLASHDECODING_PP)


SOFTMAX_PASSES = (1, 2, 3)
# An A100's SMs (NVIDIA A100 whitepaper; the a100-80gb preset's sm_count), the GPU
# FlashDecoding's heuristic is evaluated for unless an experiment gives kv_splits.
REFERENCE_SM_COUNT = 108
# flash-attn's split-KV kernels (flash_api.cpp, set_params_splitkv): kBlockM = 64 query
# rows; kBlockN = 256 / 128 / 64 KV positions for head dims <= 64 / <= 128 / larger; two
# 128-thread blocks per SM; at most 128 splits; the 0.8 and 0.85 thresholds.
SPLIT_BLOCK_M = 64
MAX_KV_SPLITS = 128
BLOCKS_PER_SM = 2


def split_block_n(head_dim: int) -> int:
    return 256 if head_dim <= 64 else (128 if head_dim <= 128 else 64)


def kv_splits_heuristic(instances: int, rows: int, kv_len: int, head_dim: int,
                        sm_count: int = REFERENCE_SM_COUNT) -> int:
    """flash-attn's choice of KV splits for ``instances`` heads (x requests) of ``rows`` query rows."""
    blocks = instances * math.ceil(rows / SPLIT_BLOCK_M)
    slots = sm_count * BLOCKS_PER_SM
    if blocks >= 0.8 * slots:
        return 1
    n_blocks = math.ceil(kv_len / split_block_n(head_dim))
    limit = min(MAX_KV_SPLITS, slots, n_blocks)

    def eligible(splits: int) -> bool:
        return splits == 1 or math.ceil(n_blocks / splits) != math.ceil(n_blocks / (splits - 1))

    def efficiency(splits: int) -> float:
        waves = blocks * splits / slots
        return waves / math.ceil(waves)
    best = max((efficiency(s) for s in range(1, limit + 1) if eligible(s)), default=1.0)
    return next((s for s in range(1, limit + 1) if eligible(s) and efficiency(s) >= 0.85 * best), 1)


def attention_ops(step, prefix: str, qk_sources: list[str], requests: int, query_len: int,
                  kv_len: int, operand: Operand) -> tuple[list[Op], Edges]:
    """The attention core of ``requests`` alike requests under ``step.attention``; ends in ``o_proj``.

    ``step`` is a layer builder's step (``workloads.layers``): it gives the model
    config, the phase, the bit widths, and ``attention``, ``softmax_passes`` and
    ``kv_splits``. One instance per KV group: ``count`` = requests x kv_heads, ``m``
    = query heads per group x ``query_len``.
    """
    cfg = step.config
    count, m = requests * cfg.num_kv_heads, cfg.query_groups * query_len
    if step.attention is AttentionAlgorithm.UNFUSED:
        return _unfused(step, prefix, qk_sources, count, m, kv_len, operand)
    splits = 1
    if step.attention.splits_kv:
        splits = step.kv_splits or kv_splits_heuristic(count, m, kv_len, cfg.head_dim)
        splits = min(splits, kv_len)
    scheme = (SoftmaxScheme.UNIFIED_MAX if step.attention is AttentionAlgorithm.FLASHDECODING_PP
              else SoftmaxScheme.ONLINE)
    bits = step.kv_bits if operand is Operand.KV else step.act_bits
    name = f"{prefix}attention"
    fused = Op(name, OpKind.ATTENTION, m=m, n=cfg.head_dim, k=kv_len, count=count, a_bits=step.act_bits,
               b_bits=bits, out_bits=PARTIAL_BITS if splits > 1 else step.act_bits, b_operand=operand,
               phase=step.phase, kv_splits=splits, softmax_scheme=scheme)
    ops, edges = [fused], [(src, name) for src in qk_sources] + [("v_proj", name)]
    last = name
    if splits > 1:
        last = f"{prefix}attn_reduce"
        ops.append(Op(last, OpKind.ATTN_REDUCE, m=m, n=cfg.head_dim, count=count, a_bits=PARTIAL_BITS,
                      b_bits=PARTIAL_BITS, out_bits=step.act_bits, b_operand=Operand.ACTIVATION,
                      phase=step.phase, kv_splits=splits))
        edges.append((name, last))
    return ops, edges + [(last, "o_proj")]


def _unfused(step, prefix: str, qk_sources: list[str], count: int, m: int, kv_len: int,
             operand: Operand) -> tuple[list[Op], Edges]:
    cfg = step.config
    score, softmax, context = f"{prefix}attn_score", f"{prefix}softmax", f"{prefix}attn_context"
    soft = dataclasses.replace(step.vector(softmax, OpKind.SOFTMAX, m, kv_len, count=count),
                               passes=step.softmax_passes)
    ops = [step.gemm(score, m, cfg.head_dim, kv_len, count=count, operand=operand), soft,
           step.gemm(context, m, kv_len, cfg.head_dim, count=count, operand=operand)]
    edges = [(src, score) for src in qk_sources]
    edges += [(score, softmax), (softmax, context), ("v_proj", context), (context, "o_proj")]
    return ops, edges
