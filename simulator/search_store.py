"""The stored trials of a design search: an append-only JSON-lines file that survives a kill.

The first line names the search (a fingerprint of the experiment and its search
block, less the trial count, so a finished search can be continued with more
trials); each further line is one finished trial, written and flushed as soon as
it is known. A process killed mid-write leaves at most a partial last line,
which is ignored on reading; everything before it is kept. A resumed search
replays the same seeded sampler and takes the stored outcome for each trial it
proposes again, so it ends with the same trials as a search that was never
interrupted.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Mapping

from simulator.errors import InputError, Problem
from simulator.search_eval import TrialOutcome

FILE_NAME = "trials.jsonl"


def fingerprint(raw: Mapping[str, Any]) -> str:
    """A hash of the experiment mapping with the search's trial count left out."""
    data = json.loads(json.dumps(raw, sort_keys=True, default=str))
    data.get("search", {}).pop("trials", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


class TrialStore:
    """Appends outcomes to ``path`` and reads back those a killed search left."""

    def __init__(self, path: Path, search_fingerprint: str) -> None:
        self.path = path
        self.fingerprint = search_fingerprint

    def load(self) -> dict[int, TrialOutcome]:
        """Stored outcomes by trial number; a file from another search is an input error."""
        if not self.path.exists():
            return {}
        lines = self.path.read_text(encoding="utf-8").splitlines()
        records = [r for r in map(_parse, lines) if r is not None]
        if not records:
            return {}
        found = records[0].get("fingerprint")
        if found != self.fingerprint:
            raise InputError(str(self.path), [Problem("", (
                f"these stored trials belong to a different search (fingerprint {found}, this search "
                f"{self.fingerprint}): write to another --out folder, or pass --fresh to start over"))])
        outcomes = (TrialOutcome.from_record(r) for r in records[1:] if "number" in r)
        return {o.number: o for o in outcomes}

    def start(self, fresh: bool) -> None:
        """Create the file with its header (truncating it when ``fresh``)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = "" if fresh or not self.path.exists() else self.path.read_text(encoding="utf-8")
        if not text.strip():
            self.path.write_text(json.dumps({"fingerprint": self.fingerprint}) + "\n", encoding="utf-8")
        elif not text.endswith("\n"):  # drop a partial last line so appends start on a line of their own
            self.path.write_text(text[: text.rfind("\n") + 1], encoding="utf-8")

    def append(self, outcome: TrialOutcome) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(outcome.to_record(), sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def _parse(line: str) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None  # the partial last line of a killed search
    return record if isinstance(record, dict) else None
