"""``TechLibrary``: the resolved technology table at one node, with overrides.

A library is built once (per system) and then only read: every query is a
dictionary lookup or, for SRAM, a closed-form expression. Construction validates
the node and the overrides and resolves the whole table, so every error surfaces
when the experiment is loaded, not in the middle of a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from arch.tech.errors import InvalidValueError, unknown_name
from arch.tech.overrides import parse_overrides
from arch.tech.reference import reference
from arch.tech.resolve import TechComponent, resolve
from arch.tech.scaling import NodeFactors, node_factors
from arch.tech.sram import SramCost, sram_cost

CONFIG_KEYS = ("node_nm", "allow_extrapolation", "overrides")


class TechLibrary:
    """Energy per action, area and leakage of every component at ``node_nm``.

    ``overrides`` replaces values at this node (see :mod:`arch.tech.overrides` for
    the keys); ``allow_extrapolation`` lets :meth:`sram` return values outside the
    fitted range, with warning records, instead of raising.
    """

    def __init__(self, node_nm: int = 45, overrides: Mapping[str, Any] | None = None,
                 allow_extrapolation: bool = False) -> None:
        if not isinstance(allow_extrapolation, bool):
            raise InvalidValueError(
                f"tech allow_extrapolation must be true or false, got {allow_extrapolation!r}")
        self._ref = reference()
        factors = node_factors(node_nm)
        self._overrides = parse_overrides(overrides, self._ref)
        self._table = resolve(self._ref, factors, self._overrides)
        self.node_nm = node_nm
        self.allow_extrapolation = allow_extrapolation

    @classmethod
    def from_config(cls, block: Mapping[str, Any] | None) -> TechLibrary:
        """Build from an experiment's ``tech:`` block (``node_nm``,
        ``allow_extrapolation``, ``overrides``; all optional)."""
        if block is not None and not isinstance(block, Mapping):
            raise InvalidValueError(f"the tech block must be a mapping, got {block!r}")
        block = dict(block or {})
        for key in block:
            if key not in CONFIG_KEYS:
                raise unknown_name("tech key", key, CONFIG_KEYS)
        return cls(**block)

    def __reduce__(self):
        # Pickles as its arguments (sweeps ship libraries to worker processes).
        return (type(self), (self.node_nm, dict(self._overrides), self.allow_extrapolation))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TechLibrary) and self.__reduce__() == other.__reduce__()

    def __hash__(self) -> int:
        return hash((self.node_nm, tuple(sorted(self._overrides.items())),
                     self.allow_extrapolation))

    def __repr__(self) -> str:
        return (f"TechLibrary(node_nm={self.node_nm}, overrides={dict(self._overrides)!r}, "
                f"allow_extrapolation={self.allow_extrapolation})")

    # --- components ---------------------------------------------------------------
    def components(self) -> tuple[str, ...]:
        """Every component name, in table order."""
        return tuple(self._table.components)

    def component(self, name: str) -> TechComponent:
        """The resolved record of one component (a copy)."""
        comp = self._lookup(name)
        return replace(comp, actions_pj=dict(comp.actions_pj))

    def _lookup(self, name: str) -> TechComponent:
        try:
            return self._table.components[name]
        except KeyError:
            raise unknown_name("tech component", name, self._table.components) from None

    def actions(self, component: str) -> tuple[str, ...]:
        """The action names of ``component``."""
        return tuple(self._lookup(component).actions_pj)

    def energy_pj(self, component: str, action: str | None = None) -> float:
        """Energy of one ``action`` of ``component`` in pJ (``action`` may be left out
        for a component with a single action)."""
        actions = self._lookup(component).actions_pj
        if action is None:
            if len(actions) != 1:
                raise InvalidValueError(
                    f"tech component {component!r} has actions {sorted(actions)}; name one")
            return next(iter(actions.values()))
        try:
            return actions[action]
        except KeyError:
            raise unknown_name("action", action, actions, f" of {component!r}") from None

    def area_um2(self, component: str) -> float:
        """Area of one instance of ``component`` in um^2 (0: not counted)."""
        return self._lookup(component).area_um2

    def leakage_w(self, component: str) -> float:
        """Static power of one instance of ``component`` in W."""
        return self._lookup(component).leakage_w

    def component_energy_pj(self, component: str, counts: Mapping[str, float],
                            seconds: float = 0.0, instances: int = 1) -> float:
        """Dynamic energy of ``counts`` actions plus ``instances`` x leakage over
        ``seconds``, in pJ."""
        if seconds < 0 or instances < 0:
            raise InvalidValueError(
                f"seconds and instances must be >= 0, got {seconds!r}, {instances!r}")
        dynamic = sum(n * self.energy_pj(component, a) for a, n in counts.items())
        return dynamic + self.leakage_w(component) * instances * seconds * 1e12

    # --- SRAM, DRAM, parameters ---------------------------------------------------
    def sram(self, capacity_bytes: float, width_bits: int, banks: int = 1) -> SramCost:
        """Per-access energy, area and leakage of an SRAM macro (see :mod:`arch.tech.sram`)."""
        return sram_cost(self._table.sram_fit, capacity_bytes, width_bits, banks,
                         self.allow_extrapolation)

    def dram_paths(self) -> tuple[str, ...]:
        """Names of the HBM access paths (``bank_pim`` ... ``host``)."""
        return tuple(self._ref.dram_paths)

    def dram_path_pj_per_bit(self, path: str) -> float:
        """Energy per bit of an HBM access that ends at ``path``: the sum of the
        segments the bit crosses (FGDRAM). Not scaled with the logic node."""
        try:
            segments = self._ref.dram_paths[path]
        except KeyError:
            raise unknown_name("DRAM path", path, self._ref.dram_paths) from None
        return sum(self.energy_pj(seg, "transfer") for seg in segments)

    def param(self, key: str) -> float:
        """A scalar parameter at this node, e.g. ``"noc.hop.length_mm"``."""
        try:
            return self._table.params[key]
        except KeyError:
            raise unknown_name("tech parameter", key, self._table.params) from None

    @property
    def factors(self) -> NodeFactors:
        """The node's scaling factors (after ``node.*`` overrides)."""
        return self._table.factors

    @property
    def overrides(self) -> dict[str, float]:
        """The overrides in effect, by canonical key (a copy)."""
        return dict(self._overrides)

    def keys(self) -> tuple[str, ...]:
        """Every key an override may set (single-action components also accept
        ``<component>.energy_pj``)."""
        return tuple(sorted(self._ref.key_index))

    # --- export -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The resolved table as plain data for results files.

        ``TechLibrary(d["node_nm"], d["overrides"], d["allow_extrapolation"])``
        rebuilds the same library.
        """
        t = self._table
        return {
            "node_nm": self.node_nm,
            "allow_extrapolation": self.allow_extrapolation,
            "overrides": dict(self._overrides),
            "node": t.factors.to_dict(),
            "components": {name: c.to_dict() for name, c in t.components.items()},
            "params": dict(t.params),
            "sram_fit": t.sram_fit.to_dict(),
            "dram_paths_pj_per_bit": {p: self.dram_path_pj_per_bit(p) for p in self.dram_paths()},
        }
