"""Writing a design search's results: trials, the best designs, a report with its figures.

``write_search`` takes the plain data of a finished search (``SearchResult.report_data()``)
and writes ``trials.csv`` and ``trials.json`` (one row per trial), ``pareto.csv`` (the
feasible designs no other feasible design beats on every objective), ``report.md``,
``report.html`` and ``figures/convergence.png`` (best feasible value by trial) and, with
two or more objectives or baseline systems, ``figures/pareto.png``. Files hold no
timing, so a rerun with the same seed writes identical files. Registered under the
``xpusim.search_writers`` entry point.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from reports.markdown import markdown_table
from reports.search_figures import convergence, front_against_baselines
from reports.writers import write_report_with_figures


def write_search(data: Mapping[str, Any], out_dir: str | Path) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [_csv(data["trials"], out / "trials.csv"), _csv(data["front"], out / "pareto.csv")]
    (out / "trials.json").write_text(json.dumps(data["trials"], indent=1, sort_keys=True) + "\n", encoding="utf-8")
    written.append(out / "trials.json")
    text = render_search_markdown(data)
    (out / "report.md").write_text(text, encoding="utf-8")
    written.append(out / "report.md")
    figures = {"convergence.png": convergence(data)}
    if len(data["objectives"]) > 1 or any("error" not in b for b in data["baselines"]):
        figures["pareto.png"] = front_against_baselines(data)
    return written + write_report_with_figures(f"{data['name']}: search", text, figures, out)


def _csv(rows: Sequence[Mapping[str, Any]], path: Path) -> Path:
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def render_search_markdown(data: Mapping[str, Any]) -> str:
    trials = data["trials"]
    feasible = [t for t in trials if t["feasible"]]
    failed = [t for t in trials if t["error"]]
    goals = ", ".join(f"{o['goal']} {o['column']}" for o in data["objectives"])
    bounds = ", ".join(_bound(c) for c in data["constraints"]) or "none"
    parts = [
        f"# {data['name']}: search\n",
        f"{len(trials)} trials of **{data['system']}** ({data['sampler']}, seed {data['seed']}, "
        f"batches of {data['batch_size']}): {len(feasible)} feasible, {len(failed)} could not be built or run. "
        f"Objectives: {goals}. Constraints: {bounds}"
        + ("; a run with a warning is infeasible." if data["reject_warnings"] else ".") + "\n",
        "## Best designs\n\n" + (_table(data, data["front"]) if data["front"] else "No feasible design was found.\n"),
        "## Baselines (the experiment's systems as written)\n\n" + _baselines(data),
        "## Convergence\n\n![convergence](figures/convergence.png)\n",
    ]
    if len(data["objectives"]) > 1 or any("error" not in b for b in data["baselines"]):
        parts.append("## Designs against the baselines\n\n![front](figures/pareto.png)\n")
    return "\n".join(parts)


def _bound(constraint: Mapping[str, Any]) -> str:
    name = constraint["metric"] + (f" of {constraint['system']}" if constraint.get("system") else "")
    limits = [f"≤ {constraint['max']:g}" if "max" in constraint else "", f"≥ {constraint['min']:g}" if "min" in constraint else ""]
    return f"{name} {' and '.join(x for x in limits if x)}"


def _table(data: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> str:
    params = data["parameters"]
    columns = list(dict.fromkeys([o["column"] for o in data["objectives"]] + [
        "tokens_per_s", "energy_per_token_j", "area_mm2", "average_power_w"]))
    header = ["trial", *(p.split(".")[-1] for p in params), *columns]
    body = [[str(r["trial"]), *(f"{r[p]:.4g}" if isinstance(r[p], float) else str(r[p]) for p in params),
             *(f"{r[c]:.4g}" for c in columns)] for r in rows]
    return markdown_table(header, body)


def _baselines(data: Mapping[str, Any]) -> str:
    rows = data["baselines"]
    columns = ["tokens_per_s", "energy_per_token_j", "area_mm2", "average_power_w"]
    body = [[b["system"], *((f"{b[c]:.4g}" for c in columns) if "error" not in b else [b["error"], "", "", ""])]
            for b in rows]
    return markdown_table(["system", *columns], body)
