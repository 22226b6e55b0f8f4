"""The value types of the plug-in contract: units, memories, traffic, costs, components.

An accelerator model describes itself with these frozen types and the engine and
mappers consume nothing else:

* a :class:`Unit` is ``count`` schedulable instances of one kind of execution
  resource (tens to hundreds: cores, vector units, PIM channels). A wafer of
  850,000 cores is *one* aggregate unit whose spatial mapping lives in its own
  cost kernels; the mapper's cost is linear-log in ``count``, the engine's per
  task, so ``count`` is not meant for per-PE instances;
* a :class:`Memory` is a contended bandwidth resource of a :class:`MemoryKind`
  (a DRAM, an on-chip SRAM, a network on chip, a chip-to-chip link, a host link);
* an :class:`OpCost` is what one op (or one part of a split op) costs on one
  instance: stall-free compute cycles, its :class:`Traffic` per memory, the
  pipelined steps it is executed in, its action counts and the memories it holds;
* a :class:`Component` is one kind of hardware block with its energy per action
  and area, in an :class:`EnergyCategory`.

:class:`Bound` names what set an op's time; the engine's results report it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Mapping

from workloads.op import OpKind


class Bound(str, Enum):
    """What set an op's time: its unit's compute, a memory's bandwidth, or a fabric's."""

    COMPUTE = "compute"
    MEMORY = "memory"
    NETWORK = "network"


class MemoryKind(str, Enum):
    """What a :class:`Memory` is; network and link memories make an op network-bound."""

    DRAM = "dram"
    SRAM = "sram"
    NETWORK = "network"
    LINK = "link"
    HOST = "host"

    @property
    def bound(self) -> Bound:
        return Bound.NETWORK if self in (MemoryKind.NETWORK, MemoryKind.LINK) else Bound.MEMORY


class EnergyCategory(str, Enum):
    """The dynamic-energy categories of results (static energy is added by the run)."""

    COMPUTE = "compute"
    SRAM = "sram"
    DRAM = "dram"
    NETWORK = "network"
    OTHER = "other"


def energy_category(value: EnergyCategory | str, owner: str) -> EnergyCategory:
    """``value`` as an :class:`EnergyCategory`; an unknown name is a ValueError naming ``owner``."""
    try:
        return EnergyCategory(value)
    except ValueError:
        known = ", ".join(c.value for c in EnergyCategory)
        raise ValueError(f"component {owner!r}: energy category {value!r} is not one of {known}") from None


@dataclass(frozen=True)
class Component:
    """One kind of hardware block: how many, how big, what each action costs."""

    name: str
    count: int
    area_um2_each: float
    energy_pj_per_action: Mapping[str, float]
    leakage_w_each: float = 0.0
    category: EnergyCategory = EnergyCategory.COMPUTE
    warnings: tuple[str, ...] = ()  # e.g. a value extrapolated outside its fitted range

    def __post_init__(self) -> None:
        object.__setattr__(self, "category", energy_category(self.category, self.name))
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
    """An execution resource: ``count`` identical schedulable instances that run ``op_kinds``.

    ``macs_per_cycle`` is one instance's peak when it does not depend on the op
    (0 for a unit that does no MACs); a model whose peak depends on the op's
    datatypes answers :meth:`arch.contract.Accelerator.unit_peak_macs_per_cycle`.
    ``bound`` is what an op limited by this unit's busy time is bound by (a
    link unit running a collective is network-bound). ``near_memory`` marks a
    unit inside or beside a memory (PIM), which placement rules can target.
    """

    name: str
    op_kinds: frozenset[OpKind]
    count: int = 1
    macs_per_cycle: float = 0.0
    bound: Bound = Bound.COMPUTE
    near_memory: bool = False

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"unit {self.name!r}: count must be >= 1, got {self.count}")


# A byte per billion cycles: below it a transfer's cycle count leaves what a float holds
# (a bandwidth of 1e-300 B/s makes every transfer infinite), far below any real memory.
MIN_BYTES_PER_CYCLE = 1e-9


class MemoryRateError(ValueError):
    """A memory whose rate, channels or latency (derived from a spec's bandwidth and clock) is out of range."""


@dataclass(frozen=True)
class Memory:
    """A bandwidth resource: ``channels`` parallel channels of ``bytes_per_cycle`` each."""

    name: str
    bytes_per_cycle: float
    channels: int = 1
    latency_cycles: int = 0
    capacity_bytes: int = 0  # 0 = not checked
    kind: MemoryKind = MemoryKind.DRAM

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", MemoryKind(self.kind))
        if not MIN_BYTES_PER_CYCLE <= self.bytes_per_cycle < math.inf or self.channels < 1 or self.latency_cycles < 0:
            raise MemoryRateError(f"memory {self.name!r}: bytes_per_cycle must be at least {MIN_BYTES_PER_CYCLE:g} and "
                             f"finite, channels >= 1, latency >= 0 (got {self.bytes_per_cycle:g}, {self.channels}, "
                             f"{self.latency_cycles}): check the bandwidth and clock that give it")

    @property
    def total_bytes_per_cycle(self) -> float:
        return self.bytes_per_cycle * self.channels

    def transfer_cycles(self, nbytes: int, efficiency: float = 1.0) -> int:
        """Cycles to move ``nbytes`` over all channels at ``efficiency`` of the peak (0 for nothing)."""
        return math.ceil(nbytes / (self.total_bytes_per_cycle * efficiency)) if nbytes > 0 else 0


@dataclass(frozen=True)
class Traffic:
    """Bytes one op reads and writes over one declared memory.

    ``efficiency`` is the fraction of the memory's peak bandwidth this access
    pattern attains (0 < efficiency <= 1; e.g. set from a DRAM controller
    model's row hits and bank conflicts): moving ``b`` bytes takes
    ``b / (bytes_per_cycle * channels * efficiency)`` cycles, rounded up. The
    default 1.0 is the peak.
    """

    memory: str
    read_bytes: int = 0
    write_bytes: int = 0
    efficiency: float = 1.0

    def __post_init__(self) -> None:
        if self.read_bytes < 0 or self.write_bytes < 0:
            raise ValueError(f"traffic over {self.memory!r}: bytes must be >= 0")
        if not 0 < self.efficiency <= 1:
            raise ValueError(f"traffic over {self.memory!r}: efficiency must be in (0, 1], got {self.efficiency}")

    @property
    def total_bytes(self) -> int:
        return self.read_bytes + self.write_bytes


@dataclass(frozen=True)
class OpCost:
    """What one op costs on one unit instance, before contention.

    ``compute_cycles`` is stall-free; ``traffic`` lists the bytes moved per
    memory; ``steps`` is how many pipelined tiles the op is executed in (each
    step loads its share of every memory's read bytes and then computes its
    share of ``compute_cycles``, double-buffered, and writes its share back).
    ``actions`` maps ``"component.action"`` to a count. ``holds`` names
    memories the task holds for its whole duration: no transfer of another task
    uses them meanwhile (tasks that hold the same memory may overlap each other),
    e.g. a PIM op that owns the row buffers of its channels.
    """

    unit: str
    compute_cycles: int
    traffic: tuple[Traffic, ...] = ()
    steps: int = 1
    actions: tuple[tuple[str, int], ...] = ()
    holds: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.compute_cycles < 0:
            raise ValueError(f"cost on {self.unit!r}: compute cycles must be >= 0")
        if self.steps < 1:
            raise ValueError(f"cost on {self.unit!r}: steps must be >= 1")
        names = [t.memory for t in self.traffic]
        if len(set(names)) != len(names):
            raise ValueError(f"cost on {self.unit!r}: a memory is listed twice in its traffic ({names})")

    @property
    def read_bytes(self) -> int:
        return sum(t.read_bytes for t in self.traffic)

    @property
    def write_bytes(self) -> int:
        return sum(t.write_bytes for t in self.traffic)

    @property
    def memories(self) -> tuple[str, ...]:
        return tuple(t.memory for t in self.traffic)

    def traffic_over(self, memory: str) -> Traffic:
        """The traffic over ``memory`` (zero bytes if the cost moves none over it)."""
        return next((t for t in self.traffic if t.memory == memory), Traffic(memory))

    @property
    def action_counts(self) -> dict[str, int]:
        return dict(self.actions)


def over(memory: str, read_bytes: int = 0, write_bytes: int = 0) -> tuple[Traffic, ...]:
    """The traffic of a cost that moves its bytes over one memory."""
    return (Traffic(memory, read_bytes, write_bytes),)
