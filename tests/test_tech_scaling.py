"""Technology nodes: explicit factors, their provenance and the direction of scaling."""

import pytest

from arch.tech import InvalidValueError, TechLibrary, UnknownNodeError, supported_nodes_nm
from arch.tech.loader import load_data
from arch.tech.scaling import derive_node_factors, stillmaker_energy

NODES = (45, 28, 16, 7, 5)
LOGIC = ("mult.fp16", "add.int8", "mac.bf16", "fma.fp32", "register", "lut.shift_acc")
FIXED = ("hbm.cell", "dram.lpddr4", "link.nvlink", "gpu.l2", "noc.wire_mm")


def test_supported_nodes():
    assert supported_nodes_nm() == NODES


def test_explicit_factors_match_their_published_derivation():
    stored = load_data("nodes.yaml")["nodes"]
    derived = derive_node_factors()
    for node in NODES:
        for name, value in derived[node].items():
            assert stored[node][name] == pytest.approx(value, rel=1e-4), (node, name)


def test_stillmaker_hp32_matches_the_authors_corrigendum():
    # Corrigendum: EnergyFactor = 0.8367 (0.9)^2 - 0.4341 (0.9) + 0.1701 = 0.4571.
    assert stillmaker_energy((0.8367, -0.4341, 0.1701), 0.9) == pytest.approx(0.4571, abs=1e-4)


def test_reference_node_is_unscaled():
    f = TechLibrary(45).factors
    assert (f.energy_factor, f.area_factor, f.leakage_factor) == (1.0, 1.0, 1.0)


def test_smaller_nodes_lower_logic_energy_area_and_leakage():
    libs = [TechLibrary(n) for n in NODES]
    for name in LOGIC:
        energies = [sum(lib.component(name).actions_pj.values()) for lib in libs]
        areas = [lib.area_um2(name) for lib in libs]
        leaks = [lib.leakage_w(name) for lib in libs]
        for series in (energies, areas, leaks):
            assert series == sorted(series, reverse=True) and series[0] > series[-1], name


def test_seven_nm_values_are_the_45nm_values_times_the_factors():
    ref, lib = TechLibrary(45), TechLibrary(7)
    assert lib.energy_pj("mult.fp16", "mult") == pytest.approx(1.1 * 0.12371)
    assert lib.area_um2("mult.fp16") == pytest.approx(1640 * 0.059)
    assert lib.leakage_w("mult.fp16") == pytest.approx(ref.leakage_w("mult.fp16") * 0.12371)


def test_dram_links_and_wires_do_not_scale_with_the_logic_node():
    ref = TechLibrary(45)
    for node in NODES[1:]:
        lib = TechLibrary(node)
        for name in FIXED:
            assert lib.component(name).actions_pj == ref.component(name).actions_pj
        for path in lib.dram_paths():
            assert lib.dram_path_pj_per_bit(path) == ref.dram_path_pj_per_bit(path)


def test_sram_scales_with_the_node():
    big, small = TechLibrary(45).sram(65536, 64, 4), TechLibrary(7).sram(65536, 64, 4)
    assert small.read_pj == pytest.approx(big.read_pj * 0.12371)
    assert small.area_um2 == pytest.approx(big.area_um2 * 0.059)


@pytest.mark.parametrize("node", [6, 10, 3, 180])
def test_unknown_node_names_the_supported_ones(node):
    expected = rf"unknown technology node {node} nm.*45, 28, 16, 7, 5"
    with pytest.raises(UnknownNodeError, match=expected):
        TechLibrary(node)


@pytest.mark.parametrize("node", [7.0, "7", True, None])
def test_node_must_be_an_integer(node):
    with pytest.raises(InvalidValueError, match="node_nm"):
        TechLibrary(node)
