"""Reports: the HTML report embeds every figure and says what report.md says; sweep reports; Pareto fronts."""

import base64
import csv
import itertools
import random

from reports.figures import pareto_front
from reports.sweep_markdown import render_sweep_markdown
from tests.conftest import SMALL_EXPERIMENT

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_html_report_embeds_every_figure_and_the_markdown_tables(cli, write, tmp_path):
    code, _, err = cli("run", write(SMALL_EXPERIMENT), "--out", tmp_path)
    assert code == 0, err
    folder = tmp_path / "small"
    html = (folder / "report.html").read_text()
    figures = sorted((folder / "figures").glob("*.png"))
    assert [p.name for p in figures] == ["area.png", "energy.png", "roofline.png", "time.png", "timeline.png"]
    for path in figures:
        png = path.read_bytes()
        assert png.startswith(PNG_MAGIC)
        assert base64.b64encode(png).decode() in html
    assert "<h2>Relative to small</h2>" in html and "## Relative to small" in (folder / "report.md").read_text()
    separators = [line for line in (folder / "report.md").read_text().splitlines() if line.startswith("|---|")]
    assert html.count("<table>") == len(separators) > 3
    assert "http://" not in html and "https://" not in html and "<script" not in html


def test_pareto_front_keeps_exactly_the_non_dominated_points():
    rng = random.Random(7)
    points = [(rng.uniform(1, 100), rng.uniform(1, 100)) for _ in range(200)]
    front = pareto_front(points)

    def dominated(p):
        return any(q != p and q[0] >= p[0] and q[1] <= p[1] for q in points)
    assert set(front) == {p for p in points if not dominated(p)}
    assert front == sorted(front)
    assert all(a[1] < b[1] for a, b in itertools.pairwise(front))  # more throughput costs more energy


def test_pareto_front_of_a_hand_made_set():
    # (tokens/s, J/token): (10, 1) and (20, 2) trade off; (5, 3) and (10, 2) are dominated by (10, 1).
    assert pareto_front([(10, 1), (20, 2), (5, 3), (10, 2)]) == [(10, 1), (20, 2)]


def test_sweep_report_lists_best_points_front_and_failures(cli, write, tmp_path):
    text = SMALL_EXPERIMENT + "sweep:\n  grid: {systems.big.arch.rows: [8, 16, 64], workload.batch: [1, 4]}\n"
    code, _, err = cli("sweep", write(text), "--out", tmp_path, "--workers", "1")
    assert code == 0, err
    folder = tmp_path / "small"
    rows = list(csv.DictReader((folder / "sweep.csv").open()))
    report = (folder / "report.md").read_text()
    big = [r for r in rows if r["system"] == "big"]
    fastest = max(big, key=lambda r: float(r["tokens_per_s"]))
    line = next(l for l in report.split("## big")[1].splitlines() if l.startswith("| highest throughput"))
    assert line.split(" | ")[1] == fastest["point"]
    assert (folder / "figures" / "pareto.png").read_bytes().startswith(PNG_MAGIC)
    assert "<h2>big</h2>" in (folder / "report.html").read_text()


def test_sweep_report_lists_points_with_warnings():
    row = {"point": 3, "workload.batch": 512, "system": "npu", "tokens_per_s": 10.0, "energy_per_token_j": 1e-3,
           "seconds": 0.1, "area_mm2": 5.0, "utilisation": 0.5, "cycles": 1, "energy_j": 1e-3,
           "warnings": "dram_capacity_bytes: the workload's weights + KV cache need 38 GB"}
    report = render_sweep_markdown("t", [row])
    assert "## Points with warnings" in report
    assert "point 3 (workload.batch=512), **npu**: dram_capacity_bytes: the workload's" in report
    assert "Grid: workload.batch." in report  # the warnings column is not a grid key


def test_sweep_report_names_failed_points():
    rows = [{"point": 0, "workload.batch": 1, "system": "a", "tokens_per_s": 10.0, "energy_per_token_j": 1e-3,
             "seconds": 0.1, "area_mm2": 5.0, "utilisation": 0.5, "cycles": 1, "energy_j": 1e-3},
            {"point": 1, "workload.batch": 9, "system": "a", "error": "does not fit"}]
    report = render_sweep_markdown("t", rows)
    assert "2 points, 2 rows, 1 failed, 0 do not fit the DRAM (not ranked). Grid: workload.batch." in report
    assert "point 1 (workload.batch=9), **a**: does not fit" in report
