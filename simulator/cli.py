"""The ``xpusim`` command line: ``run``, ``sweep``, ``search``, ``report``, ``validate``, ``list``, ``trace``, ``reproduce``,
``server``.

Only this module (with :mod:`simulator.cli_commands`, :mod:`simulator.cli_search` and
:mod:`simulator.progress`, its parts) prints or exits. Input errors become a short message naming the
key and exit code 2; a system that fails to simulate is reported while the other
systems' results are still written, with exit code 1. Result writers are found
through the ``xpusim.writers`` entry point group, so the simulator does not import
the reports package (DESIGN.md import direction) and users can add writers.

Start-up: this module imports only the standard library (``rich`` once the arguments are parsed); a command's handler
(:mod:`simulator.cli_commands`, :mod:`simulator.cli_search`) and with it the simulator is
imported once the arguments are parsed, and the writers' plotting library only when figures
are written, so ``--help``, ``--version`` and argument errors answer at once
(``tests/test_startup.py`` checks what is imported).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from arch.background_compile import usable_cpus  # standard library only, like this module

if TYPE_CHECKING:
    from rich.console import Console

EXIT_OK, EXIT_FAILED_SYSTEMS, EXIT_BAD_INPUT = 0, 1, 2
_HANDLER_MODULE = {"cmd_search": "simulator.cli_search", "cmd_server": "simulator.cli_server"}  # every other handler is in simulator.cli_commands


def main(argv: Sequence[str] | None = None) -> int:
    """The ``xpusim`` command on ``argv`` (default: this process's arguments, which a running ``xpusim server``
    of this installation then runs instead, :mod:`simulator.server_client`); the exit status."""
    if argv is None:
        from simulator.server_client import forward  # standard library only

        code = forward(sys.argv[1:])
        if code is not None:
            return code
    parser = _parser()
    args = parser.parse_args(argv)
    from rich.console import Console  # after the server had its chance: it has rich imported

    console = Console(stderr=True, highlight=False)
    _bound_workers(args, console)
    try:
        handler = getattr(importlib.import_module(_HANDLER_MODULE.get(args.handler, "simulator.cli_commands")),
                          args.handler)
        return handler(args, console)
    except _input_errors() as err:  # evaluated only when something was raised
        console.print(f"[bold red]error:[/] {_plain(err)}", markup=True, soft_wrap=True)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        console.print("interrupted")
        return 130


def _input_errors() -> tuple[type[Exception], ...]:
    """The errors that are the user's input, printed as one message with exit code 2."""
    from arch.registry import UnknownNameError
    from simulator.errors import InputError
    from workloads.yamlio import YamlError

    return InputError, YamlError, UnknownNameError


class _Version(argparse.Action):
    """``--version``, looking the installed version up only when asked."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib import metadata

        try:
            number = metadata.version("xpusim")
        except metadata.PackageNotFoundError:
            number = "0+unknown"
        parser.exit(message=f"xpusim {number}\n")


def _plain(err: Exception) -> str:
    return str(err).replace("[", "\\[")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xpusim", description="Simulate LLM inference on accelerator designs.")
    parser.add_argument("--version", action=_Version, help="show the installed version and exit")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run an experiment file and write results")
    run.add_argument("file", type=Path)
    run.add_argument("--out", type=nonempty_path, default=Path("results"), help="output folder (default: results)")
    run.add_argument("--force", action="store_true",
                     help="write over an earlier result of the same name (default: a new numbered folder)")
    run.add_argument("--no-figures", action="store_true",
                     help="write no figures/*.png (and a report.html without them): faster for scripted runs")
    run.set_defaults(handler="cmd_run")
    sweep = sub.add_parser("sweep", help="run every point of an experiment's sweep.grid")
    sweep.add_argument("file", type=Path)
    sweep.add_argument("--out", type=nonempty_path, default=Path("results"), help="output folder (default: results)")
    sweep.add_argument("--workers", type=positive_int, default=usable_cpus(),
                       help="local worker processes (at most the usable CPUs)")
    sweep.add_argument("--force", action="store_true",
                       help="start afresh over an earlier result of the same name (default: resume this sweep's "
                            "journal, or a new numbered folder)")
    sweep.add_argument("--scheduler", default=None,
                       help="run the points on the Dask cluster at this address (tcp://host:8786; extra dask)")
    sweep.add_argument("--no-figures", action="store_true", help="write no figures/pareto.png")
    sweep.set_defaults(handler="cmd_sweep")
    _search_parser(sub)
    report = sub.add_parser("report", help="compare earlier runs: rebuild the report from results.json files")
    report.add_argument("results", type=Path, nargs="+", help="results.json files or the folders holding them")
    report.add_argument("--out", type=nonempty_path, required=True, help="folder for the combined report")
    report.add_argument("--name", default="comparison", help="report title (default: comparison)")
    report.add_argument("--baseline", default=None, help="system the ratios are taken against")
    report.add_argument("--force", action="store_true",
                        help="write over an earlier result in --out (default: a new numbered folder)")
    report.set_defaults(handler="cmd_report")
    validate = sub.add_parser("validate", help="check experiment files without running them")
    validate.add_argument("files", type=Path, nargs="+")
    validate.set_defaults(handler="cmd_validate")
    trace = sub.add_parser("trace", help="export an experiment's workload as a trace file")
    trace.add_argument("file", type=Path)
    trace.add_argument("--out", type=nonempty_path, default=None,
                       help="trace file to write (default: NAME.trace.json in the current folder)")
    trace.set_defaults(handler="cmd_trace")
    listing = sub.add_parser("list", help="list accelerator kinds, presets and models")
    listing.add_argument("what", nargs="?", choices=["kinds", "presets", "models", "dram", "pim-memories", "all"], default="all")
    listing.set_defaults(handler="cmd_list")
    reproduce = sub.add_parser("reproduce", help="run the built-in paper reproductions and report every claim")
    reproduce.add_argument("names", nargs="*", metavar="NAME", help="papers to run (default: all; --list names them)")
    reproduce.add_argument("--list", action="store_true", help="list the papers and their checks, run nothing")
    reproduce.add_argument("--quick", action="store_true", help="only the checks that take seconds")
    reproduce.add_argument("--out", type=nonempty_path, default=Path("results"),
                           help="output folder (default: results)")
    reproduce.add_argument("--force", action="store_true",
                           help="write over an earlier report (default: a new numbered folder)")
    reproduce.set_defaults(handler="cmd_reproduce")
    server = sub.add_parser("server", help="keep one warm process that runs every later xpusim command (start-up "
                                           "in milliseconds)")
    server.add_argument("action", choices=["start", "stop", "status"])
    server.add_argument("--idle-minutes", type=positive_int, default=30,
                        help="start: exit after this many minutes without a command (default: 30)")
    server.add_argument("--no-warm", action="store_true",
                        help="start: do not load every kernel first (each run loads those it uses)")
    server.set_defaults(handler="cmd_server")
    return parser


def _search_parser(sub) -> None:
    search = sub.add_parser("search", help="search the designs of an experiment's search: block (optuna)")
    search.add_argument("file", type=Path)
    search.add_argument("--out", type=nonempty_path, default=Path("results"), help="output folder (default: results)")
    search.add_argument("--workers", type=positive_int, default=usable_cpus(),
                        help="local worker processes (at most the usable CPUs)")
    search.add_argument("--scheduler", default=None,
                        help="evaluate the trials on the Dask cluster at this address (tcp://host:8786; extra dask)")
    search.add_argument("--trials", type=positive_int, default=None, help="number of trials (default: the block's 'trials')")
    search.add_argument("--fresh", action="store_true", help="ignore trials stored by an earlier run and start over")
    search.set_defaults(handler="cmd_search")


def _bound_workers(args: argparse.Namespace, console: Console) -> None:
    """``--workers`` above the usable CPUs runs that many local processes: each holds a copy of the
    simulator and none runs faster than one per CPU, so the count is lowered to the CPUs, with a note."""
    workers, cpus = getattr(args, "workers", None), usable_cpus()
    if workers is not None and getattr(args, "scheduler", None) is None and workers > cpus:
        console.print(f"note: --workers {workers}: this machine has {cpus} usable CPUs; using {cpus}")
        args.workers = cpus


def nonempty_path(text: str) -> Path:
    """An argparse type: a non-empty path (``--out ""`` would otherwise mean the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    return Path(text)


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1 (``--workers 0`` and ``-1`` are refused)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


if __name__ == "__main__":
    sys.exit(main())
