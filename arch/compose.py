"""One way to compose a system from a host model and attached compute.

An NPU with PIM in its HBM, an xPU with logic-die PIM, a GPU or NPU with LUT
cores, a wafer with off-wafer memory: each is a host :class:`Accelerator` plus
units of the system's own. :class:`Hosted` embeds the host once and renames
its parts by one rule: with a ``prefix``, a unit ``array`` becomes
``<prefix>_array`` and a component ``pe`` becomes ``<prefix>.pe`` (so the
action ``pe.mac`` is ``<prefix>.pe.mac``); without one the host keeps its
names. ``memory_names`` maps the host's memories to the system's (an xPU's
``dram`` is the system's ``hbm``). A host cost is renamed the same way, so the
system's schedule names only declared units and memories.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from arch.contract import Accelerator, Component, MappingOptions, OpCost, Unit
from workloads.op import Op


@dataclass(frozen=True)
class Hosted:
    """A host model inside a composed system, with its names mapped (module docstring)."""

    host: Accelerator
    prefix: str = ""
    memory_names: tuple[tuple[str, str], ...] = ()

    def unit_name(self, name: str) -> str:
        return f"{self.prefix}_{name}" if self.prefix else name

    def host_unit(self, name: str) -> str | None:
        """The host's name of a system unit, or None when the unit is not the host's."""
        for unit in self.host.units():
            if self.unit_name(unit.name) == name:
                return unit.name
        return None

    def memory_name(self, name: str) -> str:
        return dict(self.memory_names).get(name, name)

    def component_name(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def units(self) -> tuple[Unit, ...]:
        return tuple(dataclasses.replace(u, name=self.unit_name(u.name)) for u in self.host.units())

    def components(self) -> tuple[Component, ...]:
        return tuple(dataclasses.replace(c, name=self.component_name(c.name)) for c in self.host.components())

    def candidate_units(self, op: Op) -> tuple[str, ...]:
        return tuple(self.unit_name(u) for u in self.host.candidate_units(op))

    def cost(self, op: Op, unit: str, options: MappingOptions | None = None) -> OpCost:
        """The host's cost of ``op`` on system unit ``unit``, in the system's names."""
        host_unit = self.host_unit(unit)
        cost = self.host.op_cost(op, host_unit, options)
        return rename(cost, self.unit_name(cost.unit), self.memory_name, self.component_name)


def rename(cost: OpCost, unit: str, memory_name, component_name) -> OpCost:
    """``cost`` on ``unit`` with its memories and action components renamed."""
    traffic = tuple(dataclasses.replace(t, memory=memory_name(t.memory)) for t in cost.traffic)
    actions = tuple((_action(key, component_name), n) for key, n in cost.actions)
    holds = tuple(memory_name(h) for h in cost.holds)
    return dataclasses.replace(cost, unit=unit, traffic=traffic, actions=actions, holds=holds)


def _action(key: str, component_name) -> str:
    component, _, action = key.rpartition(".")
    return f"{component_name(component)}.{action}"


def merged_components(*groups: tuple[Component, ...]) -> tuple[Component, ...]:
    """Components of a composed system; a name given twice is an error naming it."""
    merged: dict[str, Component] = {}
    for group in groups:
        for component in group:
            if component.name in merged:
                raise ValueError(f"composed system: component {component.name!r} is defined twice")
            merged[component.name] = component
    return tuple(merged.values())
