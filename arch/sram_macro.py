"""On-chip SRAM as a component: a buffer built from identical macros of the technology library's fit.

A buffer larger than the SRAM fit's range (:mod:`arch.tech.sram`) is built from
identical macros of at most 1 MiB, in banks of 32 KiB: an access pays one
macro's energy; area and leakage scale with the macro count. Accesses are
counted in datapath words: a word access costs the macro's 64-bit access
energy times word bits / 64 (SCALE-Sim's counting of scratchpad words). Every
family's scratchpads and buffers are built here, so they scale alike.
"""

from __future__ import annotations

from arch.costs import Component, EnergyCategory
from arch.tech import TechLibrary
from arch.tech.errors import SramRangeError

SRAM_ACCESS_BITS = 64          # access width the SRAM fit is evaluated at
SRAM_MACRO_MAX_BYTES = 1 << 20  # largest macro inside the SRAM fit's range (arch/tech/sram.yaml)
SRAM_BANK_BYTES = 32 << 10      # bank size within a macro (assumption, inside the fit's range)


def sram_component(name: str, capacity_bytes: int, copies: int, word_bits: float, lib: TechLibrary,
                   actions: tuple[str, ...], key: str) -> Component:
    """``copies`` buffers of ``capacity_bytes`` each as one component with per-word ``actions``.

    ``key`` is the spec field the capacity came from; a capacity outside the
    SRAM fit's range is an error naming it.
    """
    macro_bytes = min(capacity_bytes, SRAM_MACRO_MAX_BYTES)
    macros = -(-capacity_bytes // macro_bytes)
    banks = max(1, min(32, macro_bytes // SRAM_BANK_BYTES))
    try:
        cost = lib.sram(macro_bytes, SRAM_ACCESS_BITS, banks=banks)
    except SramRangeError as err:
        raise SramRangeError(f"{key} = {capacity_bytes}: {err}") from None
    word_fraction = word_bits / SRAM_ACCESS_BITS
    energy = {"read": cost.read_pj * word_fraction, "write": cost.write_pj * word_fraction}
    return Component(name, copies * macros, cost.area_um2, {a: energy[a] for a in actions},
                     cost.leakage_w, EnergyCategory.SRAM, warnings=tuple(f"{name}: {w.message}" for w in cost.warnings))
