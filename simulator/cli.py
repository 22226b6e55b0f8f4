"""The ``xpusim`` command line: ``run``, ``sweep``, ``search``, ``report``, ``validate``, ``list``, ``trace``, ``reproduce``.

Only this module (with :mod:`simulator.cli_search` and :mod:`simulator.progress`, its parts) prints or exits. Input errors become a short message naming the
key and exit code 2; a system that fails to simulate is reported while the other
systems' results are still written, with exit code 1. Result writers are found
through the ``xpusim.writers`` entry point group, so the simulator does not import
the reports package (DESIGN.md import direction) and users can add writers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from importlib import metadata
from pathlib import Path
from typing import Callable, Sequence

from rich.console import Console

from arch import registry
from simulator.checks import require_valid
from simulator.cli_output import out_folder, positive_int, serving_line, sweep_folder, validated, with_capacity
from simulator.errors import InputError, Problem
from simulator.cli_search import add_search_parser, check_search_block
from simulator.experiment import load_experiment
from simulator.progress import progress_bar
from simulator.run import run_experiment, version
from simulator.outdir import mark_complete, mark_incomplete
from simulator.result_io import load_result, merge_results
from simulator.sweep import load_sweep, run_sweep
from simulator.workload_spec import build_workload
from workloads.tracefile import export_workload
from workloads.yamlio import YamlError

EXIT_OK, EXIT_FAILED_SYSTEMS, EXIT_BAD_INPUT = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    console = Console(stderr=True, highlight=False)
    try:
        return args.handler(args, console)
    except (InputError, YamlError, registry.UnknownNameError) as err:
        console.print(f"[bold red]error:[/] {_plain(err)}", markup=True, soft_wrap=True)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        console.print("interrupted")
        return 130


def _plain(err: Exception) -> str:
    text = str(err)
    return text.replace("[", "\\[")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xpusim", description="Simulate LLM inference on accelerator designs.")
    parser.add_argument("--version", action="version", version=f"xpusim {version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run an experiment file and write results")
    run.add_argument("file", type=Path)
    run.add_argument("--out", type=Path, default=Path("results"), help="output folder (default: results)")
    run.add_argument("--force", action="store_true",
                     help="write over an earlier result of the same name (default: a new numbered folder)")
    run.set_defaults(handler=cmd_run)
    sweep = sub.add_parser("sweep", help="run every point of an experiment's sweep.grid")
    sweep.add_argument("file", type=Path)
    sweep.add_argument("--out", type=Path, default=Path("results"), help="output folder (default: results)")
    sweep.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1, help="local worker processes")
    sweep.add_argument("--force", action="store_true",
                       help="start afresh over an earlier result of the same name (default: resume this sweep's "
                            "journal, or a new numbered folder)")
    sweep.add_argument("--scheduler", default=None,
                       help="run the points on the Dask cluster at this address (tcp://host:8786; extra dask)")
    sweep.set_defaults(handler=cmd_sweep)
    add_search_parser(sub)
    report = sub.add_parser("report", help="compare earlier runs: rebuild the report from results.json files")
    report.add_argument("results", type=Path, nargs="+", help="results.json files or the folders holding them")
    report.add_argument("--out", type=Path, required=True, help="folder for the combined report")
    report.add_argument("--name", default="comparison", help="report title (default: comparison)")
    report.add_argument("--baseline", default=None, help="system the ratios are taken against")
    report.add_argument("--force", action="store_true",
                        help="write over an earlier result in --out (default: a new numbered folder)")
    report.set_defaults(handler=cmd_report)
    validate = sub.add_parser("validate", help="check experiment files without running them")
    validate.add_argument("files", type=Path, nargs="+")
    validate.set_defaults(handler=cmd_validate)
    trace = sub.add_parser("trace", help="export an experiment's workload as a trace file")
    trace.add_argument("file", type=Path)
    trace.add_argument("--out", type=Path, default=None,
                       help="trace file to write (default: NAME.trace.json in the current folder)")
    trace.set_defaults(handler=cmd_trace)
    listing = sub.add_parser("list", help="list accelerator kinds, presets and models")
    listing.add_argument("what", nargs="?", choices=["kinds", "presets", "models", "dram", "pim-memories", "all"], default="all")
    listing.set_defaults(handler=cmd_list)
    reproduce = sub.add_parser("reproduce", help="run the built-in paper reproductions and report every claim")
    reproduce.add_argument("names", nargs="*", metavar="NAME", help="papers to run (default: all; --list names them)")
    reproduce.add_argument("--list", action="store_true", help="list the papers and their checks, run nothing")
    reproduce.add_argument("--quick", action="store_true", help="only the checks that take seconds")
    reproduce.add_argument("--out", type=Path, default=Path("results"), help="output folder (default: results)")
    reproduce.add_argument("--force", action="store_true",
                           help="write over an earlier report (default: a new numbered folder)")
    reproduce.set_defaults(handler=cmd_reproduce)
    return parser


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    experiment = load_experiment(args.file)
    if experiment.spec.sweep is not None:
        console.print("note: this file has a sweep: block; `xpusim run` runs its base point only, "
                      "`xpusim sweep` runs the grid")
    checked = require_valid(experiment)  # the same checks as `xpusim validate`, before anything is simulated
    out_dir = out_folder(args.out / experiment.name, args.force, console)
    mark_incomplete(out_dir, f"run of {args.file}")
    with console.status(f"running {experiment.name}") as status:
        result = with_capacity(run_experiment(experiment, on_system=lambda name: status.update(f"simulating {name}")),
                               checked)
    written = [path for writer in _writers() for path in writer(result, out_dir)]
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


def cmd_sweep(args: argparse.Namespace, console: Console) -> int:
    raw, points = load_sweep(args.file)
    out_dir, journal = sweep_folder(args.out / raw["name"], points, args.force, console)
    mark_incomplete(out_dir, f"sweep of {args.file}: {len(points)} points; journal.jsonl lists those finished")
    with progress_bar(console, len(points), f"sweeping {raw['name']}", unit="points") as on_done:
        rows, ran = run_sweep(points, journal, args.workers, on_done, scheduler=args.scheduler)
    written = [path for writer in _writers("xpusim.sweep_writers") for path in writer(rows, out_dir)]
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


def _writers(group: str = "xpusim.writers") -> list[Callable]:
    entries = sorted(metadata.entry_points(group=group), key=lambda e: e.name)
    if not entries:
        raise InputError("xpusim", [Problem("", "no result writers are registered: install the package with "
                                              "`pip install -e .` so its entry points exist")])
    return [entry.load() for entry in entries]


if __name__ == "__main__":
    sys.exit(main())
