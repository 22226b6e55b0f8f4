"""``xpusim reproduce``: the command's body (a part of :mod:`simulator.cli`, which imports it when run).

Lists the papers (``--list``), or runs the chosen ones' checks (``--quick``: those that
take seconds), writes the report through the ``xpusim.reproduce_writers`` entry points
into ``OUT/reproduce`` and prints the summary. Exit code 1 when any claim fails
(outside its tolerance with no documented reason, or not computable), else 0.
"""

from __future__ import annotations

import argparse
from typing import Callable

from rich.console import Console

from simulator import engine_warmup
from simulator.cli_output import out_folder
from simulator.outdir import mark_complete, mark_incomplete
from simulator.reproduce.claims import Verdict
from simulator.reproduce import registry
from simulator.reproduce.registry import checks, paper, run

EXIT_OK, EXIT_FAILED_CLAIMS = 0, 1


def reproduce(args: argparse.Namespace, console: Console, writers: Callable[[], list[Callable]]) -> int:
    out = Console(highlight=False, soft_wrap=True)
    if args.list:
        for line in listing(args.names):
            out.print(line, markup=False)
        return EXIT_OK
    for name in args.names:
        paper(name)  # an unknown name is an input error before anything runs
    folder = out_folder(args.out / "reproduce", args.force, console)
    mark_incomplete(folder, "xpusim reproduce " + " ".join(args.names))
    engine_warmup.start_if_uncached()  # the PIM papers' checks simulate contended schedules
    with console.status("reproducing") as status:
        result = run(args.names, quick=args.quick,
                     on_check=lambda p, c: status.update(f"reproducing {p}: {c}"))
    data = result.to_dict()
    written = [path for writer in writers() for path in writer(data, folder)]
    mark_complete(folder)
    for line in summary_lines(data):
        out.print(line, markup=False)
    out.print(f"wrote {len(written)} files to {folder}", markup=False)
    return EXIT_FAILED_CLAIMS if result.failed else EXIT_OK


def listing(names: list[str]) -> list[str]:
    chosen = [paper(n) for n in names] if names else list(registry.PAPERS)
    lines = []
    for one in chosen:
        lines.append(f"{one.name}: {one.title}")
        try:
            found = checks(one)
        except Exception as err:  # noqa: BLE001 -- listed with the reason, the other papers still listed
            lines.append(f"  cannot be loaded: {type(err).__name__}: {err}")
            continue
        quick = [c.name for c in found if c.quick]
        lines.append(f"  checks: {', '.join(c.name for c in found)}; quick: {', '.join(quick) or 'none'}")
        lines.append(f"  published values: {one.source}")
    return lines


def summary_lines(data: dict) -> list[str]:
    lines = [f"{'paper':<18}{'claims':>7}{'pass':>6}{'residual':>10}{'fail':>6}{'seconds':>9}"]
    for p in data["papers"]:
        mine = [c for c in data["claims"] if c["paper"] == p["name"]]
        tally = [sum(1 for c in mine if c["verdict"] == v.value) for v in Verdict]
        lines.append(f"{p['name']:<18}{len(mine):>7}{tally[0]:>6}{tally[1]:>10}{tally[2]:>6}{p['seconds']:>9.1f}")
    counts = data["counts"]
    lines.append(f"{'total':<18}{len(data['claims']):>7}{counts['pass']:>6}{counts['known residual']:>10}"
                 f"{counts['fail']:>6}{data['seconds']:>9.1f}")
    for c in data["claims"]:
        if c["verdict"] == Verdict.FAIL.value:
            what = c["error"] or f"{c['computed']:.4g} against {c['published']:.4g} ({c['tolerance_text']})"
            lines.append(f"fail: {c['paper']}: {c['text']}: {what}")
    return lines
