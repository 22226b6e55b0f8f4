"""`xpusim run` end to end: every result file, determinism, and partial failures."""

import csv
import json
from pathlib import Path

from tests.conftest import SMALL_EXPERIMENT

ROOT = Path(__file__).resolve().parents[1]
FILES = ["results.json", "summary.csv", "ops.csv", "timeline.json", "report.md"]


def test_run_writes_every_result_file(cli, write, tmp_path):
    code, out, err = cli("run", write(SMALL_EXPERIMENT), "--out", tmp_path / "out")
    assert code == 0, err
    folder = tmp_path / "out" / "small"
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
    results = json.loads((folder / "results.json").read_text())
    small, big = results["systems"]["small"], results["systems"]["big"]
    # 64x64x64 on a 32x32 os array: 4 folds x (64 + 32 + 32 - 2) - 1 = 503 compute cycles (SCALE-Sim).
    assert small["ops"][0]["compute_cycles"] == 503
    assert big["ops"][0]["compute_cycles"] == 1 * (64 + 64 + 64 - 2) - 1
    for system in (small, big):
        op = system["ops"][0]
        assert op["total_cycles"] == op["compute_cycles"] + op["stall_cycles"]
        assert system["energy_j"] > 0 and system["area_mm2"] > 0
        assert set(system["energy_breakdown_j"]) == {"compute", "sram", "dram", "network", "other", "static"}
    assert results["experiment"]["systems"][1]["resolved_arch"]["rows"] == 64
    rows = list(csv.DictReader((folder / "summary.csv").open()))
    assert [r["system"] for r in rows] == ["small", "big"]
    trace = json.loads((folder / "timeline.json").read_text())
    spans = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert {e["name"] for e in spans} == {"a", "b"}
    assert "## Relative to small" in (folder / "report.md").read_text()


def test_same_file_twice_gives_byte_identical_results(cli, write, tmp_path):
    path = write(SMALL_EXPERIMENT)
    cli("run", path, "--out", tmp_path / "one")
    cli("run", path, "--out", tmp_path / "two")
    for name in FILES:
        assert (tmp_path / "one/small" / name).read_bytes() == (tmp_path / "two/small" / name).read_bytes(), name


def test_a_failing_system_keeps_the_others(cli, write, tmp_path):
    text = SMALL_EXPERIMENT.replace("set: {rows: 64, cols: 64}", "set: {pe_dtype: int8}").replace(
        "ops:\n", "act_bits: 16\n  ops:\n")
    text = text.replace("arch: scalesim-default\n      - name: big", "arch: tpuv4-like\n      - name: big")
    code, out, err = cli("run", write(text), "--out", tmp_path / "out")
    assert code == 1
    assert "system 'big' could not be run" in err and "pe_dtype" in err
    results = json.loads((tmp_path / "out/small/results.json").read_text())
    assert list(results["systems"]) == ["small"]
    assert results["failures"][0]["system"] == "big"


def test_list_shows_kinds_presets_and_models(cli):
    code, out, err = cli("list")
    assert code == 0
    assert "systolic" in out and "tpuv4-like (systolic)" in out and "llama2-7b" in out


def test_quickstart_validates(cli):
    code, out, err = cli("validate", ROOT / "experiments" / "quickstart.yaml")
    assert code == 0, err
