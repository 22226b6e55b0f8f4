"""Weight quantisation: how many bytes a quantised weight matrix occupies.

Weight-only quantisation (GPTQ, AWQ, LUT-GEMM, T-MAC) stores each weight in
``weight_bits`` and one scale per group of ``group_size`` consecutive weights along
the reduction dimension ``k`` of each output column, so a ``k x n`` matrix carries
``n x ceil(k / group_size)`` scales of ``scale_bits`` each. Those scale bytes are
what :func:`scale_bytes` returns; the layer builder adds them to each weight GEMM's
``Op.extra_bytes`` so that ``Op.b_bytes`` (and every byte count downstream) includes
them.

Conventions:

- ``group_size = 128`` is the common GPTQ/AWQ setting; ``group_size = 0`` means one
  scale per matrix (per-tensor), as BitNet b1.58 uses for its ternary weights
  (absmean scale); ``group_size = None`` counts no scale bytes at all.
- Weights of 16 bits or more are unquantised and carry no scales.
- Ternary weights are ``weight_bits = 1.58`` (log2 3, the information content);
  real packings store 2 bits (BitNet's I2_S) or 1.6 bits (5 trits per byte); pass
  that number instead to count the packed size.
- Asymmetric schemes store a zero point beside each scale; fold it into
  ``scale_bits`` (e.g. 16-bit scale + 4-bit zero = 20).

Faithfulness: the byte count is exact for the layout above; padding of the last
group and alignment of packed rows are rounded up to whole bytes per matrix only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from workloads.errors import WorkloadError

DEFAULT_GROUP_SIZE = 128
DEFAULT_SCALE_BITS = 16
TERNARY_BITS = math.log2(3)  # 1.585; presets and papers write 1.58
UNQUANTISED_BITS = 16


@dataclass(frozen=True)
class WeightQuant:
    """Weight bit width and the grouping of its scales."""

    weight_bits: float = UNQUANTISED_BITS
    group_size: int | None = DEFAULT_GROUP_SIZE
    scale_bits: float = DEFAULT_SCALE_BITS

    def __post_init__(self) -> None:
        bits = self.weight_bits
        if isinstance(bits, bool) or not isinstance(bits, (int, float)) or not 0 < bits <= 64:
            raise WorkloadError(f"weight_bits must be a number in (0, 64], got {bits!r}")
        group = self.group_size
        if group is not None and (isinstance(group, bool) or not isinstance(group, int) or group < 0):
            raise WorkloadError("weight_group_size must be a positive integer, 0 (per tensor) "
                             f"or None (no scales), got {group!r}")
        scale = self.scale_bits
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale <= 64:
            raise WorkloadError(f"scale_bits must be a number in (0, 64], got {scale!r}")

    @property
    def is_quantised(self) -> bool:
        return self.weight_bits < UNQUANTISED_BITS and self.group_size is not None

    def scales_per_matrix(self, k: int, n: int) -> int:
        """Scales of one ``k x n`` weight matrix (0 when unquantised)."""
        if not self.is_quantised:
            return 0
        if self.group_size == 0:
            return 1
        return n * math.ceil(k / self.group_size)

    def scale_bytes(self, k: int, n: int, count: int = 1) -> int:
        """Bytes of the scales of ``count`` ``k x n`` weight matrices."""
        return math.ceil(count * self.scales_per_matrix(k, n) * self.scale_bits / 8)

    def weight_bytes(self, k: int, n: int, count: int = 1) -> int:
        """Bytes of ``count`` ``k x n`` matrices: packed weights plus their scales."""
        return math.ceil(count * k * n * self.weight_bits / 8) + self.scale_bytes(k, n, count)

    def bits_per_weight(self, k: int, n: int) -> float:
        """Effective storage bits per weight, scales included."""
        return self.weight_bytes(k, n) * 8 / (k * n)
