"""Energy and area of the systolic presets, traced to the technology library.

For every systolic preset: moving the spec from 45 nm to 7 nm lowers the dynamic
energy of a fixed op and the total area (the direction arch/tech/nodes.yaml
documents: energy factor 0.12371 and area factor 0.059 at 7 nm), leaves the DRAM
energy per bit unchanged (a `scaling: fixed` component), energy equals counts x
the component table, and zero work costs zero dynamic energy. One small GEMM on
scalesim-default is costed by hand from the library's cited values.
"""

import math

import pytest

from arch import registry
from arch.sram_macro import SRAM_ACCESS_BITS
from arch.tech import TechLibrary
from arch.tech.sram import reference_fit
from workloads.op import Op, OpKind

SYSTOLIC = [name for name in registry.presets() if registry.preset_spec(name)["kind"] == "systolic"]


def at_node(preset: str, node_nm: int):
    """The preset's model with its spec moved to ``node_nm``."""
    accel = registry.build(registry.preset_spec(preset))
    return type(accel)(accel.spec.model_copy(update={"tech_node_nm": node_nm}))


def fixed_op(accel) -> Op:
    """A 256x512x384 GEMM with operands as wide as the preset's PE datatype."""
    bits = accel.spec.pe_bits
    return Op("fixed", OpKind.GEMM, 256, 512, 384, a_bits=bits, b_bits=bits, out_bits=bits)


def op_energy_pj(accel, op: Op) -> float:
    return accel.energy(accel.op_cost(op).action_counts).total_pj


def test_there_are_systolic_presets():
    assert len(SYSTOLIC) >= 5


@pytest.mark.parametrize("preset", SYSTOLIC)
def test_seven_nm_lowers_energy_of_a_fixed_op(preset):
    old, new = at_node(preset, 45), at_node(preset, 7)
    op = fixed_op(old)
    assert old.op_cost(op).action_counts == new.op_cost(op).action_counts  # same work
    assert op_energy_pj(new, op) < op_energy_pj(old, op)
    # Every logic-scaled component is cheaper per action; DRAM costs the same.
    before = old.energy(old.op_cost(op).action_counts).by_component_pj
    after = new.energy(new.op_cost(op).action_counts).by_component_pj
    for name, energy in before.items():
        if old.category_of(name) == "dram":
            assert after[name] == pytest.approx(energy, rel=1e-12)
        else:
            assert after[name] < energy, name


@pytest.mark.parametrize("preset", SYSTOLIC)
def test_seven_nm_lowers_area_and_leakage(preset):
    old, new = at_node(preset, 45), at_node(preset, 7)
    assert 0 < sum(new.area_mm2().values()) < sum(old.area_mm2().values())
    for name, area in old.area_mm2().items():
        assert new.area_mm2()[name] <= area, name
    assert new.leakage_w() < old.leakage_w()


@pytest.mark.parametrize("preset", SYSTOLIC)
def test_dram_energy_per_bit_does_not_depend_on_the_node(preset):
    tables = [at_node(preset, node).component_table()["dram"].energy_pj_per_action for node in (45, 28, 16, 7, 5)]
    assert all(table == tables[0] for table in tables)
    # FGDRAM host path (arch/tech/components.yaml hbm.*): ACT/PRE 0.11 + cell 0.44 +
    # column decoder to bank-group mux 1.01 + to global I/O 1.23 + TSV 0.5 + interposer 0.3.
    assert tables[0]["read_bit"] == pytest.approx(0.11 + 0.44 + 1.01 + 1.23 + 0.5 + 0.3, rel=1e-12)
    assert tables[0]["write_bit"] == tables[0]["read_bit"]


@pytest.mark.parametrize("node", [45, 7])
@pytest.mark.parametrize("preset", SYSTOLIC)
def test_energy_is_counts_times_table_at_each_node(preset, node):
    accel = at_node(preset, node)
    counts = accel.op_cost(fixed_op(accel)).action_counts
    table = accel.component_table()
    by_component: dict[str, float] = {}
    for key, count in counts.items():
        name, _, action = key.rpartition(".")
        by_component[name] = by_component.get(name, 0.0) + count * table[name].energy_pj_per_action[action]
    energy = accel.energy(counts)
    assert energy.by_component_pj.keys() == by_component.keys()
    for name, value in by_component.items():
        assert energy.by_component_pj[name] == pytest.approx(value, rel=1e-12)
    assert energy.total_pj == pytest.approx(sum(by_component.values()), rel=1e-12)


@pytest.mark.parametrize("preset", SYSTOLIC)
def test_zero_work_costs_zero_dynamic_energy(preset):
    for node in (45, 7):
        accel = at_node(preset, node)
        assert accel.energy({}).total_pj == 0
        every_action = {f"{c.name}.{a}": 0 for c in accel.components() for a in c.energy_pj_per_action}
        assert accel.energy(every_action).total_pj == 0


def test_hand_computed_gemm_on_scalesim_default():
    """A 32x32x32 int8 GEMM on scalesim-default (32x32 OS array, 64 KiB scratchpads, 45 nm)."""
    accel = registry.build(registry.preset_spec("scalesim-default"))
    op = Op("g", OpKind.GEMM, 32, 32, 32, a_bits=8, b_bits=8, out_bits=8)
    counts = accel.op_cost(op).action_counts
    # SCALE-Sim 3.0.0 counts (arch.systolic.kernel, checked against the golden table
    # elsewhere): every MAC once; SRAM word accesses; operands once from DRAM.
    assert counts == {"pe.mac": 32 ** 3, "ifmap_sram.read": 1024, "filter_sram.read": 1024,
                      "ofmap_sram.write": 1088, "dram.read_bit": 8 * 2048, "dram.write_bit": 8 * 1024}

    # pe.mac = mac.int8 = Horowitz ISSCC 2014 8-bit multiply 0.2 pJ + 32-bit add 0.1 pJ.
    mac_pj = 0.2 + 0.1
    # Scratchpads: one 64 KiB macro in 2 banks of 32 KiB (arch/systolic/energy.py),
    # read at 64 bits by the SRAM fit (arch/tech/sram.yaml, fitted to Horowitz 8 KB /
    # 32 KB / 1 MB and Accelergy's 128 KiB global buffer): the fitted coefficients
    # are about 3.06e-4 and 1.34e-3 pJ per bit per sqrt(byte); one 8-bit word pays 8/64.
    fit = reference_fit()
    assert fit.read_coeff_bank == pytest.approx(3.0643e-4, rel=1e-4)
    assert fit.read_coeff_global == pytest.approx(1.3417e-3, rel=1e-4)
    read64 = SRAM_ACCESS_BITS * (fit.read_coeff_bank * math.sqrt(32768) + fit.read_coeff_global * math.sqrt(65536))
    read_word_pj = read64 * 8 / 64
    assert read_word_pj == pytest.approx(3.19151, rel=1e-5)
    # Write / read = Accelergy shared_glb 26.121552 / 32.342452 pJ.
    write_word_pj = read_word_pj * 26.121552 / 32.342452
    assert write_word_pj == pytest.approx(2.57764, rel=1e-5)
    dram_bit_pj = 3.59  # FGDRAM host path, see test_dram_energy_per_bit_does_not_depend_on_the_node

    table = accel.component_table()
    assert table["pe"].energy_pj_per_action["mac"] == pytest.approx(mac_pj, rel=1e-12)
    assert table["ifmap_sram"].energy_pj_per_action["read"] == pytest.approx(read_word_pj, rel=1e-9)
    assert table["filter_sram"].energy_pj_per_action["read"] == pytest.approx(read_word_pj, rel=1e-9)
    assert table["ofmap_sram"].energy_pj_per_action["write"] == pytest.approx(write_word_pj, rel=1e-9)
    assert table["dram"].energy_pj_per_action["read_bit"] == pytest.approx(dram_bit_pj, rel=1e-12)

    expected = {
        "pe": 32768 * mac_pj,                      # 9830.4 pJ
        "ifmap_sram": 1024 * read_word_pj,         # ~3268.1 pJ
        "filter_sram": 1024 * read_word_pj,        # ~3268.1 pJ
        "ofmap_sram": 1088 * write_word_pj,        # ~2804.5 pJ
        "dram": (16384 + 8192) * dram_bit_pj,      # 88227.84 pJ
    }
    energy = accel.energy(counts)
    for name, value in expected.items():
        assert energy.by_component_pj[name] == pytest.approx(value, rel=1e-9), name
    assert energy.total_pj == pytest.approx(107398.9, rel=1e-5)

    # Area: 1024 PEs x (282 + 137) um^2 (mac.int8 = mult.int8 + add.int32 areas in
    # arch/tech/components.yaml) and 3 x 64 KiB x 8 bits x the Accelergy global
    # buffer's 429,751.88 um^2 / 1 Mbit.
    area = accel.area_mm2()
    assert area["pe"] == pytest.approx(1024 * 419 * 1e-6, rel=1e-12)
    per_bit = 429751.88 / (131072 * 8)
    for name in ("ifmap_sram", "filter_sram", "ofmap_sram"):
        assert area[name] == pytest.approx(65536 * 8 * per_bit * 1e-6, rel=1e-6)
    assert area["dram"] == 0  # the DRAM dies are not part of the NPU's area


def test_seven_nm_values_are_the_documented_factors():
    """The 45 -> 7 nm ratio of each logic component is the node's factor (arch/tech/nodes.yaml)."""
    factors = TechLibrary(node_nm=7).factors
    old, new = at_node("scalesim-default", 45), at_node("scalesim-default", 7)
    old_t, new_t = old.component_table(), new.component_table()
    assert new_t["pe"].energy_pj_per_action["mac"] == pytest.approx(
        old_t["pe"].energy_pj_per_action["mac"] * factors.energy_factor, rel=1e-9)
    assert new_t["pe"].area_um2_each == pytest.approx(old_t["pe"].area_um2_each * factors.area_factor, rel=1e-9)
    assert new_t["ifmap_sram"].energy_pj_per_action["read"] == pytest.approx(
        old_t["ifmap_sram"].energy_pj_per_action["read"] * factors.energy_factor, rel=1e-9)
    assert new_t["ifmap_sram"].area_um2_each == pytest.approx(
        old_t["ifmap_sram"].area_um2_each * factors.area_factor, rel=1e-9)
