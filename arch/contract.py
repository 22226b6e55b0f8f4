"""The accelerator plug-in contract (v2).

Every accelerator family (systolic NPU, LUT core, PIM, wafer mesh, GPU) subclasses
:class:`Accelerator`. A model:

* declares its ``kind`` (the YAML ``kind:`` value) and a frozen, validated
  ``spec_type`` (a pydantic model, extra keys forbidden, units in field names);
* lists its execution :class:`~arch.costs.Unit` s (which ops each instance can
  run: :meth:`Accelerator.unit_supports` may look at the op's datatypes) and its
  :class:`~arch.costs.Memory` s, each of a :class:`~arch.costs.MemoryKind`
  (bandwidth resources the engine contends for: DRAM, SRAM, a NoC, a link);
* returns an :class:`~arch.costs.OpCost` for an op on a named unit: stall-free
  compute cycles on one instance, the op's traffic per memory, and action counts
  per component; it does not choose the unit -- :mod:`mappers` does, among
  :meth:`Accelerator.candidate_units`, steered by typed
  :class:`~arch.mapping_options.MappingOptions`;
* gives each unit's peak MACs per cycle for an op (a bit-serial LUT core's
  depends on the weight bits) and a roofline lower bound on an op's cycles;
* lists its :class:`~arch.costs.Component` table: count, area and energy per
  action, so energy = sum(counts x energy per action) and area = sum(component
  areas).

Limits, stated: a unit's ``count`` is schedulable instances (tens to hundreds);
the mapper's work is linear-log in it and the engine's is per task. A wafer of
850,000 cores is one aggregate unit whose spatial mapping lives in its own cost
kernels. Costs are per op shape: two ops that differ only in name and layer cost
the same.

Constructors only store their spec (scikit-learn style); everything else is
derived on demand, so models pickle cheaply for sweeps. :mod:`simulator.conformance` checks a model against this contract.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar, Mapping

from arch.capacity import CapacityError, capacity_warnings, check_capacity, resident_bytes
from arch.costs import (Bound, Component, EnergyCategory, Memory, MemoryKind, OpCost, Traffic, Unit,
                        energy_category, over)
from arch.mapping_options import MappingOptions, PlacementRule, SearchObjective, SplitDim
from arch.samples import default_sample_ops
from arch.strict_model import StrictModel
from arch.tech import TechLibrary
from workloads.op import Op

__all__ = [
    "Accelerator", "Bound", "CapacityError", "Component", "Energy", "EnergyCategory", "Memory", "MemoryKind",
    "MappingOptions", "OpCost", "PlacementRule", "SearchObjective", "SpecBase", "SplitDim", "TechSettings", "Traffic", "Unit",
    "UnknownUnitError", "capacity_warnings", "unsupported_message", "check_capacity", "energy_category", "over", "resident_bytes",
]


@dataclass(frozen=True)
class TechSettings:
    """An experiment's ``tech:`` block: overrides and the extrapolation switch."""

    overrides: tuple[tuple[str, Any], ...] = ()
    allow_extrapolation: bool = False

    @classmethod
    def from_mapping(cls, overrides: Mapping[str, Any], allow_extrapolation: bool = False) -> "TechSettings":
        return cls(tuple(sorted(overrides.items())), allow_extrapolation)

    def library(self, node_nm: int) -> TechLibrary:
        return _library(node_nm, self)


@lru_cache(maxsize=256)
def _library(node_nm: int, settings: TechSettings) -> TechLibrary:
    return TechLibrary(node_nm, dict(settings.overrides), settings.allow_extrapolation)


class SpecBase(StrictModel):
    """Base of every accelerator spec: frozen, strict about unknown keys, finite numbers and flags."""


@dataclass(frozen=True)
class Energy:
    """Energy of a set of actions, by component, in picojoules."""

    by_component_pj: Mapping[str, float] = field(default_factory=dict)

    @property
    def total_pj(self) -> float:
        return float(sum(self.by_component_pj.values()))


def unsupported_message(kind: str, op: Op) -> str:
    """Why ``op`` cannot run on a ``kind`` system, naming the experiment option that put it there."""
    option = op.kind.chosen_by
    hint = f"; this kind does not support it: it comes from {option}" if option else ""
    return f"{kind}: no unit runs {op.kind.value} ops (op {op.name!r}){hint}"


class UnknownUnitError(ValueError):
    """A cost was asked for on a unit the model does not have, or one that cannot run the op."""


class Accelerator(ABC):
    """Base class of every accelerator model. See the module docstring."""

    kind: ClassVar[str]
    spec_type: ClassVar[type[SpecBase]]
    mapping_options_type: ClassVar[type[MappingOptions]] = MappingOptions
    node_key: ClassVar[str | None] = "tech_node_nm"  # dotted spec key of the technology node; None: no node
    # conformance checks that do not apply to this family, with the reason (simulator/conformance.py)
    conformance_exemptions: ClassVar[Mapping[str, str]] = {}

    def __init__(self, spec: SpecBase, tech: TechSettings | None = None) -> None:
        self.spec = spec
        self.tech = tech or TechSettings()

    def tech_library(self) -> TechLibrary:
        """The technology library at this system's node with the experiment's overrides."""
        return self.tech.library(getattr(self.spec, "tech_node_nm", 45))

    # -- description ------------------------------------------------------------
    @property
    def clock_hz(self) -> float:
        return float(self.spec.clock_hz)

    @abstractmethod
    def units(self) -> tuple[Unit, ...]: ...

    @abstractmethod
    def memories(self) -> tuple[Memory, ...]: ...

    @abstractmethod
    def components(self) -> tuple[Component, ...]: ...

    def unit(self, name: str) -> Unit:
        """The unit called ``name``; :class:`UnknownUnitError` naming the declared ones otherwise."""
        for unit in self.units():
            if unit.name == name:
                return unit
        known = ", ".join(u.name for u in self.units())
        raise UnknownUnitError(f"{self.kind}: no unit {name!r} (units: {known})")

    def unit_supports(self, unit: Unit, op: Op) -> bool:
        """Whether ``unit`` can run ``op``; by default when it runs ops of that kind."""
        return op.kind in unit.op_kinds

    def candidate_units(self, op: Op) -> tuple[str, ...]:
        """The units that can run ``op``, preferred first (the mapper chooses among them)."""
        return tuple(u.name for u in self.units() if self.unit_supports(u, op))

    def supports(self, op: Op) -> bool:
        return bool(self.candidate_units(op))

    def unit_peak_macs_per_cycle(self, unit: Unit, op: Op) -> float:
        """One instance of ``unit``'s peak MACs per cycle on ``op`` (for utilisation); 0 if not meaningful."""
        return unit.macs_per_cycle

    def peak_macs_per_cycle(self, op: Op | None = None) -> float:
        """MACs the whole system can retire per cycle (on ``op`` if given); 0 if not meaningful."""
        units = self.units()
        if op is None:
            return sum(u.macs_per_cycle * u.count for u in units)
        return sum(self.unit_peak_macs_per_cycle(u, op) * u.count for u in units if self.unit_supports(u, op))

    def check_workload(self, workload, options: MappingOptions | None = None) -> tuple[str, ...]:
        """Raise :class:`CapacityError` if ``workload`` cannot run here under ``options`` (e.g. it does not
        fit), or return warnings the results carry (e.g. a capacity exceeded, for models that report rather
        than refuse); by default every workload runs without a warning."""
        return ()

    def default_mapping(self, phase: str, batch: int) -> dict[str, Any]:
        """Mapper options (fields of ``mapping_options_type``) this system asks for on a step."""
        return {}

    def mapping_space(self, op: Op, unit: str) -> tuple[dict[str, Any], ...]:
        """The family's own per-op mapping choices on ``unit`` (option fields -> values) a mapping search
        may try; ``({},)`` when the family offers none beyond the mapper's splits."""
        return ({},)

    def mapping_options(self, given: Mapping[str, Any] | None, phase: str, batch: int) -> MappingOptions:
        """The options in effect: ``given`` (an experiment's ``mapping:``) over :meth:`default_mapping`."""
        user = self.mapping_options_type.model_validate(dict(given or {}))
        return user.with_defaults(self.default_mapping(phase, batch))

    @classmethod
    def kernel_twins(cls) -> tuple[tuple[str, object, object, tuple], ...]:
        """(name, jitted kernel, pure-Python twin, example argument tuples) per cycle kernel."""
        return ()

    @classmethod
    def conformance_ops(cls) -> tuple[Op, ...]:
        """Sample ops the conformance checker runs on this family, in its datatypes (:mod:`arch.samples`)."""
        return default_sample_ops()

    def notes(self) -> tuple[str, ...]:
        """What this model does not capture, shown in every report that uses it."""
        return ()

    def warnings(self) -> tuple[str, ...]:
        """Warnings of this system's component table (extrapolated values), for the results."""
        return tuple(w for c in self.components() for w in c.warnings)

    # -- costs ----------------------------------------------------------------
    def op_cost(self, op: Op, unit: str | None = None, options: MappingOptions | None = None) -> OpCost:
        """What ``op`` costs on one instance of ``unit`` (default: its first candidate unit)."""
        name = self.resolve_unit(op, unit)
        return self.unit_cost(op, name, options or self.mapping_options_type())

    def resolve_unit(self, op: Op, unit: str | None) -> str:
        """``unit`` checked to exist and run ``op``, or the op's first candidate unit."""
        candidates = self.candidate_units(op)
        if unit is None:
            if not candidates:
                raise UnknownUnitError(unsupported_message(self.kind, op))
            return candidates[0]
        self.unit(unit)
        if unit not in candidates:
            raise UnknownUnitError(f"{self.kind}: unit {unit!r} cannot run op {op.name!r} "
                                   f"({op.kind.value}); units that can: {', '.join(candidates) or 'none'}")
        return unit

    @abstractmethod
    def unit_cost(self, op: Op, unit: str, options: MappingOptions) -> OpCost:
        """The cost of ``op`` on ``unit`` (already checked to run it) under ``options``."""

    @abstractmethod
    def roofline_cycles(self, op: Op) -> int:
        """A lower bound on the op's cycles on this system (all units, all bandwidth)."""

    # -- accounting -------------------------------------------------------------
    def component_table(self) -> dict[str, Component]:
        """``components()`` by name, built once per model (the spec and tech settings are frozen)."""
        table = self.__dict__.get("_component_table")
        if table is None:
            table = self.__dict__["_component_table"] = {c.name: c for c in self.components()}
        return table

    def energy(self, actions: Mapping[str, int]) -> Energy:
        """Dynamic energy of ``actions`` ("component.action" -> count): counts x table."""
        table = self.component_table()
        by_component: dict[str, float] = {}
        for key, count in actions.items():
            name, _, action = key.rpartition(".")
            component = table.get(name)
            if component is None or action not in component.energy_pj_per_action:
                raise KeyError(f"{self.kind}: no energy entry for action {key!r}")
            energy = count * component.energy_pj_per_action[action]
            by_component[name] = by_component.get(name, 0.0) + energy
        return Energy(by_component)

    def area_mm2(self) -> dict[str, float]:
        return {c.name: c.area_mm2 for c in self.component_table().values()}

    def leakage_w(self) -> float:
        return sum(c.leakage_w for c in self.component_table().values())

    def category_of(self, component: str) -> EnergyCategory:
        return self.component_table()[component].category

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r})"
