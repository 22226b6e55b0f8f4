"""Structural area of one LUT array: standard cells counted from the mechanism.

What it models
--------------
An ``M x N x g`` LUT array (LUT Tensor Core, ISCA'25 §3.2, Fig. 8-9; RTL
``fp_lut_array_b_cycle_stage1.sv`` of ``microsoft/T-MAC`` branch
``LUTTensorCore_ISCA25``) is built from these parts, each a count of standard
cells:

* ``table``: M tables of ``E`` entries of ``entry_bits`` flip-flops each
  (Eq. 7: ``M x 2^(g-1) x LUT_BIT`` when symmetrised, ``E = 2^g`` otherwise);
* ``mux``: M x N MUX units, each an ``E``-to-1 multiplexer of ``entry_bits``
  bits, i.e. ``E - 1`` two-input MUX cells per bit;
* ``negation``: with symmetrised tables and weights *not* flipped offline, each
  MUX unit inverts its ``g - 1`` index bits when the sign bit is set
  (``LUT[~(W2W1W0)]``, Eq. 5): ``g - 1`` XOR cells; removed by the offline flip
  (Eq. 6);
* ``sign``: with symmetrised tables the looked-up entry is added or subtracted
  by the sign bit: one XOR per entry bit (the carry-in completes the negation);
* ``accumulator``: per MUX unit one ``acc_bits`` adder and register (the
  bit-plane shift is wiring: the RTL adds the plane index to the exponent);
* ``weights``: the grouped binary weights, ``g x N x w_bits`` flip-flops (Eq. 8);
* ``precompute``: table-building adders inside the array (the conventional
  design the DFG transform removes): per table, the adds of
  :func:`arch.lut.kernel.table_build_adds_py`, ``entry_bits`` full adders each;
* ``broadcast``: buffer trees on every net with more than ``FANOUT`` loads:
  each table entry bit to the N MUX units sharing it ("each table entry must be
  broadcast to N PEs, typically 64 or 128", [LTC] §3.1.2), each weight index bit
  to the M MUX units of its column, each MUX unit's select bits to the MUX cells
  of their level, and the sign bit to its XORs: fan-out-of-4 stages,
  ``ceil(n/4) + ceil(n/16) + ...`` buffers for n loads, none for n <= 4.

Cell areas are the Nangate 45 nm Open Cell Library's (``CELL_AREA_UM2_45NM``),
scaled to the system's node by the technology library's logic area factor.

How faithful
------------
A cell count, not a synthesis: no wiring, clock tree or logic optimisation
(broadcast buffering is counted as fan-out-of-4 trees). The gap to a
synthesised design is a factor per part (:mod:`arch.lut.energy`), fitted on the
paper's Table 2 and checked on its other rows and on Table 1.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from arch.lut.kernel import table_build_adds_py

# Standard-cell areas of the Nangate 45 nm Open Cell Library (FreePDK45), in um^2:
# MACRO SIZE width x height (1.4 um rows) of
# The-OpenROAD-Project/OpenROAD-flow-scripts:
# flow/platforms/nangate45/lef/NangateOpenCellLibrary.macro.mod.lef (commit 8c009b0b6):
# DFF_X1 3.23 x 1.4, MUX2_X1 1.33 x 1.4, XOR2_X1 1.14 x 1.4, FA_X1 3.04 x 1.4;
# BUF_X1 0.57 x 1.4 (same file, commit d27f2d0069db).
CELL_AREA_UM2_45NM: dict[str, float] = {
    "dff": 3.23 * 1.4,
    "mux2": 1.33 * 1.4,
    "xor2": 1.14 * 1.4,
    "fa": 3.04 * 1.4,
    "buf": 0.57 * 1.4,
}

# Loads per buffer stage of a broadcast tree: the fan-out-of-4 rule (a stage effort of
# about 4 minimises delay; Sutherland, Sproull and Harris, "Logical Effort", 1999, ch. 3).
FANOUT = 4

PARTS = ("table", "mux", "negation", "sign", "accumulator", "weights", "precompute", "broadcast")


def buffer_tree_cells(loads: int, fanout: int = FANOUT) -> int:
    """Buffers of a fan-out-``fanout`` tree driving ``loads`` inputs from one register output."""
    if loads <= fanout:
        return 0
    stage = -(-loads // fanout)
    return stage + buffer_tree_cells(stage, fanout)


@dataclass(frozen=True)
class LutArrayDesign:
    """One LUT array's structure: shape, widths and which optimisations it has."""

    array_m: int = 2
    array_n: int = 64
    g: int = 4
    entry_bits: int = 8
    acc_bits: int = 32
    weight_bits: int = 2
    symmetric: bool = True
    offline_flip: bool = True
    precompute_in_array: bool = False

    @property
    def entries(self) -> int:
        return 2 ** (self.g - 1) if self.symmetric else 2 ** self.g

    @property
    def mux_units(self) -> int:
        return self.array_m * self.array_n


def select_buffers(entries: int, entry_bits: int) -> int:
    """Buffers on the select lines of one ``entries``-to-1 MUX tree of ``entry_bits`` bits: select
    bit ``j`` drives the ``entries / 2^(j+1)`` two-input MUXes of its level in every bit slice."""
    levels = max(entries - 1, 0).bit_length()
    return sum(buffer_tree_cells(entries // 2 ** (j + 1) * entry_bits) for j in range(levels))


def cell_counts(d: LutArrayDesign) -> dict[str, dict[str, int]]:
    """Standard cells per part of one array (module docstring)."""
    units, eb = d.mux_units, d.entry_bits
    index_bits = d.g - 1 if d.symmetric else d.g  # weight bits selecting an entry (the MSB is the sign)
    return {
        "table": {"dff": d.array_m * d.entries * eb},
        "mux": {"mux2": units * (d.entries - 1) * eb},
        "negation": {"xor2": units * (d.g - 1) if d.symmetric and not d.offline_flip else 0},
        "sign": {"xor2": units * eb if d.symmetric else 0},
        "accumulator": {"fa": units * d.acc_bits, "dff": units * d.acc_bits},
        "weights": {"dff": d.g * d.array_n * d.weight_bits},
        "precompute": {"fa": d.array_m * table_build_adds_py(d.g, d.symmetric) * eb
                       if d.precompute_in_array else 0},
        "broadcast": {"buf": d.array_m * d.entries * eb * buffer_tree_cells(d.array_n)
                      + d.array_n * index_bits * buffer_tree_cells(d.array_m)
                      + units * (select_buffers(d.entries, eb) + (buffer_tree_cells(eb) if d.symmetric else 0))},
    }


def part_areas_um2_45nm(d: LutArrayDesign) -> dict[str, float]:
    """Cell area of each part at 45 nm, before the synthesis factor."""
    return {part: sum(n * CELL_AREA_UM2_45NM[cell] for cell, n in cells.items())
            for part, cells in cell_counts(d).items()}


def ablation_designs(base: LutArrayDesign) -> tuple[tuple[str, LutArrayDesign], ...]:
    """The LUT Tensor Core paper's Table 2 steps as design changes, from UNPU to the LUT TC.

    UNPU (DSE enabled): full 2^g tables, tables built in the array; then weight
    reinterpretation (symmetrised tables, index inversion and sign in the MUX
    path), then negation-circuit elimination (weights flipped offline), then the
    DFG transform with kernel fusion (the precompute leaves the array).
    """
    unpu = replace(base, symmetric=False, offline_flip=False, precompute_in_array=True)
    reinterpreted = replace(unpu, symmetric=True)
    flipped = replace(reinterpreted, offline_flip=True)
    lut_tc = replace(flipped, precompute_in_array=False)
    return (("UNPU (DSE enabled)", unpu), ("+ weight reinterpretation", reinterpreted),
            ("+ negation circuit elimination", flipped), ("+ DFG transform + kernel fusion", lut_tc))
