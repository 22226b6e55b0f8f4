"""The ``xpusim`` commands' handlers: what each command does once its arguments are parsed.

:mod:`simulator.cli` parses the arguments and imports this module only when a command
runs, so ``xpusim --help`` and ``--version`` cost no simulator import. Each handler
returns the process exit code; input errors are raised and printed by
:func:`simulator.cli.main`.
"""

from __future__ import annotations

import argparse
import inspect
import json
from importlib import metadata
from pathlib import Path
from typing import Callable

from rich.console import Console

from arch import registry
from simulator.checks import require_valid
from simulator.cli_output import out_folder, serving_line, sweep_folder, validated, with_capacity
from simulator.cli_search import check_search_block
from simulator.errors import InputError, Problem
from simulator.experiment import load_experiment
from simulator.outdir import mark_complete, mark_incomplete
from simulator.progress import progress_bar
from simulator.result_io import load_result, merge_results
from simulator.run import run_experiment
from simulator.sweep import load_sweep, run_sweep
from simulator.workload_spec import build_workload
from workloads.tracefile import export_workload
from workloads.yamlio import YamlError

EXIT_OK, EXIT_FAILED_SYSTEMS, EXIT_BAD_INPUT = 0, 1, 2


def _plain(err: Exception) -> str:
    return str(err).replace("[", "\\[")


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    experiment = load_experiment(args.file)
    if experiment.spec.sweep is not None:
        console.print("note: this file has a sweep: block; `xpusim run` runs its base point only, "
                      "`xpusim sweep` runs the grid")
    checked = require_valid(experiment)  # the same checks as `xpusim validate`, before anything is simulated
    out_dir = out_folder(args.out / experiment.name, args.force, console)
    mark_incomplete(out_dir, f"run of {args.file}")
    writers = _writers()
    releases = [_prepare(writer, not args.no_figures) for writer in writers]
    try:
        with console.status(f"running {experiment.name}") as status:
            result = with_capacity(run_experiment(
                experiment, on_system=lambda name: status.update(f"simulating {name}"),
                on_progress=_serving_progress(console, status)), checked)
        written = [path for writer in writers for path in _write(writer, result, out_dir, not args.no_figures)]
    finally:
        for release in releases:
            release()
    mark_complete(out_dir)
    for system in result.systems:
        console.print(f"{system.name}: {system.cycles} cycles, {system.seconds * 1e3:.4g} ms, "
                      f"{system.energy_j * 1e3:.4g} mJ, {system.area_mm2:.4g} mm²{serving_line(system.serving)}")
    console.print(f"wrote {len(written)} files to {out_dir}")
    for system in result.systems:
        for warning in system.warnings:
            console.print(f"[bold yellow]warning:[/] {system.name}: {_plain_text(warning)}")
    for failure in result.failures:
        console.print(f"[bold red]error:[/] system {failure.system!r} could not be run: {_plain_text(failure.message)}")
    return EXIT_FAILED_SYSTEMS if result.failures else EXIT_OK


def _serving_progress(console: Console, status) -> Callable[[str, int, int], None]:
    """A serving trace's progress: on the status line of a terminal, else a plain line each tenth of the requests."""
    tenths: dict[str, int] = {}

    def report(name: str, done: int, total: int) -> None:
        status.update(f"simulating {name}: {done:,} of {total:,} requests finished")
        tenth = done * 10 // max(total, 1)
        if not console.is_terminal and done < total and tenth > tenths.get(name, 0):
            tenths[name] = tenth
            console.print(f"{name}: {done:,} of {total:,} requests finished")
    return report


def cmd_sweep(args: argparse.Namespace, console: Console) -> int:
    raw, points = load_sweep(args.file)
    out_dir, journal = sweep_folder(args.out / raw["name"], points, args.force, console)
    mark_incomplete(out_dir, f"sweep of {args.file}: {len(points)} points; journal.jsonl lists those finished")
    with progress_bar(console, len(points), f"sweeping {raw['name']}", unit="points") as on_done:
        rows, ran = run_sweep(points, journal, args.workers, on_done, scheduler=args.scheduler)
    written = [path for writer in _writers("xpusim.sweep_writers")
               for path in _write(writer, rows, out_dir, not args.no_figures)]
    mark_complete(out_dir)
    failed = sum(1 for row in rows if "error" in row)
    unfit = sum(1 for row in rows if row.get("fits") is False)
    resumed = f", {len(points) - ran} from the journal" if ran < len(points) else ""
    console.print(f"{len(points)} points ({ran} simulated{resumed}), {len(rows)} rows ({failed} failed, "
                  f"{unfit} do not fit); wrote {', '.join(map(str, written))}")
    return EXIT_FAILED_SYSTEMS if failed else EXIT_OK


def _plain_text(text: str) -> str:
    return text.replace("[", "\\[")


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    runs = [load_result(path) for path in args.results]
    out = args.out.resolve()
    clash = [p for p in args.results if out in (p.resolve(), p.resolve().parent)]
    if clash:
        raise InputError("report", [Problem("--out", f"{args.out} holds an input of this report ({clash[0]}); "
                                                     "give another folder so the inputs are not written over")])
    out_dir = out_folder(args.out, args.force, console)
    workloads = {json.dumps(run.experiment.get("workload"), sort_keys=True, default=str) for run in runs}
    if len(workloads) > 1:
        console.print("[bold yellow]warning:[/] these runs simulated different workloads; the report lists "
                      "each run's workload, and its ratios are not like-for-like")
    merged = merge_results(runs, args.name, args.baseline)
    mark_incomplete(out_dir, f"report of {', '.join(map(str, args.results))}")
    written = [path for writer in _writers() for path in writer(merged, out_dir)]
    mark_complete(out_dir)
    console.print(f"{len(merged.systems)} systems from {len(runs)} run(s); wrote {len(written)} files to {out_dir}")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace, console: Console) -> int:
    status = EXIT_OK
    for path in args.files:
        try:
            summary, warnings = validated(path)
            if load_experiment(path).spec.search is not None:
                check_search_block(path)
        except (InputError, YamlError, registry.UnknownNameError) as err:
            console.print(f"[bold red]invalid:[/] {_plain(err)}")
            status = EXIT_BAD_INPUT
            continue
        for warning in warnings:
            console.print(f"[bold yellow]warning:[/] {_plain_text(str(warning))}")
        console.print(f"ok: {path} ({summary})")
    return status


def cmd_trace(args: argparse.Namespace, console: Console) -> int:
    experiment = load_experiment(args.file)
    spec = experiment.spec.workload
    if spec.phase == "serving":
        raise InputError(str(args.file), [Problem("workload.phase", (
            "a serving experiment runs a different workload each iteration; `xpusim trace` "
            "exports one prefill or decode step (got phase 'serving')"))])
    workload = build_workload(spec, str(args.file), seed=experiment.spec.seed)
    out = args.out if args.out is not None else Path(f"{experiment.name}.trace.json")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        export_workload(workload, out)
    except (OSError, ValueError) as err:
        console.print(f"[bold red]error:[/] cannot write {out}: {_plain(err)}")
        return EXIT_BAD_INPUT
    console.print(f"wrote {workload.name} ({len(workload.ops)} ops, repeat {workload.repeat}) to {out}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    out = Console(highlight=False)
    sections: dict[str, Callable[[], list[str]]] = {
        "kinds": registry.kinds, "presets": _presets_with_kind, "models": _models,
        "dram": _dram_presets, "pim-memories": _pim_memories,
    }
    chosen = sections if args.what == "all" else {args.what: sections[args.what]}
    for title, items in chosen.items():
        out.print(f"{title}:")
        for item in items():
            out.print(f"  {item}")
    return EXIT_OK


def cmd_reproduce(args: argparse.Namespace, console: Console) -> int:
    from simulator.reproduce.command import reproduce  # imported here: start-up time of the other commands

    return reproduce(args, console, lambda: _writers("xpusim.reproduce_writers"))


def _presets_with_kind() -> list[str]:
    return [f"{name} ({registry.preset_spec(name)['kind']})" for name in registry.presets()]


def _dram_presets() -> list[str]:
    from arch.dram import list_presets

    return list_presets()


def _pim_memories() -> list[str]:
    from arch.pim.spec import memory_presets

    return memory_presets()


def _models() -> list[str]:
    from workloads.models import list_models

    return list_models()


def _prepare(writer: Callable, figures: bool) -> Callable[[], None]:
    """A writer's optional ``prepare(figures)`` hook, called before the simulation (the standard writer starts
    drawing work early there); returns what releases whatever it started."""
    prepare = getattr(writer, "prepare", None)
    release = prepare(figures) if prepare is not None else None
    return release if callable(release) else (lambda: None)


def _write(writer: Callable, result, out_dir, figures: bool) -> list:
    """Call one writer; ``figures=False`` is passed to writers that take it (the standard ones do)."""
    if not figures and "figures" in inspect.signature(writer).parameters:
        return writer(result, out_dir, figures=False)
    return writer(result, out_dir)


def _writers(group: str = "xpusim.writers") -> list[Callable]:
    entries = sorted(metadata.entry_points(group=group), key=lambda e: e.name)
    if not entries:
        raise InputError("xpusim", [Problem("", "no result writers are registered: install the package with "
                                              "`pip install -e .` so its entry points exist")])
    return [entry.load() for entry in entries]

