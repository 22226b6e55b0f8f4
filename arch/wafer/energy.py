"""The wafer's component table, and the paper's constant-power energy convention.

Per-action energies come from the technology library at the spec's node
(:mod:`arch.tech`), so every number traces to a cited source there:

* ``pe``: one fp16 MAC (``mac.fp16``: fp16 multiply + fp32 add) per ``mac``, one
  fp16 FMA (``fma.fp16``) per vector ``vector_op``;
* ``sram``: one PE's SRAM (``sram_bytes_per_pe``, the library's SRAM fit at a
  32-bit access -- a WSE-2 core fetches 32-bit operands, [WL] §7) per 16-bit
  ``read`` / ``write``, half a 32-bit access's energy;
* ``fabric``: one 16-bit word over one mesh hop (``mesh.hop``: router plus
  0.2332 mm of wire, the WSE-2 core pitch) per ``word_hop``;
* ``wafer_other``: the rest of the die -- the vendor's whole-wafer area
  (``die_area_mm2``, 46,225 mm^2, [AT]/[TT] in LUT_AND_WAFER.md §2.1.2) less the
  library's PE, 48 KB SRAM and router areas at ``die_area_node_nm``; at another
  node it scales as logic area does, and more SRAM per PE adds to the wafer.
  No energy per action.

The WaferLLM paper does not measure energy: its Tables 6-8 divide A100 energy by
WSE-2 energy computed as constant power x time with the WSE-2 drawing 37.5 x an
A100's power (LUT_AND_WAFER.md §2.1.6; [WL] §7.5 "37x the power").
:func:`paper_energy_j` and :func:`paper_energy_ratio` reproduce that convention
so the paper's ratios can be compared like for like; they are not the
per-action model.
"""

from __future__ import annotations

from arch.contract import Component
from arch.tech import TechLibrary
from arch.wafer.spec import WORD_BITS, WaferSpec

SRAM_ACCESS_BITS = 32           # a WSE-2 core fetches 32-bit operands ([WL] §7 setup)
PAPER_POWER_MULTIPLE = 37.5     # WSE-2 power / A100 power in the paper's energy ratios (LUT_AND_WAFER.md §2.1.6)
DIE_SRAM_BYTES_PER_PE = 49152  # the vendor dies' SRAM per core: 48 KB ([WL] §7; WaferLLM's WSE-3 notebooks)
A100_POWER_W = 400.0            # A100 80GB SXM max TDP ([A100-DS], arch/gpu/presets/a100-80gb.yaml)


def wafer_components(spec: WaferSpec, lib: TechLibrary) -> tuple[Component, ...]:
    pes = spec.die_pe_count
    sram = lib.sram(spec.sram_bytes_per_pe, SRAM_ACCESS_BITS)
    word = WORD_BITS / SRAM_ACCESS_BITS
    return (
        Component("pe", pes, lib.area_um2("mac.fp16"),
                  {"mac": lib.energy_pj("mac.fp16", "mac"), "vector_op": lib.energy_pj("fma.fp16", "fma")},
                  lib.leakage_w("mac.fp16"), "compute"),
        Component("sram", pes, sram.area_um2, {"read": sram.read_pj * word, "write": sram.write_pj * word},
                  sram.leakage_w, "sram", warnings=tuple(f"sram: {w.message}" for w in sram.warnings)),
        Component("fabric", pes, lib.area_um2("mesh.hop"),
                  {"word_hop": WORD_BITS * lib.energy_pj("mesh.hop", "transfer")},
                  lib.leakage_w("mesh.hop"), "network"),
        Component("wafer_other", pes, _other_area_um2_each(spec, lib), {}, 0.0, "other"),
    )


def _parts_um2(lib: TechLibrary, sram_bytes: int) -> float:
    return (lib.area_um2("mac.fp16") + lib.sram(sram_bytes, SRAM_ACCESS_BITS).area_um2
            + lib.area_um2("mesh.hop"))


def _other_area_um2_each(spec: WaferSpec, lib: TechLibrary) -> float:
    """Per-core remainder of the vendor die (with its 48 KB per core) at the die's node, scaled to ``lib``'s
    node as logic; a spec with more SRAM per PE therefore has a larger wafer."""
    ref = lib if lib.node_nm == spec.die_area_node_nm else TechLibrary(spec.die_area_node_nm, lib.overrides)
    per_core_um2 = spec.die_area_mm2 * 1e6 / spec.die_pe_count
    remainder = max(0.0, per_core_um2 - _parts_um2(ref, DIE_SRAM_BYTES_PER_PE))
    return remainder * lib.area_um2("mac.fp16") / ref.area_um2("mac.fp16")


def paper_energy_j(seconds: float, a100_power_w: float = A100_POWER_W) -> float:
    """The paper's WSE-2 energy of a run of ``seconds``: 37.5 x an A100's power x time."""
    return PAPER_POWER_MULTIPLE * a100_power_w * seconds


def paper_energy_ratio(gpus: int, gpu_seconds: float, wafer_seconds: float) -> float:
    """A100 energy / WSE-2 energy under the paper's convention (both at constant power)."""
    return gpus * gpu_seconds / (PAPER_POWER_MULTIPLE * wafer_seconds)
