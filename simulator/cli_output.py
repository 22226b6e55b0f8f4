"""Parts of the command line (:mod:`simulator.cli`): result folders, resumable sweeps, validation.

:func:`out_folder` and :func:`sweep_folder` decide where a result goes before
anything is simulated (checked writable; an earlier result is not written over
without ``--force``; a sweep whose journal matches is resumed in its folder).
:func:`validated` runs what ``run`` or ``sweep`` checks before simulating.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping

from rich.console import Console

from simulator.checks import CheckReport, require_valid
from simulator.experiment import load_experiment
from simulator.journal import JOURNAL, Journal, matches, sweep_key
from simulator.outdir import check_writable, free_folder
from simulator.results import ExperimentResult
from simulator.sweep import SweepPoint, is_sweep_row, load_sweep

MAX_NUMBERED = 1000  # folders NAME-2 .. NAME-999 are looked at for a matching journal


def out_folder(base: Path, force: bool, console: Console) -> Path:
    """The folder a run's result goes to, created and writable, before anything is simulated."""
    check_writable(base.parent)
    folder = free_folder(base, force)
    if folder != base:
        console.print(f"note: {base} holds an earlier result; writing to {folder} (--force writes over it)")
    return check_writable(folder)


def sweep_folder(base: Path, points: list[SweepPoint], force: bool, console: Console) -> tuple[Path, Journal]:
    """A sweep's folder and journal: a folder whose journal matches is resumed, else ``base`` or ``base-N``."""
    check_writable(base.parent)
    key = sweep_key(points)
    if force:
        folder = base
        if base.is_dir():
            (base / JOURNAL).unlink(missing_ok=True)
    else:
        candidates = [base] + [base.with_name(f"{base.name}-{n}") for n in range(2, MAX_NUMBERED)]
        folder = next((c for c in candidates if c.is_dir() and matches(c, key, len(points), is_sweep_row)), None) \
            or free_folder(base)
        if folder != base:
            console.print(f"note: {base} holds another result; using {folder} (--force writes over {base})")
    journal = Journal.open(check_writable(folder), key, len(points), is_sweep_row)
    if journal.done:
        console.print(f"resuming: {len(journal.done)} of {len(points)} points already done in {folder}")
    return folder, journal


def validated(path: Path) -> tuple[str, list]:
    """What ``run`` (or ``sweep``, for a file with a grid) checks before simulating, and the mapping of each
    system (a run's first step): a summary and warnings."""
    experiment = load_experiment(path)
    report = require_valid(experiment, map_systems=True)  # `run` runs a sweep file's base point
    if experiment.spec.sweep is None:
        return f"{experiment.name}, {len(experiment.systems)} systems", list(report.warnings)
    _, points = load_sweep(path)
    unfit = sum(len(p.unfit) for p in points)
    note = f"; {unfit} (point, system) pairs do not fit the DRAM and are not ranked" if unfit else ""
    return f"{experiment.name}, {len(experiment.systems)} systems, sweep of {len(points)} points{note}", list(report.warnings)


def serving_line(serving: Mapping[str, Any] | None) -> str:
    """``; TTFT p50/p99 ..., TPOT ..., E2E ...`` in ms for a serving result; ``""`` otherwise."""
    if not serving:
        return ""
    parts = []
    for label, key in (("TTFT", "ttft_s"), ("TPOT", "tpot_s"), ("E2E", "e2e_s")):
        stats = serving.get(key) or {}
        if stats.get("p50") is not None and stats.get("p99") is not None:
            parts.append(f"{label} p50 {stats['p50'] * 1e3:.4g} / p99 {stats['p99'] * 1e3:.4g} ms")
    return "; " + ", ".join(parts) if parts else ""


def with_capacity(result: ExperimentResult, checked: CheckReport) -> ExperimentResult:
    """``result`` with each ``capacity: warn`` shortfall among its system's warnings (once)."""
    systems = []
    for system in result.systems:
        shortfall = checked.capacity.get(system.name)
        if shortfall and not any("weights + KV" in w for w in system.warnings):
            system = dataclasses.replace(system, warnings=system.warnings + (shortfall,))
        systems.append(system)
    return dataclasses.replace(result, systems=tuple(systems))
