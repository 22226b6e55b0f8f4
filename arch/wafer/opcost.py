"""How an op is laid out on a square mesh region and what it costs there (closed form per op).

* **Region**: decode ops (and the phase-less ops of a decode-only serving
  iteration) run on ``decode_region_pe`` x ``decode_region_pe`` PEs, the others
  (prefill and mixed iterations) on ``prefill_region_pe`` (WaferLLM §4: the phases use different
  core counts). A region must fit the program rectangle.
* **GEMMs** outside decode with more than ``gemv_max_rows`` rows run the
  selected distributed GEMM (:func:`arch.wafer.kernel.mesh_gemm_kernel`); decode
  GEMMs (and small ones) run as MeshGEMV with the selected all-reduce. The
  ``count`` instances of a batched GEMM (attention heads) are stacked along the
  one of M, K or N (K or N for a GEMV) that finishes first -- for ``Q K^T``
  usually the reduction (head-segmented, as WaferLLM's dist-GEMM-T reduces each
  PE's head slice), for ``P V`` the output columns.
* **Vector ops** put their last dimension along one mesh axis and their rows
  along the other; RMSNorm needs one small all-reduce (a partial per row),
  softmax two (max and sum) ([WL] §2.3, the released decode layer).
* **KV placement**: with shift-based placement every decode step moves one
  token's K (and V) slice of each row to the row above, costed on the attention
  GEMV that reads it; concatenation moves nothing but puts every token
  appended since the layout (``kv_appended_tokens``) on the same PEs, whose
  share of the attention GEMVs then sets their time, and holds a region side
  fewer tokens (:mod:`arch.wafer.partition`).
* Padding: every dimension is rounded up to a multiple of the region side and
  the padded MACs, words and cycles are the ones reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from arch.costs import OpCost, Traffic
from arch.capacity import CapacityError
from arch.wafer.kernel import (ALLREDUCE_ALGORITHMS, GEMM_ALGORITHMS, MESH_GEMM, MESH_GEMV, MESH_VECTOR,
                               MESHGEMV_COLORS)
from arch.wafer.options import GemmAlgorithm, KvPlacement, WaferMappingOptions
from arch.wafer.spec import WaferSpec
from workloads.op import VECTOR_FLOPS_PER_ELEMENT, Op, OpKind, Operand, Phase

UNIT = "mesh"
FABRIC = "fabric"
BYTES_PER_WORD = 2
MAX_STEPS_PER_OP = 64
REDUCTIONS = {OpKind.NORM: 1, OpKind.SOFTMAX: 2}


class RegionError(ValueError):
    """A region side the program rectangle cannot hold."""


@dataclass(frozen=True)
class MeshCost:
    """A kernel's result for one op, before it becomes an :class:`OpCost`."""

    cycles: int
    comm_cycles: int
    macs: int
    lane_ops: int
    sram_reads: int
    sram_writes: int
    word_hops: int
    region_pe: int
    peak_words_per_pe: int = 0
    colors_needed: int = 0
    steps: int = 1  # pipelined GEMM steps the engine overlaps fabric transfers with

    def op_cost(self, overhead_cycles: int) -> OpCost:
        actions = (("pe.mac", self.macs), ("pe.vector_op", self.lane_ops), ("sram.read", self.sram_reads),
                   ("sram.write", self.sram_writes), ("fabric.word_hop", self.word_hops))
        traffic = (Traffic(FABRIC, BYTES_PER_WORD * self.word_hops, 0),)
        steps = max(1, min(MAX_STEPS_PER_OP, self.steps))
        return OpCost(unit=UNIT, compute_cycles=self.cycles + overhead_cycles, traffic=traffic, steps=steps,
                      actions=actions)


def region_side(spec: WaferSpec, op: Op, options: WaferMappingOptions) -> int:
    """The side of the square region ``op`` runs on; :class:`RegionError` naming the option if too big."""
    key = "decode_region_pe" if _decoding(op, options) else "prefill_region_pe"
    side = getattr(options, key)
    if side > spec.max_region_pe:
        raise RegionError(f"{key}: {side} x {side} PEs do not fit the {spec.mesh_width_pe} x "
                          f"{spec.mesh_height_pe} program rectangle (largest square side {spec.max_region_pe})")
    return side


def _decoding(op: Op, options: WaferMappingOptions) -> bool:
    """A decode op, or an op of no phase in a decode step (a serving iteration of decode tokens only)."""
    return op.phase is Phase.DECODE or (op.phase is Phase.ANY and options.step_phase == Phase.DECODE.value)


def is_gemv(op: Op, options: WaferMappingOptions) -> bool:
    return op.kind is OpKind.GEMM and (_decoding(op, options) or op.m <= options.gemv_max_rows)


def mesh_cost(spec: WaferSpec, op: Op, options: WaferMappingOptions) -> MeshCost:
    """The closed-form cost of ``op`` on its region (module docstring)."""
    p = region_side(spec, op, options)
    if op.kind is OpKind.GEMM:
        if is_gemv(op, options):
            return _gemv(spec, op, options, p)
        return _gemm(spec, op, options, p)
    return _vector(spec, op, options, p)


def _latency(spec: WaferSpec) -> tuple[int, int, int, int, int]:
    return (spec.hop_latency_cycles, spec.relay_latency_cycles, spec.link_words_per_cycle,
            spec.fp16_macs_per_cycle_per_pe, spec.call_overhead_cycles)


def _padded(dims: tuple[int, int, int], p: int) -> int:
    return math.prod(-(-d // p) for d in dims)


def gemm_shapes(op: Op) -> tuple[tuple[int, int, int], ...]:
    """The (M, K, N) a batched GEMM can be costed as: its ``count`` stacked along K, N or M."""
    m, k, n, c = op.m, op.k, op.n, op.count
    return ((m, c * k, n), (m, k, c * n), (c * m, k, n)) if c > 1 else ((m, k, n),)


def gemv_shape(op: Op, p: int) -> tuple[int, int, int]:
    """The stacking (along K or N) that pads least: how a GEMV's operand is resident."""
    m, k, n, c = op.m, op.k, op.n, op.count
    options = ((m, c * k, n), (m, k, c * n))
    return min(options, key=lambda dims: (_padded(dims, p), options.index(dims)))


def _gemm(spec: WaferSpec, op: Op, options: WaferMappingOptions, p: int) -> MeshCost:
    alpha, beta, e, c, o_call = _latency(spec)
    algo = GEMM_ALGORITHMS[options.gemm_algorithm.value]
    outs = [_gemm_counts(algo, m, k, n, p, alpha, beta, e, c, o_call, spec.step_sync_cycles, spec.free_colors)
            for m, k, n in gemm_shapes(op)]
    out = min(outs, key=lambda o: o[0])  # the stacking that finishes first
    cycles, comm, macs, reads, writes, hops, _sent, _busiest, colors, _relays, peak = out
    _check_fits(spec, op, options.gemm_algorithm, peak, p)
    if options.gemm_algorithm in (GemmAlgorithm.MESHGEMM, GemmAlgorithm.CANNON):
        _check_colors(spec, f"{options.gemm_algorithm.value} GEMM {op.name!r}", colors)
    return MeshCost(cycles, comm, macs, 0, reads, writes, hops, p, peak, colors, steps=p)


def _gemv(spec: WaferSpec, op: Op, options: WaferMappingOptions, p: int) -> MeshCost:
    alpha, beta, e, c, o_call = _latency(spec)
    algo = ALLREDUCE_ALGORITHMS[options.allreduce_algorithm.value]
    shapes = [(m, k, n) for m, k, n in gemm_shapes(op)[:2]]
    outs = [(_gemv_counts(algo, m, k, n, p, p, options.ktree_phases, options.ktree_groups, alpha, beta, e, c,
                          o_call), (m, k, n)) for m, k, n in shapes]
    out, (m, k, n) = min(outs, key=lambda item: item[0][0])  # the stacking that finishes first
    cycles, comm, macs, reads, writes, hops, _stages, _paths = out
    _check_colors(spec, f"MeshGEMV {op.name!r}", MESHGEMV_COLORS)
    kt, nt = -(-k // p), -(-n // p)
    decode_kv = op.b_operand is Operand.KV and _decoding(op, options)
    if decode_kv and options.kv_placement is KvPlacement.SHIFT:
        token_words = op.count * min(op.k, op.n)  # one token's K or V: heads x head_dim
        shift = shift_step_cycles(spec, token_words, p)
        moved = p * p * -(-token_words // p)  # every row passes one token's slice to the row above
        cycles, comm, hops, reads, writes = cycles + shift, comm + shift, hops + moved, reads + moved, writes + moved
    elif decode_kv and options.kv_appended_tokens:
        skewed = _concat_skew(op, (m, k, n), p, options.kv_appended_tokens)
        out = _gemv_counts(algo, *skewed, p, p, options.ktree_phases, options.ktree_groups, alpha, beta, e, c, o_call)
        cycles, comm = out[0], out[1]  # the PEs holding the appended tokens set the time; counts stay even
    return MeshCost(cycles, comm, macs, 0, reads, writes, hops, p, kt * nt + 2 * m * kt + m * nt,
                    MESHGEMV_COLORS)


def _concat_skew(op: Op, shape: tuple[int, int, int], p: int, appended: int) -> tuple[int, int, int]:
    """The GEMV shape whose even split gives the PEs that concatenation loads with every appended token:
    ``ceil((positions - a) / p) + a`` positions each ([WL] §4, Fig. 5)."""
    m, k, n = shape
    along_n = op.n >= op.k  # Q K^T: positions are the output columns; P V: they are the reduction
    positions = n if along_n else k
    a = min(appended, positions)
    skewed = p * (-(-(positions - a) // p) + a)
    return (m, k, skewed) if along_n else (m, skewed, n)


def shift_step_cycles(spec: WaferSpec, kv_words_per_token: int, p: int) -> int:
    """Cycles of one decode step's KV shift ([WL] §4, Fig. 5): each PE passes its slice of one token's
    K or V to the PE above (one hop, all rows at once)."""
    slice_words = -(-kv_words_per_token // p)
    return math.ceil(spec.hop_latency_cycles) + -(-slice_words // spec.link_words_per_cycle)


def _vector(spec: WaferSpec, op: Op, options: WaferMappingOptions, p: int) -> MeshCost:
    alpha, beta, e, c, o_call = _latency(spec)
    algo = ALLREDUCE_ALGORITHMS[options.allreduce_algorithm.value]
    out = _vector_counts(algo, op.count * op.m, op.n, p, VECTOR_FLOPS_PER_ELEMENT[op.kind],
                         REDUCTIONS.get(op.kind, 0), options.ktree_phases, options.ktree_groups,
                         alpha, beta, e, c, o_call)
    cycles, comm, lane_ops, reads, writes, hops = out
    return MeshCost(cycles, comm, 0, lane_ops, reads, writes, hops, p)


def _check_fits(spec: WaferSpec, op: Op, algorithm: GemmAlgorithm, peak_words: int, p: int) -> None:
    need = BYTES_PER_WORD * peak_words
    if need > spec.usable_sram_bytes_per_pe:
        raise CapacityError(
            f"sram_bytes_per_pe: {algorithm.value} GEMM {op.name!r} ({op.m} x {op.k} x {op.n}, count "
            f"{op.count}) on {p} x {p} PEs needs {need} bytes of tiles and buffers per PE, but a PE has "
            f"{spec.usable_sram_bytes_per_pe} usable bytes ({spec.sram_bytes_per_pe} less "
            f"{spec.reserved_sram_bytes_per_pe} reserved); try another mapping: gemm_algorithm "
            f"({', '.join(a.value for a in GemmAlgorithm if a is not algorithm)}), or a larger region "
            "(prefill_region_pe, decode_region_pe)")


def _check_colors(spec: WaferSpec, what: str, needed: int) -> None:
    """Fixed-route kernels need their colours on every PE (relaying algorithms pay beta instead)."""
    if needed > spec.free_colors:
        raise CapacityError(
            f"routing_colors: {what} needs {needed} routing colours per PE but the spec leaves "
            f"{spec.free_colors} ({spec.routing_colors} less {spec.reserved_colors} reserved); use summa or "
            "allgather, which relay through PEs")


@lru_cache(maxsize=65536)
def _gemm_counts(*args) -> tuple:
    return tuple(int(x) for x in MESH_GEMM(*args))


@lru_cache(maxsize=65536)
def _gemv_counts(*args) -> tuple:
    return tuple(int(x) for x in MESH_GEMV(*args))


@lru_cache(maxsize=65536)
def _vector_counts(*args) -> tuple:
    return tuple(int(x) for x in MESH_VECTOR(*args))
