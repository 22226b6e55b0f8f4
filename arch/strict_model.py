"""The base of every validated model at a boundary: frozen, no unknown keys, finite numbers, no bool mix-ups.

Pydantic's lax mode reads ``true`` as 1 for a number field and 0 or 1 as a boolean
for a flag; an experiment file that writes ``cores: true`` or ``sub_batch_interleaving:
0`` almost always means something else, so :class:`StrictModel` refuses both before
the fields are validated, naming the key. Everything else (an int for a float, an
enum's name for the enum) is read as pydantic reads it.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, model_validator


class StrictModel(BaseModel):
    model_config = {"frozen": True, "extra": "forbid", "validate_default": True, "allow_inf_nan": False}

    @model_validator(mode="before")
    @classmethod
    def _no_bool_mixups(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        found = []
        for name, info in cls.model_fields.items():
            key = info.alias or name
            if key not in data or data[key] is None:
                continue
            value, takes_bool = data[key], accepts_bool(info.annotation)
            if isinstance(value, bool) and not takes_bool:
                found.append(f"{key}: expected a number or a name, got the boolean {str(value).lower()}")
            elif takes_bool and only_bool(info.annotation) and not isinstance(value, bool):
                found.append(f"{key}: expected true or false, got {value!r}")
        if found:
            raise FieldErrors(found)
        return data


class FieldErrors(ValueError):
    """Problems found before the fields are validated, each ``"key: message"``; error reports
    (:func:`simulator.errors.from_validation_error`) give each under its own key."""

    def __init__(self, found: list[str]):
        super().__init__("; ".join(found))
        self.found = tuple(tuple(text.split(": ", 1)) for text in found)


def accepts_bool(annotation: Any) -> bool:
    """Whether a field of this type takes ``True`` / ``False`` as they are."""
    if annotation is bool or annotation is Any:
        return True
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return any(accepts_bool(arg) for arg in get_args(annotation))
    if origin is Annotated:
        return accepts_bool(get_args(annotation)[0])
    if origin is Literal:
        return any(isinstance(arg, bool) for arg in get_args(annotation))
    return False


def only_bool(annotation: Any) -> bool:
    """``bool``, or ``bool | None``: a flag and nothing else."""
    if annotation is bool:
        return True
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        return len(args) == 1 and only_bool(args[0])
    if origin is Annotated:
        return only_bool(get_args(annotation)[0])
    return False
