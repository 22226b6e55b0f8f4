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

from pydantic import NonNegativeInt, ValidationError

from arch.strict_model import StrictModel
from simulator.errors import InputError, Problem, from_validation_error
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
        """Stored outcomes by trial number; a file from another search, or a line no search writes, is an
        input error naming the line (``--fresh`` starts over)."""
        if not self.path.exists():
            return {}
        try:
            lines = self.path.read_bytes().decode("utf-8").splitlines()
        except UnicodeDecodeError:
            raise self._error("not UTF-8 text") from None
        records = [(n, r) for n, r in ((n, _parse(line)) for n, line in enumerate(lines, 1)) if r is not None]
        if not records:
            return {}
        found = records[0][1].get("fingerprint")
        if found != self.fingerprint:
            raise self._error(f"these stored trials belong to a different search (fingerprint {found}, this "
                              f"search {self.fingerprint})")
        outcomes = [self._outcome(n, r) for n, r in records[1:] if "number" in r]
        return {o.number: o for o in outcomes}

    def _outcome(self, line: int, record: dict[str, Any]) -> TrialOutcome:
        try:
            checked = TrialRecord.model_validate(record)
        except ValidationError as err:
            problem = from_validation_error(err, TrialRecord)[0]
            raise self._error(f"line {line}: {problem}: not a trial this program stores") from None
        return TrialOutcome(checked.number, tuple(checked.params.items()),
                            {k: dict(v) for k, v in checked.metrics.items()}, tuple(checked.warnings), checked.error)

    def _error(self, text: str) -> InputError:
        return InputError(str(self.path), [Problem("", f"{text}: write to another --out folder, or pass --fresh "
                                                       "to start over")])

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


class TrialRecord(StrictModel):
    """One stored trial, as :meth:`TrialOutcome.to_record` writes it."""

    model_config = {**StrictModel.model_config, "extra": "ignore"}
    number: NonNegativeInt
    params: dict[str, Any]
    metrics: dict[str, dict[str, float]]
    warnings: list[str] = []
    error: str | None = None


def _parse(line: str) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, RecursionError):
        return None  # the partial last line of a killed search (or a line no search writes: its trial reruns)
    return record if isinstance(record, dict) else None
