"""The SRAM fit: its points, its monotonicity and its enforced range."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arch.tech import InvalidValueError, SramRangeError, TechLibrary
from arch.tech.loader import load_data
from arch.tech.sram import fit_read_coefficients, reference_fit

LIB = TechLibrary(45)
LOOSE = TechLibrary(45, allow_extrapolation=True)
POINTS = load_data("sram.yaml")["points"]


@pytest.mark.parametrize("point", POINTS, ids=[p["name"] for p in POINTS])
def test_fit_is_within_9_percent_of_every_cited_point(point):
    cost = LIB.sram(point["capacity_bytes"], point["width_bits"], point["banks"])
    assert cost.read_pj == pytest.approx(point["read_pj"], rel=0.09)
    if "write_pj" in point:
        assert cost.write_pj == pytest.approx(point["write_pj"], rel=0.09)
        assert cost.area_um2 == pytest.approx(point["area_um2"], rel=1e-9)
        assert cost.leakage_w == pytest.approx(point["leakage_w"], rel=1e-9)


def test_stored_range_is_the_span_of_the_points():
    r = load_data("sram.yaml")["range"]
    assert r["min_capacity_bytes"] == min(p["capacity_bytes"] for p in POINTS)
    assert r["max_capacity_bytes"] == max(p["capacity_bytes"] for p in POINTS)
    assert r["min_bank_bytes"] == min(p["capacity_bytes"] / p["banks"] for p in POINTS)
    assert r["max_banks"] == max(p["banks"] for p in POINTS)


def test_fit_coefficients_are_positive_and_stable():
    k_bank, k_global = fit_read_coefficients(POINTS)
    assert k_bank > 0 and k_global > 0
    fit = reference_fit()
    assert (fit.read_coeff_bank, fit.read_coeff_global) == (k_bank, k_global)


capacities = st.integers(min_value=8 * 1024, max_value=1024 * 1024)
widths = st.integers(min_value=8, max_value=512)


@given(capacities, capacities, widths)
def test_energy_and_area_grow_with_capacity(c1, c2, width):
    lo, hi = sorted((c1, c2))
    small, big = LIB.sram(lo, width), LIB.sram(hi, width)
    assert small.read_pj <= big.read_pj and small.write_pj <= big.write_pj
    assert small.area_um2 <= big.area_um2 and small.leakage_w <= big.leakage_w


@given(capacities, widths, widths)
def test_energy_grows_with_width(capacity, w1, w2):
    lo, hi = sorted((w1, w2))
    assert LIB.sram(capacity, lo).read_pj <= LIB.sram(capacity, hi).read_pj


@given(st.integers(min_value=0, max_value=5))
def test_more_banks_never_cost_more_energy(log2_banks):
    capacity = 128 * 1024
    one, many = LIB.sram(capacity, 64, 1), LIB.sram(capacity, 64, 2**log2_banks)
    assert many.read_pj <= one.read_pj


@pytest.mark.parametrize(("capacity", "width", "banks", "key"), [
    (4 * 1024, 64, 1, "capacity_bytes"),
    (2 * 1024 * 1024, 64, 1, "capacity_bytes"),
    (64 * 1024, 64, 64, "banks"),
    (64 * 1024, 64, 32, "bank_bytes"),
    (64 * 1024, 1024, 1, "width_bits"),
])
def test_out_of_range_raises_or_warns(capacity, width, banks, key):
    with pytest.raises(SramRangeError, match=rf"{key} = .* not in"):
        LIB.sram(capacity, width, banks)
    cost = LOOSE.sram(capacity, width, banks)
    assert cost.read_pj > 0 and math.isfinite(cost.read_pj)
    assert key in {w.key for w in cost.warnings}
    assert all(w.code == "sram_extrapolated" for w in cost.warnings)


def test_in_range_has_no_warnings_and_exports_plain_data():
    cost = LOOSE.sram(64 * 1024, 64, 4)
    assert cost.warnings == ()
    assert set(cost.to_dict()) == {"read_pj", "write_pj", "area_um2", "leakage_w", "warnings"}


@pytest.mark.parametrize(("capacity", "width", "banks"), [
    (0, 64, 1), (-8192, 64, 1), (65536, 0, 1), (65536, 64.0, 1), (65536, 64, 0),
    (65536, 64, True), (float("nan"), 64, 1), ("64KB", 64, 1)])
def test_bad_geometry_is_an_invalid_value(capacity, width, banks):
    with pytest.raises(InvalidValueError, match="sram"):
        LIB.sram(capacity, width, banks)
