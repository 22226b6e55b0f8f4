"""A sweep's journal: one JSON line per finished point, appended and flushed as it completes.

The first line identifies the sweep (a SHA-256 of every point's resolved
experiment and grid values, and the point count); each further line holds one
point's rows, written and flushed as each chunk of points comes back (synced
to disk by the first write a second after the last sync, and at the end). ``xpusim sweep`` into a folder whose journal has the same key runs
only the points the journal lacks and assembles the table in grid order, so an
interrupted and resumed sweep writes the same rows as one that ran through. A
line cut short by a kill (no newline at the end) is dropped and the file
truncated to the last complete line before appending again. Rows are stored as
JSON and fresh rows pass through the same JSON round trip, so resumed and fresh
rows are identical values. A journal holding a line this program does not write (a
header that is not an object, a point outside the sweep, rows that are not the
sweep's rows: ``simulator.sweep.is_sweep_row``) is not resumed: the sweep runs in a
new numbered folder and the edited one is left as it is.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterable

JOURNAL = "journal.jsonl"
FORMAT = "xpusim-sweep-journal-1"
RowCheck = Callable[[dict], bool]  # whether a row read back is one the journal's writer writes
SYNC_INTERVAL_S = 1.0  # longest a finished point waits for an fsync (flushed to the OS at once)


def sweep_key(points: Iterable[Any]) -> str:
    """SHA-256 over every point's grid values and resolved experiment (arch specs expanded)."""
    digest = hashlib.sha256()
    for point in points:
        entry = {"index": point.index, "values": [list(v) for v in point.values],
                 "experiment": point.experiment.resolved(), "unfit": list(point.unfit)}
        digest.update(json.dumps(entry, sort_keys=True, default=str).encode("utf-8"))
    return digest.hexdigest()


def round_trip(rows: list[dict]) -> list[dict]:
    """``rows`` as they read back from the journal (key order kept)."""
    return json.loads(json.dumps(rows, default=str))


class Journal:
    """Append-only record of finished points in ``folder/journal.jsonl``."""

    def __init__(self, path: Path, key: str, total: int, done: dict[int, list[dict]]) -> None:
        self.path, self.key, self.total, self.done = path, key, total, done
        self._synced = time.monotonic()  # when the file was last synced to disk

    @classmethod
    def open(cls, folder: Path, key: str, total: int, valid_row: RowCheck | None = None) -> "Journal":
        """The folder's journal if it belongs to this sweep (its finished points in ``done``; every row
        accepted by ``valid_row`` where given), else a new one."""
        path = folder / JOURNAL
        done = _read(path, key, total, valid_row=valid_row)
        if done is None:
            header = {"format": FORMAT, "key": key, "points": total}
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(header) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            done = {}
        return cls(path, key, total, done)

    def append(self, index: int, rows: list[dict]) -> None:
        self.append_many([(index, rows)])

    def append_many(self, entries: list[tuple[int, list[dict]]]) -> None:
        """One line per finished point, written and flushed to the OS at once (a killed process loses none).

        The file is synced to disk when ``SYNC_INTERVAL_S`` have passed since the
        last sync (and by :meth:`sync`), so a sweep of fast points does not wait on
        the disk for every one; a machine that loses power loses the lines since.
        """
        if not entries:
            return
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write("".join(json.dumps({"point": index, "rows": rows}, default=str) + "\n"
                                 for index, rows in entries))
            handle.flush()
            if time.monotonic() - self._synced >= SYNC_INTERVAL_S:
                os.fsync(handle.fileno())
                self._synced = time.monotonic()
        for index, rows in entries:
            self.done[index] = rows

    def sync(self) -> None:
        """Everything appended so far on disk."""
        if self.path.exists():
            with open(self.path, "a", encoding="utf-8") as handle:
                os.fsync(handle.fileno())
        self._synced = time.monotonic()


def matches(folder: Path, key: str, total: int, valid_row: RowCheck | None = None) -> bool:
    """Whether ``folder`` holds a journal of this very sweep (every row accepted by ``valid_row``)."""
    return _read(folder / JOURNAL, key, total, repair=False, valid_row=valid_row) is not None


def _read(path: Path, key: str, total: int, repair: bool = True,
          valid_row: RowCheck | None = None) -> dict[int, list[dict]] | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    complete = data[: data.rfind(b"\n") + 1]  # a last line without its newline was cut short
    lines = complete.decode("utf-8", errors="replace").splitlines()
    try:
        header = json.loads(lines[0]) if lines else {}
    except json.JSONDecodeError:
        return None
    if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("key") != key \
            or header.get("points") != total:
        return None
    done: dict[int, list[dict]] = {}
    for line in lines[1:]:
        try:
            entry = json.loads(line)
            point, rows = entry["point"], entry["rows"]
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, RecursionError):
            return None
        if not _is_entry(point, rows, total, valid_row):
            return None  # not a line this program wrote: the folder is not resumed
        done.setdefault(point, rows)
    if repair and len(complete) < len(data):
        with open(path, "r+b") as handle:
            handle.truncate(len(complete))
    return done


def _is_entry(point: Any, rows: Any, total: int, valid_row: RowCheck | None) -> bool:
    """A journal line's point index (one of the sweep's) and its rows: mappings naming that point, each
    accepted by ``valid_row`` where given."""
    return (isinstance(point, int) and not isinstance(point, bool) and 0 <= point < total
            and isinstance(rows, list)
            and all(isinstance(row, dict) and row.get("point") == point and (valid_row is None or valid_row(row))
                    for row in rows))
