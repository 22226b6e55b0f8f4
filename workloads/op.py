"""The operation type every workload is made of.

An :class:`Op` is one kernel of an LLM layer: a (batched) matrix multiply, or an
element-wise / reduction pass over a tensor (softmax, normalisation, activation,
residual add, rotary embedding). It carries its dimensions, the bit widths of its
operands and where its second operand comes from (weights, KV cache or another
activation), and derives FLOPs, MACs and the minimum bytes it must move.

Conventions (the SCALE-Sim GEMM convention, ``REFERENCE_DATA.md``, "SCALE-Sim GEMM
convention"): ``m`` = rows of the input and output (tokens), ``k`` = reduction,
``n`` = output features. ``count`` independent instances of the same shape run
together (heads x requests for attention). For vector ops ``k`` is 1 and the
op touches ``m x n`` elements per instance.

Fused attention (``attention``: score GEMM, softmax and context GEMM in one
kernel, as FlashAttention-2 and FlashDecoding run them) has ``m`` query rows,
``n`` = head dimension and ``k`` = KV positions per instance; it reads Q, K and
V once and writes only the output, never the ``m x k`` score matrix. With
``kv_splits > 1`` (split-KV decode) each instance's KV positions are cut into
that many chunks whose partial outputs and one statistic per row are written in
``out_bits`` and combined by an ``attn_reduce`` op. A softmax with ``passes > 1``
reads its input that many times (three-pass: max, sum, normalise; two-pass:
sum of (mantissa, exponent) pairs, normalise), as out-of-cache rows do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from workloads.errors import WorkloadError


class OpKind(str, Enum):
    """What an op computes; the value is the name used in files."""

    GEMM = "gemm"
    SOFTMAX = "softmax"
    NORM = "norm"
    ACTIVATION = "activation"
    ADD = "add"
    MUL = "mul"
    ROPE = "rope"
    ALLREDUCE = "allreduce"
    ATTENTION = "attention"
    ATTN_REDUCE = "attn_reduce"

    @property
    def is_matmul(self) -> bool:
        return self is OpKind.GEMM

    @property
    def is_collective(self) -> bool:
        """Moves data between devices instead of computing (no FLOPs counted)."""
        return self is OpKind.ALLREDUCE

    @property
    def chosen_by(self) -> str:
        """The experiment option that puts ops of this kind in a workload, for refusals ('' if none)."""
        if self in (OpKind.ATTENTION, OpKind.ATTN_REDUCE):
            return ("workload.attention (flash2 | flashdecoding | flashdecoding++); "
                    "attention: unfused runs on every kind")
        return ""


class Operand(str, Enum):
    """Where the B operand of a GEMM lives: it decides reuse and placement."""

    WEIGHT = "weight"
    KV = "kv"
    ACTIVATION = "activation"


class SoftmaxScheme(str, Enum):
    """How a fused attention op normalises its scores."""

    ONLINE = "online"            # running max, partials rescaled when it grows (FlashAttention-2, FlashDecoding)
    UNIFIED_MAX = "unified_max"  # one max fixed in advance, no rescaling (FlashDecoding++)


class Phase(str, Enum):
    PREFILL = "prefill"
    DECODE = "decode"
    ANY = "any"


# FLOPs per element of the vector kinds (one pass). Softmax: max, subtract, exp,
# sum, divide; RMSNorm: square, sum, rsqrt-scale, multiply by gain; RoPE: two
# multiplies and an add per element pair half; SiLU-gate activation: sigmoid and
# multiply. These are operation counts, not cycle counts: each unit's model turns
# them into cycles with its own throughput per function.
VECTOR_FLOPS_PER_ELEMENT: dict[OpKind, int] = {
    OpKind.SOFTMAX: 5,
    OpKind.NORM: 4,
    OpKind.ACTIVATION: 4,
    OpKind.ADD: 1,
    OpKind.MUL: 1,
    OpKind.ROPE: 3,
    OpKind.ATTN_REDUCE: 2,  # per output element per split partial: scale and add
}

# Non-matmul FLOPs per score of a fused attention op. Online softmax (FlashAttention-2,
# Dao 2023, Algorithm 1): max, subtract, exp, add to the running sum, and the rescale of
# the running sum when the max grows. Unified max (FlashDecoding++, Hong et al. 2024,
# section 3): subtract the fixed max, exp, add -- no max and no rescale.
ATTENTION_SOFTMAX_FLOPS_PER_SCORE: dict[SoftmaxScheme, int] = {
    SoftmaxScheme.ONLINE: 5,
    SoftmaxScheme.UNIFIED_MAX: 3,
}
# Of those, exponentials per score: one in either scheme (the rescale's exponential is one per
# row per KV tile, not per score). A GPU runs them on its special-function units.
ATTENTION_EXPS_PER_SCORE = 1
# Bits of a split-KV partial output and of its per-row statistic: float32, as
# FlashDecoding's and FlashDecoding++'s partial buffers are.
PARTIAL_BITS = 32


@dataclass(frozen=True, slots=True)
class Op:
    """One operation of a workload. Frozen, hashable and picklable."""

    name: str
    kind: OpKind
    m: int
    n: int
    k: int = 1
    count: int = 1
    a_bits: int = 16
    b_bits: int = 16
    out_bits: int = 16
    b_operand: Operand = Operand.WEIGHT
    phase: Phase = Phase.ANY
    layer: int = -1
    extra_bytes: int = field(default=0)  # e.g. group-wise quantisation scales
    devices: int = 1  # devices a collective spans (tensor-parallel degree); 1 otherwise
    passes: int = 1  # softmax only: reads of its input (3: three-pass, 2: two-pass)
    kv_splits: int = 1  # attention / attn_reduce only: chunks each instance's KV is cut into
    softmax_scheme: SoftmaxScheme = SoftmaxScheme.ONLINE  # attention only

    def __post_init__(self) -> None:
        for dim in ("m", "n", "k", "count", "devices", "passes", "kv_splits"):
            value = getattr(self, dim)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise WorkloadError(f"op {self.name!r}: {dim} must be a positive integer, got {value!r}")
        for bits in ("a_bits", "b_bits", "out_bits"):
            value = getattr(self, bits)
            if not isinstance(value, (int, float)) or value <= 0 or value > 64:
                raise WorkloadError(f"op {self.name!r}: {bits} must be in (0, 64], got {value!r}")
        if self.extra_bytes < 0:
            raise WorkloadError(f"op {self.name!r}: extra_bytes must be >= 0, got {self.extra_bytes}")
        if not self.kind.is_matmul and self.kind is not OpKind.ATTENTION and self.k != 1:
            raise WorkloadError(f"op {self.name!r}: a {self.kind.value} op has k = 1, got {self.k}")
        if self.passes != 1 and self.kind is not OpKind.SOFTMAX:
            raise WorkloadError(f"op {self.name!r}: passes applies to softmax ops, not {self.kind.value}")
        if self.kv_splits != 1 and self.kind not in (OpKind.ATTENTION, OpKind.ATTN_REDUCE):
            raise WorkloadError(f"op {self.name!r}: kv_splits applies to attention ops, not {self.kind.value}")

    # -- work -----------------------------------------------------------------
    @property
    def macs(self) -> int:
        """Multiply-accumulates (GEMMs, and fused attention's two GEMMs; 0 for vector ops)."""
        if self.kind is OpKind.ATTENTION:
            return 2 * self.count * self.m * self.n * self.k
        return self.count * self.m * self.n * self.k if self.kind.is_matmul else 0

    @property
    def scores(self) -> int:
        """Attention scores a fused attention op computes (0 for other kinds)."""
        return self.count * self.m * self.k if self.kind is OpKind.ATTENTION else 0

    @property
    def elements(self) -> int:
        """Output elements over all instances."""
        return self.count * self.m * self.n

    @property
    def flops(self) -> int:
        if self.kind.is_matmul:
            return 2 * self.macs
        if self.kind is OpKind.ATTENTION:
            return 2 * self.macs + self.scores * ATTENTION_SOFTMAX_FLOPS_PER_SCORE[self.softmax_scheme]
        if self.kind is OpKind.ATTN_REDUCE:
            return self.elements * self.kv_splits * VECTOR_FLOPS_PER_ELEMENT[self.kind]
        return self.elements * VECTOR_FLOPS_PER_ELEMENT.get(self.kind, 0)

    @property
    def nonmatmul_flops(self) -> int:
        """FLOPs outside matrix multiplies: all of a vector op's, a fused attention op's softmax."""
        if self.kind.is_matmul:
            return 0
        return self.flops - 2 * self.macs

    # -- bytes ----------------------------------------------------------------
    @property
    def a_bytes(self) -> int:
        """Bytes of the A operand (activations), all instances: m x k for a GEMM,
        the m x n input tensor of an element-wise or reduction op."""
        if self.kind.is_matmul:
            return _bytes(self.count * self.m * self.k, self.a_bits)
        if self.kind is OpKind.ATTN_REDUCE:  # every split's partial output
            return _bytes(self.elements * self.kv_splits, self.a_bits)
        return _bytes(self.elements * self.passes, self.a_bits)  # attention: Q; softmax: each pass

    @property
    def b_bytes(self) -> int:
        """Bytes of the B operand (weights / KV / activation); 0 for unary vector ops."""
        if self.kind.is_matmul:
            return _bytes(self.count * self.k * self.n, self.b_bits) + self.extra_bytes
        if self.kind is OpKind.ATTENTION:  # K and V
            return _bytes(2 * self.count * self.k * self.n, self.b_bits) + self.extra_bytes
        if self.kind is OpKind.ATTN_REDUCE:  # one statistic per row per split
            return _bytes(self.count * self.m * self.kv_splits, self.a_bits) + self.extra_bytes
        if self.kind in (OpKind.ADD, OpKind.MUL):
            return _bytes(self.elements, self.b_bits)
        return self.extra_bytes

    @property
    def out_bytes(self) -> int:
        if self.kind is OpKind.ATTENTION and self.kv_splits > 1:  # partials and a statistic per row
            return _bytes(self.count * self.kv_splits * self.m * (self.n + 1), self.out_bits)
        return _bytes(self.elements, self.out_bits)

    @property
    def comm_bytes(self) -> int:
        """Bytes a collective reduces per device (its tensor); 0 for compute ops.

        A ring all-reduce over ``devices`` sends and receives ``2 (devices - 1) /
        devices`` times this per device; the link model applies that factor.
        """
        return _bytes(self.elements, self.a_bits) if self.kind.is_collective else 0

    @property
    def min_bytes(self) -> int:
        """Compulsory traffic: every operand read once and the output written once."""
        return self.a_bytes + self.b_bytes + self.out_bytes

    @property
    def flops_per_byte(self) -> float:
        return self.flops / self.min_bytes

    def to_dict(self) -> dict:
        return {
            "name": self.name, "kind": self.kind.value, "m": self.m, "n": self.n, "k": self.k,
            "count": self.count, "a_bits": self.a_bits, "b_bits": self.b_bits,
            "out_bits": self.out_bits, "b_operand": self.b_operand.value,
            "phase": self.phase.value, "layer": self.layer, "extra_bytes": self.extra_bytes,
            **({"devices": self.devices} if self.devices != 1 else {}),
            **({"passes": self.passes} if self.passes != 1 else {}),
            **({"kv_splits": self.kv_splits} if self.kv_splits != 1 else {}),
            **({"softmax_scheme": self.softmax_scheme.value}
               if self.softmax_scheme is not SoftmaxScheme.ONLINE else {}),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Op":
        fields = dict(data)
        fields["kind"] = OpKind(fields["kind"])
        if "b_operand" in fields:
            fields["b_operand"] = Operand(fields["b_operand"])
        if "phase" in fields:
            fields["phase"] = Phase(fields["phase"])
        if "softmax_scheme" in fields:
            fields["softmax_scheme"] = SoftmaxScheme(fields["softmax_scheme"])
        return cls(**fields)


def _bytes(elements: int, bits: float) -> int:
    """Bytes to hold ``elements`` values of ``bits`` each, rounded up to whole bytes."""
    return -(-int(round(elements * bits)) // 8)
