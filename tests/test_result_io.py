"""results.json read back: an exact round trip, merged comparisons, and clear errors for other files."""

import json

import pytest

from simulator.errors import InputError
from simulator.result_io import load_result, merge_results
from tests.conftest import SMALL_EXPERIMENT


@pytest.fixture
def run_folder(cli, write, tmp_path):
    code, _, err = cli("run", write(SMALL_EXPERIMENT), "--out", tmp_path)
    assert code == 0, err
    return tmp_path / "small"


def test_results_json_round_trips_exactly(run_folder):
    original = json.loads((run_folder / "results.json").read_text())
    loaded = load_result(run_folder)
    assert _close(json.loads(json.dumps(loaded.to_dict())), original)
    first_op = original["systems"]["small"]["ops"][0]
    event = loaded.timelines["small"][0]
    assert (event.unit, event.start, event.end) == (first_op["unit"], first_op["start_cycle"], first_op["end_cycle"])


def _close(a, b):
    """Equal structures, floats to 1e-12 relative (energies go pJ -> J -> pJ)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_close, a, b))
    if isinstance(a, float) or isinstance(b, float):
        return a == pytest.approx(b, rel=1e-12, abs=1e-30)
    return a == b


def test_merging_two_runs_with_the_same_system_names_prefixes_them(run_folder):
    one = load_result(run_folder)
    merged = merge_results([one, one], "both", baseline="small-1/small")
    assert [s.name for s in merged.systems] == ["small-1/small", "small-1/big", "small-2/small", "small-2/big"]
    assert merged.system("small-2/big").cycles == one.system("big").cycles


def test_merging_runs_with_distinct_names_keeps_them(run_folder):
    one = load_result(run_folder)
    assert [s.name for s in merge_results([one], "only").systems] == ["small", "big"]


def test_xpusim_report_compares_two_runs(cli, run_folder, tmp_path):
    code, out, err = cli("report", run_folder, run_folder / "results.json", "--out", tmp_path / "cmp",
                         "--baseline", "small-1/big")
    assert code == 0, err
    report = (tmp_path / "cmp" / "report.md").read_text()
    assert "## Relative to small-1/big" in report and "| small-2/small |" in report
    assert (tmp_path / "cmp" / "figures" / "timeline.png").exists()
    code, _, err = cli("report", tmp_path / "missing", "--out", tmp_path / "x")
    assert code == 2 and "no such results file" in err


def test_an_unknown_baseline_names_the_systems(run_folder):
    with pytest.raises(InputError, match="--baseline: no system 'nope' in these results \\(systems: small, big\\)"):
        merge_results([load_result(run_folder)], "x", baseline="nope")


def test_a_file_that_is_not_a_result_names_the_missing_key(tmp_path):
    (tmp_path / "results.json").write_text(json.dumps({"name": "x"}))
    with pytest.raises(InputError, match="systems: required key is missing: this is not an xpusim results.json"):
        load_result(tmp_path)
    with pytest.raises(InputError, match="no such results file"):
        load_result(tmp_path / "missing")


def _edit(path, change):
    data = json.loads(path.read_text())
    change(data, data["systems"]["small"], data["systems"]["small"]["ops"][0])
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("change,key,message", [
    (lambda top, sys, op: sys.pop("cycles"), "systems.small.cycles", "required key is missing"),
    (lambda top, sys, op: sys.update(cycles="many"), "systems.small.cycles", "valid integer"),
    (lambda top, sys, op: sys.update(cycles=True), "systems.small.cycles", "got the boolean true"),
    (lambda top, sys, op: sys.update(clock_hz=0), "systems.small.clock_hz", "expected a number > 0"),
    (lambda top, sys, op: sys.update(energy_by_component_j=[1]), "systems.small.energy_by_component_j",
     "valid dictionary"),
    (lambda top, sys, op: sys.update(ops="x"), "systems.small.ops", "valid list"),
    (lambda top, sys, op: op.pop("kind"), "systems.small.ops[0].kind", "required key is missing"),
    (lambda top, sys, op: op.update(energy_pj=-1.0), "systems.small.ops[0].energy_pj", "expected a number >= 0"),
    (lambda top, sys, op: op.update(start_cycle=op["end_cycle"] + 1), "systems.small.ops[0].end_cycle",
     "is before start_cycle"),
    (lambda top, sys, op: top.update(experiment=[]), "experiment", "valid dictionary"),
    (lambda top, sys, op: top.update(failures=[{"x": 1}]), "failures[0].system", "required key is missing"),
    (lambda top, sys, op: top.update(systems={"small": 5}), "systems.small", "valid dictionary"),
])
def test_a_malformed_result_names_the_key_and_never_fails_later(run_folder, change, key, message):
    _edit(run_folder / "results.json", change)
    with pytest.raises(InputError) as err:
        load_result(run_folder)
    assert f"{key}: " in str(err.value) and message in str(err.value), str(err.value)
    assert "this is not an xpusim results.json" in str(err.value)


@pytest.mark.parametrize("content,message", [
    (b"[1, 2]", "expected a JSON object, got an array"),
    (b"\xff\xfe", "not UTF-8 text"),
    (b"{", "not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
])
def test_a_file_that_is_not_json_of_a_result_is_an_input_error(tmp_path, content, message):
    (tmp_path / "results.json").write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_result(tmp_path)
