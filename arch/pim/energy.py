"""The PIM memory's component table: bank-side multipliers and the bank-level data path.

Energies come from the technology library (:mod:`arch.tech`):

* ``pim_mult``: one multiply-accumulate lane per multiplier (``mac.<type>`` of
  the element width at the NPU's technology node). Placing logic in a DRAM
  process makes it larger and slower than this logic-process figure; the
  library has no DRAM-process logic, so area and energy are a lower bound.
* ``pim_cells``: a bit read from a bank's cells into its own multipliers pays
  only the activation and cell segments of the HBM path (``bank_pim``: 0.11 +
  0.44 pJ/bit, REFERENCE_DATA.md "HBM data path", FGDRAM as tabulated by AttAcc).
* Input vectors written to the PIM buffers and result reads cross the whole
  path to the host and are charged to the NPU's ``dram`` component (``host``
  path, 3.59 pJ/bit), like the NPU's own traffic.

Refresh energy is not charged (nor is it for the NPU's memory); refresh time
is in the PIM timing.
"""

from __future__ import annotations

from arch.contract import Component
from arch.pim.spec import PimMemorySpec
from arch.tech import TechLibrary

# Library arithmetic type of a multiplier operand width.
MAC_TYPE = {4: "int4", 8: "int8", 16: "fp16", 32: "fp32"}


def pim_components(pim: PimMemorySpec, lib: TechLibrary) -> tuple[Component, ...]:
    if pim.element_bits not in MAC_TYPE:
        raise ValueError(f"element_bits = {pim.element_bits}: expected one of {sorted(MAC_TYPE)}")
    mac = f"mac.{MAC_TYPE[pim.element_bits]}"
    lanes = pim.channels * pim.units_per_channel * pim.multipliers_per_bank
    return (
        Component("pim_mult", lanes, lib.area_um2(mac), {"mac": lib.energy_pj(mac, "mac")},
                  lib.leakage_w(mac), "compute"),
        Component("pim_cells", 1, 0.0, {"read_bit": lib.dram_path_pj_per_bit("bank_pim")}, 0.0, "dram"),
    )
