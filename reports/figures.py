"""Comparison figures (PNG) for one experiment and for a sweep.

Each function draws one figure with matplotlib's non-interactive Agg backend and
returns its PNG bytes, so the same figure can be written to ``figures/*.png``
and embedded in ``report.html``. Output is deterministic: no timestamps or
software tags are written into the files, so equal results give equal bytes.

Figures of a run: step time per system, energy per token by category, area by
component, a roofline view of each system's ops (achieved FLOP/s against
arithmetic intensity, with the system's peak), and a timeline of the simulated layer block per
unit, each op coloured by its name, so one unit running op after op shows each op. Figures of a sweep: the energy-per-token against tokens/s plane with each
system's Pareto front.
"""

from __future__ import annotations

import io
import math
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib import colors  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullLocator  # noqa: E402

from reports.forked import draw_all  # noqa: E402
from reports.pareto import pareto_front  # noqa: E402  (kept importable from here)
from simulator.results import ENERGY_CATEGORIES, ExperimentResult, SystemResult  # noqa: E402

_PNG_METADATA = {"Software": None}
_DPI = 110
_MAX_GANTT_TASKS = 400


def run_figures(result: ExperimentResult, names: Sequence[str] | None = None) -> dict[str, bytes]:
    """Every figure of a run (or those of ``names``), by file name; an empty dict when no system ran.
    They are drawn on two cores where the process may fork (:mod:`reports.forked`)."""
    names = run_figure_names(result) if names is None else list(names)
    return draw_all({name: (lambda name=name: RUN_FIGURES[name](result)) for name in names}, names)


def run_figure_names(result: ExperimentResult) -> list[str]:
    """The file names of the figures a run has, in the order they are written."""
    if not result.systems:
        return []
    names = ["time.png", "energy.png", "area.png", "roofline.png"]
    if any(result.timelines.get(s.name) for s in result.systems):
        names.append("timeline.png")
    return names


def _log_axes(ax) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(FuncFormatter(_decade))
        axis.set_minor_locator(NullLocator())  # minor ticks: hundreds of tick objects laid out for no label


_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def _decade(value: float, _position=None) -> str:
    """A log-axis tick label, ``10³``, in plain text: matplotlib's default ``$10^{3}$`` goes through its
    TeX-like parser, which took most of a log figure's drawing time."""
    if value <= 0:
        return ""
    exponent = round(math.log10(value))
    if not math.isclose(value, 10.0 ** exponent, rel_tol=1e-6):
        return ""
    return "10" + str(exponent).translate(_SUPERSCRIPT)


def _png(fig, tight: bool = True) -> bytes:
    """PNG bytes; ``tight`` crops the figure to its contents, which costs a second drawing pass (a figure
    placed by hand is saved as placed)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI, bbox_inches="tight" if tight else None, metadata=_PNG_METADATA)
    plt.close(fig)
    return buffer.getvalue()


def _value(number: float) -> str:
    """A bar label: three significant digits, whole numbers from 100 up (``1,757`` rather than ``1.76e+03``)."""
    return f"{number:,.0f}" if abs(number) >= 100 else f"{number:.3g}"


def _names(systems: Sequence[SystemResult]) -> list[str]:
    return [s.name for s in systems]


def step_time(systems: Sequence[SystemResult]) -> bytes:
    fig, ax = plt.subplots(figsize=(1.4 + 0.9 * len(systems), 3.2))
    bars = ax.bar(_names(systems), [s.seconds * 1e3 for s in systems], color="tab:blue")
    ax.bar_label(bars, labels=[f"{_value(s.seconds * 1e3)} ms" for s in systems], fontsize="x-small", padding=2)
    ax.margins(y=0.12)
    ax.set_ylabel("time per step (ms)")
    ax.set_title("Simulated time")
    ax.tick_params(axis="x", labelrotation=30)
    return _png(fig)


def energy_per_token(systems: Sequence[SystemResult]) -> bytes:
    layers = {category: [s.energy_pj_by_category.get(category, 0.0) * 1e-9 / max(s.tokens, 1) for s in systems]
              for category in ENERGY_CATEGORIES}
    return _stacked_bars(systems, layers, "energy per token (mJ)", "Energy by category")


def area_by_component(systems: Sequence[SystemResult]) -> bytes:
    components = sorted({c for s in systems for c in s.area_mm2_by_component})
    layers = {c: [s.area_mm2_by_component.get(c, 0.0) for s in systems] for c in components}
    return _stacked_bars(systems, layers, "area (mm²)", "Area by component")


def _stacked_bars(systems: Sequence[SystemResult], layers: Mapping[str, list[float]], ylabel: str,
                  title: str) -> bytes:
    """One bar per system, stacked by ``layers`` (label -> one value per system); all-zero layers omitted."""
    fig, ax = plt.subplots(figsize=(1.8 + 0.9 * len(systems), 3.4))
    bottom = [0.0] * len(systems)
    for label, values in layers.items():
        if any(values):
            ax.bar(_names(systems), values, bottom=bottom, label=label)
            bottom = [b + v for b, v in zip(bottom, values)]
    unit = ylabel[ylabel.rfind("(") + 1:-1] if ylabel.endswith(")") else ""
    for x, total in enumerate(bottom):  # the total on top of each bar, with its unit
        ax.annotate(f"{_value(total)} {unit}", (x, total), ha="center", va="bottom", fontsize="x-small",
                    xytext=(0, 2), textcoords="offset points")
    ax.margins(y=0.12)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.tick_params(axis="x", labelrotation=30)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _png(fig)


def roofline(systems: Sequence[SystemResult]) -> bytes:
    """Each op at (FLOPs per byte moved, achieved FLOP/s) under its system's roof: the compute peak
    (flat) and each DRAM-kind memory's bandwidth (the slope), labelled with their values."""
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    points_by = {s.name: [(op.flops / (op.read_bytes + op.write_bytes), op.flops / (op.total_cycles / s.clock_hz))
                          for op in s.ops if op.flops and op.total_cycles and op.read_bytes + op.write_bytes]
                 for s in systems}
    xs = [x for points in points_by.values() for x, _ in points] or [1.0]
    knees = [2 * s.peak_macs_per_cycle * s.clock_hz / bw for s in systems for _, bw in _dram_bandwidths(s)]
    span = (min(xs) / 4, max([max(xs) * 4] + [2 * k for k in knees if k > 0]))
    for index, system in enumerate(systems):
        color = f"C{index % 10}"
        peak = 2 * system.peak_macs_per_cycle * system.clock_hz
        points = points_by[system.name]
        if points:
            ax.scatter(*zip(*points), s=14, color=color, alpha=0.8)
        for name, bandwidth in _dram_bandwidths(system):
            knee = peak / bandwidth if peak else span[1]
            line_x = [span[0], max(span[0], min(knee, span[1]))] + ([span[1]] if knee < span[1] else [])
            ax.plot(line_x, [min(peak or float("inf"), bandwidth * x) for x in line_x], color=color,
                    linestyle="--", linewidth=0.9, label=f"{system.name}: {name} {bandwidth / 1e12:.3g} TB/s, "
                                                         f"peak {peak / 1e12:.3g} TFLOP/s")
        if peak and not _dram_bandwidths(system):
            ax.axhline(peak, color=color, linestyle="--", linewidth=0.8,
                       label=f"{system.name}: peak {peak / 1e12:.3g} TFLOP/s")
    _log_axes(ax)
    ax.set_xlabel("arithmetic intensity (FLOP per byte moved)")
    ax.set_ylabel("achieved FLOP/s")
    ax.set_title("Ops under each system's roof (dashed: memory bandwidth slope, then compute peak)")
    if any(s.ops for s in systems):
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _png(fig)


def _dram_bandwidths(system: SystemResult) -> list[tuple[str, float]]:
    """(name, bytes/s) of the system's DRAM-kind memories (its roofline slopes), widest first."""
    found = [(name, float(m["bandwidth_bytes_per_s"])) for name, m in system.memories.items()
             if m.get("kind") == "dram" and m.get("bandwidth_bytes_per_s")]
    return sorted(found, key=lambda item: -item[1])


_GANTT_WIDTH_IN = 8.0
_GANTT_TITLE_IN = 0.28  # above each axes: its title
_GANTT_TICKS_IN = 0.26  # below each axes: its tick labels
_GANTT_LEGEND_ROW_IN = 0.17
_GANTT_LEGEND_COLUMNS = 6
_TICK_CHAR_IN = 0.058  # width of one x-small (6.9 pt) tick-label character, with room to spare


def layer_timeline(result: ExperimentResult) -> bytes:
    """One layer per system: a bar per task on its unit instance (the first tasks if there are many).

    The axes are placed by hand from the label lengths and row counts (in inches): a layout engine
    measures every text twice and took most of this figure's drawing time."""
    systems = [s for s in result.systems if result.timelines.get(s.name)]
    families = list(dict.fromkeys(op_family(e.task) for s in systems
                                  for e in sorted(result.timelines[s.name], key=lambda e: (e.start, e.task))))
    palette = plt.get_cmap("tab20")
    colour_of = {name: palette(i % 20) for i, name in enumerate(families)}  # first come, first coloured
    rows_of = [_gantt_rows({e.unit for e in result.timelines[s.name]}) for s in systems]
    heights = [0.5 + 0.16 * len(set(rows.values())) for rows in rows_of]  # every unit row readable
    legend_in = 0.25 + _GANTT_LEGEND_ROW_IN * math.ceil(min(len(families), 24) / _GANTT_LEGEND_COLUMNS)
    total_in = sum(heights) + len(systems) * (_GANTT_TITLE_IN + _GANTT_TICKS_IN) + 0.2 + legend_in
    left_in = 0.2 + _TICK_CHAR_IN * max(len(label) for rows in rows_of for label in rows.values())
    fig = plt.figure(figsize=(_GANTT_WIDTH_IN, total_in))
    top_in = 0.0
    for system, rows_here, height in zip(systems, rows_of, heights):
        top_in += _GANTT_TITLE_IN
        ax = fig.add_axes((left_in / _GANTT_WIDTH_IN, 1 - (top_in + height) / total_in,
                           1 - (left_in + 0.15) / _GANTT_WIDTH_IN, height / total_in))
        top_in += height + _GANTT_TICKS_IN
        _gantt_axes(ax, system, result.timelines[system.name], rows_here, colour_of)
    ax.set_xlabel("time (µs)", labelpad=2)
    handles = [Patch(color=colour_of[name], label=name) for name in families[:24]]
    fig.legend(handles=handles, loc="lower center", ncol=_GANTT_LEGEND_COLUMNS, fontsize="x-small",
               frameon=False, bbox_to_anchor=(0.5, 0.05 / total_in))
    return _png(fig, tight=False)


def _gantt_axes(ax, system: SystemResult, timeline, row_of: Mapping[str, str], colour_of) -> None:
    """One system's bars: its first tasks, one collection (hundreds of separate bars draw many times slower)."""
    events = sorted(timeline, key=lambda e: (e.start, e.task))[:_MAX_GANTT_TASKS]
    labels = sorted(set(row_of.values()))
    rows = {label: i for i, label in enumerate(labels)}
    us_per_cycle = 1e6 / system.clock_hz
    boxes, faces = [], []
    for event in events:
        x0, width = event.start * us_per_cycle, max(event.end - event.start, 1) * us_per_cycle
        y0 = rows[row_of[event.unit]] - 0.4
        boxes.append(((x0, y0), (x0, y0 + 0.8), (x0 + width, y0 + 0.8), (x0 + width, y0)))
        faces.append(colors.to_rgba(colour_of[op_family(event.task)], 0.6 if row_of[event.unit] != event.unit else 1.0))
    ax.add_collection(PolyCollection(boxes, facecolors=faces, edgecolors="white", linewidths=0.3))
    ax.autoscale_view()
    ax.set_yticks(range(len(labels)), labels, fontsize="x-small")
    ax.tick_params(axis="x", labelsize="small")
    ax.set_title(f"{system.name}: the simulated block of layers (run {system.repeat} times)", fontsize="small")


def _gantt_rows(units: set[str], most: int = 16) -> dict[str, str]:
    """A row label per unit instance: the instance itself, or its unit type (``pim[*]``) when rows would crowd."""
    if len(units) <= most:
        return {unit: unit for unit in units}
    return {unit: unit.split("[")[0] + "[*]" for unit in units}


def op_family(task: str) -> str:
    """The op a task belongs to, for its colour: ``sb0.l1.ffn_gate#3`` -> ``ffn_gate``."""
    return task.split("#")[0].rsplit(".", 1)[-1]


def hash_unit(unit: str) -> int:
    """A stable colour index per unit type (``array[3]`` and ``array[0]`` share one)."""
    return sum(map(ord, unit.split("[")[0]))


def sweep_pareto(rows: Sequence[Mapping]) -> bytes:
    """Energy per token against tokens/s for every sweep row; lines join each system's Pareto front."""
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    simulated = [row for row in rows if "error" not in row and "tokens_per_s" in row]
    ranked = [row for row in simulated if row.get("fits", True) not in (False, "False")]
    systems = sorted({row["system"] for row in ranked})
    for index, name in enumerate(systems):
        points = [(row["tokens_per_s"], row["energy_per_token_j"] * 1e3) for row in ranked if row["system"] == name]
        ax.scatter(*zip(*points), s=16, color=f"C{index % 10}", label=name, alpha=0.7)
        front = pareto_front(points)
        ax.plot(*zip(*front), color=f"C{index % 10}", linewidth=1.0)
    unfit = [(row["tokens_per_s"], row["energy_per_token_j"] * 1e3) for row in simulated if row not in ranked]
    if unfit:
        ax.scatter(*zip(*unfit), s=20, marker="x", color="0.6", label="does not fit (not ranked)")
    _log_axes(ax)
    ax.set_xlabel("throughput (tokens/s)")
    ax.set_ylabel("energy per token (mJ)")
    ax.set_title("Sweep: throughput against energy (lines: Pareto fronts)")
    if systems or unfit:
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _png(fig)


RUN_FIGURES = {  # file name -> the function drawing it from a run's result
    "time.png": lambda result: step_time(result.systems),
    "energy.png": lambda result: energy_per_token(result.systems),
    "area.png": lambda result: area_by_component(result.systems),
    "roofline.png": lambda result: roofline(result.systems),
    "timeline.png": layer_timeline,
}
