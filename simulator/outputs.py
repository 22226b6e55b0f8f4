"""The result writers, found through entry points so the simulator does not import ``reports``.

DESIGN.md's import direction lets ``reports`` import the result types but not the
other way round, so the CLI and the Python API look the writers up by entry point
group: ``xpusim.writers`` for a run, ``xpusim.sweep_writers`` for a sweep's rows,
``xpusim.search_writers`` for a search. Each writer takes the data and a folder and
returns the paths it wrote. Users can register their own writers in these groups.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from simulator.errors import InputError, Problem

RUN_WRITERS = "xpusim.writers"
SWEEP_WRITERS = "xpusim.sweep_writers"
SEARCH_WRITERS = "xpusim.search_writers"


def writers(group: str = RUN_WRITERS) -> list[Callable[[Any, Path], list[Path]]]:
    """The writers registered under ``group``, in name order; none is an input error."""
    entries = sorted(metadata.entry_points(group=group), key=lambda e: e.name)
    if not entries:
        raise InputError("xpusim", [Problem("", f"no writers are registered under {group!r}: install the "
                                              "package with `pip install -e .` so its entry points exist")])
    return [entry.load() for entry in entries]


def write_with(group: str, data: Any, out_dir: str | Path) -> list[Path]:
    """Call every writer of ``group`` on ``data`` into ``out_dir``; the paths written."""
    return [path for writer in writers(group) for path in writer(data, Path(out_dir))]
