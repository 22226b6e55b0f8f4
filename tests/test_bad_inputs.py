"""The corpus of bad inputs (tests/data/bad_inputs/): each one refused by ``validate`` and by ``run``/``sweep``.

Every case must exit with code 2, print no traceback, print the expected piece of
message, and give ``validate`` and the command the same problem lines, in under
5 s. The CLI's ``main`` is called in-process; a few cases also run as real
subprocesses. The corpus is written by scripts/make_bad_inputs.py.
"""

from __future__ import annotations

import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
import yaml

from simulator.errors import InputError, _short, number_hint
from simulator.experiment import load_experiment, parse_text
from workloads.yamlio import MAX_FILE_BYTES, YamlError, load_yaml

CORPUS = Path(__file__).parent / "data" / "bad_inputs"
EXPECTED = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))
REPO = Path(__file__).parent.parent


def _norm(text: str) -> str:
    return " ".join(text.split())  # the console wraps long lines


def _problems(output: str) -> str:
    text = _norm(output)
    assert "problem(s):" in text, text
    return text.split("problem(s):", 1)[1]


def test_the_corpus_has_at_least_100_cases_each_with_a_file():
    assert len(EXPECTED) >= 100
    files = {p.name for p in CORPUS.iterdir() if p.is_file() and p.name != "expected.yaml"}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_input_is_refused_by_validate_and_by_the_command(name, cli, tmp_path):
    case = EXPECTED[name]
    start = time.perf_counter()
    v_code, v_out, v_err = cli("validate", CORPUS / name)
    c_code, c_out, c_err = cli(case["command"], CORPUS / name, "--out", tmp_path / "out")
    elapsed = time.perf_counter() - start
    assert (v_code, c_code) == (2, 2), (v_err, c_err)
    for text in (v_out + v_err, c_out + c_err):
        assert "Traceback" not in text
        assert case["message"] in _norm(text), text
    assert _problems(v_err) == _problems(c_err)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())  # nothing simulated
    assert elapsed < 5.0


def test_a_file_over_the_size_limit_is_refused_before_parsing(cli, tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"name: x\n" + b"# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    code, _, err = cli("validate", big)
    assert code == 2 and f"over the {MAX_FILE_BYTES}-byte limit" in _norm(err)


def test_the_alias_bomb_is_refused_in_under_a_second_and_100_mb():
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(InputError) as info:
        load_experiment(CORPUS / "yaml-alias-bomb.yaml")
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "expands to more than 200000 nodes" in str(info.value)
    assert elapsed < 1.0 and peak < 100e6


@pytest.mark.parametrize("name", ["yaml-alias-bomb.yaml", "yaml-binary.bin", "workload-batch-1e30.yaml"])
def test_bad_input_in_a_real_process_exits_2_without_traceback(name, tmp_path):
    command = EXPECTED[name]["command"]
    done = subprocess.run([sys.executable, "-m", "simulator.cli", command, str(CORPUS / name), "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 2 and "Traceback" not in done.stderr + done.stdout
    assert EXPECTED[name]["message"] in _norm(done.stderr)


def test_a_merge_key_with_overrides_is_accepted():
    data = load_yaml("base: &d {rows: 4, cols: 4}\nbig: {<<: *d, rows: 64}\n")
    assert data["big"] == {"rows": 64, "cols": 4}


def test_a_key_given_twice_next_to_a_merge_key_is_still_a_duplicate():
    with pytest.raises(YamlError, match="duplicate key 'rows' at line 2"):
        load_yaml("base: &d {rows: 4}\nbig: {<<: *d, rows: 64, rows: 32}\n")


def test_every_problem_of_a_file_is_reported_at_once():
    text = ("name: t\nworkload: {model: llama2-7bb}\nsystems:\n  - {name: s, arch: scalesim-defualt}\n"
            "  - {name: g, arch: a100-80gb, set: {sms: 3}}\n")
    with pytest.raises(InputError) as info:
        parse_text(text)
    paths = [p.path for p in info.value.problems]
    assert paths == ["systems.s.arch", "systems.g.set.sms", "workload.model"]


def test_an_unknown_top_level_key_does_not_hide_a_systems_problems():
    text = ("name: t\nsead: 1\nworkload: {model: llama2-7b}\nsystems:\n"
            "  - {name: big, arch: tpuv4-like, set: {rows: 0}}\n  - {name: bad}\n")
    with pytest.raises(InputError) as info:
        parse_text(text)
    assert sorted(p.path for p in info.value.problems) == ["sead", "systems.bad.arch", "systems.big.set.rows"]


def test_a_dotted_override_of_a_key_the_spec_lacks_is_named_under_set():
    text = ("name: t\nworkload: {model: llama2-7b}\nsystems:\n"
            "  - {name: s, arch: tpuv4-like, set: {npu.rowz: 1, cols: 0}}\n")
    with pytest.raises(InputError) as info:
        parse_text(text)
    assert sorted(p.path for p in info.value.problems) == ["systems.s.set.cols", "systems.s.set.npu"]


def test_a_memory_rate_out_of_range_lists_the_keys_it_comes_from():
    from simulator.checks import check_experiment

    text = ("name: t\nworkload: {model: llama2-7b}\nsystems:\n"
            "  - {name: s, arch: tpuv4-like, set: {dram_bandwidth_bytes_per_s: 1.0e-3}}\n")
    [problem] = check_experiment(parse_text(text)).problems
    assert problem.path == "systems.s" and "memory 'dram'" in problem.message
    assert "(this system's clock_hz = 1e+09, dram_bandwidth_bytes_per_s = 0.001, link_bandwidth_bytes_per_s" in \
        problem.message


def test_an_exponent_without_a_sign_says_how_to_write_the_number():
    assert number_hint("6.4e10") == "; YAML reads '6.4e10' as text, not a number: write 6.4e+10 or 64000000000"
    assert number_hint("1e3") == "; YAML reads '1e3' as text, not a number: write 1.0e+3 or 1000"
    assert number_hint("fast") == ""
    assert load_yaml("a: 6.4e+10")["a"] == 6.4e10  # the suggested spelling is a number


def test_a_huge_value_is_rendered_short_and_fast():
    value: list = [1]
    for _ in range(40):
        value = [value] * 9  # 9**40 leaves if expanded
    start = time.perf_counter()
    text = _short(value)
    assert len(text) <= 60 and time.perf_counter() - start < 0.1


def test_error_messages_keep_their_closing_quote(cli):
    code, _, err = cli("validate", CORPUS / "trace-wrong-format.yaml")
    assert code == 2 and "got 'something-else'" in _norm(err)
