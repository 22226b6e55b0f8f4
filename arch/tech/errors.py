"""Errors and warning records of the technology library.

Every error is a :class:`ValueError` subclass whose message names the offending key
or argument, the bad value and what was expected, so the experiment loader can show
it to a user as is. Warnings are plain records returned to the caller (never
printed), for the caller to put into its results.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import asdict, dataclass


class TechError(ValueError):
    """Base class of every technology-library error."""


class UnknownNameError(TechError):
    """An unknown component, action, override key, DRAM path or config key."""


class UnknownNodeError(TechError):
    """A technology node the library has no scaling factors for."""


class InvalidValueError(TechError):
    """A value of the wrong type, negative, zero where it must be positive, or not finite."""


class SramRangeError(TechError):
    """An SRAM geometry outside the range the SRAM fit was made on."""


@dataclass(frozen=True, slots=True)
class TechWarning:
    """A non-fatal finding the caller should record with its results.

    ``code`` is a stable identifier (e.g. ``"sram_extrapolated"``), ``key`` the
    argument or table key concerned and ``message`` a sentence for a person.
    """

    code: str
    key: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """A " did you mean ...?" suffix for ``name`` (empty if nothing is close)."""
    matches = difflib.get_close_matches(name, sorted(candidates), n=3, cutoff=0.6)
    if not matches:
        return ""
    return " did you mean " + " or ".join(repr(m) for m in matches) + "?"


def hint_clause(name: str, candidates: Iterable[str]) -> str:
    """``"; did you mean ...?"`` to append after a name, or nothing if no candidate is close."""
    hint = did_you_mean(name, candidates)
    return f";{hint}" if hint else ""


def unknown_name(kind: str, name: object, candidates: Iterable[str],
                 context: str = "") -> UnknownNameError:
    """An :class:`UnknownNameError` for ``name`` (a ``kind``, e.g. "DRAM path") with a
    "did you mean" hint; ``context`` is appended after the name."""
    candidates = list(candidates)
    hint = did_you_mean(str(name), candidates)
    if not hint:
        shown = ", ".join(sorted(candidates)[:12])
        more = ", ..." if len(candidates) > 12 else ""
        hint = f" known: {shown}{more}"
    return UnknownNameError(f"unknown {kind} {name!r}{context};{hint}")
