"""Result types of a run: per op, per system, per experiment.

These frozen types are what ``reports`` may import. ``to_dict`` gives the JSON
shape of ``results.json`` (DESIGN.md, "Results on disk"); keys carry units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from arch.costs import EnergyCategory

# the components' dynamic-energy categories, then the leakage the run adds
ENERGY_CATEGORIES = tuple(c.value for c in EnergyCategory) + ("static",)


@dataclass(frozen=True)
class TimelineEvent:
    """What one task did: when it held its unit and how much of that was stalled."""

    task: str
    unit: str
    start: int
    end: int
    compute_cycles: int
    memory_cycles: int

    @property
    def total_cycles(self) -> int:
        return self.end - self.start

    @property
    def stall_cycles(self) -> int:
        return self.total_cycles - self.compute_cycles


@dataclass(frozen=True)
class OpResult:
    name: str
    kind: str
    unit: str
    start_cycle: int
    end_cycle: int
    compute_cycles: int
    stall_cycles: int
    memory_cycles: int
    macs: int
    flops: int
    read_bytes: int
    write_bytes: int
    energy_pj: float
    bound: str  # compute | memory | network
    energy_pj_by_category: Mapping[str, float] = field(default_factory=dict)
    utilisation: float | None = None  # MACs / (total cycles x the unit instance's peak MACs per cycle)
    actions: Mapping[str, int] = field(default_factory=dict)  # e.g. "ifmap_sram.read": SRAM words read
    mapping: str = ""  # how the op was mapped: parts, split dimension, family choices (e.g. dataflow)
    dram_efficiency: float | None = None  # fraction of the DRAM peak its transfers were timed at (op_bandwidth.py)
    dram_bandwidth_bytes_per_s: float | None = None  # DRAM bytes over the op's start-to-end time

    @property
    def total_cycles(self) -> int:
        return self.end_cycle - self.start_cycle

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "kind": self.kind, "unit": self.unit,
            "start_cycle": self.start_cycle, "end_cycle": self.end_cycle,
            "compute_cycles": self.compute_cycles, "stall_cycles": self.stall_cycles,
            "total_cycles": self.total_cycles, "memory_cycles": self.memory_cycles,
            "macs": self.macs, "flops": self.flops, "read_bytes": self.read_bytes,
            "write_bytes": self.write_bytes, "energy_pj": self.energy_pj, "bound": self.bound,
            "energy_breakdown_pj": dict(self.energy_pj_by_category),
            "utilisation": self.utilisation, "actions": dict(sorted(self.actions.items())),
            "mapping": self.mapping, "dram_efficiency": self.dram_efficiency,
            "dram_bandwidth_bytes_per_s": self.dram_bandwidth_bytes_per_s,
        }


@dataclass(frozen=True)
class SystemResult:
    """One system's run of the workload. Cycles and energy cover all ``repeat`` layers."""

    name: str
    kind: str
    clock_hz: float
    cycles: int
    layer_cycles: int
    repeat: int
    energy_pj_by_component: Mapping[str, float]
    energy_pj_by_category: Mapping[str, float]
    area_mm2_by_component: Mapping[str, float]
    tokens: int
    macs: int
    peak_macs_per_cycle: int
    ops: tuple[OpResult, ...]
    notes: tuple[str, ...] = ()      # what the model does not capture
    warnings: tuple[str, ...] = ()   # what is doubtful about this run (extrapolated values, data that does not fit)
    devices: int = 1                 # tensor-parallel group size: cycles, energy and area are one device's
    serving: Mapping[str, Any] | None = None
    mapping_search: Mapping[str, Any] | None = None  # searched vs fixed mapping (cycles, energy), when searched
    memories: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # name -> {kind, bandwidth_bytes_per_s}

    @property
    def seconds(self) -> float:
        return self.cycles / self.clock_hz

    @property
    def energy_j(self) -> float:
        return sum(self.energy_pj_by_category.values()) * 1e-12

    @property
    def area_mm2(self) -> float:
        return sum(self.area_mm2_by_component.values())

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0

    @property
    def energy_per_token_j(self) -> float:
        return self.energy_j / self.tokens if self.tokens else 0.0

    @property
    def average_power_w(self) -> float:
        return self.energy_j / self.seconds if self.seconds > 0 else 0.0

    @property
    def achieved_tops(self) -> float:
        """Tera-operations per second actually delivered (2 operations per MAC)."""
        return 2 * self.macs / self.seconds * 1e-12 if self.seconds > 0 else 0.0

    @property
    def tops_per_w(self) -> float:
        """Delivered operations per joule, in TOPS/W (dynamic and static energy)."""
        return 2 * self.macs / self.energy_j * 1e-12 if self.energy_j > 0 else 0.0

    @property
    def tops_per_mm2(self) -> float:
        return self.achieved_tops / self.area_mm2 if self.area_mm2 > 0 else 0.0

    @property
    def utilisation(self) -> float:
        capacity = self.cycles * self.peak_macs_per_cycle
        return self.macs / capacity if capacity else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "kind": self.kind, "clock_hz": self.clock_hz,
            "cycles": self.cycles, "layer_cycles": self.layer_cycles, "repeat": self.repeat,
            "seconds": self.seconds, "tokens": self.tokens, "tokens_per_s": self.tokens_per_s,
            "utilisation": self.utilisation, "macs": self.macs, "peak_macs_per_cycle": self.peak_macs_per_cycle,
            "achieved_tops": self.achieved_tops, "tops_per_w": self.tops_per_w,
            "tops_per_mm2": self.tops_per_mm2,
            "energy_j": self.energy_j, "energy_per_token_j": self.energy_per_token_j,
            "average_power_w": self.average_power_w,
            "energy_breakdown_j": {k: v * 1e-12 for k, v in self.energy_pj_by_category.items()},
            "energy_by_component_j": {k: v * 1e-12 for k, v in sorted(self.energy_pj_by_component.items())},
            "area_mm2": self.area_mm2,
            "area_breakdown_mm2": dict(sorted(self.area_mm2_by_component.items())),
            "notes": list(self.notes), "warnings": list(self.warnings), "devices": self.devices,
            "ops": [op.to_dict() for op in self.ops],
            **({"serving": dict(self.serving)} if self.serving is not None else {}),
            **({"mapping_search": dict(self.mapping_search)} if self.mapping_search is not None else {}),
            **({"memories": {k: dict(v) for k, v in self.memories.items()}} if self.memories else {}),
        }


@dataclass(frozen=True)
class Failure:
    """A system that could not be run; the others' results are kept."""

    system: str
    message: str


@dataclass(frozen=True)
class ExperimentResult:
    name: str
    version: str
    seed: int
    experiment: Mapping[str, Any]
    systems: tuple[SystemResult, ...]
    baseline: str | None = None
    failures: tuple[Failure, ...] = field(default=())
    timelines: Mapping[str, tuple] = field(default_factory=dict, compare=False)

    def system(self, name: str) -> SystemResult:
        for result in self.systems:
            if result.name == name:
                return result
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "xpusim_version": self.version, "name": self.name, "seed": self.seed,
            "baseline": self.baseline, "experiment": self.experiment,
            "systems": {s.name: s.to_dict() for s in self.systems},
            "failures": [{"system": f.system, "message": f.message} for f in self.failures],
        }
