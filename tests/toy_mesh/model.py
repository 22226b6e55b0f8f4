"""A toy wafer-like mesh, defined entirely inside the tests: the contract carries a new family.

One aggregate unit (``mesh``: all PEs together; its spatial mapping is this
closed form), an on-chip network (a memory of kind ``network``) and an off-chip
DRAM. A GEMM's weights stay in the PEs' SRAM when they fit, else stream from
DRAM; its activations are broadcast and its partial sums reduced over the NoC
(multicast once; partial sums over ``side`` hops). Numbers are illustrative, not a
model of any chip.
"""

from __future__ import annotations

import math

from numba import njit
from pydantic import Field

from arch.contract import (Accelerator, Bound, Component, EnergyCategory, MappingOptions, Memory, MemoryKind, OpCost,
                           SpecBase, Traffic, Unit)
from workloads.op import Op, OpKind

VECTOR = frozenset({OpKind.SOFTMAX, OpKind.ADD, OpKind.NORM, OpKind.ACTIVATION})


class ToyMeshSpec(SpecBase):
    kind: str = "toymesh"
    side_pes: int = Field(64, gt=0)
    macs_per_pe_per_cycle: int = Field(1, gt=0)
    sram_bytes_per_pe: int = Field(256 * 1024, gt=0)
    noc_bytes_per_cycle: float = Field(128.0, gt=0)
    dram_bytes_per_cycle: float = Field(64.0, gt=0)
    clock_hz: float = Field(1e9, gt=0)
    tech_node_nm: int = 7


@njit(cache=False)
def noc_bytes_kernel(a_bytes, out_bytes, side):
    """Multicast the activations once, reduce the partial sums over ``side`` hops."""
    return a_bytes + out_bytes * side


def noc_bytes_py(a_bytes, out_bytes, side):
    return a_bytes + out_bytes * side


class ToyMesh(Accelerator):
    kind = "toymesh"
    spec_type = ToyMeshSpec
    mapping_options_type = MappingOptions
    conformance_exemptions = {"smaller_node_is_cheaper": "toy energies are fixed numbers, not the technology library's"}

    @property
    def pes(self) -> int:
        return self.spec.side_pes ** 2

    def units(self):
        return (Unit("mesh", frozenset({OpKind.GEMM}) | VECTOR, 1, self.pes * self.spec.macs_per_pe_per_cycle),)

    def memories(self):
        return (Memory("noc", self.spec.noc_bytes_per_cycle, kind=MemoryKind.NETWORK),
                Memory("dram", self.spec.dram_bytes_per_cycle, kind=MemoryKind.DRAM))

    def components(self):
        return (Component("pe", self.pes, 50.0, {"mac": 0.2}, 0.0, EnergyCategory.COMPUTE),
                Component("sram", self.pes, 400.0, {"read_bit": 0.01}, 0.0, EnergyCategory.SRAM),
                Component("noc", 1, 0.0, {"hop_bit": 0.05}, 0.0, EnergyCategory.NETWORK),
                Component("dram", 1, 0.0, {"read_bit": 4.0}, 0.0, EnergyCategory.DRAM))

    @classmethod
    def kernel_twins(cls):
        return (("noc_bytes", noc_bytes_kernel, noc_bytes_py, ((1, 2, 3), (4096, 8192, 64))),)

    def unit_cost(self, op: Op, unit: str, options: MappingOptions) -> OpCost:
        peak = self.pes * self.spec.macs_per_pe_per_cycle
        if op.kind in VECTOR:
            cycles = math.ceil(op.elements / self.pes) + 1
            return OpCost("mesh", cycles, actions=(("sram.read_bit", 8 * op.a_bytes),))
        fits = op.b_bytes <= self.pes * self.spec.sram_bytes_per_pe
        noc = int(noc_bytes_kernel(op.a_bytes, op.out_bytes, self.spec.side_pes))
        traffic = (Traffic("noc", noc, 0),) + (() if fits else (Traffic("dram", op.b_bytes, 0),))
        actions = (("pe.mac", op.macs), ("sram.read_bit", 8 * op.b_bytes), ("noc.hop_bit", 8 * noc))
        actions += () if fits else (("dram.read_bit", 8 * op.b_bytes),)
        return OpCost("mesh", math.ceil(op.macs / peak), traffic=traffic, steps=8, actions=actions)

    def roofline_cycles(self, op: Op) -> int:
        peak = self.pes * self.spec.macs_per_pe_per_cycle
        return max(1, math.ceil(op.macs / peak) if op.kind is OpKind.GEMM else math.ceil(op.elements / self.pes))


