"""The Markdown comparison report: a summary table, ratios to the baseline,
serving latency percentiles, energy and area breakdowns, the slowest ops of each
system, and what each model does not capture (its notes, listed once per model
kind), so no limitation is hidden from the reader. The header says what was run:
the phase's own fields (a serving run's request stream, not a batch), and each
system's technology node and tensor-parallel group, with a note where they differ.
"""

from __future__ import annotations

import json

from simulator.results import ENERGY_CATEGORIES, ExperimentResult, SystemResult


def render_markdown(result: ExperimentResult) -> str:
    parts = [f"# {result.name}\n", _header(result), _systems_used(result), _devices(result.systems),
             _summary(result.systems), _serving(result.systems), _mapping_search(result.systems)]
    if result.baseline and any(s.name == result.baseline for s in result.systems):
        parts.append(_ratios(result))
    parts += [_energy(result.systems), _efficiency(result.systems), _area(result.systems), _top_ops(result.systems),
              _warnings(result.systems), _notes(result.systems, _workload_notes(result)), _failures(result)]
    return "\n".join(p for p in parts if p)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _g(value: float) -> str:
    return f"{value:.4g}"


def _header(result: ExperimentResult) -> str:
    if "merged_from" in result.experiment:
        runs = result.experiment["merged_from"]
        workloads = [e.get("workload", {}) for e in result.experiment.get("experiments", [])]
        described = [describe_workload(w) for w in workloads]
        text = f"xpusim {result.version}. Systems of the runs {', '.join(runs)}.\n"
        if len({json.dumps(w, sort_keys=True, default=str) for w in workloads}) > 1:
            text += ("\n**The merged runs ran different workloads** — ratios between them are not like-for-like:\n\n"
                     + "".join(f"- {run}: {what}\n" for run, what in zip(runs, described)))
        elif described:
            text += f"Workload (every run): {described[0]}.\n"
        return text
    return f"xpusim {result.version}, seed {result.seed}. Workload: {describe_workload(result.experiment.get('workload', {}))}.\n"


def describe_workload(workload) -> str:
    """The workload in words, with the fields its phase uses (a serving run has no single batch)."""
    ops = workload.get("ops") or []
    shapes = ", ".join(f"{o.get('name')} {o.get('M')}x{o.get('N')}x{o.get('K')}" for o in ops[:4])
    what = workload.get("model") or workload.get("trace") or \
        f"{len(ops)} explicit GEMMs ({shapes}{', ...' if len(ops) > 4 else ''})"
    if isinstance(what, dict):
        what = what.get("name", "inline model")
    phase = workload.get("phase")
    bits = f"weights {_num(workload.get('weight_bits'))} bit, activations {_num(workload.get('act_bits'))} bit"
    tp = f", tensor parallel {workload.get('tp')}" if workload.get("tp", 1) != 1 else ""
    if phase == "serving":
        serving = workload.get("serving") or {}
        source = (f"requests from {serving.get('csv')}" if serving.get("csv") else
                  f"Poisson arrivals at {_num(serving.get('rate_per_s'))}/s")
        return f"{what}, phase serving ({source}, max batch {serving.get('max_batch')}), {bits}{tp}"
    if workload.get("ops") is not None or workload.get("trace"):
        return f"{what}, {bits}" if workload.get("ops") is not None else str(what)
    lengths = _lengths(workload) if phase == "decode" else f"prompt {workload.get('seq_len')} tokens"
    return f"{what}, phase {phase}, batch {workload.get('batch')}, {lengths}, {bits}{tp}"


def _num(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def _lengths(workload) -> str:
    kv_lens = workload.get("kv_lens")
    if isinstance(kv_lens, list) and kv_lens:
        return (f"KV lengths per request {min(kv_lens)}..{max(kv_lens)} "
                f"(mean {sum(kv_lens) / len(kv_lens):.1f}, drawn with the seed)")
    return f"{workload.get('seq_len')} tokens in the KV cache"


# The largest single die, 26 mm x 33 mm exposure field: "area up to 858 mm²" for a system-on-chip in
# WaferLLM (shared/LUT_AND_WAFER.md, [WL] Table 1).
RETICLE_MM2 = 858


def _systems_used(result: ExperimentResult) -> str:
    """Each system's kind, arch and technology node; a note when nodes differ."""
    entries = result.experiment.get("systems") or []
    if not entries:
        return ""
    by_name = {s.name: s for s in result.systems}
    rows, nodes = [], {}
    for entry in entries:
        arch = entry.get("arch")
        resolved = entry.get("resolved_arch") or {}
        node = resolved.get("tech_node_nm")
        if node is None and isinstance(resolved.get("npu"), dict):  # a composite system's NPU
            node = resolved["npu"].get("tech_node_nm")
        nodes[entry["name"]] = node
        system = by_name.get(entry["name"])
        process = f"{node} nm" if node else (resolved.get("process_node") or "—")
        rows.append([entry["name"], resolved.get("kind", system.kind if system else ""),
                     arch if isinstance(arch, str) else "inline", process,
                     str(system.devices) if system else "—"])
    text = "## Systems\n\n" + markdown_table(["system", "kind", "arch", "node", "devices (tp)"], rows)
    over = [s for s in result.systems if s.area_mm2 > RETICLE_MM2 and s.kind != "wafer"]
    if over:
        text += ("\n" + ", ".join(f"{s.name} ({s.area_mm2:,.0f} mm²)" for s in over)
                 + f" {'is' if len(over) == 1 else 'are'} larger than one die can be (about {RETICLE_MM2} mm², the "
                 "lithography field): such a design would need several dies or a wafer.\n")
    distinct = sorted({n for n in nodes.values() if n})
    if len(distinct) > 1:
        text += (f"\nThe systems are modelled in different technology nodes ({', '.join(f'{n} nm' for n in distinct)}): "
                 "energy and area compare different processes, not only different designs.\n")
    return text


def _devices(systems: tuple[SystemResult, ...]) -> str:
    grouped = [s for s in systems if s.devices > 1]
    if not grouped:
        return ""
    which = ", ".join(f"{s.name} (one of {s.devices})" for s in grouped)
    return (f"Tensor-parallel systems: {which}. For these, cycles, energy, power and area are one device's; "
            "tokens/s is the whole group's, so energy per token is one device's share (multiply by the group "
            "size for the group's).\n")


def _serving(systems: tuple[SystemResult, ...]) -> str:
    serving = [s for s in systems if s.serving]
    if not serving:
        return ""
    header = ["system", "requests", "output tokens/s"] + [f"{name} p{p} (ms)" for name in ("TTFT", "TPOT", "E2E")
                                                         for p in (50, 90, 99)]
    rows = [[s.name, str(s.serving.get("requests")), _g(s.serving.get("output_tokens_per_s") or 0.0)]
            + [_ms(s.serving, key, p) for key in ("ttft_s", "tpot_s", "e2e_s") for p in (50, 90, 99)]
            for s in serving]
    return "## Serving latency\n\n" + markdown_table(header, rows)


def _mapping_search(systems: tuple[SystemResult, ...]) -> str:
    searched = [s for s in systems if s.mapping_search]
    if not searched:
        return ""
    rows = [[s.name, m["objective"], str(m["cycles"]), str(m["fixed_mapping_cycles"]),
             _g(m["fixed_mapping_cycles"] / m["cycles"]) if m["cycles"] else "", _g(m["energy_j"] * 1e3),
             _g(m["fixed_mapping_energy_j"] * 1e3)]
            for s in searched for m in [s.mapping_search]]
    header = ["system", "objective", "cycles (searched)", "cycles (fixed mapping)", "speed-up",
              "energy mJ (searched)", "energy mJ (fixed)"]
    return ("## Mapping search\n\nEach op's mapping searched (ops.csv `mapping` column) against the fixed "
            "default mapping.\n\n" + markdown_table(header, rows))


def _ms(serving, key: str, percentile: int) -> str:
    value = (serving.get(key) or {}).get(f"p{percentile}")
    return "—" if value is None else _g(value * 1e3)


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


def _notes(systems: tuple[SystemResult, ...], extra: str = "") -> str:
    """Each model kind's notes once, naming the systems of that kind (and which ones, if not all)."""
    out = []
    for kind in dict.fromkeys(s.kind for s in systems):
        mine = [s for s in systems if s.kind == kind]
        notes = list(dict.fromkeys(note for s in mine for note in s.notes))
        if not notes:
            continue
        lines = []
        for note in notes:
            having = [s.name for s in mine if note in s.notes]
            only = f" ({', '.join(having)} only)" if len(having) < len(mine) else ""
            lines.append(f"- {note}{only}")
        out.append(f"**{kind}** ({', '.join(s.name for s in mine)}):\n\n" + "\n".join(lines) + "\n")
    return "## What the models do not capture\n\n" + "\n".join(out) + extra if out or extra else ""


def _workload_notes(result: ExperimentResult) -> str:
    """What the workload leaves out, for a model workload (every system alike)."""
    workloads = [result.experiment.get("workload", {})] + [e.get("workload", {}) for e in
                                                           result.experiment.get("experiments", [])]
    if not any(w.get("model") for w in workloads):
        return ""
    return ("\n**workload** (every system): the embedding lookup and the LM head (final norm and the hidden x vocab "
            "projection, once per step after the last layer) are not simulated; the step is the decoder layers only.\n")


def _failures(result: ExperimentResult) -> str:
    if not result.failures:
        return ""
    lines = [f"- **{f.system}**: {f.message}" for f in result.failures]
    return "## Systems that could not be run\n\n" + "\n".join(lines) + "\n"
