"""Fig. 13's shape from the component sweep (arch/lut/dp_area.py): DP4 units (N = 4, A_FP16) against
weight bits. Published shape (LUT Tensor Core, ISCA'25 §4.2.1): conventional LUT loses to MAC above
2-bit weights, the LUT tensor core stays below MAC up to ~6-bit."""

import pytest

from arch.lut.dp_area import _mux_um2, dp_areas, largest_bits_below_mac, weight_bits_sweep
from arch.tech import TechLibrary

ROWS = weight_bits_sweep(8)


def test_areas_grow_linearly_with_weight_bits():
    lib = TechLibrary(node_nm=28)
    steps = {round(b.lut_tc_um2 - a.lut_tc_um2, 6) for a, b in zip(ROWS, ROWS[1:])}
    assert steps == {round(4 * (_mux_um2(8, lib) + lib.area_um2("add.fp16")), 6)}  # n_out x (MUX + plane add)
    mac_steps = {round(b.mac_um2 - a.mac_um2, 6) for a, b in zip(ROWS, ROWS[1:])}
    assert mac_steps == {round(4 * 4 * lib.area_um2("mult.fp16") / 11, 6)}          # 16 multipliers, W/11 each


def test_lut_tensor_core_is_below_conventional_lut_at_every_width():
    assert all(r.lut_tc_um2 < r.conventional_lut_um2 for r in ROWS)


def test_conventional_lut_loses_to_mac_above_two_bits():
    assert all(r.conventional_lut_um2 > r.mac_um2 for r in ROWS if r.w_bits > 2)


@pytest.mark.xfail(strict=True, reason="the sweep puts the conventional LUT's crossover at 1-2 bits, Fig. 13 at 2-3")
def test_conventional_lut_wins_up_to_two_bits():
    assert largest_bits_below_mac(ROWS, "conventional_lut_um2") == 2


def test_lut_tensor_core_stays_below_mac_up_to_about_six_bits():
    widest = largest_bits_below_mac(ROWS, "lut_tc_um2")
    assert 5 <= widest <= 7 and ROWS[-1].lut_tc_um2 > ROWS[-1].mac_um2
    assert all(r.lut_tc_um2 < r.mac_um2 for r in ROWS if r.w_bits <= widest)


def test_node_scales_every_design_alike():
    at28, at7 = dp_areas(4), dp_areas(4, lib=TechLibrary(node_nm=7))
    ratio = at7.mac_um2 / at28.mac_um2
    assert at7.lut_tc_um2 / at28.lut_tc_um2 == pytest.approx(ratio, rel=1e-9)
