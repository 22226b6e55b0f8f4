"""The Duplex component table: the xPU's components plus the logic-die units.

Every number comes from the technology library (:mod:`arch.tech`), so each traces
to a cited source there:

* ``xpu.*``: the systolic xPU's own table (:func:`arch.systolic.energy.systolic_components`)
  at the xPU's node, names prefixed ``xpu.``; its ``xpu.dram`` is the host path of
  an HBM stack (FGDRAM via AttAcc: 3.59 pJ/bit, REFERENCE_DATA.md "HBM data path");
* ``pim_mac``: one library MAC (``mac.<pe_dtype>``) per MAC per cycle of every
  unit, at the logic die's node (energy per MAC, area and leakage);
* ``pim_vector``: one library FMA of the unit's vector datatype per vector lane;
* ``pim_buffer``: each unit's activation SRAM, an SRAM macro of the library's fit
  (64-bit access; a word access pays its share of an access, as in the systolic
  scratchpads);
* ``pim_dram``: a bit read or written by a logic-die unit pays the buffer-die PIM
  path, cell to buffer die without the interposer: 3.29 pJ/bit (FGDRAM via AttAcc,
  REFERENCE_DATA.md "HBM data path"). Not scaled with the node.

Area: the xPU's area plus the logic-die units' MACs, vector lanes and buffers.
Extra TSVs, the DRAM dies and the logic die's PHYs are not counted.
"""

from __future__ import annotations

from arch.contract import Component
from arch.logicpim.spec import LogicPimSpec
from arch.sram_macro import sram_component
from arch.tech import TechLibrary


def logic_pim_components(pim: LogicPimSpec, lib: TechLibrary) -> tuple[Component, ...]:
    mac, fma = f"mac.{pim.pe_dtype}", f"fma.{vector_dtype(pim)}"
    path_pj = lib.dram_path_pj_per_bit("buffer_die_pim")
    return (
        Component("pim_mac", pim.units * pim.macs_per_cycle_per_unit, lib.area_um2(mac),
                  {"mac": lib.energy_pj(mac, "mac")}, lib.leakage_w(mac), "compute"),
        Component("pim_vector", pim.units * pim.vector_lanes_per_unit, lib.area_um2(fma),
                  {"lane_op": lib.energy_pj(fma, "fma")}, lib.leakage_w(fma), "compute"),
        _buffer(pim, lib),
        Component("pim_dram", 1, 0.0, {"read_bit": path_pj, "write_bit": path_pj}, 0.0, "dram"),
    )


def _buffer(pim: LogicPimSpec, lib: TechLibrary) -> Component:
    """Each unit's activation buffer (:func:`arch.sram_macro.sram_component`)."""
    return sram_component("pim_buffer", pim.buffer_bytes_per_unit, pim.units, pim.pe_bits, lib, ("read", "write"),
                          "logic_pim.buffer_bytes_per_unit")


def vector_dtype(pim: LogicPimSpec) -> str:
    """Vector lanes compute in fp16 when the MACs are 8-bit (as the systolic vector units)."""
    return "fp16" if pim.pe_dtype in ("int8", "fp8") else pim.pe_dtype
