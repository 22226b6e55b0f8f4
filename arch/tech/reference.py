"""The reference table: every component, rule and parameter at 45 nm, as data.

Parses ``components.yaml`` (primitive components with their sources, derived
components with their rules, scalar parameters, HBM access paths) and the SRAM fit
of ``sram.yaml`` into frozen records, checks the data is complete and consistent,
and lists every key a user may override. Nothing here scales or overrides values;
:mod:`arch.tech.resolve` does that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from arch.tech.errors import TechError
from arch.tech.loader import load_data
from arch.tech.scaling import FACTOR_NAMES
from arch.tech.sram import FIT_FIELDS, SramFit, reference_fit

COMPONENTS_FILE = "components.yaml"
SCALINGS = ("logic", "fixed")
PARAM_SCALINGS = ("fixed", "energy", "area", "leakage", "leakage_density")
_PRIMITIVE_FIELDS = {"energy_pj", "area_um2", "leakage_w", "per", "scaling", "source"}


@dataclass(frozen=True, slots=True)
class Primitive:
    """A component whose values are data, at 45 nm."""

    name: str
    actions_pj: Mapping[str, float]
    area_um2: float
    leakage_w: float | None  # None: area x logic.leakage_w_per_um2
    per: str
    scaling: str
    source: str


@dataclass(frozen=True, slots=True)
class Part:
    """One term of a derived sum: ``times`` x the energy of ``component``'s ``action``."""

    component: str
    action: str | None = None   # None: the component's only action
    times: float | str = 1.0    # a number, or the key of a parameter


@dataclass(frozen=True, slots=True)
class Derived:
    """A component built from others: a scaled copy or a sum of parts."""

    name: str
    rule: str
    scale_of: str | None = None
    factor: float = 1.0
    parts: tuple[Part, ...] = ()
    action: str | None = None
    per: str | None = None  # what one action is; None: as the first part's


@dataclass(frozen=True, slots=True)
class Param:
    """A scalar parameter (units in its key) and how it scales with the node."""

    key: str
    value: float
    scaling: str
    source: str


@dataclass(frozen=True)
class Reference:
    """Everything the library knows at 45 nm, plus the index of overridable keys."""

    primitives: Mapping[str, Primitive]
    derived: tuple[Derived, ...]
    params: Mapping[str, Param]
    dram_paths: Mapping[str, tuple[str, ...]]
    sram_fit: SramFit
    actions: Mapping[str, tuple[str, ...]]   # component -> its action names
    key_index: Mapping[str, tuple[str, ...]]  # override key -> where it points

    @property
    def component_names(self) -> tuple[str, ...]:
        return tuple(self.actions)


@cache
def reference() -> Reference:
    """The parsed, checked reference table (built once per process)."""
    data = load_data(COMPONENTS_FILE)
    primitives = {name: _primitive(name, entry) for name, entry in data["components"].items()}
    params = {key: _param(key, entry) for key, entry in data["params"].items()}
    actions = {name: tuple(p.actions_pj) for name, p in primitives.items()}
    derived = []
    for name, entry in data["derived"].items():
        rule = _derived(name, entry, actions, params)
        actions[name] = ((rule.action,) if rule.scale_of is None else actions[rule.scale_of])
        derived.append(rule)
    paths = {path: tuple(segments) for path, segments in data["dram_paths"].items()}
    for path, segments in paths.items():
        for seg in segments:
            if actions.get(seg) != ("transfer",):
                raise TechError(f"{COMPONENTS_FILE}: dram path {path!r} segment {seg!r} "
                                "is not a per-bit 'transfer' component")
    return Reference(primitives, tuple(derived), params, paths, reference_fit(), actions,
                     _key_index(actions, params))


def _primitive(name: str, entry: Mapping[str, Any]) -> Primitive:
    unknown = set(entry) - _PRIMITIVE_FIELDS
    missing = {"energy_pj", "area_um2", "per", "scaling", "source"} - set(entry)
    if unknown or missing:
        raise TechError(f"{COMPONENTS_FILE}: component {name!r}: unknown fields "
                        f"{sorted(unknown)}, missing fields {sorted(missing)}")
    if entry["scaling"] not in SCALINGS:
        raise TechError(f"{COMPONENTS_FILE}: component {name!r}: scaling must be one of {SCALINGS}")
    if entry["scaling"] == "fixed" and "leakage_w" not in entry:
        raise TechError(f"{COMPONENTS_FILE}: fixed component {name!r} needs an explicit leakage_w")
    leakage = entry.get("leakage_w")
    return Primitive(name, {a: float(e) for a, e in entry["energy_pj"].items()},
                     float(entry["area_um2"]), None if leakage is None else float(leakage),
                     str(entry["per"]), entry["scaling"], str(entry["source"]))


def _param(key: str, entry: Mapping[str, Any]) -> Param:
    if entry["scaling"] not in PARAM_SCALINGS:
        raise TechError(
            f"{COMPONENTS_FILE}: param {key!r}: scaling must be one of {PARAM_SCALINGS}")
    return Param(key, float(entry["value"]), entry["scaling"], str(entry["source"]))


def _derived(name: str, entry: Mapping[str, Any], actions: Mapping[str, tuple[str, ...]],
             params: Mapping[str, Param]) -> Derived:
    if name in actions:
        raise TechError(f"{COMPONENTS_FILE}: derived component {name!r} is defined twice")
    if "scale_of" in entry:
        source = entry["scale_of"]
        if source not in actions:
            raise TechError(f"{COMPONENTS_FILE}: {name!r} scales unknown component {source!r}")
        return Derived(name, str(entry["rule"]), scale_of=source, factor=float(entry["factor"]),
                       per=entry.get("per"))
    parts = tuple(_part(name, item, actions, params) for item in entry["sum_of"])
    return Derived(name, str(entry["rule"]), parts=parts, action=str(entry["action"]),
                   per=entry.get("per"))


def _part(name: str, item: Any, actions: Mapping[str, tuple[str, ...]],
          params: Mapping[str, Param]) -> Part:
    part = Part(item) if isinstance(item, str) else Part(
        item["part"], item.get("action"), item.get("times", 1.0))
    if part.component not in actions:
        raise TechError(f"{COMPONENTS_FILE}: {name!r} sums unknown component {part.component!r} "
                        "(derived components must follow the components they use)")
    own = actions[part.component]
    ambiguous = part.action is None and len(own) != 1
    if ambiguous or (part.action is not None and part.action not in own):
        raise TechError(
            f"{COMPONENTS_FILE}: {name!r}: give one of {own} for part {part.component!r}")
    if isinstance(part.times, str) and part.times not in params:
        raise TechError(f"{COMPONENTS_FILE}: {name!r}: unknown parameter {part.times!r}")
    return part


def _key_index(actions: Mapping[str, tuple[str, ...]],
               params: Mapping[str, Param]) -> dict[str, tuple[str, ...]]:
    """Every overridable flat key -> ("component", name, field) / ("param", key) / ..."""
    index: dict[str, tuple[str, ...]] = {}
    for name, acts in actions.items():
        for act in acts:
            index[f"{name}.{act}_pj"] = ("component", name, f"{act}_pj")
        index[f"{name}.area_um2"] = ("component", name, "area_um2")
        index[f"{name}.leakage_w"] = ("component", name, "leakage_w")
    for key in params:
        index[key] = ("param", key)
    for field in FIT_FIELDS:
        index[f"sram.fit.{field}"] = ("sram", field)
    for field in FACTOR_NAMES:
        index[f"node.{field}"] = ("node", field)
    return index


def energy_alias(key: str, actions: Mapping[str, tuple[str, ...]]) -> str | None:
    """``<component>.energy_pj`` -> ``<component>.<action>_pj`` for single-action components."""
    if not key.endswith(".energy_pj"):
        return None
    name = key[: -len(".energy_pj")]
    acts = actions.get(name)
    if acts is None or len(acts) != 1:
        return None
    return f"{name}.{acts[0]}_pj"
