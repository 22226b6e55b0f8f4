"""Partitioning a model over a wafer: per-PE residency, pipeline regions, KV capacity, region autotuning.

* **Per-PE residency** of one layer on a ``p x p`` region: every weight GEMM's
  padded tile ``ceil(k/p) ceil(n/p)`` words (WaferLLM places weights 2-D, [WL]
  §4) plus the layer's KV cache. With shift-based placement the KV of a row
  moves to the row above as it fills, so every PE holds ``ceil(kv / p^2)``; with
  concatenation each new token's KV goes to one row of PEs ([WL] §4, Fig. 5),
  so a row holds a ``p``-th of the capacity (Table 5's ratio).
* **Working buffers** (pitfall W9): besides the resident weights and KV, the
  released decode keeps one array per GEMV output on every PE and a scratch copy
  of the attention scores for the softmax (``QKV_tile``, ``output_tile``, ``ZZ_tile``
  ..., and ``score``, ``score_tmp`` of ``bsz x seq_len / P`` words each,
  ``Decode/WSE-3/src/decode.csl``, [WL-code]). They are counted once per PE (every
  layer on the PE reuses them). A distributed GEMM's tiles and double buffers are
  checked op by op by its kernel; what code, task tables and runtime buffers take
  is the spec's ``reserved_sram_bytes_per_pe``.
* **Pipeline regions**: a layer must fit one region; layers fill regions one
  after another (a layer may continue into the next region), so a model needs
  ``ceil(layers x layer bytes / usable SRAM)`` PEs, ``ceil(PEs / p^2)`` regions,
  and the PEs must fit the program rectangle ([WL] §7.5: the 48 KB SRAM "necessitates pipeline
  parallelism"). At batch 1 a token walks the regions one after another, so
  the step time is the sum of the layers' times.
* **KV capacity** (Table 5): the tokens whose KV fits the SRAM the weights and
  reserved areas leave free over the program rectangle (shift), or one PE row's
  share of it per region side (concat).
* **Phase transition**: :func:`reshuffle_cycles` bounds the one-off move of
  weights and KV from the prefill layout to the decode layout.
* **Autotuning**: :func:`autotune_regions` picks the region side per phase that
  simulates fastest among candidates (WaferLLM autotunes core counts per phase).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from arch.capacity import CapacityError
from arch.wafer.opcost import BYTES_PER_WORD, gemv_shape, shift_step_cycles  # noqa: F401 (re-exported)
from arch.wafer.options import KvPlacement, WaferMappingOptions
from arch.wafer.spec import WaferSpec
from workloads.op import Op, OpKind, Operand, Phase

GEMV_ROWS = WaferMappingOptions().gemv_max_rows  # outside decode, GEMMs this short run as GEMVs (option default)


@dataclass(frozen=True)
class Residency:
    """Bytes one PE holds for one layer, by kind, and the regions a model needs."""

    weight_bytes_per_pe: int
    kv_bytes_per_pe: int
    usable_bytes_per_pe: int
    layers_per_region: int
    regions: int
    region_pe: int
    pes_needed: int = 0
    buffer_bytes_per_pe: int = 0  # working arrays shared by every layer on the PE

    @property
    def layer_bytes_per_pe(self) -> int:
        return self.weight_bytes_per_pe + self.kv_bytes_per_pe


def _resident_words(op: Op, p: int) -> int:
    m, k, n = gemv_shape(op, p)
    return -(-k // p) * -(-n // p)


def _vector_op(op: Op) -> bool:
    """A decode op, or one short enough to run as a GEMV: its rows are whole on every PE."""
    return op.phase is Phase.DECODE or op.m <= GEMV_ROWS


def _output_words(op: Op, p: int) -> int:
    """Words of one PE's slice of a GEMV's output (or a vector op's rows): split along one mesh axis and
    replicated along the other."""
    return op.m * -(-(op.count * op.n) // p)


def buffer_words(ops: tuple[Op, ...], p: int) -> int:
    """Per-PE working arrays of the vector (GEMV) ops of one layer (module docstring): every GEMV's output
    slice and a scratch copy of each softmax's scores. A distributed GEMM's tiles and double buffers are
    checked op by op instead (:func:`arch.wafer.opcost.mesh_cost`)."""
    outputs = sum(_output_words(op, p) for op in ops if op.kind is OpKind.GEMM and _vector_op(op))
    scratch = sum(_output_words(op, p) for op in ops if op.kind is OpKind.SOFTMAX and _vector_op(op))
    return outputs + scratch


def residency(spec: WaferSpec, ops: tuple[Op, ...], layers: int, p: int,
              placement: KvPlacement = KvPlacement.SHIFT) -> Residency:
    """Per-PE residency of a layer graph on ``p x p`` PEs and the regions ``layers`` of it need."""
    weights = sum(_resident_words(op, p) for op in ops
                  if op.kind is OpKind.GEMM and op.b_operand is Operand.WEIGHT) * BYTES_PER_WORD
    kv = sum(_resident_words(op, p) for op in ops
             if op.kind is OpKind.GEMM and op.b_operand is Operand.KV) * BYTES_PER_WORD
    if placement is KvPlacement.CONCAT:
        kv *= p  # the KV that concatenation appends lands on one row of the region
    buffers = buffer_words(ops, p) * BYTES_PER_WORD
    usable = spec.usable_sram_bytes_per_pe
    room = max(0, usable - buffers)
    per_layer = weights + kv
    fit = room // per_layer if per_layer else (layers if room else 0)
    pes = math.ceil(layers * per_layer * p * p / room) if fit else 0  # a layer may continue into the next region
    return Residency(weights, kv, usable, fit, math.ceil(pes / p ** 2), p, pes, buffers)


def check_fits(spec: WaferSpec, res: Residency, what: str) -> None:
    """Raise :class:`CapacityError` naming what does not fit (a layer on a PE, or the regions on the wafer)."""
    if res.layers_per_region == 0:
        raise CapacityError(
            f"sram_bytes_per_pe: one layer of {what} on {res.region_pe} x {res.region_pe} PEs needs "
            f"{res.layer_bytes_per_pe + res.buffer_bytes_per_pe} bytes per PE (weights {res.weight_bytes_per_pe}, "
            f"KV cache {res.kv_bytes_per_pe}, working buffers {res.buffer_bytes_per_pe}) but a PE has "
            f"{res.usable_bytes_per_pe} usable bytes "
            f"({spec.sram_bytes_per_pe} less {spec.reserved_sram_bytes_per_pe} reserved); use a larger region "
            "(mapping: decode_region_pe, prefill_region_pe), shift-based KV placement (mapping: kv_placement: "
            "shift) or a shorter sequence")
    if res.pes_needed > spec.pe_count:
        raise CapacityError(
            f"mesh_width_pe x mesh_height_pe: {what} needs {res.pes_needed} PEs ({res.regions} regions of "
            f"{res.region_pe} x {res.region_pe}, {res.layer_bytes_per_pe} bytes per PE per layer), but the "
            f"program rectangle has {spec.pe_count}")


def kv_capacity_tokens(spec: WaferSpec, weight_bytes: int, kv_bytes_per_token: int, region_pe: int,
                       placement: KvPlacement) -> int:
    """Tokens of KV cache the wafer holds beside the weights (module docstring, Table 5)."""
    free = spec.usable_sram_bytes_per_pe * spec.pe_count - weight_bytes
    tokens = max(0, free) // kv_bytes_per_token
    return tokens if placement is KvPlacement.SHIFT else tokens // region_pe


def reshuffle_cycles(spec: WaferSpec, resident_bytes: int, from_pe: int, to_pe: int) -> int:
    """Cycles of the prefill-to-decode reshuffle ([WL] §4.3): every PE of the smaller layout receives its
    share of the weights and KV over one link, after crossing the program rectangle (alpha per hop)."""
    pes = min(from_pe, to_pe) ** 2 * max(1, math.ceil(resident_bytes / (spec.usable_sram_bytes_per_pe
                                                                        * min(from_pe, to_pe) ** 2)))
    per_pe = -(-resident_bytes // min(pes, spec.pe_count))
    link_bytes = spec.link_bits // 8
    return math.ceil((spec.mesh_width_pe + spec.mesh_height_pe) * spec.hop_latency_cycles) + -(-per_pe // link_bytes)


def autotune_regions(cycles_of, candidates: tuple[int, ...]) -> tuple[int, int]:
    """(best side, its cycles) among ``candidates`` for ``cycles_of(side) -> cycles`` (None = does not fit)."""
    results = [(cycles, side) for side in candidates if (cycles := cycles_of(side)) is not None]
    if not results:
        raise CapacityError(f"no region side among {candidates} fits")
    cycles, side = min(results)
    return side, cycles
