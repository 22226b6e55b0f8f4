"""The DSE scripts under examples/ run, on small settings, and say what their data shows."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

pytest.importorskip("pandas")
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _main(name: str):
    return runpy.run_path(str(EXAMPLES / name), run_name="example")["main"]


def test_pim_vs_gpu_crossover_is_the_first_batch_where_pim_is_as_fast(capsys):
    found = _main("pim_vs_gpu_crossover.py")(["--batches", "16", "64", "128"])
    table = found["table"]
    assert list(table.index) == [16, 64] and found["left_out"] == [128]  # 128 does not fit 32 GiB at 8 bits
    ratios = list(table["pim/gpu"])
    assert ratios == list(table["neupims"] / table["a100"])
    expected = next((b for b, r in zip(table.index, ratios) if r >= 1), None)
    assert found["crossover"] == expected
    out = capsys.readouterr().out
    assert (f"crossover: NeuPIMs reaches the A100 at batch {expected}" if expected else "no crossover") in out


def test_systolic_area_budget_picks_the_fastest_design_within_the_budget(capsys):
    found = _main("systolic_area_budget.py")(["--sizes", "64", "128", "--cores", "1", "4", "--budget-mm2", "40"])
    frame, best = found["frame"], found["best"]
    assert len(frame) == 8
    within = frame[frame["area_mm2"] <= 40]
    assert 0 < len(within) < len(frame)  # the budget rules designs out
    assert best["area_mm2"] <= 40 and best["tokens_per_s"] == within["tokens_per_s"].max()
    assert "best:" in capsys.readouterr().out


def test_lut_weight_bits_the_lut_lead_grows_as_the_weights_narrow(capsys):
    table = _main("lut_weight_bits.py")(["--bits", "1", "2", "4", "--batch", "8"])["table"]
    assert list(table.index) == [1, 2, 4]
    lut, lead = list(table["lut"]), list(table["lut/dequant"])
    assert lut[0] > lut[1] > lut[2]  # fewer weight bits: fewer bit-serial planes and fewer bytes
    assert lead[0] > lead[1] > lead[2] and lead[0] > 1
    assert "tokens/s by weight bits" in capsys.readouterr().out
