"""The Python API gives what the CLI gives: the same validation, results, files and rows."""

from __future__ import annotations

import csv
import json

import pytest

from simulator import api as xs
from simulator.sweep import expand, run_points, sweep_rows
from tests.conftest import SMALL_EXPERIMENT
from workloads.yamlio import load_yaml

RAW = load_yaml(SMALL_EXPERIMENT)


def test_a_path_a_mapping_and_keyword_arguments_load_the_same_experiment(write):
    from_path = xs.load(write(SMALL_EXPERIMENT))
    from_dict = xs.load(RAW)
    from_fields = xs.load(**RAW)
    assert from_path.resolved.resolved() == from_dict.resolved.resolved() == from_fields.resolved.resolved()
    assert from_dict.name == "small" and from_dict.system_names == ("small", "big")


def test_keyword_arguments_replace_top_level_keys_and_with_values_sets_dotted_paths():
    exp = xs.load(RAW, name="other").with_values({"workload.batch": 4, "systems.big.arch.rows": 16})
    assert exp.name == "other" and exp.resolved.spec.workload.batch == 4
    assert exp.resolved.systems[1].spec.rows == 16 and exp.resolved.systems[0].spec.rows == 32
    assert RAW["systems"][1]["set"] == {"rows": 64, "cols": 64}  # the source mapping is not changed


def test_bad_input_raises_the_cli_s_input_error_with_every_problem():
    with pytest.raises(xs.InputError) as caught:
        xs.load({**RAW, "seed": "x"})
    assert [p.path for p in caught.value.problems] == ["seed"]
    with pytest.raises(xs.InputError) as caught:
        xs.load({**RAW, "systems": [{"name": "small", "arch": "scalesim-defualt"}, {"name": "big", "arch": "tpuv4"}]})
    assert [p.path for p in caught.value.problems] == ["systems.small.arch", "systems.big.arch"]
    assert "did you mean 'scalesim-default'" in str(caught.value)
    with pytest.raises(xs.InputError, match="no system named 'bgi'; did you mean 'big'"):
        xs.load(RAW).with_values({"systems.bgi.arch.rows": 8})
    with pytest.raises(xs.InputError, match="did you mean 'rows'"):
        xs.load(RAW).with_values({"systems.big.arch.rowz": 8})
    with pytest.raises(xs.UnknownNameError, match="did you mean 'systolic'"):
        xs.presets("systolik")


def test_run_gives_one_row_per_system_and_per_op_and_the_cli_s_files(cli, write, tmp_path):
    result = xs.run(RAW, out=tmp_path / "api")
    code, _, err = cli("run", write(SMALL_EXPERIMENT), "--out", tmp_path / "cli")
    assert code == 0, err
    api_files = sorted(p.relative_to(tmp_path / "api") for p in (tmp_path / "api").rglob("*") if p.is_file())
    cli_files = sorted(p.relative_to(tmp_path / "cli") for p in (tmp_path / "cli").rglob("*") if p.is_file())
    assert api_files == cli_files and set(result.written) == {tmp_path / "api" / p for p in api_files}
    api_json = json.loads((tmp_path / "api/small/results.json").read_text())
    cli_json = json.loads((tmp_path / "cli/small/results.json").read_text())
    assert api_json["systems"] == cli_json["systems"]
    summary = list(csv.DictReader((tmp_path / "cli/small/summary.csv").open()))
    rows = result.rows()
    assert [r["name"] for r in rows] == [s["system"] for s in summary] == ["small", "big"]
    assert [r["cycles"] for r in rows] == [int(s["cycles"]) for s in summary]
    ops = result.op_rows()
    assert len(ops) == sum(len(s.ops) for s in result.systems) and ops[0]["system"] == "small"
    assert sum(op["energy_pj"] for op in ops if op["system"] == "big") == pytest.approx(
        sum(op.energy_pj for op in result.system("big").ops))


def test_to_pandas_has_the_rows():
    pandas = pytest.importorskip("pandas")
    result = xs.run(RAW)
    systems, ops = result.to_pandas(), result.to_pandas("op")
    assert isinstance(systems, pandas.DataFrame) and list(systems["name"]) == ["small", "big"]
    assert list(systems["cycles"]) == [s.cycles for s in result.systems]
    assert len(ops) == len(result.op_rows()) and "energy_breakdown_pj.compute" in ops.columns


def test_sweep_gives_the_cli_s_rows_in_grid_order(tmp_path):
    grid = {"systems.big.arch.rows": [8, 16], "workload.batch": [1, 2]}
    result = xs.sweep(RAW, grid, out=tmp_path)
    raw = {**RAW, "sweep": {"grid": grid}}
    points = expand(raw, "<experiment>", tmp_path)
    assert list(result.rows) == sweep_rows(points, run_points(points))
    assert [(r["point"], r["system"]) for r in result.rows][:4] == [(0, "small"), (0, "big"), (1, "small"), (1, "big")]
    assert (tmp_path / "small/sweep.csv").exists() and tmp_path / "small/sweep.csv" in result.written
    seen = []
    xs.sweep(RAW, {"workload.batch": [1, 2, 3]}, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    with pytest.raises(xs.InputError, match="no grid given"):
        xs.sweep(RAW)


def test_presets_and_models_are_listed():
    assert "tpuv4-like" in xs.presets("systolic") and "a100-80gb" not in xs.presets("systolic")
    assert set(xs.presets("systolic")) <= set(xs.presets()) and "systolic" in xs.kinds()
    assert all(xs.preset(name)["kind"] == "systolic" for name in xs.presets("systolic"))
    assert "llama2-7b" in xs.models()


def test_with_systems_keeps_the_named_ones_and_drops_a_baseline_not_kept():
    exp = xs.load(RAW).with_systems("big")
    assert exp.system_names == ("big",) and exp.resolved.spec.report.baseline is None
    with pytest.raises(xs.InputError, match="no system named 'huge'"):
        xs.load(RAW).with_systems("huge")


@pytest.mark.parametrize("call,key,message", [
    (lambda exp: xs.sweep(exp, [1, 2]), "grid", "expected a mapping of dotted keys to lists of values, got list"),
    (lambda exp: xs.sweep(exp, {"workload.batch": 8}), "sweep.grid.workload.batch", "expected a list of values"),
    (lambda exp: xs.sweep(exp, {"workload.batch": "8"}), "sweep.grid.workload.batch", "expected a list of values"),
    (lambda exp: xs.sweep(exp, {"workload.batch": [1]}, workers=0), "workers", "expected a whole number >= 1"),
    (lambda exp: xs.sweep(exp, {"workload.batch": [1]}, workers="2"), "workers", "expected a whole number >= 1"),
    (lambda exp: xs.sweep(exp, {"workload.batch": [1]}, workers=True), "workers", "expected a whole number >= 1"),
    (lambda exp: exp.with_values([1]), "values", "expected a mapping of dotted keys to values"),
])
def test_a_bad_argument_is_an_input_error_naming_it(call, key, message):
    with pytest.raises(xs.InputError) as caught:
        call(xs.load(RAW))
    assert [(p.path, message in p.message) for p in caught.value.problems] == [(key, True)]


def test_a_grid_of_tuples_or_ranges_is_a_grid_of_lists():
    exp = xs.load(RAW)
    assert xs.sweep(exp, {"workload.batch": (1, 2)}).rows == xs.sweep(exp, {"workload.batch": range(1, 3)}).rows


def test_an_out_path_that_is_a_file_is_refused_before_anything_runs(tmp_path, monkeypatch):
    import simulator.api

    monkeypatch.setattr(simulator.api, "run_experiment", lambda *a, **k: pytest.fail("simulated"))
    (tmp_path / "file").write_text("")
    with pytest.raises(xs.InputError, match="is a file, not a folder"):
        xs.run(xs.load(RAW), out=tmp_path / "file")


def test_more_workers_than_cpus_are_lowered_to_the_cpus(monkeypatch):
    import simulator.api

    monkeypatch.setattr(simulator.api, "usable_cpus", lambda: 1)
    assert xs.worker_count(10**6) == 1 and xs.worker_count(1) == 1
