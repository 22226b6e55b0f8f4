"""The LUT component table: Table 2's ablation as design changes, counts x table, node scaling."""

import pytest

from arch import registry
from arch.lut.cells import LutArrayDesign, ablation_designs, cell_counts
from arch.lut.energy import (TABLE2_DESIGN, TABLE2_LUT_TC, TABLE2_ROWS, ablation_rows, array_area_um2,
                             synth_area_factor)
from arch.lut.published import ABLATION_GAIN
from arch.tech import TechLibrary


def test_fitted_row_is_reproduced_exactly():
    name, area, power = ablation_rows()[-1]
    assert (area, power) == pytest.approx(TABLE2_LUT_TC, rel=1e-12)
    assert 0.3 < synth_area_factor() < 1.5  # cell count vs synthesis: one factor of order one


def test_each_ablation_step_removes_what_it_names():
    (_, unpu), (_, reinterp), (_, flipped), (_, lut_tc) = ablation_designs(TABLE2_DESIGN)
    a, b = cell_counts(unpu), cell_counts(reinterp)
    assert b["table"]["dff"] * 2 == a["table"]["dff"]                 # 2^K -> 2^(K-1) entries
    assert b["mux"]["mux2"] == a["mux"]["mux2"] * 7 // 15            # 16:1 -> 8:1 MUX per unit
    assert cell_counts(reinterp)["negation"]["xor2"] == 128 * 3 and cell_counts(flipped)["negation"]["xor2"] == 0
    assert cell_counts(flipped)["precompute"]["fa"] > 0 == cell_counts(lut_tc)["precompute"]["fa"]


def test_ablation_areas_and_powers_decrease_step_by_step():
    rows = ablation_rows()
    assert all(x[1] > y[1] and x[2] > y[2] for x, y in zip(rows, rows[1:]))


@pytest.mark.xfail(strict=True, reason="cell-count model fitted on the LUT TC row predicts UNPU 8 % and the "
                   "intermediate steps 5-6 % below Table 2: the published precompute unit (789 um^2) and "
                   "negation circuit (337 um^2) are 3-4x their cell counts; see docs/lut.md")
@pytest.mark.parametrize("index", range(3))
def test_table2_ablation_within_two_percent(index):
    name, area, power = ablation_rows()[index]
    assert (area, power) == pytest.approx(TABLE2_ROWS[index], rel=0.02), name


def test_table2_ablation_within_what_the_model_reaches():
    # the prediction error of the unfitted rows (see the xfail above), kept from growing
    for (name, area, power), published in zip(ablation_rows()[:3], TABLE2_ROWS[:3]):
        assert area == pytest.approx(published[0], rel=0.09), name
        assert power == pytest.approx(published[1], rel=0.09), name
    gain = ablation_rows()[0][1] / ablation_rows()[-1][1]
    assert 1.0 < gain < ABLATION_GAIN


def test_area_scales_with_the_node():
    at28, at7 = (sum(array_area_um2(TABLE2_DESIGN, TechLibrary(node_nm=nm)).values()) for nm in (28, 7))
    assert at7 / at28 == pytest.approx(TechLibrary(node_nm=7).factors.area_factor
                                       / TechLibrary(node_nm=28).factors.area_factor)


def test_larger_array_scale_shares_the_tables():
    one, four = (sum(array_area_um2(LutArrayDesign(array_n=64 * s, entry_bits=10), TechLibrary(node_nm=28)).values())
                 for s in (1, 4))
    assert 3.5 * one < four < 4 * one


def test_energy_is_counts_times_table_and_zero_for_nothing():
    accel = registry.build(registry.preset_spec("a100-lut-4x"))
    op = type(accel).conformance_ops()[0]
    counts = accel.op_cost(op).action_counts
    table = accel.component_table()
    expected = sum(n * table[key.rpartition(".")[0]].energy_pj_per_action[key.rpartition(".")[2]]
                   for key, n in counts.items())
    assert accel.energy(counts).total_pj == pytest.approx(expected) and expected > 0
    assert accel.energy({k: 0 for k in counts}).total_pj == 0
    assert set(accel.area_mm2()) >= {"lut_table", "lut_mux", "lut_accumulator", "lut_weights"}
