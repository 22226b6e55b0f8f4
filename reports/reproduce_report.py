"""The ``xpusim reproduce`` report: every claim next to xpusim's value, as Markdown, HTML, JSON, CSV and a figure.

Input is the plain data of a reproduce run (``ReproduceRun.to_dict()`` of
:mod:`simulator.reproduce.registry`: papers with their wall time, and one row per
claim with paper, claim, published value and source, computed value, ratio,
tolerance, verdict and the documented reason of a residual), so this package does
not import the simulator (DESIGN.md import direction). Files written:
``report.md``, ``report.html`` (the Markdown with the figure embedded),
``claims.json``, ``claims.csv`` and ``figures/predicted_vs_published.png``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from reports.atomic import write_text_atomic  # noqa: E402
from reports.writers import write_report_with_figures  # noqa: E402

VERDICTS = ("pass", "known residual", "fail")
COLOURS = {"pass": "tab:green", "known residual": "tab:orange", "fail": "tab:red"}
CSV_COLUMNS = ("paper", "key", "text", "published", "unit", "source", "computed", "ratio", "comparison",
               "tolerance", "verdict", "fitted", "residual", "error")
TITLE = "xpusim reproduce"


def write_reproduce(run: dict, out_dir: str | Path) -> list[Path]:
    """Every file of the report in ``out_dir``; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    text = render_markdown(run)
    written = [write_text_atomic(out / "report.md", text),
               write_text_atomic(out / "claims.json", json.dumps(run, indent=1, default=_json_value) + "\n"),
               write_text_atomic(out / "claims.csv", _csv(run["claims"]))]
    return written + write_report_with_figures(TITLE, text, {"predicted_vs_published.png": figure(run["claims"])},
                                               out)


def _json_value(value):
    return None if isinstance(value, float) and math.isnan(value) else str(value)


def _csv(rows: Sequence[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def number(value: float) -> str:
    """Four significant digits; thousands separated from 10,000 up."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 1e4:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(run: dict) -> str:
    claims = run["claims"]
    counts = run["counts"]
    lines = [f"# {TITLE}", "", "## Summary", "",
             f"{len(claims)} claims{' (quick subset)' if run.get('quick') else ''}: "
             + ", ".join(f"{counts.get(v, 0)} {v}" for v in VERDICTS)
             + f"; computed in {run['seconds']:.1f} s.", "",
             "A claim passes when xpusim's value is within its tolerance of the published one; a **known "
             "residual** misses it for the documented reason given below it; a **fail** misses it with no "
             "documented reason (the command then exits non-zero). *fit* marks a figure a model parameter was "
             "fitted on.", "",
             "| paper | claims | pass | known residual | fail | seconds |", "|---|---|---|---|---|---|"]
    for paper in run["papers"]:
        mine = [c for c in claims if c["paper"] == paper["name"]]
        tally = [sum(1 for c in mine if c["verdict"] == v) for v in VERDICTS]
        lines.append(f"| {_cell(paper['title'])} (`{paper['name']}`) | {len(mine)} | "
                     + " | ".join(map(str, tally)) + f" | {paper['seconds']:.1f} |")
    failed = [c for c in claims if c["verdict"] == "fail"]
    if failed:
        lines += ["", "## Failed claims", ""]
        lines += [f"- `{c['paper']}` {_cell(c['text'])}: " + (c["error"] or
                  f"{number(c['computed'])} against {number(c['published'])} ({c['tolerance_text']})")
                  for c in failed]
    for paper in run["papers"]:
        lines += _paper_section(paper, [c for c in claims if c["paper"] == paper["name"]])
    return "\n".join(lines) + "\n"


def _paper_section(paper: dict, claims: list[dict]) -> list[str]:
    lines = ["", f"## {paper['title']}", "",
             "| claim | published | source | xpusim | ratio | tolerance | verdict |",
             "|---|---|---|---|---|---|---|"]
    reasons: dict[str, list[str]] = {}
    for c in claims:
        unit = f" {c['unit']}" if c["unit"] else ""
        verdict = c["verdict"] + (" (fit)" if c["fitted"] else "")
        if c["verdict"] == "known residual":
            reasons.setdefault(c["residual"], []).append(c["key"])
            verdict += f" [{list(reasons).index(c['residual']) + 1}]"
        lines.append(f"| {_cell(c['text'])} | {number(c['published'])}{unit} | {_cell(c['source'])} | "
                     f"{number(c['computed'])}{unit} | {number(c['ratio'])} | {c['tolerance_text']} | {verdict} |")
    if reasons:
        lines += ["", "Known residuals:", ""]
        lines += [f"{i}. {_cell(reason)}" for i, reason in enumerate(reasons, 1)]
    return lines


def figure(claims: Sequence[dict]) -> bytes:
    """xpusim's value over the published one per claim (log scale), by paper, coloured by verdict."""
    shown = [c for c in claims if c["ratio"] is not None and not math.isnan(c["ratio"]) and c["ratio"] > 0]
    papers = list(dict.fromkeys(c["paper"] for c in claims))
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [1, 1.4]})
    positive = [c for c in shown if c["published"] > 0 and c["computed"] > 0]
    for verdict in VERDICTS:
        mine = [c for c in positive if c["verdict"] == verdict]
        left.scatter([c["published"] for c in mine], [c["computed"] for c in mine], s=14,
                     color=COLOURS[verdict], label=verdict)
    if positive:
        low = min(min(c["published"], c["computed"]) for c in positive) / 2
        high = max(max(c["published"], c["computed"]) for c in positive) * 2
        left.plot([low, high], [low, high], color="grey", lw=0.8)
        left.set_xscale("log")  # a log axis needs data: a run whose claims all failed to compute has none
        left.set_yscale("log")
    left.set_xlabel("published value")
    left.set_ylabel("xpusim's value")
    left.legend(fontsize="small")
    for verdict in VERDICTS:  # one collection per verdict: drawing is per collection, not per dot
        mine = [c for c in shown if c["verdict"] == verdict]
        right.scatter([c["ratio"] for c in mine], [papers.index(c["paper"]) for c in mine], s=14,
                      color=COLOURS[verdict])
    right.axvline(1.0, color="grey", lw=0.8)
    if shown:
        right.set_xscale("log")
    right.set_yticks(range(len(papers)), papers)
    right.set_xlabel("xpusim / published")
    right.invert_yaxis()
    fig.suptitle("xpusim against the published values (each dot a claim)")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()
