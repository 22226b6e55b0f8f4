"""The 45 nm table reproduces its cited sources (REFERENCE_DATA.md, "Energy per action")."""

import pytest

from arch.tech import TechLibrary


@pytest.fixture(scope="module")
def lib():
    return TechLibrary(node_nm=45)


# REFERENCE_DATA.md row "45 nm logic (0.9 V)" -- Horowitz, ISSCC 2014.
HOROWITZ_ENERGY_PJ = {
    ("add.int8", "add"): 0.03, ("add.int32", "add"): 0.1,
    ("mult.int8", "mult"): 0.2, ("mult.int32", "mult"): 3.1,
    ("add.fp16", "add"): 0.4, ("mult.fp16", "mult"): 1.1,
    ("add.fp32", "add"): 0.9, ("mult.fp32", "mult"): 3.7,
}

# REFERENCE_DATA.md row "45 nm area" -- Horowitz, ISSCC 2014.
HOROWITZ_AREA_UM2 = {
    "add.int8": 36, "mult.int8": 282, "add.fp16": 1360, "mult.fp16": 1640,
    "add.fp32": 4184, "mult.fp32": 7700,
}


@pytest.mark.parametrize(("component", "action"), HOROWITZ_ENERGY_PJ)
def test_horowitz_45nm_logic_energy_row(lib, component, action):
    assert lib.energy_pj(component, action) == HOROWITZ_ENERGY_PJ[(component, action)]


@pytest.mark.parametrize("component", HOROWITZ_AREA_UM2)
def test_horowitz_45nm_area_row(lib, component):
    assert lib.area_um2(component) == HOROWITZ_AREA_UM2[component]


def test_horowitz_45nm_memory_row_8kb_sram_read_is_about_10pj(lib):
    assert lib.sram(8 * 1024, 64).read_pj == pytest.approx(10.0, rel=0.10)


def test_accelergy_reference_register_read_is_0_144pj(lib):
    # REFERENCE_DATA.md row "Accelergy 45 nm reference": register read 0.144 pJ.
    assert lib.energy_pj("register", "read") == 0.144


def test_accelergy_reference_lpddr4_is_512pj_per_64bit_access(lib):
    assert lib.energy_pj("dram.lpddr4", "read") == 512
    assert lib.energy_pj("dram.lpddr4", "write") == 512


def test_accelergy_reference_magnitudes_within_10_percent(lib):
    # Accelergy's "16-bit MAC" is intmac(multiplier_width 8, adder_width 16):
    # 0.315 pJ; the library's mac.int8 (8-bit multiply, int32 accumulate) is 0.3.
    assert lib.energy_pj("mac.int8", "mac") == pytest.approx(0.315, rel=0.10)
    glb = lib.sram(131072, 64, banks=32)  # 16384 x 64 bits = 1 Mbit, 32 banks
    assert glb.read_pj == pytest.approx(32.4, rel=0.10)
    assert glb.write_pj == pytest.approx(26.2, rel=0.10)
    assert glb.area_um2 == pytest.approx(429751.88, rel=0.10)


def test_accelergy_reference_mac_area_matches_mult_plus_add(lib):
    # Accelergy stats.txt: 106,752 um^2 for 256 MACs = 417 um^2 each.
    assert lib.area_um2("mac.int8") == pytest.approx(106752 / 256, rel=0.01)


def test_accelergy_reference_ordering(lib):
    register = lib.energy_pj("register", "read")
    mac = lib.energy_pj("mac.int8", "mac")
    buffer = lib.sram(131072, 64, banks=32).read_pj
    dram = lib.energy_pj("dram.lpddr4", "read")
    assert register < mac < buffer < dram


@pytest.mark.parametrize(("path", "pj_per_bit"), [
    ("bank_pim", 0.55), ("bankgroup_pim", 1.56), ("buffer_die_pim", 3.29), ("host", 3.59)])
def test_fgdram_path_sums(lib, path, pj_per_bit):
    # REFERENCE_DATA.md row "HBM data path" (FGDRAM via AttAcc's src/config.py).
    assert lib.dram_path_pj_per_bit(path) == pytest.approx(pj_per_bit, abs=1e-12)


def test_fgdram_segments(lib):
    segments = {"hbm.act_pre": 0.11, "hbm.cell": 0.44, "hbm.coldec_to_bgmux": 1.01,
                "hbm.bgmux_to_gio": 1.23, "hbm.tsv": 0.5, "hbm.interposer": 0.3}
    assert {s: lib.energy_pj(s, "transfer") for s in segments} == segments


def test_gpu_on_chip_and_nvlink_rows(lib):
    # REFERENCE_DATA.md row "GPU on-chip" (AttAcc's src/config.py).
    assert lib.energy_pj("gpu.register", "access") == 0.0675
    assert lib.energy_pj("gpu.l1", "access") == 1.28
    assert lib.energy_pj("gpu.l2", "access") == 2.4
    assert lib.energy_pj("link.nvlink", "transfer") == 1.3


def test_zigzag_tpu_like_dram_row(lib):
    assert lib.energy_pj("dram.zigzag", "read") == 700
    assert lib.energy_pj("dram.zigzag", "write") == 750


def test_hbm2_refresh_and_background_follow_dramsim3_equations(lib):
    vdd, idd2n, idd3n, idd5ab, trfc_ns = 1.2, 40, 55, 250, 260  # NeuPIMs HBM2 ini
    refresh_pj = vdd * (idd5ab - idd3n) * trfc_ns  # V x mA x ns = pJ
    assert lib.energy_pj("hbm.channel", "refresh") == pytest.approx(refresh_pj)
    assert lib.leakage_w("hbm.channel") == pytest.approx(vdd * idd2n * 1e-3)


def test_derived_arithmetic_follows_its_stated_rules(lib):
    e = lib.energy_pj
    assert e("mult.int4", "mult") == pytest.approx(e("mult.int8", "mult") * (4 / 8) ** 2)
    assert e("add.int4", "add") == pytest.approx(e("add.int8", "add") * 4 / 8)
    assert e("mult.bf16", "mult") == pytest.approx(e("mult.fp16", "mult") * (8 / 11) ** 2)
    assert e("mult.fp8", "mult") == pytest.approx(e("mult.fp16", "mult") * (4 / 11) ** 2)
    assert e("mac.fp16", "mac") == pytest.approx(e("mult.fp16", "mult") + e("add.fp32", "add"))
    assert e("mac.int4", "mac") == pytest.approx(e("mult.int4", "mult") + e("add.int32", "add"))
    assert e("fma.bf16", "fma") == pytest.approx(e("mult.bf16", "mult") + e("add.bf16", "add"))
    assert lib.area_um2("mac.fp32") == pytest.approx(7700 + 4184)


def test_lut_units_and_hops(lib):
    assert lib.energy_pj("lut.entry_read") == lib.energy_pj("register", "read")
    assert lib.energy_pj("lut.shift_acc") == lib.energy_pj("add.int32", "add")
    router, wire = lib.energy_pj("noc.router"), lib.energy_pj("noc.wire_mm")
    for hop in ("noc.hop", "mesh.hop"):
        length_mm = lib.param(f"{hop}.length_mm")
        assert lib.energy_pj(hop) == pytest.approx(router + wire * length_mm)


def test_logic_leakage_is_area_times_density(lib):
    density = lib.param("logic.leakage_w_per_um2")
    assert lib.leakage_w("mult.fp16") == pytest.approx(1640 * density)
    # Accelergy: MAC leakage 0.0036 pJ per 1 ns cycle = 3.6 uW.
    assert lib.leakage_w("mac.int8") == pytest.approx(3.6e-6, rel=0.01)


def test_component_energy_is_dynamic_plus_leakage_times_time(lib):
    counts = {"read": 10, "write": 4}
    seconds = 1e-6
    expected = 14 * 0.144 + lib.leakage_w("register") * 3 * seconds * 1e12
    got = lib.component_energy_pj("register", counts, seconds, instances=3)
    assert got == pytest.approx(expected)


def test_every_component_has_a_source_and_non_negative_values(lib):
    for name in lib.components():
        comp = lib.component(name)
        assert comp.source.strip(), name
        assert comp.per.strip(), name
        assert comp.area_um2 >= 0 and comp.leakage_w >= 0, name
        assert all(e >= 0 for e in comp.actions_pj.values()), name
