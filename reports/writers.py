"""Writing an experiment's results to disk (DESIGN.md, "Results on disk").

``write_all`` writes ``results.json``, ``summary.csv``, ``ops.csv``,
``timeline.json`` (Chrome trace-event format, opens in Perfetto), ``report.md``,
``report.html`` (self-contained, figures embedded) and ``figures/*.png`` into one
folder; a sweep gets ``sweep.csv``, ``sweep.json``, its own ``report.md`` /
``report.html`` and ``figures/pareto.png``. Output is deterministic: the same result gives
byte-identical files (keys sorted, floats printed with ``repr``, no timestamps).
Every file is written atomically (a temporary file renamed over it,
:mod:`reports.atomic`), and figures an earlier run left in
``figures/`` that this result does not have are removed.
This is the ``standard`` writer registered under the ``xpusim.writers`` entry
point, which is how the CLI finds it. With ``figures=False`` (``--no-figures``) no PNG is
drawn: ``report.html`` is written without figures and earlier figures are removed, so the
folder never holds figures of another result. matplotlib is imported only to draw figures.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from reports import forked
from reports.atomic import remove_stale, write_bytes_atomic, write_text_atomic
from reports.html import render_html
from reports.markdown import render_markdown
from reports.sweep_markdown import render_sweep_markdown
from simulator.results import ExperimentResult

SUMMARY_COLUMNS = (
    "system", "kind", "cycles", "seconds", "tokens_per_s", "energy_j", "energy_per_token_j",
    "average_power_w", "area_mm2", "utilisation", "tops_per_w", "tops_per_mm2",
)
OPS_COLUMNS = (
    "system", "name", "kind", "unit", "start_cycle", "end_cycle", "compute_cycles", "stall_cycles",
    "total_cycles", "macs", "flops", "read_bytes", "write_bytes", "energy_pj", "bound", "utilisation", "mapping",
    "dram_efficiency", "dram_bandwidth_bytes_per_s",
)


def write_all(result: ExperimentResult, out_dir: str | Path, *, figures: bool = True) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [
        write_json(result, out / "results.json"),
        write_summary_csv(result, out / "summary.csv"),
        write_ops_csv(result, out / "ops.csv"),
        write_timeline(result, out / "timeline.json"),
        write_markdown(result, out / "report.md"),
    ]
    return written + write_report_with_figures(result.name, render_markdown(result),
                                               _run_figures(result) if figures else {}, out)


def _run_figures(result: ExperimentResult) -> dict[str, bytes]:
    drawn = forked.draw_prestarted(result)
    if drawn is not None:
        return drawn
    from reports.figures import run_figures  # matplotlib: imported only when figures are drawn

    return run_figures(result)


def prepare(figures: bool):
    """Called by ``xpusim run`` before it simulates: with figures to draw, a child forked now imports
    matplotlib meanwhile (:func:`reports.forked.prestart`). Returns what ends that child if it is not used."""
    if figures:
        forked.prestart()
    return forked.discard_prestarted


def warm() -> None:
    """Import the plotting library now: for a process that forks each run (``xpusim server``), so that no run
    imports it again."""
    import reports.figures  # noqa: F401


write_all.prepare = prepare  # the hook the CLI looks for on a writer (optional for other writers)
write_all.warm = warm  # the hook the server looks for (optional)


def write_report_with_figures(title: str, markdown_text: str, figures: dict[str, bytes], out: Path) -> list[Path]:
    """``figures/*.png`` and ``report.html`` (the Markdown text with the figures embedded)."""
    written = []
    if figures:
        (out / "figures").mkdir(exist_ok=True)
    remove_stale(out / "figures", figures)
    for name, png in figures.items():
        written.append(write_bytes_atomic(out / "figures" / name, png))
    html_path = write_text_atomic(out / "report.html", render_html(title, markdown_text, figures))
    return written + [html_path]


def write_json(result: ExperimentResult, path: Path) -> Path:
    return write_text_atomic(path, json.dumps(result.to_dict(), indent=2, sort_keys=True) + "\n")


# Serving runs add their latency percentiles (seconds) to summary.csv.
SERVING_COLUMNS = tuple(f"{name}_p{p}_s" for name in ("ttft", "tpot", "e2e") for p in (50, 90, 99))


def write_summary_csv(result: ExperimentResult, path: Path) -> Path:
    serving = any(system.serving for system in result.systems)
    columns = SUMMARY_COLUMNS + (SERVING_COLUMNS if serving else ())
    rows = ([system.name] + [system.to_dict()[c] for c in SUMMARY_COLUMNS[1:]]
            + (serving_percentiles(system.serving) if serving else []) for system in result.systems)
    return _write_csv(path, columns, rows)


def serving_percentiles(serving) -> list:
    """TTFT, TPOT and end-to-end p50/p90/p99 in seconds (empty cells for a system without serving)."""
    serving = serving or {}
    return [(serving.get(f"{name}_s") or {}).get(f"p{p}", "") for name in ("ttft", "tpot", "e2e")
            for p in (50, 90, 99)]


def write_ops_csv(result: ExperimentResult, path: Path) -> Path:
    rows = ([system.name] + [op.to_dict()[c] for c in OPS_COLUMNS[1:]]
            for system in result.systems for op in system.ops)
    return _write_csv(path, OPS_COLUMNS, rows)


def _write_csv(path: Path, columns: tuple[str, ...], rows) -> Path:
    handle = io.StringIO(newline="")
    writer = csv.writer(handle)
    writer.writerow(columns)
    writer.writerows(rows)
    return write_text_atomic(path, handle.getvalue())


def timeline_events(result: ExperimentResult) -> list[dict]:
    """Chrome trace events: one process per system, one thread per unit, times in us."""
    events = []
    for pid, system in enumerate(result.systems, start=1):
        events.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0,
                       "args": {"name": f"{system.name} ({system.kind}), simulated layer block x{system.repeat}"}})
        units = sorted({e.unit for e in result.timelines.get(system.name, ())})
        tids = {unit: i for i, unit in enumerate(units, start=1)}
        for unit, tid in tids.items():
            events.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": {"name": unit}})
        us_per_cycle = 1e6 / system.clock_hz
        for e in result.timelines.get(system.name, ()):
            events.append({
                "ph": "X", "name": e.task, "pid": pid, "tid": tids[e.unit],
                "ts": e.start * us_per_cycle, "dur": (e.end - e.start) * us_per_cycle,
                "args": {"compute_cycles": e.compute_cycles, "stall_cycles": e.stall_cycles},
            })
    return events


def write_timeline(result: ExperimentResult, path: Path) -> Path:
    trace = {"traceEvents": timeline_events(result), "displayTimeUnit": "ns"}
    return write_text_atomic(path, json.dumps(trace, sort_keys=True) + "\n")


def write_markdown(result: ExperimentResult, path: Path) -> Path:
    return write_text_atomic(path, render_markdown(result))


def write_sweep(rows: list[dict], out_dir: str | Path, *, figures: bool = True) -> list[Path]:
    """``sweep.csv`` (one row per point and system), the same rows as ``sweep.json``, and the sweep report."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    handle = io.StringIO(newline="")
    writer = csv.DictWriter(handle, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(out / "sweep.csv", handle.getvalue())
    write_text_atomic(out / "sweep.json", json.dumps(rows, indent=1, sort_keys=True) + "\n")
    text = render_sweep_markdown(out.name, rows)
    write_text_atomic(out / "report.md", text)
    drawn = {"pareto.png": _sweep_pareto(rows)} if figures and any("tokens_per_s" in row for row in rows) else {}
    return [out / "sweep.csv", out / "sweep.json", out / "report.md",
            *write_report_with_figures(out.name, text, drawn, out)]


def _sweep_pareto(rows: list[dict]) -> bytes:
    from reports.figures import sweep_pareto  # matplotlib: imported only when figures are drawn

    return sweep_pareto(rows)
