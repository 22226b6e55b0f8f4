"""The accelerator plug-in contract.

Every accelerator family (systolic NPU, LUT core, PIM, wafer mesh, GPU) subclasses
:class:`Accelerator`. A model:

* declares its ``kind`` (the YAML ``kind:`` value) and a frozen, validated
  ``spec_type`` (a pydantic model, extra keys forbidden, units in field names);
* lists its execution ``units`` (which op kinds each runs) and its ``memories``
  (bandwidth resources the engine contends for);
* returns an :class:`OpCost` for an op: stall-free compute cycles on one unit,
  bytes to and from backing memory, and action counts per component;
* lists its :class:`Component` table: count, area and energy per action, so
  energy = sum(counts x energy per action) and area = sum(component areas);
* gives a roofline lower bound on an op's cycles.

Constructors only store their spec (scikit-learn style); everything else is
derived on demand, so models pickle cheaply for sweeps.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar, Mapping

from pydantic import BaseModel

from arch.tech import TechLibrary

from workloads.op import Op, OpKind, Operand


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


class SpecBase(BaseModel):
    """Base of every accelerator spec: frozen, strict about unknown keys."""

    model_config = {"frozen": True, "extra": "forbid", "validate_default": True}


@dataclass(frozen=True)
class Component:
    """One kind of hardware block: how many, how big, what each action costs."""

    name: str
    count: int
    area_um2_each: float
    energy_pj_per_action: Mapping[str, float]
    leakage_w_each: float = 0.0
    category: str = "compute"  # compute | sram | dram | network | other
    warnings: tuple[str, ...] = ()  # e.g. a value extrapolated outside its fitted range

    def __post_init__(self) -> None:
        if self.count < 0 or self.area_um2_each < 0 or self.leakage_w_each < 0:
            raise ValueError(f"component {self.name!r}: count, area and leakage must be >= 0")
        for action, energy in self.energy_pj_per_action.items():
            if energy < 0:
                raise ValueError(f"component {self.name!r}: energy of {action!r} is negative ({energy})")

    @property
    def area_mm2(self) -> float:
        return self.count * self.area_um2_each * 1e-6

    @property
    def leakage_w(self) -> float:
        return self.count * self.leakage_w_each


@dataclass(frozen=True)
class Unit:
    """An execution resource: ``count`` identical instances that run ``op_kinds``.

    ``macs_per_cycle`` is one instance's peak (0 for a unit that does no MACs, or
    whose peak depends on the op); results report an op's utilisation against it.
    """

    name: str
    op_kinds: frozenset[OpKind]
    count: int = 1
    macs_per_cycle: float = 0.0


@dataclass(frozen=True)
class Memory:
    """A bandwidth resource: ``channels`` parallel channels of ``bytes_per_cycle`` each."""

    name: str
    bytes_per_cycle: float
    channels: int = 1
    latency_cycles: int = 0
    capacity_bytes: int = 0  # 0 = not checked


@dataclass(frozen=True)
class OpCost:
    """What one op costs on one unit, before contention.

    ``compute_cycles`` is stall-free; ``steps`` is how many pipelined tiles the op
    is executed in (each step loads its share of ``read_bytes`` and then computes
    its share of ``compute_cycles``, double-buffered). ``actions`` maps
    ``"component.action"`` to a count. ``holds`` names memories the task holds
    for its whole duration: no transfer of another task uses them meanwhile
    (tasks that hold the same memory may overlap each other), e.g. a PIM op that
    owns the row buffers of its channels.
    """

    unit: str
    compute_cycles: int
    read_bytes: int = 0
    write_bytes: int = 0
    steps: int = 1
    actions: tuple[tuple[str, int], ...] = ()
    memory: str = "dram"
    holds: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.compute_cycles < 0 or self.read_bytes < 0 or self.write_bytes < 0:
            raise ValueError(f"cost on {self.unit!r}: cycles and bytes must be >= 0")
        if self.steps < 1:
            raise ValueError(f"cost on {self.unit!r}: steps must be >= 1")

    @property
    def action_counts(self) -> dict[str, int]:
        return dict(self.actions)


@dataclass(frozen=True)
class Energy:
    """Energy of a set of actions, by component, in picojoules."""

    by_component_pj: Mapping[str, float] = field(default_factory=dict)

    @property
    def total_pj(self) -> float:
        return float(sum(self.by_component_pj.values()))


class CapacityError(ValueError):
    """A workload's resident data (weights, KV cache) does not fit a system's memory."""


def resident_bytes(workload) -> int:
    """Bytes that stay in memory for a whole step: every GEMM's weight or KV operand, times the layer repeat."""
    per_layer = sum(op.b_bytes for op in workload.ops
                    if op.kind is OpKind.GEMM and op.b_operand in (Operand.WEIGHT, Operand.KV))
    return per_layer * workload.repeat


def check_capacity(workload, capacity_bytes: int, key: str, holder: str) -> None:
    """Raise :class:`CapacityError` naming ``key`` when ``workload``'s resident bytes exceed ``capacity_bytes``."""
    message = _capacity_message(workload, capacity_bytes, key, holder)
    if message:
        raise CapacityError(message)


def capacity_warnings(workload, capacity_bytes: int, key: str, holder: str) -> tuple[str, ...]:
    """The same check as :func:`check_capacity`, as a warning the results carry instead of an error."""
    message = _capacity_message(workload, capacity_bytes, key, holder)
    return (f"{message} -- the results assume the step's data fits",) if message else ()


def _capacity_message(workload, capacity_bytes: int, key: str, holder: str) -> str:
    needed = resident_bytes(workload)
    if not capacity_bytes or needed <= capacity_bytes:
        return ""
    return (f"{key}: the workload's weights + KV cache need {needed / 1e9:.2f} GB ({needed} bytes) but "
            f"{holder} holds {capacity_bytes / 1e9:.2f} GB ({capacity_bytes} bytes); use tensor parallelism "
            "(workload tp), fewer bits or a smaller batch / sequence")


class Accelerator(ABC):
    """Base class of every accelerator model. See the module docstring."""

    kind: ClassVar[str]
    spec_type: ClassVar[type[SpecBase]]

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

    def peak_macs_per_cycle(self) -> int:
        """MACs the whole system can retire per cycle (for utilisation); 0 if not meaningful."""
        return 0

    def check_workload(self, workload) -> tuple[str, ...] | None:
        """Raise :class:`CapacityError` if ``workload`` cannot run here (e.g. it does not fit), or return
        warnings the results carry (e.g. a capacity exceeded, for models that report rather than refuse);
        by default every workload runs without a warning."""
        return ()

    def mapping_defaults(self, phase: str, batch: int) -> dict[str, Any]:
        """Mapper options this system asks for on a step (e.g. ``{"sub_batches": 2}``); none by default."""
        return {}

    @classmethod
    def kernel_twins(cls) -> tuple[tuple[str, object, object, tuple], ...]:
        """(name, jitted kernel, pure-Python twin, example argument tuples) per cycle kernel."""
        return ()

    def notes(self) -> tuple[str, ...]:
        """What this model does not capture, shown in every report that uses it."""
        return ()

    def warnings(self) -> tuple[str, ...]:
        """Warnings of this system's component table (extrapolated values), for the results."""
        return tuple(w for c in self.components() for w in c.warnings)

    # -- costs ----------------------------------------------------------------
    def supports(self, op: Op) -> bool:
        return any(op.kind in unit.op_kinds for unit in self.units())

    @abstractmethod
    def op_cost(self, op: Op, mapping: Mapping | None = None) -> OpCost: ...

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

    def category_of(self, component: str) -> str:
        return self.component_table()[component].category

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r})"
