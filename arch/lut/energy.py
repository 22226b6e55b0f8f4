"""The LUT system's component table: LUT array parts, vector units, shared memory, HBM.

Area
----
Each part of a LUT array (:mod:`arch.lut.cells`: tables, MUX array, negation
circuit, sign/accumulators, weight buffer, in-array precompute, broadcast buffer
trees) is its standard-cell area at the system's node times a synthesis factor
(cell-count area -> synthesised area), fitted on the paper's Table 2 (W_INT2
A_INT8, M2N64K4, TSMC 28 nm, 1 GHz target; ``TABLE2_ROWS``):

* one factor for the parts every row has (``synth_area_factor``), fitted on the
  LUT Tensor Core row (11,991.29 um^2);
* the negation circuit's own factor, fitted on the step that removes only it
  (negation-circuit elimination: 13,116.60 -> 12,780.05 um^2), and the in-array
  precompute unit's, fitted on the step that removes only it (DFG transform and
  kernel fusion: 12,780.05 -> 11,991.29 um^2). Their cell counts (index XORs;
  table-building full adders) stand for several times less than the published
  circuits (:func:`part_factors`; the benchmark prints the factors): pipeline
  registers, control and their own wiring are not in them.

Not fitted, so they check the model: Table 2's UNPU row and its 1.44x gain (the
weight-reinterpretation step: half the table entries, half-width MUXes, half the
broadcast buffers, sign logic added), every row's power, and Table 1's
tensor-core area per SM (``tests/test_lut_energy.py``, ``benchmarks/lut_validation.py``).

Energy
------
Dynamic power is taken as proportional to synthesised area at full activity (one
power density, :func:`power_density_mw_per_um2`, fitted on the LUT Tensor Core row's
16.22 mW); each part's share of the array's energy per cycle is charged per action
of that part, counted at the operating point of the fit (W_INT2, every cycle
issuing): a MUX unit's lookup, an accumulate, a table entry read and broadcast, a
weight bit fed, an in-array precompute add. At another node energies scale with the
technology library's logic energy factor relative to 28 nm and areas with its area
factor.

The vector unit (table precompute outside the arrays, element-wise ops) pays the
library's fp16 add / fma per operation; shared-memory traffic (tables and
operands staged per SM) the library's GPU L1 energy per byte (AttAcc); HBM the
host path of an HBM stack per bit (FGDRAM). Leakage is cell area times the
library's logic leakage density. The host's other area (``host_area_mm2``) is
one entry without energy.

Not modelled: wiring other than the broadcast buffers (inside the fitted
factors), clock gating, data-dependent switching, the register file's energy.
"""

from __future__ import annotations

from functools import lru_cache

from arch.contract import Component
from arch.lut.cells import PARTS, LutArrayDesign, ablation_designs, part_areas_um2_45nm
from arch.lut.kernel import table_build_adds_py
from arch.lut.spec import LutSpec
from arch.tech import TechLibrary

# LUT Tensor Core (ISCA'25) Table 2, W_INT2 A_INT8 tensor core, M x N x K = 512, TSMC
# 28 nm, 1 GHz target (../shared/LUT_AND_WAFER.md §1.2; the header says mm^2, the
# values are um^2, pitfall L9): (area um^2, power mW) per row.
TABLE2_UNPU = (17_271.71, 23.39)
TABLE2_REINTERPRETED = (13_116.60, 17.98)
TABLE2_NEGATION_ELIMINATED = (12_780.05, 17.37)
TABLE2_LUT_TC = (11_991.29, 16.22)
TABLE2_ROWS = (TABLE2_UNPU, TABLE2_REINTERPRETED, TABLE2_NEGATION_ELIMINATED, TABLE2_LUT_TC)
TABLE2_CLOCK_HZ = 1e9          # the synthesis target [LTC] §4.1.1
TABLE2_WEIGHT_BITS = 2         # W_INT2
TABLE2_ACTIVATION_BITS = 8     # A_INT8
FIT_NODE_NM = 28

# The Table 2 design point: M2N64K4; table entries hold the exact sum of four int8
# activations (8 + log2(4) = 10 bits, no table quantisation for integer activations);
# int32 accumulation as in int8 MMA (PTX mma .s32 accumulators).
TABLE2_DESIGN = LutArrayDesign(array_m=2, array_n=64, g=4, entry_bits=TABLE2_ACTIVATION_BITS + (4 - 1).bit_length(),
                               acc_bits=32, weight_bits=TABLE2_WEIGHT_BITS)

ARRAY_PARTS = {  # part -> (component name, action)
    "table": ("lut_table", "entry_read"),
    "mux": ("lut_mux", "lookup"),
    "negation": ("lut_negation", "lookup"),
    "sign": ("lut_accumulator", "accumulate"),
    "accumulator": ("lut_accumulator", "accumulate"),
    "weights": ("lut_weights", "bit_read"),
    "precompute": ("lut_precompute", "add"),
    "broadcast": ("lut_table", "entry_read"),
}
VECTOR_ADD = "add.fp16"   # one table-building add on the vector unit
VECTOR_FMA = "fma.fp16"   # element-wise work: half an fma per FLOP
SMEM_ENTRY = "gpu.l1"     # per byte staged through shared memory
HBM_PATH = "host"


def spec_design(spec: LutSpec) -> LutArrayDesign:
    """The array structure of one tensor core of ``spec``."""
    return LutArrayDesign(array_m=spec.array_m, array_n=spec.columns, g=spec.array_k,
                          entry_bits=spec.lut_entry_bits, acc_bits=spec.accumulator_bits,
                          weight_bits=spec.weight_buffer_bits, symmetric=spec.symmetric_tables,
                          offline_flip=spec.offline_weight_flip, precompute_in_array=spec.precompute_in_array)


def cell_area_um2(design: LutArrayDesign, lib: TechLibrary) -> dict[str, float]:
    """Cell area per part at the library's node, before the synthesis factor."""
    return {p: a * lib.factors.area_factor for p, a in part_areas_um2_45nm(design).items()}


@lru_cache(maxsize=1)
def _fit_library() -> TechLibrary:
    return TechLibrary(node_nm=FIT_NODE_NM)


@lru_cache(maxsize=1)
def synth_area_factor() -> float:
    """Synthesised / cell-count area, fitted on Table 2's LUT Tensor Core row (module docstring)."""
    return TABLE2_LUT_TC[0] / sum(cell_area_um2(TABLE2_DESIGN, _fit_library()).values())


@lru_cache(maxsize=1)
def part_factors() -> dict[str, float]:
    """Synthesised / cell-count area per part (module docstring): the common factor, and for the
    negation circuit and the in-array precompute the Table 2 step that removes only that part."""
    lib = _fit_library()
    factors = {part: synth_area_factor() for part in PARTS}
    (_, _), (_, reinterpreted), (_, flipped), (_, lut_tc) = ablation_designs(TABLE2_DESIGN)
    for part, (before, after), design in (("negation", (TABLE2_REINTERPRETED, TABLE2_NEGATION_ELIMINATED), reinterpreted),
                                          ("precompute", (TABLE2_NEGATION_ELIMINATED, TABLE2_LUT_TC), flipped)):
        factors[part] = (before[0] - after[0]) / cell_area_um2(design, lib)[part]
    return factors


def power_density_mw_per_um2() -> float:
    """Dynamic power per um^2 at full activity, 28 nm, 1 GHz (fitted on the same row)."""
    return TABLE2_LUT_TC[1] / TABLE2_LUT_TC[0]


def array_area_um2(design: LutArrayDesign, lib: TechLibrary) -> dict[str, float]:
    """Synthesised area per part of one array at the library's node."""
    factors = part_factors()
    return {p: a * factors[p] for p, a in cell_area_um2(design, lib).items()}


def array_power_mw(design: LutArrayDesign) -> float:
    """Power of one array at full activity at 28 nm and 1 GHz (area x the fitted density)."""
    return sum(array_area_um2(design, _fit_library()).values()) * power_density_mw_per_um2()


def actions_per_cycle(design: LutArrayDesign, w_bits: int = TABLE2_WEIGHT_BITS) -> dict[str, float]:
    """Actions of each part per cycle of a fully busy array running ``w_bits``-bit weights."""
    units = design.mux_units
    return {
        "table": design.array_m * design.entries / w_bits,
        "mux": units, "negation": units, "sign": units, "accumulator": units,
        "weights": design.g * design.array_n,
        "precompute": design.array_m * table_build_adds_py(design.g, design.symmetric) / w_bits,
        "broadcast": design.array_m * design.entries / w_bits,
    }


def array_energy_pj_per_action(design: LutArrayDesign, lib: TechLibrary) -> dict[str, float]:
    """pJ per action of each part: its share of the array's power per action (module docstring)."""
    fit_areas = array_area_um2(design, _fit_library())
    per_cycle = actions_per_cycle(design)
    scale = lib.factors.energy_factor / _fit_library().factors.energy_factor
    cycle_s = 1.0 / TABLE2_CLOCK_HZ
    return {p: (fit_areas[p] * power_density_mw_per_um2() * 1e-3 * cycle_s * 1e12 / per_cycle[p]) * scale
            if per_cycle[p] > 0 and fit_areas[p] > 0 else 0.0 for p in fit_areas}


def lut_components(spec: LutSpec, lib: TechLibrary) -> tuple[Component, ...]:
    design = spec_design(spec)
    areas, energies = array_area_um2(design, lib), array_energy_pj_per_action(design, lib)
    leak_density = lib.param("logic.leakage_w_per_um2")
    by_name: dict[str, tuple[float, dict[str, float]]] = {}
    for part, (name, action) in ARRAY_PARTS.items():
        if areas[part] <= 0:
            continue
        area, acts = by_name.get(name, (0.0, {}))
        acts = {**acts, action: acts.get(action, 0.0) + energies[part]}
        by_name[name] = (area + areas[part], acts)
    parts = [Component(name, spec.units, area, acts, area * leak_density, "compute")
             for name, (area, acts) in by_name.items()]
    parts += [
        Component("vector", spec.sm_count, 0.0, {"add": lib.energy_pj(VECTOR_ADD, "add"),
                                                 "flop": lib.energy_pj(VECTOR_FMA, "fma") / 2}, 0.0, "compute"),
        Component("smem", spec.sm_count, 0.0, {"access_byte": lib.energy_pj(SMEM_ENTRY, "access")}, 0.0, "sram"),
        Component("hbm", 1, 0.0, {"read_bit": lib.dram_path_pj_per_bit(HBM_PATH),
                                  "write_bit": lib.dram_path_pj_per_bit(HBM_PATH)}, 0.0, "dram"),
        Component("host", 1, spec.host_area_mm2 * 1e6, {}, 0.0, "other"),
    ]
    return tuple(parts)


def ablation_rows(base: LutArrayDesign = TABLE2_DESIGN):
    """(step name, area um^2, power mW) of Table 2's steps computed from design changes at 28 nm."""
    lib = _fit_library()
    return tuple((name, sum(array_area_um2(d, lib).values()), array_power_mw(d))
                 for name, d in ablation_designs(base))


def tc_area_um2(spec: LutSpec, lib: TechLibrary | None = None) -> float:
    """Area of one LUT tensor core of ``spec`` (at ``lib``'s node, default the spec's)."""
    lib = lib or TechLibrary(node_nm=spec.tech_node_nm)
    return sum(array_area_um2(spec_design(spec), lib).values())



def tc_energy_pj_per_cycle(spec: LutSpec, w_bits: int, lib: TechLibrary | None = None) -> float:
    """Energy of one fully busy LUT tensor core per cycle on ``w_bits``-bit weights."""
    lib = lib or TechLibrary(node_nm=spec.tech_node_nm)
    design = spec_design(spec)
    energy, per_cycle = array_energy_pj_per_action(design, lib), actions_per_cycle(design, w_bits)
    return sum(energy[p] * per_cycle[p] for p in energy)


def tc_tops_per_w(spec: LutSpec, w_bits: int, lib: TechLibrary | None = None) -> float:
    """Ops (2 per MAC) per picojoule of one LUT tensor core = TOPS/W."""
    return 2 * spec.tc_macs_per_cycle(w_bits) / tc_energy_pj_per_cycle(spec, w_bits, lib)
