"""Input errors with the dotted path of the bad key, the bad value and what was expected.

:class:`InputError` holds every problem found in one input (an experiment file,
a preset) so users fix them all at once. :func:`from_validation_error` turns a
pydantic error into these problems, adding "did you mean" for unknown keys.
"""

from __future__ import annotations

import difflib
import re
import reprlib
import types
import typing
from dataclasses import dataclass
from typing import Any, Sequence

from pydantic import BaseModel, ValidationError

from arch.strict_model import FieldErrors
from workloads.input_files import MAX_WHOLE_NUMBER


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InputError(ValueError):
    """One or more problems in a user's input."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [f"{self.source}: {len(self.problems)} problem(s):"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


def dotted(loc: Sequence[Any], prefix: str = "") -> str:
    parts = [prefix] if prefix else []
    for part in loc:
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1]}[{part}]"] if parts else [f"[{part}]"]
        else:
            parts.append(str(part))
    return ".".join(parts)


def from_validation_error(err: ValidationError, model: type[BaseModel], prefix: str = "",
                          rename: dict[tuple, str] | None = None) -> list[Problem]:
    """Problems from a pydantic error. ``rename`` maps a loc prefix to a path text."""
    problems = []
    for item in err.errors():
        loc = tuple(p for p in item["loc"] if not _is_union_tag(p))
        found = item.get("ctx", {}).get("error")
        if isinstance(found, FieldErrors):  # a model's own check, one problem per key it names
            problems += [Problem(_renamed(loc + (key,), prefix, rename or {}), text) for key, text in found.found]
            continue
        path = _renamed(loc, prefix, rename or {})
        problems.append(Problem(path, _message(item, loc, model)))
    return problems


def suggest(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(name), list(known), n=3, cutoff=0.5)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _renamed(loc: tuple, prefix: str, rename: dict[tuple, str]) -> str:
    for head, text in sorted(rename.items(), key=lambda kv: -len(kv[0])):
        if loc[: len(head)] == head:
            return dotted(loc[len(head):], text)
    return dotted(loc, prefix)


def _message(item: dict, loc: tuple, model: type[BaseModel]) -> str:
    kind = item["type"]
    value = item.get("input")
    if kind == "extra_forbidden":
        known = fields_at(model, loc[:-1])
        return f"unknown key{suggest(str(loc[-1]), known)}" + (f" (expected one of: {', '.join(known)})" if known else "")
    if kind == "missing":
        return "required key is missing"
    message = item["msg"].removeprefix("Value error, ")
    return f"{message} (got {_short(value)}){number_hint(value)}"


# Bounded rendering: a value may be a huge (alias-expanded) structure, so it is never
# repr()'d whole; reprlib stops after a few items per level and a few levels.
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple, _REPR.maxset = 3, 4, 4, 4, 4
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = 60, 60, 40


def _short(value: Any) -> str:
    text = _REPR.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# YAML 1.1 (PyYAML) reads a float only with a dot and a signed exponent: 6.4e10 is a string.
_UNSIGNED_EXPONENT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE]\d+$")


def number_hint(value: Any) -> str:
    """For a string such as ``'6.4e10'``: how to write it so YAML reads a number."""
    if not (isinstance(value, str) and _UNSIGNED_EXPONENT.match(value.strip())):
        return ""
    mantissa, exponent = re.split("[eE]", value.strip())
    mantissa = mantissa if "." in mantissa else f"{mantissa}.0"  # YAML 1.1 needs the dot too
    number = float(value)
    plain = f" or {int(number)}" if number.is_integer() and abs(number) < 1e18 else ""
    return f"; YAML reads {value!r} as text, not a number: write {mantissa}e+{exponent}{plain}"


def _is_union_tag(part: Any) -> bool:
    # pydantic puts the union member's name in loc ("str", "dict[str,any]", "function-after[...]").
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float", "bool", "list", "dict"})


def fields_at(model: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    """Field names of the sub-model found by walking ``loc`` from ``model``."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            current = _unwrap(current, sequence=True)
            continue
        current = _unwrap(current)
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(part)
        if field is None:
            return []
        current = field.annotation
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any, sequence: bool = False) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        models = [a for a in args if a is not type(None)]
        return _unwrap(models[0], sequence) if len(models) == 1 else annotation
    if sequence and origin in (list, tuple):
        return args[0]
    return annotation


def error_text(err: BaseException) -> str:
    """An exception's message without the quotes ``str(KeyError)`` adds; other messages whole.

    (``str(err).strip("'\"")`` would also cut a closing quote the message ends with.)
    """
    if isinstance(err, KeyError) and len(err.args) == 1 and isinstance(err.args[0], str):
        return err.args[0]
    return str(err)


MAX_INTEGER = MAX_WHOLE_NUMBER  # workloads/input_files.py: exact as floats, no int64 overflow


def oversized_integers(data: Any, path: str = "", limit: int = MAX_INTEGER) -> list[Problem]:
    """A problem for every integer in ``data`` (nested mappings and lists) beyond +-``limit``."""
    problems: list[Problem] = []
    stack = [(path, data)]
    while stack and len(problems) < 20:
        where, value = stack.pop()
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and abs(value) > limit:
            digits = len(str(abs(value)))
            problems.append(Problem(where, f"a {digits}-digit integer is out of range: "
                                           f"at most {limit} (2**53) in magnitude"))
        elif isinstance(value, dict):
            stack += [(f"{where}.{k}" if where else str(k), v) for k, v in reversed(list(value.items()))]
        elif isinstance(value, list):
            stack += [(f"{where}[{i}]", v) for i, v in reversed(list(enumerate(value)))]
    return problems
