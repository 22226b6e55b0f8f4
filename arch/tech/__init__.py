"""Technology library: energy per action, area and leakage for every accelerator family.

What is modelled
----------------
Components at the 45 nm reference node, each number with its source in the data
files next to this module (``components.yaml``, ``sram.yaml``, ``nodes.yaml``):

- arithmetic: ``add``, ``mult``, ``mac`` (multiplier + wider accumulator) and
  ``fma`` (multiplier + adder of one format) for int4, int8, fp8, fp16, bf16,
  fp32 (``add.int16``/``add.int32``/``mult.int32`` too). Horowitz (ISSCC 2014)
  gives int8/int32/fp16/fp32; the other types follow stated width laws (adders
  linear in bits, multipliers quadratic in multiplied bits); MACs accumulate in
  int32 or fp32;
- ``register`` (16-bit, Accelergy 0.144 pJ), lookup-table units
  (``lut.entry_read``, ``lut.entry_write``, ``lut.shift_acc``);
- SRAM macros of any capacity, width and bank count, from a square-root law
  fitted to Horowitz's and Accelergy's 45 nm points, with its range enforced;
- DRAM: LPDDR4 (Accelergy) and ZigZag's DRAM per 64-bit access; the HBM data path
  per bit by segment (FGDRAM), summed along the path to bank-level PIM, bank-group
  PIM, buffer-die PIM or the host; HBM2 refresh and background power;
- links and networks: NVLink per bit, GPU register/L1/L2 per byte (AttAcc), an
  on-chip router and wire and the hops built from them (stated assumptions);
- static power per component, so energy = dynamic + leakage x time.

Nodes 45, 28, 16, 7 and 5 nm scale logic energy, area and leakage by explicit
factors (Stillmaker & Baas 2017; TSMC N5 for 5 nm). DRAM, HBM, links and the GPU
on-chip figures are ``fixed``: they do not scale with the logic node.

How faithful
------------
A first-order, Accelergy-style table: numbers are per action, independent of
data values, utilisation and clock. Derived types (int4, fp8, bf16) and the
network hop are estimates by rule, marked so in the data. The SRAM fit is within
9 % of its points; outside its range it raises or warns.

Public API
----------
``TechLibrary(node_nm: int = 45, overrides: Mapping | None = None,
allow_extrapolation: bool = False)``

- ``energy_pj(component: str, action: str | None = None) -> float``: pJ per
  action; ``action`` may be omitted for single-action components. Actions:
  ``add``/``mult``/``mac``/``fma`` for arithmetic, ``read``/``write`` for
  ``register`` and DRAM, ``transfer`` (per bit) for links, hops and HBM segments,
  ``access`` (per byte) for the GPU memories, ``refresh`` for ``hbm.channel``.
- ``area_um2(component) -> float``; ``leakage_w(component) -> float``;
  ``component(name) -> TechComponent``; ``components()``; ``actions(component)``.
- ``component_energy_pj(component, counts, seconds=0.0, instances=1) -> float``:
  counts x energy + instances x leakage x seconds, in pJ.
- ``sram(capacity_bytes, width_bits, banks=1) -> SramCost`` (frozen: ``read_pj``,
  ``write_pj``, ``area_um2``, ``leakage_w``, ``warnings``: tuple of
  :class:`TechWarning`).
- ``dram_path_pj_per_bit(path) -> float`` for ``"bank_pim"`` (0.55),
  ``"bankgroup_pim"`` (1.56), ``"buffer_die_pim"`` (3.29), ``"host"`` (3.59);
  ``dram_paths()``.
- ``param(key) -> float`` (e.g. ``"noc.hop.length_mm"``); ``factors``
  (:class:`NodeFactors`); ``overrides``; ``keys()``: every overridable key.
- ``to_dict() -> dict``: the resolved table as plain data for results files.
- ``TechLibrary.from_config(block)``: from an experiment's ``tech:`` block with
  keys ``node_nm``, ``allow_extrapolation``, ``overrides``.

Overrides (flat dotted keys or nested mappings) set values at the library's node,
unscaled: ``{"mac.fp16.energy_pj": 0.2}``, ``{"register": {"read_pj": 0.1}}``,
``{"sram.fit.read_coeff_bank": 3e-4}``, ``{"node.energy_factor": 0.1}``. An
override of a part (``mult.fp16``) carries into what is built from it
(``mac.fp16``, ``fma.fp16``) unless that is overridden too.

Errors are :class:`TechError` (a ``ValueError``) subclasses naming the key:
:class:`UnknownNameError` (with "did you mean"), :class:`UnknownNodeError`,
:class:`InvalidValueError`, :class:`SramRangeError`.

Example::

    lib = TechLibrary(node_nm=7)
    lib.energy_pj("mac.fp16", "mac")          # pJ per MAC at 7 nm
    lib.sram(64 * 1024, 64, banks=4).read_pj  # pJ per 64-bit read
    lib.dram_path_pj_per_bit("bank_pim")      # 0.55 pJ/bit at any node
"""

from arch.tech.errors import (
    InvalidValueError,
    SramRangeError,
    TechError,
    TechWarning,
    UnknownNameError,
    UnknownNodeError,
)
from arch.tech.library import TechLibrary
from arch.tech.resolve import TechComponent
from arch.tech.scaling import NodeFactors, supported_nodes_nm
from arch.tech.sram import SramCost, SramFit

__all__ = [
    "InvalidValueError",
    "NodeFactors",
    "SramCost",
    "SramFit",
    "SramRangeError",
    "TechComponent",
    "TechError",
    "TechLibrary",
    "TechWarning",
    "UnknownNameError",
    "UnknownNodeError",
    "supported_nodes_nm",
]
