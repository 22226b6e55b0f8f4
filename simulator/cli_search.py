"""``xpusim search FILE``: the command line of a design search (:mod:`simulator.search`).

Runs the file's ``search:`` block with a progress bar, writes ``OUT/NAME/`` (trials,
best designs, report) and prints the best designs. A search killed before it
finished continues from its stored trials when run again with the same ``--out``;
``--fresh`` starts over. Input errors propagate to :func:`simulator.cli.main`,
which prints them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from simulator.progress import progress_bar
from simulator.search import plan_search, run_search
from simulator.search_result import SearchResult, objective_column
from workloads.yamlio import load_yaml_file


def check_search_block(path: Path) -> None:
    """Raise :class:`~simulator.errors.InputError` for everything ``xpusim search`` would reject."""
    plan_search(load_yaml_file(path), str(path), path.parent)


def cmd_search(args: argparse.Namespace, console: Console) -> int:
    raw = load_yaml_file(args.file)
    plan = plan_search(raw, str(args.file), args.file.parent)  # every problem before anything runs
    total = args.trials or plan.spec.trials
    with progress_bar(console, total, f"searching {plan.name}", unit="trials") as update:
        result = run_search(raw, str(args.file), args.file.parent, out=args.out, workers=args.workers,
                            scheduler=args.scheduler, trials=args.trials, fresh=args.fresh,
                            progress=lambda done, _total: update(done))
    _summary(result, console)
    console.print(f"wrote {len(result.written)} files to {args.out / plan.name}")
    return 0


def _summary(result: SearchResult, console: Console) -> None:
    feasible = len(result.feasible)
    reused = f", {result.reused} taken from stored trials" if result.reused else ""
    console.print(f"{len(result.rows)} trials ({feasible} feasible{reused}) in {result.wall_s:.1f} s")
    columns = [objective_column(o, result.system) for o in result.spec.objectives]
    for row in result.front[:10]:
        params = ", ".join(f"{k.split('.')[-1]}={row[k]:.4g}" if isinstance(row[k], float) else f"{k.split('.')[-1]}={row[k]}"
                           for k in result.spec.parameters)
        figures = ", ".join(f"{c}={row[c]:.4g}" for c in columns)
        console.print(f"best: trial {row['trial']}: {params} -> {figures}", highlight=False)
    if not result.front:
        console.print("no feasible design was found")
