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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


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

    @property
    def is_matmul(self) -> bool:
        return self is OpKind.GEMM

    @property
    def is_collective(self) -> bool:
        """Moves data between devices instead of computing (no FLOPs counted)."""
        return self is OpKind.ALLREDUCE


class Operand(str, Enum):
    """Where the B operand of a GEMM lives: it decides reuse and placement."""

    WEIGHT = "weight"
    KV = "kv"
    ACTIVATION = "activation"


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
}


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

    def __post_init__(self) -> None:
        for dim in ("m", "n", "k", "count", "devices"):
            value = getattr(self, dim)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"op {self.name!r}: {dim} must be a positive integer, got {value!r}")
        for bits in ("a_bits", "b_bits", "out_bits"):
            value = getattr(self, bits)
            if not isinstance(value, (int, float)) or value <= 0 or value > 64:
                raise ValueError(f"op {self.name!r}: {bits} must be in (0, 64], got {value!r}")
        if self.extra_bytes < 0:
            raise ValueError(f"op {self.name!r}: extra_bytes must be >= 0, got {self.extra_bytes}")
        if not self.kind.is_matmul and self.k != 1:
            raise ValueError(f"op {self.name!r}: a {self.kind.value} op has k = 1, got {self.k}")

    # -- work -----------------------------------------------------------------
    @property
    def macs(self) -> int:
        """Multiply-accumulates (GEMM only; 0 for vector ops)."""
        return self.count * self.m * self.n * self.k if self.kind.is_matmul else 0

    @property
    def elements(self) -> int:
        """Output elements over all instances."""
        return self.count * self.m * self.n

    @property
    def flops(self) -> int:
        if self.kind.is_matmul:
            return 2 * self.macs
        return self.elements * VECTOR_FLOPS_PER_ELEMENT.get(self.kind, 0)

    # -- bytes ----------------------------------------------------------------
    @property
    def a_bytes(self) -> int:
        """Bytes of the A operand (activations), all instances: m x k for a GEMM,
        the m x n input tensor of an element-wise or reduction op."""
        if self.kind.is_matmul:
            return _bytes(self.count * self.m * self.k, self.a_bits)
        return _bytes(self.elements, self.a_bits)

    @property
    def b_bytes(self) -> int:
        """Bytes of the B operand (weights / KV / activation); 0 for unary vector ops."""
        if self.kind.is_matmul:
            return _bytes(self.count * self.k * self.n, self.b_bits) + self.extra_bytes
        if self.kind in (OpKind.ADD, OpKind.MUL):
            return _bytes(self.elements, self.b_bits)
        return self.extra_bytes

    @property
    def out_bytes(self) -> int:
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
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Op":
        fields = dict(data)
        fields["kind"] = OpKind(fields["kind"])
        if "b_operand" in fields:
            fields["b_operand"] = Operand(fields["b_operand"])
        if "phase" in fields:
            fields["phase"] = Phase(fields["phase"])
        return cls(**fields)


def _bytes(elements: int, bits: float) -> int:
    """Bytes to hold ``elements`` values of ``bits`` each, rounded up to whole bytes."""
    return -(-int(round(elements * bits)) // 8)
