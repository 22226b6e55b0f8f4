"""Exporting an experiment's workload (``xpusim trace``) and running it back (``workload: {trace: ...}``)."""

from __future__ import annotations

import json

MODEL = ("{hidden_size: 512, num_layers: 4, num_heads: 8, num_kv_heads: 2, ffn_size: 1376, "
         "vocab_size: 32000, activation: swiglu, norm: rmsnorm, position: rope, max_positions: 4096}")

DIRECT = f"""
name: direct
seed: 0
workload:
  model: {MODEL}
  phase: decode
  batch: 8
  seq_len: 512
  weight_bits: 8
  act_bits: 8
  kv_bits: 8
systems:
  - {{name: npu, arch: tpuv4-like}}
  - {{name: small, arch: scalesim-default}}
"""

IMPORTED = """
name: imported
workload:
  trace: {trace}
systems:
  - {{name: npu, arch: tpuv4-like}}
  - {{name: small, arch: scalesim-default}}
"""


def _systems(tmp_path, name):
    results = json.loads((tmp_path / "out" / name / "results.json").read_text())
    return {system: (r["cycles"], r["energy_j"], len(r["ops"])) for system, r in results["systems"].items()}


def test_exported_trace_runs_with_the_same_cycles_as_the_model(cli, write, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("trace", write(DIRECT, "direct.yaml"), "--out", tmp_path / "traces" / "d.json")
    assert code == 0 and "wrote custom-decode-b8-s512 (16 ops, repeat 4)" in err
    # The trace path is read from the experiment file's folder, not the working directory.
    (tmp_path / "exps").mkdir()
    imported = write(IMPORTED.format(trace="../traces/d.json"), "exps/imported.yaml")
    assert cli("run", write(DIRECT, "direct.yaml"), "--out", tmp_path / "out")[0] == 0
    code, _, err = cli("run", imported, "--out", tmp_path / "out")
    assert code == 0, err
    direct, back = _systems(tmp_path, "direct"), _systems(tmp_path, "imported")
    assert back == direct
    assert direct["npu"][0] > 0 and direct["small"][0] > direct["npu"][0]


def test_trace_default_output_is_named_after_the_experiment(cli, write, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli("trace", write(DIRECT, "direct.yaml"))[0] == 0
    data = json.loads((tmp_path / "direct.trace.json").read_text())
    assert (data["format"], data["repeat"], data["batch"]) == ("xpusim-trace", 4, 8)


def test_missing_trace_file_names_the_key(cli, write):
    code, _, err = cli("validate", write(IMPORTED.format(trace="nowhere.json")))
    assert code == 2 and "workload.trace: trace file not found:" in err and "nowhere.json" in err


def test_invalid_trace_file_names_the_key_and_the_op(cli, write, tmp_path):
    bad = {"format": "xpusim-trace", "version": 1, "ops": [{"name": "q", "kind": "gemm", "m": -1, "n": 4}]}
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    code, _, err = cli("run", write(IMPORTED.format(trace="bad.json")), "--out", tmp_path / "out")
    assert code == 2 and "workload.trace:" in err and "ops[0].m: must be a positive integer, got -1" in err


def test_trace_with_keys_it_fixes_is_an_error(cli, write, tmp_path):
    (tmp_path / "t.json").write_text("{}")
    text = IMPORTED.format(trace="t.json").replace("  trace: t.json", "  trace: t.json\n  batch: 4\n  phase: prefill")
    code, _, err = cli("validate", write(text))
    assert code == 2 and "workload.trace: a trace file fixes its own ops" in err
    assert "'phase', 'batch'" in err


def test_trace_and_model_together_is_an_error(cli, write):
    text = DIRECT.replace("  phase: decode", "  trace: x.json\n  phase: decode")
    code, _, err = cli("validate", write(text))
    assert code == 2 and "exactly one of 'model'" in err and "'trace'" in err


def test_trace_command_errors(cli, write, tmp_path):
    serving = DIRECT.replace("phase: decode", "phase: serving").replace(
        "  seq_len: 512", "  serving: {rate_per_s: 1, count: 2}")
    code, _, err = cli("trace", write(serving, "serving.yaml"))
    assert code == 2 and "workload.phase: a serving experiment" in err
    (tmp_path / "taken").mkdir()
    code, _, err = cli("trace", write(DIRECT), "--out", tmp_path / "taken")
    assert code == 2 and "cannot write" in err
