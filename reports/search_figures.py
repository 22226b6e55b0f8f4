"""Figures of a design search (PNG bytes, deterministic as in :mod:`reports.figures`).

``convergence``: per objective, every feasible trial's value and the best so far,
by trial, with the baseline systems' values as dashed lines. ``front_against_baselines``:
the feasible trials and the best designs in the plane of the first two objectives
(with one objective: that objective against area), with the baseline systems marked.
"""

from __future__ import annotations

from typing import Any, Mapping

from reports.figures import _png, plt


def convergence(data: Mapping[str, Any]) -> bytes:
    objectives = data["objectives"]
    fig, axes = plt.subplots(len(objectives), 1, figsize=(6.0, 2.6 * len(objectives)), squeeze=False)
    for ax, objective in zip(axes[:, 0], objectives):
        _convergence_axes(ax, data, objective)
    axes[-1, 0].set_xlabel("trial")
    axes[0, 0].set_title(f"{data['name']}: search convergence ({data['sampler']})")
    return _png(fig)


def _convergence_axes(ax, data: Mapping[str, Any], objective: Mapping[str, Any]) -> None:
    column, maximise = objective["column"], objective["goal"] == "maximize"
    feasible = [(t["trial"], t[column]) for t in data["trials"] if t["feasible"]]
    if feasible:
        ax.scatter(*zip(*feasible), s=8, color="C0", alpha=0.35, label="feasible trials")
        best, steps = None, []
        for trial, value in feasible:
            best = value if best is None or (value > best if maximise else value < best) else best
            steps.append((trial, best))
        ax.step(*zip(*steps), where="post", color="C0", linewidth=1.5, label="best so far")
    for index, baseline in enumerate(b for b in data["baselines"] if "error" not in b):
        metric = objective["metric"]
        if baseline.get(metric) is not None:
            ax.axhline(baseline[metric], color=f"C{(index + 1) % 10}", linestyle="--", linewidth=1.0,
                       label=f"{baseline['system']} (as written)")
    ax.set_ylabel(column)
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.0, 1.0))


def front_against_baselines(data: Mapping[str, Any]) -> bytes:
    objectives = data["objectives"]
    x_key = objectives[0]["column"]
    y_key = objectives[1]["column"] if len(objectives) > 1 else "area_mm2"
    base_x = objectives[0]["metric"]
    base_y = objectives[1]["metric"] if len(objectives) > 1 else "area_mm2"
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    feasible = [(t[x_key], t[y_key]) for t in data["trials"] if t["feasible"]]
    if feasible:
        ax.scatter(*zip(*feasible), s=10, color="C0", alpha=0.3, label="feasible trials")
    front = sorted((r[x_key], r[y_key]) for r in data["front"])
    if front:
        ax.plot(*zip(*front), color="C0", marker="o", markersize=4, linewidth=1.2, label="best designs")
    for index, baseline in enumerate(b for b in data["baselines"] if "error" not in b):
        ax.scatter([baseline[base_x]], [baseline[base_y]], marker="*", s=90, color=f"C{(index + 1) % 10}",
                   label=f"{baseline['system']} (as written)", zorder=3)
    ax.set_xlabel(x_key)
    ax.set_ylabel(y_key)
    ax.set_title(f"{data['name']}: designs against the baselines")
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _png(fig)
