"""`xpusim run` end to end: every result file, determinism, and partial failures."""

import csv
import json
from pathlib import Path

import pytest

from tests.conftest import SMALL_EXPERIMENT

ROOT = Path(__file__).resolve().parents[1]
FILES = ["results.json", "summary.csv", "ops.csv", "timeline.json", "report.md", "report.html",
         "figures/time.png", "figures/energy.png", "figures/area.png", "figures/roofline.png",
         "figures/timeline.png"]


def test_run_writes_every_result_file(cli, write, tmp_path):
    code, out, err = cli("run", write(SMALL_EXPERIMENT), "--out", tmp_path / "out")
    assert code == 0, err
    folder = tmp_path / "out" / "small"
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == sorted(FILES)
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
    text = SMALL_EXPERIMENT.replace("act_bits: 8", "act_bits: 16")
    text = text.replace("arch: scalesim-default\n  - name: big", "arch: tpuv4-like\n  - name: big")
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
    assert "neupims (neupims)" in out and "a100-80gb (gpu)" in out and "duplex (duplex)" in out
    assert "hbm2-neupims" in out and "samsung-hbm-pim" in out  # DRAM devices and PIM memories


def test_quickstart_validates(cli):
    code, out, err = cli("validate", ROOT / "experiments" / "quickstart.yaml")
    assert code == 0, err


def test_sweep_runs_every_point_in_grid_order(cli, write, tmp_path):
    text = SMALL_EXPERIMENT + "sweep:\n  grid: {systems.big.arch.rows: [8, 16], workload.batch: [1, 2]}\n"
    code, out, err = cli("sweep", write(text), "--out", tmp_path / "out", "--workers", "1")
    assert code == 0, err
    rows = list(csv.DictReader((tmp_path / "out/small/sweep.csv").open()))
    assert [(r["point"], r["systems.big.arch.rows"], r["workload.batch"], r["system"]) for r in rows] == [
        ("0", "8", "1", "small"), ("0", "8", "1", "big"), ("1", "8", "2", "small"), ("1", "8", "2", "big"),
        ("2", "16", "1", "small"), ("2", "16", "1", "big"), ("3", "16", "2", "small"), ("3", "16", "2", "big")]
    # Fewer rows on the same 64-column array means more row folds: never faster.
    big = {r["systems.big.arch.rows"]: int(r["cycles"]) for r in rows if r["system"] == "big"}
    assert big["8"] >= big["16"]


def test_sweep_with_two_workers_equals_one_worker(cli, write, tmp_path):
    text = SMALL_EXPERIMENT + "sweep:\n  grid: {systems.big.arch.cols: [8, 16, 32]}\n"
    path = write(text)
    cli("sweep", path, "--out", tmp_path / "one", "--workers", "1")
    cli("sweep", path, "--out", tmp_path / "two", "--workers", "2")
    assert (tmp_path / "one/small/sweep.csv").read_bytes() == (tmp_path / "two/small/sweep.csv").read_bytes()


def test_sweep_bad_key_suggests_the_system(cli, write, tmp_path):
    text = SMALL_EXPERIMENT + "sweep:\n  grid: {systems.bgi.arch.rows: [8]}\n"
    code, out, err = cli("sweep", write(text), "--out", tmp_path / "out")
    assert code == 2 and "did you mean 'big'?" in err


def test_tech_override_changes_energy_and_shows_in_results(cli, write, tmp_path):
    cli("run", write(SMALL_EXPERIMENT, "a.yaml"), "--out", tmp_path / "base")
    text = SMALL_EXPERIMENT + "tech:\n  overrides: {mac.int8.mac_pj: 3.0}\n"
    code, out, err = cli("run", write(text, "b.yaml"), "--out", tmp_path / "over")
    assert code == 0, err
    base = json.loads((tmp_path / "base/small/results.json").read_text())
    over = json.loads((tmp_path / "over/small/results.json").read_text())
    assert over["experiment"]["tech"]["overrides"] == {"mac.int8.mac_pj": 3.0}
    pe_base = base["systems"]["small"]["energy_by_component_j"]["pe"]
    pe_over = over["systems"]["small"]["energy_by_component_j"]["pe"]
    macs = base["systems"]["small"]["macs"]
    assert pe_over == pytest.approx(macs * 3.0e-12)
    assert pe_over > pe_base


def test_sram_outside_the_fit_is_a_clear_error_naming_the_field(cli, write, tmp_path):
    text = SMALL_EXPERIMENT.replace("set: {rows: 64, cols: 64}", "set: {ifmap_sram_bytes: 2048}")
    code, out, err = cli("run", write(text), "--out", tmp_path / "out")
    assert code == 1 and "ifmap_sram_bytes = 2048" in err and "allow_extrapolation" in err


def test_sram_extrapolation_is_recorded_in_the_results(cli, write, tmp_path):
    text = SMALL_EXPERIMENT.replace("set: {rows: 64, cols: 64}", "set: {ifmap_sram_bytes: 2048}")
    text += "tech:\n  allow_extrapolation: true\n"
    code, out, err = cli("run", write(text), "--out", tmp_path / "out")
    assert code == 0, err
    results = json.loads((tmp_path / "out/small/results.json").read_text())
    warnings = results["systems"]["big"]["warnings"]
    assert any(w.startswith("ifmap_sram:") for w in warnings)
    assert not results["systems"]["small"]["warnings"]
    assert "## Warnings" in (tmp_path / "out/small/report.md").read_text()
    assert "warning: big: ifmap_sram:" in err


def test_each_op_reports_utilisation_and_sram_accesses_per_operand(cli, write, tmp_path):
    cli("run", write(SMALL_EXPERIMENT), "--out", tmp_path)
    op = json.loads((tmp_path / "small" / "results.json").read_text())["systems"]["small"]["ops"][0]
    # 64x64x64 on the 32x32 array: 262,144 MACs over the op's cycles on one 1,024-PE core.
    assert op["utilisation"] == pytest.approx(op["macs"] / (op["total_cycles"] * 32 * 32))
    assert 0 < op["utilisation"] <= 1
    assert op["actions"]["pe.mac"] == op["macs"] == 64 * 64 * 64
    assert {"ifmap_sram.read", "filter_sram.read", "ofmap_sram.write"} <= set(op["actions"])
    rows = list(csv.DictReader((tmp_path / "small" / "ops.csv").open()))
    assert float(rows[0]["utilisation"]) == pytest.approx(op["utilisation"])


SIZES = ("rows: 32, cols: 32, ifmap_sram_bytes: 65536, filter_sram_bytes: 65536, ofmap_sram_bytes: 65536, "
         "dram_bandwidth_bytes_per_s: 1.0e10")


def test_an_inline_design_is_told_which_defaults_the_presets_set_otherwise():
    from simulator.experiment import parse_text
    from simulator.run import run_experiment
    text = ("name: inl\nworkload: {act_bits: 8, weight_bits: 8, ops: [{name: g, M: 8, N: 256, K: 256}]}\nsystems:\n"
            f"  - {{name: mine, arch: {{kind: systolic, {SIZES}}}}}\n"
            f"  - {{name: set, arch: {{kind: systolic, fold_timing: scalesim, {SIZES}}}}}\n"
            "  - {name: preset, arch: scalesim-default}\n")
    result = run_experiment(parse_text(text))
    noted = {s.name: any("fold_timing is left at its default" in w for w in s.warnings) for s in result.systems}
    assert noted == {"mine": True, "set": False, "preset": False}


def test_more_workers_than_cpus_are_lowered_to_the_cpus_with_a_note(cli, write, tmp_path, monkeypatch):
    import simulator.cli
    import simulator.cli_commands

    seen = []
    real = simulator.cli_commands.run_sweep
    monkeypatch.setattr(simulator.cli_commands, "run_sweep", lambda *a, **k: seen.append(a[2]) or real(*a, **k))
    monkeypatch.setattr(simulator.cli, "usable_cpus", lambda: 1)
    text = SMALL_EXPERIMENT + "sweep:\n  grid: {systems.big.arch.cols: [8, 16]}\n"
    code, out, err = cli("sweep", write(text), "--out", tmp_path / "out", "--workers", "100000")
    assert code == 0, err
    assert seen == [1] and "--workers 100000: this machine has 1 usable CPUs; using 1" in err


@pytest.mark.parametrize("command", ["run", "sweep", "reproduce"])
def test_an_empty_out_path_is_refused(command, cli, write, capsys):
    args = [command] + ([] if command == "reproduce" else [str(write(SMALL_EXPERIMENT))]) + ["--out", ""]
    with pytest.raises(SystemExit) as stop:
        cli(*args)
    assert stop.value.code == 2 and "--out: expected a path, got an empty string" in capsys.readouterr().err
