"""The Markdown comparison report: a summary table, ratios to the baseline,
energy and area breakdowns, the slowest ops of each system, and what each model
does not capture (its notes), so no limitation is hidden from the reader.
"""

from __future__ import annotations

from simulator.results import ENERGY_CATEGORIES, ExperimentResult, SystemResult


def render_markdown(result: ExperimentResult) -> str:
    parts = [f"# {result.name}\n", _header(result), _devices(result.systems), _summary(result.systems)]
    if result.baseline and any(s.name == result.baseline for s in result.systems):
        parts.append(_ratios(result))
    parts += [_energy(result.systems), _efficiency(result.systems), _area(result.systems), _top_ops(result.systems),
              _warnings(result.systems), _notes(result.systems), _failures(result)]
    return "\n".join(p for p in parts if p)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _g(value: float) -> str:
    return f"{value:.4g}"


def _header(result: ExperimentResult) -> str:
    if "merged_from" in result.experiment:
        return f"xpusim {result.version}. Systems of the runs {', '.join(result.experiment['merged_from'])}.\n"
    workload = result.experiment.get("workload", {})
    what = workload.get("model") or workload.get("trace") or f"{len(workload.get('ops') or [])} explicit ops"
    return (f"xpusim {result.version}, seed {result.seed}. Workload: {what}, "
            f"phase {workload.get('phase')}, batch {workload.get('batch')}, {_lengths(workload)}.\n")


def _lengths(workload) -> str:
    kv_lens = workload.get("kv_lens")
    if isinstance(kv_lens, list) and kv_lens:
        return (f"KV lengths per request {min(kv_lens)}..{max(kv_lens)} "
                f"(mean {sum(kv_lens) / len(kv_lens):.1f}, drawn with the seed)")
    return f"seq_len {workload.get('seq_len')}"


def _devices(systems: tuple[SystemResult, ...]) -> str:
    groups = sorted({s.devices for s in systems if s.devices > 1})
    if not groups:
        return ""
    return (f"Each system is one of {' or '.join(map(str, groups))} tensor-parallel devices: cycles, energy, "
            "power and area are one device's; tokens/s is the whole group's, so energy per token here is one "
            "device's share (multiply by the group size for the group's).\n")


def _summary(systems: tuple[SystemResult, ...]) -> str:
    rows = [[s.name, s.kind, str(s.cycles), _g(s.seconds * 1e3), _g(s.tokens_per_s), _g(s.energy_j * 1e3),
             _g(s.energy_per_token_j * 1e3), _g(s.average_power_w), _g(s.area_mm2), f"{s.utilisation:.1%}"]
            for s in systems]
    header = ["system", "kind", "cycles", "time (ms)", "tokens/s", "energy (mJ)", "mJ/token",
              "power (W)", "area (mm²)", "MAC utilisation"]
    return "## Summary\n\n" + markdown_table(header, rows)


def _ratios(result: ExperimentResult) -> str:
    base = result.system(result.baseline)
    rows = [[s.name, _g(base.seconds / s.seconds), _g(base.energy_j / s.energy_j if s.energy_j else 0.0),
             _g(s.area_mm2 / base.area_mm2 if base.area_mm2 else 0.0)] for s in result.systems]
    return (f"## Relative to {base.name}\n\n"
            + markdown_table(["system", "speed-up", "energy efficiency", "area ratio"], rows))


def _energy(systems: tuple[SystemResult, ...]) -> str:
    rows = [[s.name] + [_g(s.energy_pj_by_category.get(c, 0.0) * 1e-9) for c in ENERGY_CATEGORIES]
            for s in systems]
    return "## Energy by category (mJ)\n\n" + markdown_table(["system", *ENERGY_CATEGORIES], rows)


def _efficiency(systems: tuple[SystemResult, ...]) -> str:
    rows = [[s.name, _g(s.achieved_tops), _g(s.tops_per_w), _g(s.tops_per_mm2)] for s in systems]
    return "## Delivered efficiency\n\n" + markdown_table(["system", "TOPS", "TOPS/W", "TOPS/mm²"], rows)


def _area(systems: tuple[SystemResult, ...]) -> str:
    out = ["## Area by component (mm²)\n"]
    for s in systems:
        rows = [[name, _g(mm2)] for name, mm2 in sorted(s.area_mm2_by_component.items())]
        out.append(f"**{s.name}** (total {_g(s.area_mm2)} mm²)\n\n" + markdown_table(["component", "mm²"], rows))
    return "\n".join(out)


def _top_ops(systems: tuple[SystemResult, ...], count: int = 5) -> str:
    out = [f"## Slowest ops per layer (top {count})\n"]
    for s in systems:
        ops = sorted(s.ops, key=lambda o: (-o.total_cycles, o.name))[:count]
        rows = [[o.name, o.unit, str(o.compute_cycles), str(o.stall_cycles), str(o.total_cycles), o.bound]
                for o in ops]
        out.append(f"**{s.name}**\n\n" + markdown_table(["op", "unit", "compute", "stall", "total", "bound"], rows))
    return "\n".join(out)


def _warnings(systems: tuple[SystemResult, ...]) -> str:
    lines = [f"- **{s.name}** ({s.kind}): {warning}" for s in systems for warning in s.warnings]
    return "## Warnings\n\n" + "\n".join(lines) + "\n" if lines else ""


def _notes(systems: tuple[SystemResult, ...]) -> str:
    lines = [f"- **{s.name}** ({s.kind}): {note}" for s in systems for note in s.notes]
    return "## What the models do not capture\n\n" + "\n".join(lines) + "\n" if lines else ""


def _failures(result: ExperimentResult) -> str:
    if not result.failures:
        return ""
    lines = [f"- **{f.system}**: {f.message}" for f in result.failures]
    return "## Systems that could not be run\n\n" + "\n".join(lines) + "\n"
