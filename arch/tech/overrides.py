"""User overrides of library values: parsing, checking and naming errors.

An override set is a mapping from dotted keys to numbers, given flat
(``{"mac.fp16.mac_pj": 0.2}``), nested (``{"mac": {"fp16": {"mac_pj": 0.2}}}``) or
mixed; nested keys are joined with dots. Keys are:

- ``<component>.<action>_pj``, ``<component>.area_um2``, ``<component>.leakage_w``;
  for a component with one action ``<component>.energy_pj`` names that action;
- parameters such as ``logic.leakage_w_per_um2`` or ``noc.hop.length_mm``;
- ``sram.fit.<field>`` (coefficients and range of the SRAM fit);
- ``node.energy_factor``, ``node.area_factor``, ``node.leakage_factor``.

Overridden values are the values used at the library's node: they are not scaled.
Unknown keys, a key given twice, non-numbers and negative values are errors that
name the key; unknown keys come with a "did you mean".
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from arch.tech.errors import InvalidValueError, UnknownNameError, did_you_mean
from arch.tech.reference import Reference, energy_alias


def flatten(overrides: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    """Join nested mapping keys with dots; a key reached twice is an error."""
    flat: dict[str, object] = {}
    for key, value in overrides.items():
        if not isinstance(key, str) or not key:
            raise InvalidValueError(f"tech override keys must be non-empty strings, got {key!r}")
        full = f"{prefix}{key}"
        items = flatten(value, f"{full}.") if isinstance(value, Mapping) else {full: value}
        for sub_key, sub_value in items.items():
            if sub_key in flat:
                raise InvalidValueError(f"tech override {sub_key!r} is given twice")
            flat[sub_key] = sub_value
    return flat


def parse_overrides(overrides: Mapping[str, object] | None, ref: Reference) -> dict[str, float]:
    """Canonical key -> value for ``overrides``, checked against the reference table."""
    if overrides is not None and not isinstance(overrides, Mapping):
        raise InvalidValueError(
            f"tech overrides must be a mapping of key: value, got {overrides!r}")
    parsed: dict[str, float] = {}
    for key, value in flatten(overrides or {}).items():
        canonical = _canonical_key(key, ref)
        if canonical in parsed:
            raise InvalidValueError(
                f"tech override {key!r} sets {canonical!r}, which is already given")
        parsed[canonical] = _checked_value(key, value)
    return parsed


def _canonical_key(key: str, ref: Reference) -> str:
    if key in ref.key_index:
        return key
    alias = energy_alias(key, ref.actions)
    if alias is not None:
        return alias
    if key.endswith(".energy_pj") and key[: -len(".energy_pj")] in ref.actions:
        name = key[: -len(".energy_pj")]
        options = " or ".join(f"{name}.{a}_pj" for a in ref.actions[name])
        raise UnknownNameError(
            f"tech override {key!r}: {name!r} has several actions; give {options}")
    candidates = [*ref.key_index, *(f"{name}.energy_pj" for name, acts in ref.actions.items()
                                    if len(acts) == 1)]
    raise UnknownNameError(f"unknown tech override key {key!r};"
                           f"{did_you_mean(key, candidates) or ' see TechLibrary.keys()'}")


def _checked_value(key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidValueError(f"tech override {key!r} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise InvalidValueError(f"tech override {key!r} must be finite, got {value!r}")
    if value < 0:
        raise InvalidValueError(
            f"tech override {key!r} = {value!r}: energies, areas, powers and "
            "parameters must be >= 0")
    return value
