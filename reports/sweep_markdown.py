"""The Markdown report of a sweep: per system, its best points and its Pareto front.

A sweep row (:func:`simulator.sweep.sweep_rows`) holds the grid values of one
point and one system's headline figures. The report lists, per model and phase swept (each ranked on its own) and per
system, the point
with the highest throughput, the point with the lowest energy per token, and
every point on the throughput/energy Pareto front, among the points whose
weights and KV cache fit the system's DRAM (``fits``): a design that does not fit
is listed on its own and never ranked. Failed points are listed with their
messages. ``sweep.csv`` keeps every row.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from reports.pareto import pareto_front
from reports.markdown import markdown_table

# Grid keys that change what is being run (not its operating point): each value is ranked on its own.
WORKLOAD_IDENTITY = ("workload.model", "workload.phase", "workload.trace", "workload.ops")
_FIGURES = ("tokens_per_s", "energy_per_token_j", "seconds", "area_mm2", "utilisation")


def render_sweep_markdown(title: str, rows: Sequence[Mapping[str, Any]]) -> str:
    failed = [row for row in rows if "error" in row]
    ranked = [row for row in rows if fits(row) and "error" not in row]
    keys = _grid_keys(rows)
    unfit = [row for row in rows if not fits(row)]
    parts = [f"# {title}: sweep\n",
             f"{len({row['point'] for row in rows})} points, {len(rows)} rows, {len(failed)} failed, "
             f"{len(unfit)} do not fit the DRAM (not ranked). Grid: {', '.join(keys) or 'none'}.\n"]
    workload_keys = [k for k in keys if k in WORKLOAD_IDENTITY]
    groups = list(dict.fromkeys(tuple(row.get(k) for k in workload_keys) for row in rows))
    if len(groups) > 1:
        parts.append("Points with different models or phases are ranked separately: a faster point on a "
                     "smaller model is not a better design.\n")
    for group in groups:
        members = [row for row in rows if tuple(row.get(k) for k in workload_keys) == group]
        level = "##"
        if len(groups) > 1:
            parts.append("## Workload " + ", ".join(f"{k}={v!r}" for k, v in zip(workload_keys, group)) + "\n")
            level = "###"
        for system in sorted({row["system"] for row in members if "error" not in row}):
            mine = [row for row in members if row in ranked and row["system"] == system]
            parts.append(_system_section(system, mine, keys, level) if mine else
                         f"{level} {system}\n\nNo point fits this system's DRAM: nothing to rank.\n")
    parts.append(side_by_side(rows, keys))
    parts.append(_unfit(unfit, keys))
    parts.append(_warned([row for row in rows if fits(row)], keys))
    parts.append(_failures(rows, keys))
    return "\n".join(p for p in parts if p)


def _grid_keys(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    fixed = {"point", "system", "error", "warnings", "fits", "capacity", *_FIGURES, "cycles", "energy_j"}
    keys: list[str] = []
    for row in rows:
        keys += [key for key in row if key not in fixed and key not in keys]
    return keys


def _system_section(system: str, rows: list[Mapping[str, Any]], keys: list[str], level: str = "##") -> str:
    fastest = max(rows, key=lambda r: (r["tokens_per_s"], -r["point"]))
    leanest = min(rows, key=lambda r: (r["energy_per_token_j"], r["point"]))
    front = set(pareto_front([(r["tokens_per_s"], r["energy_per_token_j"]) for r in rows]))
    on_front = [r for r in rows if (r["tokens_per_s"], r["energy_per_token_j"]) in front]
    header = ["", "point", *keys, "tokens/s", "mJ/token", "time (ms)", "area (mm²)", "utilisation"]
    table = [_row("highest throughput", fastest, keys), _row("lowest energy", leanest, keys)]
    table += [_row("Pareto front", row, keys) for row in sorted(on_front, key=lambda r: r["tokens_per_s"])]
    return f"{level} {system}\n\n" + markdown_table(header, table)


def side_by_side(rows: Sequence[Mapping[str, Any]], keys: list[str], most: int = 100) -> str:
    """One line per point, each system's tokens/s in its own column (the first ``most`` points)."""
    systems = list(dict.fromkeys(row["system"] for row in rows))
    points = list(dict.fromkeys(row["point"] for row in rows))
    cells = {(row["point"], row["system"]): _cell(row) for row in rows}
    values = {row["point"]: row for row in rows}
    table = [[str(p), *(str(values[p].get(k, "")) for k in keys), *(cells.get((p, s), "") for s in systems)]
             for p in points[:most]]
    more = f"\nThe first {most} of {len(points)} points; sweep.csv has every row.\n" if len(points) > most else ""
    return ("## Systems side by side (tokens/s)\n\n"
            + markdown_table(["point", *keys, *systems], table) + more)


def _cell(row: Mapping[str, Any]) -> str:
    if "error" in row:
        return "failed"
    if "tokens_per_s" not in row:
        return "does not fit"
    return f"{row['tokens_per_s']:.4g}" + ("" if fits(row) else " (does not fit)")


def _row(label: str, row: Mapping[str, Any], keys: list[str]) -> list[str]:
    return [label, str(row["point"]), *(str(row.get(k, "")) for k in keys), f"{row['tokens_per_s']:.4g}",
            f"{row['energy_per_token_j'] * 1e3:.4g}", f"{row['seconds'] * 1e3:.4g}", f"{row['area_mm2']:.4g}",
            f"{row['utilisation']:.1%}"]


def fits(row: Mapping[str, Any]) -> bool:
    """Whether a sweep row's design holds its weights and KV cache (rows from before ``fits`` existed: yes)."""
    return row.get("fits", True) not in (False, "False")


def _unfit(rows: Sequence[Mapping[str, Any]], keys: list[str]) -> str:
    if not rows:
        return ""
    lines = [f"- point {row['point']} ({', '.join(f'{k}={row.get(k)!r}' for k in keys)}), "
             f"**{row['system']}**: {row.get('capacity') or row.get('warnings', '')}" for row in rows]
    return "## Points that do not fit (not ranked)\n\n" + "\n".join(lines) + "\n"


def _warned(rows: Sequence[Mapping[str, Any]], keys: list[str]) -> str:
    warned = [row for row in rows if row.get("warnings")]
    if not warned:
        return ""
    lines = [f"- point {row['point']} ({', '.join(f'{k}={row.get(k)!r}' for k in keys)}), "
             f"**{row['system']}**: {row['warnings']}" for row in warned]
    return "## Points with warnings\n\n" + "\n".join(lines) + "\n"


def _failures(rows: Sequence[Mapping[str, Any]], keys: list[str]) -> str:
    failed = [row for row in rows if "error" in row]
    if not failed:
        return ""
    lines = [f"- point {row['point']} ({', '.join(f'{k}={row.get(k)!r}' for k in keys)}), "
             f"**{row['system']}**: {row['error']}" for row in failed]
    return "## Points that could not be run\n\n" + "\n".join(lines) + "\n"

