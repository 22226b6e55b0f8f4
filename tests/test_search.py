"""Design search: seeded and executor-independent, constraints honoured, resumable after a kill."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator import api as xs
from simulator.errors import InputError
from tests.conftest import SMALL_EXPERIMENT
from workloads.yamlio import load_yaml

optuna = pytest.importorskip("optuna")

ROOT = Path(__file__).resolve().parents[1]
SEARCH = """\
search:
  system: big
  parameters:
    systems.big.arch.rows: [8, 16, 32, 64]
    systems.big.arch.cols: [8, 16, 32, 64]
    systems.big.arch.cores: {low: 1, high: 4}
  objectives: [seconds]
  constraints: [{metric: area_mm2, max: AREA}]
  trials: 24
  batch_size: 4
"""


def _raw(area_mm2: float = 1.0, **changes) -> dict:
    raw = load_yaml(SMALL_EXPERIMENT + SEARCH.replace("AREA", str(area_mm2)))
    raw["search"].update(changes)
    return raw


def _area_bound() -> float:
    """An area bound between the smallest and the largest design (the 64x64, 4-core array's area / 3)."""
    big = xs.run(xs.load(_raw()).with_values({"systems.big.arch.rows": 64, "systems.big.arch.cols": 64,
                                             "systems.big.arch.cores": 4}).with_systems("big"))
    return big.system("big").area_mm2 / 3


def test_reruns_and_worker_counts_give_identical_files(tmp_path):
    raw = _raw(_area_bound())
    xs.search(raw, out=tmp_path / "one", workers=1)
    xs.search(raw, out=tmp_path / "two", workers=2)
    for name in ("trials.csv", "trials.json", "pareto.csv", "report.md", "figures/convergence.png"):
        assert (tmp_path / "one/small" / name).read_bytes() == (tmp_path / "two/small" / name).read_bytes(), name


def test_feasible_designs_meet_the_constraint_and_the_best_is_the_fastest_of_them(tmp_path):
    bound = _area_bound()
    result = xs.search(_raw(bound))
    feasible = result.feasible
    assert feasible and len(feasible) < len(result.rows)  # the bound cuts the space
    assert all(row["area_mm2"] <= bound for row in feasible)
    assert all(row["area_mm2"] > bound and row["violation"] > 0 for row in result.rows if not row["feasible"])
    assert result.best["seconds"] == min(row["seconds"] for row in feasible)
    assert result.front == [result.best]


def test_two_objectives_give_a_front_that_no_feasible_design_beats(tmp_path):
    result = xs.search(_raw(10.0, objectives=["seconds", "area_mm2"], trials=32))
    assert result.spec.resolved_sampler == "nsga2"
    front = [(r["seconds"], r["area_mm2"]) for r in result.front]
    for s, a in ((r["seconds"], r["area_mm2"]) for r in result.feasible):
        assert any(fs <= s and fa <= a for fs, fa in front)  # every design is matched or beaten by the front
    for i, (s, a) in enumerate(front):
        assert not any(fs <= s and fa <= a and (fs, fa) != (s, a) for fs, fa in front[:i] + front[i + 1:])


def test_a_continued_search_equals_an_uninterrupted_one(tmp_path):
    raw = _raw(_area_bound())
    whole = xs.search(raw, out=tmp_path / "whole")
    xs.search(raw, out=tmp_path / "cut", trials=12)
    log = tmp_path / "cut/small/trials.jsonl"
    lines = log.read_text().splitlines(keepends=True)
    log.write_text("".join(lines[:-2]) + lines[-2][:25])  # as a kill mid-write leaves it
    resumed = xs.search(raw, out=tmp_path / "cut")
    assert resumed.reused == 10  # 12 stored, the last lost and the one before cut short
    assert resumed.rows == whole.rows
    assert (tmp_path / "cut/small/trials.csv").read_bytes() == (tmp_path / "whole/small/trials.csv").read_bytes()


def test_a_search_killed_with_sigkill_continues_without_losing_a_trial(tmp_path, write):
    ranges = {"systems.big.arch.rows": {"low": 8, "high": 64}, "systems.big.arch.cols": {"low": 8, "high": 64},
              "systems.big.arch.cores": {"low": 1, "high": 4}}  # 13,000 designs: few proposed twice
    raw = _raw(_area_bound(), trials=120, batch_size=8, parameters=ranges)
    path = write(json.dumps(raw), "search.yaml")
    command = [sys.executable, "-m", "simulator.cli", "search", str(path), "--out", str(tmp_path / "out"),
               "--workers", "1"]
    log = tmp_path / "out/small/trials.jsonl"
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 25):
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL  # killed, not finished
    stored = [json.loads(line) for line in log.read_text().splitlines()[1:] if line.endswith("}")]
    assert 24 <= len(stored) < 120, "the search was killed part-way"
    resumed = xs.search(path, out=tmp_path / "out")
    assert resumed.reused >= len(stored)  # every trial stored before the kill is kept
    by_number = {row["trial"]: row for row in resumed.rows}
    for record in stored:
        assert by_number[record["number"]]["seconds"] == record["metrics"]["big"]["seconds"]
    assert resumed.rows == xs.search(path).rows  # and the search ends as an uninterrupted one


def test_trials_of_another_search_are_refused_with_a_hint(tmp_path):
    xs.search(_raw(1.0, trials=4), out=tmp_path)
    with pytest.raises(InputError, match="different search.*--fresh"):
        xs.search(_raw(2.0, trials=4), out=tmp_path)
    assert len(xs.search(_raw(2.0, trials=4), out=tmp_path, fresh=True).rows) == 4


@pytest.mark.parametrize("change,message", [
    (lambda t: t.update(params=5), "line 2: params: Input should be a valid dictionary"),
    (lambda t: t.update(metrics={"big": {"seconds": "fast"}}), "line 2: metrics.big.seconds: Input should be a valid"),
    (lambda t: t.update(metrics={"big": {"seconds": float("nan")}}), "line 2: metrics.big.seconds: Input should be a "
                                                                      "finite number"),
    (lambda t: t.update(number="zero"), "line 2: number: Input should be a valid integer"),
    (lambda t: t.update(warnings=5), "line 2: warnings: Input should be a valid list"),
])
def test_a_stored_trial_this_program_does_not_write_is_refused_naming_its_line(tmp_path, change, message):
    xs.search(_raw(1.0, trials=4), out=tmp_path)
    log = tmp_path / "small/trials.jsonl"
    lines = log.read_text().splitlines()
    trial = json.loads(lines[1])
    change(trial)
    log.write_text("\n".join([lines[0], json.dumps(trial)] + lines[2:]) + "\n")
    with pytest.raises(InputError, match=f"{message}.*--fresh"):
        xs.search(_raw(1.0, trials=4), out=tmp_path)
    assert len(xs.search(_raw(1.0, trials=4), out=tmp_path, fresh=True).rows) == 4


def test_stored_trials_that_are_not_utf8_are_refused(tmp_path):
    xs.search(_raw(1.0, trials=4), out=tmp_path)
    with open(tmp_path / "small/trials.jsonl", "ab") as handle:
        handle.write(b"\xff\xfe\n")
    with pytest.raises(InputError, match="not UTF-8 text.*--fresh"):
        xs.search(_raw(1.0, trials=4), out=tmp_path)


def test_a_design_that_cannot_be_built_is_a_failed_trial_with_its_reason():
    # Each value is valid alone; an 8192-row array with an 8 KiB input scratchpad is not.
    raw = _raw(10.0, trials=16, parameters={"systems.big.arch.rows": [64, 8192],
                                            "systems.big.arch.ifmap_sram_bytes": [8192, 65536]})
    result = xs.search(raw)
    failed = [r for r in result.rows if r["error"]]
    assert failed and all(r["systems.big.arch.rows"] == 8192 and r["systems.big.arch.ifmap_sram_bytes"] == 8192
                          for r in failed)
    assert "one array row" in failed[0]["error"] and not failed[0]["feasible"]
    assert len(failed) < 8  # told as violating, the design is not proposed over and over


def test_validate_checks_the_search_block(cli, write):
    shapes = SEARCH.replace("{low: 1, high: 4}", "{low: 4, high: 1}").replace("[seconds]", "[secs]")
    code, _, err = cli("validate", write(SMALL_EXPERIMENT + shapes.replace("AREA", "1")))
    text = " ".join(err.split())
    assert code == 2
    assert "search.parameters.systems.big.arch.cores: a range needs low < high" in text
    assert "search.objectives[0].metric: Input should be 'tokens_per_s'" in text
    names = SEARCH.replace("system: big", "system: bgi").replace("arch.cols", "arch.colz")
    code, _, err = cli("validate", write(SMALL_EXPERIMENT + names.replace("AREA", "1")))
    text = " ".join(err.split())
    assert code == 2
    assert "search.system: no system named 'bgi'; did you mean 'big'?" in text
    assert "search.parameters.systems.big.arch.colz: unknown key; did you mean 'cols'" in text
    code, out, err = cli("validate", write(SMALL_EXPERIMENT + SEARCH.replace("AREA", "1")))
    assert code == 0, err


def test_cli_search_writes_the_results_and_prints_the_best(cli, write, tmp_path):
    code, out, err = cli("search", write(SMALL_EXPERIMENT + SEARCH.replace("AREA", "10")), "--out", tmp_path,
                         "--workers", "1", "--trials", "8")
    assert code == 0, err
    assert "searching small: 8/8 trials (100%)" in err and "best: trial" in err
    rows = list(csv.DictReader((tmp_path / "small/trials.csv").open()))
    assert [r["trial"] for r in rows] == [str(n) for n in range(8)]
    for name in ("pareto.csv", "trials.json", "report.md", "report.html", "figures/convergence.png"):
        assert (tmp_path / "small" / name).exists(), name


def test_the_same_trials_on_a_dask_cluster():
    distributed = pytest.importorskip("distributed")
    raw = _raw(10.0, trials=8)
    with distributed.LocalCluster(n_workers=2, processes=False, dashboard_address=None) as cluster:
        on_dask = xs.search(raw, scheduler=cluster.scheduler_address)
    assert on_dask.rows == xs.search(raw).rows


def test_a_design_whose_dram_cannot_hold_the_weights_is_not_run_and_says_why():
    raw = _raw(10.0, trials=8, parameters={"systems.big.arch.dram_capacity_bytes": [1024, 1 << 20]})
    result = xs.search(raw)
    small = [r for r in result.rows if r["systems.big.arch.dram_capacity_bytes"] == 1024]
    assert small and all(not r["feasible"] and "does not fit" in r["error"] and "seconds" not in r for r in small)
    assert all(r["feasible"] for r in result.rows if r["systems.big.arch.dram_capacity_bytes"] == 1 << 20)
