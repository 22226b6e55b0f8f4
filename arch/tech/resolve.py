"""Resolving the reference table at a node, with user overrides applied.

Order, so that an override of a part reaches what is built from it:

1. node factors (``node.*`` overrides replace them);
2. parameters and the SRAM fit, scaled by their kind, then overridden;
3. primitive components, scaled if ``logic``, then overridden; leakage is the
   override, else the data value times the leakage factor, else area times
   ``logic.leakage_w_per_um2``;
4. derived components in file order, each built from already resolved parts and
   then overridden (an overridden area carries the leakage along in proportion).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from arch.tech.errors import InvalidValueError
from arch.tech.reference import Derived, Primitive, Reference
from arch.tech.scaling import NodeFactors, check_factor
from arch.tech.sram import AREA_FIELDS, ENERGY_FIELDS, LEAKAGE_FIELDS, SramFit

LEAKAGE_DENSITY_KEY = "logic.leakage_w_per_um2"


@dataclass(frozen=True, slots=True)
class TechComponent:
    """One resolved component: energy per action, area, leakage and provenance."""

    name: str
    actions_pj: dict[str, float]
    area_um2: float
    leakage_w: float
    per: str        # what one action is ("operation", "bit", "64-bit access", ...)
    scaling: str    # "logic", "fixed" or "derived"
    source: str     # citation, or the rule of a derived component

    def to_dict(self) -> dict[str, Any]:
        return {"energy_pj": dict(self.actions_pj), "area_um2": self.area_um2,
                "leakage_w": self.leakage_w, "per": self.per, "scaling": self.scaling,
                "source": self.source}


@dataclass(frozen=True)
class Resolved:
    """The table at one node: factors, components, parameters and SRAM fit."""

    factors: NodeFactors
    components: dict[str, TechComponent]
    params: dict[str, float]
    sram_fit: SramFit


def resolve(ref: Reference, factors: NodeFactors, overrides: Mapping[str, float]) -> Resolved:
    grouped = _group(ref, overrides)
    factors = factors.replace_factors(grouped["node"])
    for field, value in grouped["node"].items():
        check_factor(f"node.{field}", value)
    params = _params(ref, factors, grouped["param"])
    sram_fit = _sram_fit(ref.sram_fit, factors, grouped["sram"])
    components: dict[str, TechComponent] = {}
    for prim in ref.primitives.values():
        components[prim.name] = _primitive(prim, factors, params, grouped["component"])
    for rule in ref.derived:
        built = _derive(rule, components, params)
        components[rule.name] = _override(built, grouped["component"].get(rule.name, {}))
    return Resolved(factors, components, params, sram_fit)


def _group(ref: Reference, overrides: Mapping[str, float]) -> dict[str, dict]:
    grouped: dict[str, dict] = {"node": {}, "param": {}, "sram": {}, "component": {}}
    for key, value in overrides.items():
        kind, *where = ref.key_index[key]
        if kind == "component":
            name, field = where
            grouped["component"].setdefault(name, {})[field] = value
        else:
            grouped[kind][where[0]] = value
    return grouped


def _params(ref: Reference, f: NodeFactors, overrides: Mapping[str, float]) -> dict[str, float]:
    scale = {"fixed": 1.0, "energy": f.energy_factor, "area": f.area_factor,
             "leakage": f.leakage_factor, "leakage_density": f.leakage_factor / f.area_factor}
    params = {key: p.value * scale[p.scaling] for key, p in ref.params.items()}
    params.update(overrides)
    return params


def _sram_fit(fit: SramFit, f: NodeFactors, overrides: Mapping[str, float]) -> SramFit:
    values = {fd.name: getattr(fit, fd.name) for fd in fields(SramFit)}
    for names, factor in ((ENERGY_FIELDS, f.energy_factor), (AREA_FIELDS, f.area_factor),
                          (LEAKAGE_FIELDS, f.leakage_factor)):
        for name in names:
            values[name] *= factor
    values.update(overrides)
    for bound in ("capacity_bytes", "width_bits"):
        lo, hi = values[f"min_{bound}"], values[f"max_{bound}"]
        if lo > hi:
            raise InvalidValueError(
                f"tech sram.fit.min_{bound} = {lo:g} is above sram.fit.max_{bound} = {hi:g}")
    return SramFit(**values)


def _primitive(prim: Primitive, f: NodeFactors, params: Mapping[str, float],
               overrides: Mapping[str, Mapping[str, float]]) -> TechComponent:
    logic = prim.scaling == "logic"
    ef, af, lf = (f.energy_factor, f.area_factor, f.leakage_factor) if logic else (1.0, 1.0, 1.0)
    own = overrides.get(prim.name, {})
    actions = {a: own.get(f"{a}_pj", e * ef) for a, e in prim.actions_pj.items()}
    area = own.get("area_um2", prim.area_um2 * af)
    if "leakage_w" in own:
        leakage = own["leakage_w"]
    elif prim.leakage_w is not None:
        leakage = prim.leakage_w * lf
    else:
        leakage = area * params[LEAKAGE_DENSITY_KEY]
    return TechComponent(prim.name, actions, area, leakage, prim.per,
                     prim.scaling, prim.source)


def _derive(rule: Derived, done: Mapping[str, TechComponent],
            params: Mapping[str, float]) -> TechComponent:
    if rule.scale_of is not None:
        src = done[rule.scale_of]
        actions = {a: e * rule.factor for a, e in src.actions_pj.items()}
        return TechComponent(rule.name, actions, src.area_um2 * rule.factor,
                         src.leakage_w * rule.factor, rule.per or src.per, "derived", rule.rule)
    energy = area = leakage = 0.0
    for part in rule.parts:
        comp = done[part.component]
        times = params[part.times] if isinstance(part.times, str) else float(part.times)
        action = part.action or next(iter(comp.actions_pj))
        energy += times * comp.actions_pj[action]
        area += times * comp.area_um2
        leakage += times * comp.leakage_w
    per = rule.per or done[rule.parts[0].component].per
    return TechComponent(rule.name, {rule.action: energy}, area, leakage, per,
                     "derived", rule.rule)


def _override(comp: TechComponent, own: Mapping[str, float]) -> TechComponent:
    if not own:
        return comp
    actions = {a: own.get(f"{a}_pj", e) for a, e in comp.actions_pj.items()}
    area = own.get("area_um2", comp.area_um2)
    carried = comp.leakage_w * area / comp.area_um2 if comp.area_um2 > 0 else comp.leakage_w
    leakage = own.get("leakage_w", carried)
    return replace(comp, actions_pj=actions, area_um2=area, leakage_w=leakage)
