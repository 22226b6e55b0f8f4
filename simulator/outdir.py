"""Result folders: checked before any simulation, never silently overwritten, marked while incomplete.

The result writers write every file atomically (:mod:`reports.atomic`). While a run or
sweep is writing, its folder holds a file named ``INCOMPLETE`` saying what is
missing; it is removed last. An ``--out`` that is a file, or a folder that cannot
be created or written, is an input error before anything is simulated. A folder
that already holds a result is not reused unless asked (``--force``): the run goes
to the first free numbered folder beside it (``NAME-2``, ``NAME-3``, ...).
"""

from __future__ import annotations

import os
from pathlib import Path

from simulator.errors import InputError, Problem

INCOMPLETE = "INCOMPLETE"
RESULT_FILES = ("results.json", "sweep.csv", "journal.jsonl", INCOMPLETE)


def check_writable(folder: str | Path, option: str = "--out") -> Path:
    """Create ``folder`` (and its parents) or raise :class:`InputError` saying why it cannot be used."""
    folder = Path(folder)
    existing = next((p for p in (folder, *folder.parents) if _exists(p)), None)
    if existing is not None and not existing.is_dir():
        raise InputError(option, [Problem(option, f"{existing} is a file, not a folder: give a folder for the results")])
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(option, [Problem(option, f"cannot create the folder {folder}: {err.strerror}")]) from None
    probe = folder / f".xpusim-write-check.{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise InputError(option, [Problem(option, f"cannot write in {folder}: {err.strerror}")]) from None
    return folder


def _exists(path: Path) -> bool:
    """``path.exists()``, False for a path the system cannot look up (a name over its length limit)."""
    try:
        return path.exists()
    except OSError:
        return False


def holds_result(folder: Path) -> bool:
    return folder.is_dir() and any((folder / name).exists() for name in RESULT_FILES)


def free_folder(folder: str | Path, force: bool = False) -> Path:
    """``folder`` if it holds no result (or ``force``), else the first free ``folder-N`` (N >= 2)."""
    folder = Path(folder)
    if force or not holds_result(folder):
        return folder
    n = 2
    while holds_result(folder.with_name(f"{folder.name}-{n}")):
        n += 1
    return folder.with_name(f"{folder.name}-{n}")


def mark_incomplete(folder: Path, what: str) -> None:
    (folder / INCOMPLETE).write_text(f"{what}\nThis folder is incomplete: the process writing it stopped "
                                            "before it finished. Run the same command again to finish it.\n",
                                     encoding="utf-8")


def mark_complete(folder: Path) -> None:
    (folder / INCOMPLETE).unlink(missing_ok=True)
