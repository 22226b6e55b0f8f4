"""Capacity as a result (every expert counted, fail by default, never ranked) and what the report shows."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from reports.sweep_markdown import render_sweep_markdown
from simulator.capacity import needed_bytes, resident_bytes, untouched_expert_bytes
from simulator.checks import check_experiment, step_workload
from simulator.experiment import parse_text
from simulator.sweep import expand
from workloads.op import OpKind
from workloads.yamlio import load_yaml

MIXTRAL = "name: m\nworkload: {model: mixtral-8x7b, phase: decode, batch: 1, seq_len: 128}\nsystems:\n  - {name: g, arch: a100-80gb}\n"


def test_mixtral_capacity_counts_every_expert():
    experiment = parse_text(MIXTRAL + "capacity: warn\n")
    workload, config = step_workload(experiment)
    # Mixtral-8x7B (workloads/presets/mixtral-8x7b.yaml): 32 layers, 8 experts of three 4096 x 14336 GEMMs, 16 bit.
    all_experts = config.num_layers * config.num_experts * 3 * config.hidden_size * config.moe_ffn_size * 2
    touched = sum(op.b_bytes for op in workload.ops
                  if op.name.startswith("expert_") and op.kind is OpKind.GEMM) * workload.repeat
    assert touched < all_experts / 3  # batch 1 touches 2 of 8 experts
    assert untouched_expert_bytes(workload, config) == all_experts - touched
    assert needed_bytes(workload, config) == resident_bytes(workload) + all_experts - touched
    report = check_experiment(experiment)
    assert report.ok and report.fits == {"g": False}  # warn: a warning, not a problem
    assert "does not fit: weights + KV cache need 92.90 GB" in report.capacity["g"] and "80.00 GB" in report.capacity["g"]


def test_a_design_that_does_not_fit_fails_by_default():
    report = check_experiment(parse_text(MIXTRAL))
    assert [p.path for p in report.problems] == ["systems.g"]
    assert "does not fit" in report.problems[0].message


def test_a_dense_model_counts_no_extra_experts():
    text = MIXTRAL.replace("mixtral-8x7b", "llama2-7b")
    workload, config = step_workload(parse_text(text))
    assert untouched_expert_bytes(workload, config) == 0
    assert check_experiment(parse_text(text)).fits == {"g": True}


def test_sweep_points_that_do_not_fit_are_not_simulated_and_marked():
    text = ("name: s\nworkload: {model: llama2-7b, phase: decode, batch: 1, seq_len: 1024}\n"
            "systems:\n  - {name: npu, arch: neupims-npu}\n  - {name: gpu, arch: a100-80gb}\n"
            "sweep:\n  grid:\n    workload.batch: [1, 64, 512]\n")
    points = expand(load_yaml(text), "s", Path.cwd())
    # 7B weights 13.5 GB + KV 0.5 MB/token: batch 64 x 1025 tokens = 34 GB > the 34.36 GB device;
    # batch 512 also exceeds the A100's 80 GB.
    assert [p.skipped for p in points] == [(), ("npu",), ("npu", "gpu")]
    assert [len(p.experiment.systems) for p in points] == [2, 1, 0]


def _row(point, system, tokens_per_s, fits=True):
    return {"point": point, "workload.batch": point, "system": system, "fits": fits, "tokens_per_s": tokens_per_s,
            "energy_per_token_j": 1e-3 / (point + 1), "seconds": 1.0, "area_mm2": 1.0, "utilisation": 0.5,
            "cycles": 1, "energy_j": 1e-3}


def test_a_non_fitting_point_is_never_best_or_on_the_pareto_front():
    rows = [_row(0, "a", 10.0), _row(1, "a", 20.0), _row(2, "a", 1e6, fits=False),
            {"point": 3, "workload.batch": 3, "system": "a", "fits": False, "capacity": "does not fit: 99 GB"}]
    report = render_sweep_markdown("t", rows)
    ranked = [line for line in report.splitlines() if line.startswith(("| highest", "| lowest", "| Pareto"))]
    assert ranked and not any(line.split(" | ")[1] in ("2", "3") for line in ranked)
    assert "## Points that do not fit (not ranked)" in report and "**a**: does not fit: 99 GB" in report
    assert "2 do not fit the DRAM (not ranked)" in report


def test_sweep_report_ranks_each_model_separately_and_puts_systems_side_by_side():
    models = ["opt-6.7b", "llama2-7b", "opt-6.7b"]
    rows = [dict(_row(p, s, 10.0 * (p + 1) + (s == "b")), **{"workload.model": models[p]})
            for p in range(3) for s in ("a", "b")]
    report = render_sweep_markdown("t", rows)
    assert report.count("### a") == 2 and "## Workload workload.model='llama2-7b'" in report
    opt = report.split("## Workload workload.model='opt-6.7b'")[1].split("## Workload")[0]
    best = next(line for line in opt.splitlines() if line.startswith("| highest throughput"))
    assert best.split(" | ")[1] == "2"  # the fastest opt-6.7b point, not llama's
    assert "## Systems side by side (tokens/s)" in report and "| 2 | 2 | opt-6.7b | 30 | 31 |" in report


def _serving_text(rate: int = 20) -> str:
    return f"""
name: serve
workload:
  model: {{hidden_size: 512, num_layers: 4, num_heads: 8, ffn_size: 1376, vocab_size: 32000,
          activation: swiglu, norm: rmsnorm, position: rope, max_positions: 4096}}
  phase: serving
  serving: {{rate_per_s: {rate}, duration_s: 2, prompt: {{kind: fixed, tokens: 64}}, output: {{kind: fixed, tokens: 8}}, max_batch: 8}}
systems:
  - {{name: npu, arch: tpuv4-like}}
  - {{name: npu2, arch: tpuv4-like, set: {{cores: 2}}}}
"""


def test_serving_percentiles_reach_console_summary_csv_and_report(cli, write, tmp_path):
    code, _, err = cli("run", write(_serving_text()), "--out", tmp_path)
    assert code == 0, err
    serving = json.loads((tmp_path / "serve" / "results.json").read_text())["systems"]["npu"]["serving"]
    text = " ".join(err.split())
    assert f"TTFT p50 {serving['ttft_s']['p50'] * 1e3:.4g} / p99 {serving['ttft_s']['p99'] * 1e3:.4g} ms" in text
    with open(tmp_path / "serve" / "summary.csv", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert float(row["tpot_p90_s"]) == pytest.approx(serving["tpot_s"]["p90"], rel=1e-12)
    report = (tmp_path / "serve" / "report.md").read_text()
    assert "## Serving latency" in report and "phase serving (Poisson arrivals at 20/s" in report
    assert "batch 1" not in report  # no unused default in the header
    notes = report.split("## What the models do not capture")[1]
    assert notes.count("**systolic** (npu, npu2)") == 1
    first_note = json.loads((tmp_path / "serve" / "results.json").read_text())["systems"]["npu"]["notes"][0]
    assert notes.count(first_note) == 1  # once per kind, not once per system
    assert "the LM head (final norm and the hidden x vocab projection" in notes  # stated, as it is not simulated


def test_validate_maps_each_system_and_gives_the_message_run_gives(cli, write, tmp_path):
    # 16-bit ops on scalesim-default's int8 PEs: the mapper refuses them when the run starts.
    text = ("name: bits\nworkload:\n  ops:\n    - {name: a, M: 8, N: 8, K: 8}\n"
            "systems:\n  - {name: s, arch: scalesim-default}\n")
    path = write(text)
    v_code, _, v_err = cli("validate", path)
    r_code, _, r_err = cli("run", path, "--out", tmp_path / "out")
    assert v_code == 2 and r_code == 1
    message = " ".join(v_err.split()).split("systems.s: ", 1)[1]
    assert "pe_dtype" in message and message in " ".join(r_err.split())


def test_capacity_warn_simulates_and_records_the_shortfall(cli, write, tmp_path):
    base = ("name: cap\nworkload:\n  act_bits: 8\n  weight_bits: 8\n  ops:\n    - {name: a, M: 64, N: 256, K: 256}\n"
            "systems:\n  - {name: s, arch: scalesim-default, set: {dram_capacity_bytes: 32768}}\n")
    code, _, err = cli("run", write(base), "--out", tmp_path / "fail")
    assert code == 2 and "does not fit: weights + KV cache need" in " ".join(err.split())
    code, _, err = cli("run", write(base + "capacity: warn\n", "warn.yaml"), "--out", tmp_path / "warn")
    assert code == 0, err
    warnings = json.loads((tmp_path / "warn" / "cap" / "results.json").read_text())["systems"]["s"]["warnings"]
    assert any("weights + KV cache need" in w for w in warnings)


def test_html_report_puts_the_figures_after_the_summary(cli, write, tmp_path):
    from tests.conftest import SMALL_EXPERIMENT

    assert cli("run", write(SMALL_EXPERIMENT), "--out", tmp_path)[0] == 0
    html = (tmp_path / "small" / "report.html").read_text()
    assert html.index("<h2>Summary</h2>") < html.index("<h2>Figures</h2>") < html.index("<h2>Energy by category")


def test_report_of_runs_with_different_workloads_warns(cli, write, tmp_path):
    from tests.conftest import SMALL_EXPERIMENT

    other = SMALL_EXPERIMENT.replace("name: small\n", "name: other\n", 1).replace("M: 64, N: 64", "M: 128, N: 64")
    assert cli("run", write(SMALL_EXPERIMENT), "--out", tmp_path)[0] == 0
    assert cli("run", write(other, "other.yaml"), "--out", tmp_path)[0] == 0
    code, _, err = cli("report", tmp_path / "small", tmp_path / "other", "--out", tmp_path / "both")
    assert code == 0 and "simulated different workloads" in " ".join(err.split())
    assert "The merged runs ran different workloads" in (tmp_path / "both" / "report.md").read_text()


def test_report_says_when_a_design_is_larger_than_one_die(cli, write, tmp_path):
    from tests.conftest import SMALL_EXPERIMENT

    big = SMALL_EXPERIMENT.replace("set: {rows: 64, cols: 64}", "set: {rows: 2048, cols: 2048}")
    assert cli("run", write(big), "--out", tmp_path)[0] == 0
    result = json.loads((tmp_path / "small" / "results.json").read_text())["systems"]
    report = " ".join((tmp_path / "small" / "report.md").read_text().split())
    assert result["big"]["area_mm2"] > 858 > result["small"]["area_mm2"]
    assert f"big ({result['big']['area_mm2']:,.0f} mm²) is larger than one die can be" in report


def test_capacity_warn_also_runs_a_family_that_refuses_a_step_itself(cli, write, tmp_path):
    # The GPU model refuses a step that does not fit its HBM; with capacity: warn it runs, with the refusal noted.
    base = ("name: gpucap\nworkload: {model: llama2-70b, phase: decode, batch: 64, seq_len: 4096}\n"
            "systems:\n  - {name: a100, arch: a100-80gb}\n")
    code, _, err = cli("run", write(base), "--out", tmp_path / "fail")
    assert code == 2 and "hbm_capacity_bytes" in " ".join(err.split())
    code, _, err = cli("run", write(base + "capacity: warn\n", "warn.yaml"), "--out", tmp_path / "warn")
    assert code == 0, err
    warnings = json.loads((tmp_path / "warn" / "gpucap" / "results.json").read_text())["systems"]["a100"]["warnings"]
    assert any("simulated anyway (capacity: warn)" in w for w in warnings)
