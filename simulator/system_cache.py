"""Accelerator models and their per-system tables, built once per spec.

A run builds each system's accelerator model, and summarising the run reads
what the model derives from its spec alone: the component table (energy per
action, area, leakage, energy category), the table's warnings, the model's
notes and its peak MACs per cycle. A model's constructor only stores its frozen
spec and technology settings, and every one of those is a pure function of
them, so :func:`accelerator` hands out one shared model per (model class, spec,
tech) -- kept in a bounded first-in-first-out memo of ``MAX_SYSTEMS`` entries --
and :func:`system_tables` computes the summary tables once per model. Changing
any spec field or technology setting is a different key, hence a model built
afresh. A spec that cannot be hashed (a family whose spec holds a mutable
mapping) gets a model of its own each time, as before.

The tables are built when first asked for, at the point of the run that asked
for them before this memo existed, so an error in a component table is still
reported where it was (a failed system). A model's mapping options for a step
(validated typed options, frozen) are kept on it too. :func:`clear_system_cache` forgets
every model (benchmarks use it to time a run on a system not seen before).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from arch import registry
from arch.contract import Accelerator, SpecBase, TechSettings

MAX_SYSTEMS = 64  # distinct (model class, spec, tech) kept; a sweep's grid of systems is usually smaller

_MODELS: dict[tuple, Accelerator] = {}


@dataclass(frozen=True)
class SystemTables:
    """What a run's summary reads from a model that depends on its spec and tech alone."""

    area_mm2_by_component: Mapping[str, float]  # read-only view; hand out dict(...) copies
    leakage_w: float
    warnings: tuple[str, ...]
    notes: tuple[str, ...]
    peak_macs_per_cycle: float
    category_by_component: Mapping[str, str]  # each component's energy category (its value)


def accelerator(kind: str, spec: SpecBase, tech: TechSettings | None = None) -> Accelerator:
    """The model of ``kind`` for ``spec`` and ``tech``: one shared instance per distinct key."""
    model_class = registry.model_class(kind)
    key = (model_class, spec, tech)
    try:
        model = _MODELS.get(key)
    except TypeError:  # an unhashable spec: no sharing
        return model_class(spec, tech)
    if model is None:
        model = model_class(spec, tech)
        if len(_MODELS) >= MAX_SYSTEMS:
            _MODELS.pop(next(iter(_MODELS)))
        _MODELS[key] = model
    return model


def system_tables(accel: Accelerator) -> SystemTables:
    """``accel``'s summary tables, computed on the first call for this model and kept on it."""
    tables = accel.__dict__.get("_system_tables")
    if tables is None:
        tables = accel.__dict__["_system_tables"] = SystemTables(
            area_mm2_by_component=MappingProxyType(accel.area_mm2()), leakage_w=accel.leakage_w(),
            warnings=accel.warnings(), notes=accel.notes(),
            peak_macs_per_cycle=accel.peak_macs_per_cycle(),
            category_by_component=MappingProxyType({name: component.category.value
                                                   for name, component in accel.component_table().items()}))
    return tables


def mapping_options(accel: Accelerator, given: tuple[tuple[str, Any], ...], phase: str, batch: int):
    """``accel.mapping_options(dict(given), phase, batch)``, kept on the model per (given, phase, batch)."""
    memo = accel.__dict__.setdefault("_mapping_options", {})
    key = (given, phase, batch)
    try:
        options = memo.get(key)
    except TypeError:  # a value that cannot be hashed (a list)
        return accel.mapping_options(dict(given), phase, batch)
    if options is None:
        if len(memo) >= MAX_SYSTEMS:
            memo.clear()
        options = memo[key] = accel.mapping_options(dict(given), phase, batch)
    return options


def clear_system_cache() -> None:
    """Forget every shared model (and with it its tables and its memoised op costs)."""
    _MODELS.clear()


def cached_systems() -> int:
    """How many models the memo holds (for tests and benchmarks)."""
    return len(_MODELS)
