"""The systolic NPU's component table: PEs, scratchpads, vector lanes and DRAM.

Energies and areas come from the shared technology library at the spec's node
(:mod:`arch.tech`), so every number traces to a cited source there. Scratchpad
accesses are counted in PE words (SCALE-Sim's counting); one word access costs
the SRAM's per-access energy scaled by word bits / access width. A scratchpad
larger than the SRAM fit's range is built from identical macros of at most 1 MiB
(banks of 32 KiB): an access pays one macro's energy, area and leakage scale with
the macro count. DRAM energy is
the host path of an HBM stack (cell to interposer, FGDRAM as tabulated by
AttAcc) per bit moved; the DRAM dies' area is not part of the NPU's area. The
chip-to-chip link pays the library's off-chip link energy per bit sent (count 0
when the spec has no link); its PHY area is not modelled (0 in the library).
"""

from __future__ import annotations

from arch.contract import Component
from arch.sram_macro import sram_component
from arch.systolic.spec import SystolicSpec
from arch.tech import TechLibrary

# The library's one off-chip link entry ([AttAcc] 1.3 pJ/bit, a SerDes chip-to-chip
# link; arch/tech/components.yaml). No per-bit energy of Google's ICI is published,
# so TPU-like presets use it too.
LINK_ENTRY = "link.nvlink"


def systolic_components(spec: SystolicSpec, lib: TechLibrary | None = None) -> tuple[Component, ...]:
    lib = lib or TechLibrary(node_nm=spec.tech_node_nm)
    mac = f"mac.{spec.pe_dtype}"
    return (
        Component("pe", spec.pes_per_core * spec.cores, lib.area_um2(mac),
                  {"mac": lib.energy_pj(mac, "mac")}, lib.leakage_w(mac), "compute"),
        _sram("ifmap_sram", spec.ifmap_sram_bytes, spec, lib, ("read",)),
        _sram("filter_sram", spec.filter_sram_bytes, spec, lib, ("read",)),
        _sram("ofmap_sram", spec.ofmap_sram_bytes, spec, lib, ("write", "read")),
        Component("vector", spec.vector_lanes * spec.cores, lib.area_um2(f"fma.{_vector_dtype(spec)}"),
                  {"lane_op": lib.energy_pj(f"fma.{_vector_dtype(spec)}", "fma")},
                  lib.leakage_w(f"fma.{_vector_dtype(spec)}"), "compute"),
        Component("dram", 1, 0.0, {"read_bit": lib.dram_path_pj_per_bit("host"),
                                   "write_bit": lib.dram_path_pj_per_bit("host")}, 0.0, "dram"),
        Component("link", 1 if spec.link_bandwidth_bytes_per_s else 0, lib.area_um2(LINK_ENTRY),
                  {"transfer_bit": lib.energy_pj(LINK_ENTRY, "transfer")}, lib.leakage_w(LINK_ENTRY),
                  "network"),
    )


def _sram(name: str, capacity_bytes: int, spec: SystolicSpec, lib: TechLibrary, actions) -> Component:
    """A scratchpad per core (:func:`arch.sram_macro.sram_component`)."""
    return sram_component(name, capacity_bytes, spec.cores, spec.pe_bits, lib, actions, f"{name}_bytes")


def _vector_dtype(spec: SystolicSpec) -> str:
    return "fp16" if spec.pe_dtype in ("int8", "fp8") else spec.pe_dtype
