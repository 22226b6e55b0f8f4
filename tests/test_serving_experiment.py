"""A serving experiment end to end: a short Poisson trace on a small model."""

import json

import pytest

SERVING = """
name: serve
seed: {seed}
workload:
  model: {{hidden_size: 512, num_layers: 4, num_heads: 8, ffn_size: 1376, vocab_size: 32000,
          activation: swiglu, norm: rmsnorm, position: rope, max_positions: 4096}}
  phase: serving
  serving:
    rate_per_s: {rate}
    duration_s: 3
    prompt: {{kind: uniform, low: 32, high: 256}}
    output: {{kind: fixed, tokens: 16}}
    max_batch: 16
systems:
  - {{name: npu, arch: tpuv4-like}}
"""


def run(cli, write, tmp_path, seed=1, rate=20, out="out"):
    path = write(SERVING.format(seed=seed, rate=rate), f"s{seed}-{rate}-{out}.yaml")
    code, _, err = cli("run", path, "--out", tmp_path / out)
    assert code == 0, err
    return json.loads((tmp_path / out / "serve/results.json").read_text())["systems"]["npu"]


def test_serving_reports_ttft_and_tpot_percentiles(cli, write, tmp_path):
    npu = run(cli, write, tmp_path)
    serving = npu["serving"]
    assert serving["requests"] > 30
    for metric in ("ttft_s", "tpot_s", "e2e_s"):
        p = serving[metric]
        assert 0 < p["p50"] <= p["p90"] <= p["p99"]
    assert serving["output_tokens_per_s"] == pytest.approx(npu["tokens_per_s"], rel=1e-6)
    assert npu["energy_j"] > 0 and npu["area_mm2"] > 0


def test_same_seed_same_serving_result(cli, write, tmp_path):
    assert run(cli, write, tmp_path, out="a") == run(cli, write, tmp_path, out="b")


def test_serving_block_requires_serving_phase(cli, write, tmp_path):
    text = SERVING.format(seed=1, rate=5).replace("phase: serving", "phase: decode")
    code, out, err = cli("validate", write(text))
    assert code == 2 and "phase 'serving' needs a 'serving:' block" in err


def test_a_serving_run_off_a_terminal_prints_a_line_each_tenth_of_its_requests():
    import io

    from rich.console import Console

    from simulator.cli_commands import _serving_progress

    class Status:
        def __init__(self):
            self.texts = []

        def update(self, text):
            self.texts.append(text)

    out, status = io.StringIO(), Status()
    report = _serving_progress(Console(file=out, force_terminal=False, width=200), status)
    for done in range(0, 1001, 7):
        report("npu", done, 1000)
    report("npu", 1000, 1000)
    lines = out.getvalue().splitlines()
    assert len(lines) == 9 and lines[0] == "npu: 105 of 1,000 requests finished"  # the first report past 10 %
    assert status.texts[-1] == "simulating npu: 1,000 of 1,000 requests finished"
