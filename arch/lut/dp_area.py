"""Area of a DP4 dot-product unit against weight bits: MAC, conventional LUT, LUT Tensor Core.

What it models
--------------
The LUT Tensor Core paper's Fig. 13 question (ISCA'25 §4.2.1, ``../shared/LUT_AND_WAFER.md``
§1.2): how much area a unit takes that computes ``n_out`` = 4 dot products of
``k`` = 4 activations (A_FP16) with ``w_bits``-bit integer weights *per cycle* (N = 4
outputs like the A100 DP4 arrangement), for three designs at equal throughput:

* **MAC**: per output ``k`` multipliers of an fp16 significand (11 bits, hidden bit
  counted) by a ``w_bits`` integer, ``k - 1`` fp16 adds of the reduction tree and
  one fp32 accumulator add;
* **conventional LUT**: bit-serial planes with a full ``2^k``-entry table built inside
  the unit (``2^k - k - 1`` fp16 adds, :func:`arch.lut.kernel.table_build_adds_py`)
  and shared by its ``n_out`` outputs; per output ``w_bits`` lookups per cycle
  (``2^k``-to-1 MUXes of 16 bits), ``w_bits - 1`` fp16 adds combining the planes
  (the plane shift is an exponent add, as the RTL does) and the fp32 accumulator;
* **LUT Tensor Core**: the same with symmetrised ``2^(k-1)``-entry tables, weights
  flipped offline and the table precompute outside the unit (the DFG transform).

Areas: adders and multipliers from the technology library with its width laws
(adders linear, multipliers quadratic in the multiplied bits:
``mult.fp16 x 11 w_bits / 11^2``), 16-bit table entries as the library's 16-bit
register, MUXes as Nangate 45 nm MUX2 cells (:mod:`arch.lut.cells`) scaled by the
node's area factor. Nothing is fitted.

How faithful
------------
Component sums: no wiring, no operand registers of the MAC side, no pipeline
registers, and the library's adders are generic (no fused multi-operand trees), so
only the shapes (which design is smaller at which weight width) are meaningful.
"""

from __future__ import annotations

from typing import NamedTuple

from arch.lut.cells import CELL_AREA_UM2_45NM
from arch.lut.kernel import table_build_adds_py
from arch.tech import TechLibrary

FP16_SIGNIFICAND_BITS = 11    # fp16 with the hidden bit (the library's multiplier law)
ENTRY_BITS = 16               # fp16 table entries


class DpAreas(NamedTuple):
    w_bits: int
    mac_um2: float
    conventional_lut_um2: float
    lut_tc_um2: float


def _mux_um2(entries: int, lib: TechLibrary) -> float:
    return (entries - 1) * ENTRY_BITS * CELL_AREA_UM2_45NM["mux2"] * lib.factors.area_factor


def dp_areas(w_bits: int, k: int = 4, n_out: int = 4, lib: TechLibrary | None = None) -> DpAreas:
    """The three designs' areas in um^2 (module docstring)."""
    lib = lib or TechLibrary(node_nm=28)
    add16, add32 = lib.area_um2("add.fp16"), lib.area_um2("add.fp32")
    mult = lib.area_um2("mult.fp16") * FP16_SIGNIFICAND_BITS * w_bits / FP16_SIGNIFICAND_BITS ** 2
    mac = n_out * (k * mult + (k - 1) * add16 + add32)

    def lut(entries: int, in_unit_adds: int) -> float:
        table = entries * lib.area_um2("register") + in_unit_adds * add16
        per_output = w_bits * _mux_um2(entries, lib) + (w_bits - 1) * add16 + add32
        return table + n_out * per_output

    conventional = lut(2 ** k, table_build_adds_py(k, False))
    lut_tc = lut(2 ** (k - 1), 0)
    return DpAreas(w_bits, mac, conventional, lut_tc)


def weight_bits_sweep(max_bits: int = 8, **kwargs) -> tuple[DpAreas, ...]:
    return tuple(dp_areas(b, **kwargs) for b in range(1, max_bits + 1))


def largest_bits_below_mac(rows: tuple[DpAreas, ...], field: str) -> int:
    """The widest weights for which ``field``'s design is smaller than the MAC unit (0: none)."""
    below = [r.w_bits for r in rows if getattr(r, field) < r.mac_um2]
    return max(below, default=0)
