"""The LUT component table: Table 2's ablation as design changes, counts x table, node scaling."""

import pytest

from arch import registry
from arch.lut.cells import LutArrayDesign, ablation_designs, buffer_tree_cells, cell_counts
from arch.lut.energy import (TABLE2_DESIGN, TABLE2_LUT_TC, TABLE2_ROWS, ablation_rows, array_area_um2,
                             part_factors, synth_area_factor)
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


def test_fitted_steps_are_reproduced_exactly():
    # the negation circuit and the in-array precompute have their own factor, each fitted on the
    # Table 2 step that removes only that part (arch/lut/energy.py)
    for (name, area, _), published in zip(ablation_rows()[1:3], TABLE2_ROWS[1:3]):
        assert area == pytest.approx(published[0], rel=1e-12), name
    factors = part_factors()
    assert factors["negation"] > factors["mux"] and factors["precompute"] > factors["mux"]


def test_table2_ablation_within_two_percent():
    # [LTC] Table 2: the UNPU row, every row's power and the 1.44x gain are not fitted
    rows = ablation_rows()
    assert rows[0][1] == pytest.approx(TABLE2_ROWS[0][0], rel=0.02), "UNPU area"
    for (name, _, power), published in zip(rows[:3], TABLE2_ROWS[:3]):
        assert power == pytest.approx(published[1], rel=0.02), name
    assert rows[0][1] / rows[-1][1] == pytest.approx(ABLATION_GAIN, rel=0.02)


def test_broadcast_buffers_follow_the_fanout_rule():
    assert [buffer_tree_cells(n) for n in (1, 4, 5, 16, 64, 256)] == [0, 0, 2, 4 + 0, 16 + 4, 64 + 16 + 4]
    (_, unpu), (_, reinterp), _, _ = ablation_designs(TABLE2_DESIGN)
    # symmetrisation halves the entries each of the 64 columns' buffer trees drives
    entries = lambda d: d.array_m * d.entries * d.entry_bits * buffer_tree_cells(d.array_n)  # noqa: E731
    assert entries(unpu) == 2 * entries(reinterp) == 2 * 2 * 8 * 10 * 20
    assert cell_counts(unpu)["broadcast"]["buf"] > cell_counts(reinterp)["broadcast"]["buf"]


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
