"""Write docs/technology.md: the technology library's values at 45 and 7 nm.

Usage: ``python scripts/make_tech_table.py`` (writes the file) or
``python scripts/make_tech_table.py --check`` (exit status 1 if the file is stale).
Everything in the page is computed from ``arch.tech``; only the prose is fixed here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from arch.tech import TechLibrary
from arch.tech.loader import load_data
from arch.tech.reference import reference
from arch.tech.sram import fit_sources

OUT = Path(__file__).resolve().parent.parent / "docs" / "technology.md"
NODES = (45, 28, 16, 7, 5)

INTRO = """\
# Technology library

`arch.tech` gives every accelerator family the same energy per action, area and
leakage power for its components, at 45, 28, 16, 7 or 5 nm. Values are given at
45 nm with their sources in `arch/tech/components.yaml`, `arch/tech/sram.yaml` and
`arch/tech/nodes.yaml`; this page is generated from them by
`scripts/make_tech_table.py` (do not edit it by hand).

Energy of a component over a run is `sum(count[action] x energy_pj(action)) +
leakage_w x seconds`. Values marked *derived* are built from other components by
the stated rule; values marked *fixed* (DRAM, HBM, off-chip links, GPU on-chip
figures, wire per mm) do not scale with the logic node, because they are set by
the memory or link technology. An area of 0 means the part is not counted in the
accelerator's area (off-die DRAM, links) or is not modelled (network routers).

## Sources

- **Horowitz**, "Computing's Energy Problem (and what we can do about it)", ISSCC
  2014: 45 nm, 0.9 V energy and area of integer and floating-point add and
  multiply, and 64-bit reads of 8 KB, 32 KB and 1 MB SRAM.
- **Accelergy** reference outputs of `simple_weight_stationary`
  (`Accelergy-Project/timeloop-accelergy-exercises`, 45 nm): register read 0.144
  pJ, MAC 0.315 pJ (8-bit multiplier, 16-bit adder) and 417 um^2, the CACTI 1 Mbit
  32-bank global buffer (read 32.34 / write 26.12 pJ per 64 bits, 429,752 um^2),
  LPDDR4 512 pJ per 64-bit access.
- **Aladdin** 40 nm tables as used by Accelergy: register 0.009 pJ and 5.98 um^2
  per bit; width laws (adders linear, multipliers quadratic in width).
- **FGDRAM** (O'Connor et al., MICRO 2017) HBM data-path energy per bit, as
  tabulated in `scale-snu/attacc_simulator: src/config.py`, which also gives the
  GPU register/L1/L2 energy per byte and NVLink 1.3 pJ/bit.
- **ZigZag** `tpu_like.yaml`: DRAM 700 / 750 pJ per 64-bit read / write.
- **NeuPIMs** HBM2 power currents (`HBM2_8Gb_x128_dualpim.ini`) with DRAMsim3's
  power equations: refresh energy and background power of an HBM2 channel.
- **Stillmaker & Baas**, "Scaling equations for the accurate prediction of CMOS
  device performance from 180 nm to 7 nm", Integration 58 (2017): energy and area
  scaling from 45 nm to 32, 20, 16 and 7 nm.
- **Yeap et al.**, IEDM 2019 (TSMC N5): 1.84x logic density and 30 % lower power
  at the same speed than N7, for 5 nm.

Stated assumptions, each marked ASSUMPTION in the data: iso-voltage node scaling
at 0.9 V; register writes cost as much as reads; the network router (flit buffer
write + read) and wire (C V^2 / 4 at 335 fF/mm) energies and the 1 mm generic hop;
the LUT shift-accumulate as one 32-bit add; one bank for Horowitz's SRAM points;
the SRAM width range 8-512 bits.
"""

SCALING_PROSE = """\
Energy factors are Stillmaker & Baas's high-performance polynomials
E(V) = a V^2 + b V + c evaluated at one supply (0.9 V, Horowitz's) for the node
and for 45 nm; area factors are the paper's 45 nm row. 28 nm is interpolated
linearly in feature size between 32 and 20 nm; 5 nm is the 7 nm factor times TSMC
N5's gains. Leakage scales like energy (Accelergy's `hwcomponents` convention).
Lower supplies at small nodes would lower energy further, and SRAM area shrinks
less than logic at 5 nm: override `node.energy_factor` / `node.area_factor` or
single values where that matters.
"""

SRAM_PROSE = """\
SRAM energy per access of `width_bits` bits, for a macro of `capacity_bytes` in
`banks` banks:

    read_pj   = width_bits x (k_bank x sqrt(capacity_bytes / banks)
                             + k_global x sqrt(capacity_bytes))
    write_pj  = read_pj x write_to_read_ratio
    area_um2  = 8 x capacity_bytes x area_um2_per_bit
    leakage_w = 8 x capacity_bytes x leakage_w_per_bit

The first term stands for the bank's own bit and word lines, the second for the
routing that reaches a bank across the macro; energy is linear in width, as
Accelergy scales SRAM energy. `k_bank` and `k_global` are the least-squares fit
(relative error) of the cited read points; the write ratio, area and leakage per
bit come from the one point that gives them (Accelergy's CACTI global buffer), so
they are single-point calibrations, and area and leakage ignore per-bank overhead.
Outside the range below `TechLibrary.sram` raises `SramRangeError`; with
`allow_extrapolation=True` it returns the value with `TechWarning` records
(`code = "sram_extrapolated"`) for the results file.
"""

OVERRIDE_PROSE = """\
## Overrides

An experiment's `tech:` block sets the node, extrapolation and overrides:

```yaml
tech:
  node_nm: 7
  allow_extrapolation: false
  overrides:
    mac.fp16.energy_pj: 0.2          # single-action components accept energy_pj
    register: {read_pj: 0.1}         # nested mappings join with dots
    sram.fit.read_coeff_bank: 3.0e-4
    node.area_factor: 0.05
```

Overridden values are used as given at the chosen node (not scaled). Overriding a
part (`mult.fp16`) changes what is built from it (`mac.fp16`, `fma.fp16`,
`mult.bf16`, `mult.fp8`) unless those are overridden too. Unknown keys are errors
with a "did you mean"; negative values, non-numbers and unknown nodes are errors
naming the key. `TechLibrary.keys()` lists every key; `TechLibrary.to_dict()`
exports the resolved table for results files.
"""


def fmt(x: float) -> str:
    return "0" if x == 0 else f"{x:.4g}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def scaling_section() -> str:
    nodes = load_data("nodes.yaml")["nodes"]
    rows = [[str(n), fmt(nodes[n]["energy_factor"]), fmt(nodes[n]["area_factor"]),
             fmt(nodes[n]["leakage_factor"]), nodes[n]["source"]] for n in NODES]
    prov = load_data("nodes.yaml")["provenance"]
    coeffs = [[str(n), *(str(c) for c in abc)] for n, abc in prov["energy_coefficients"].items()]
    return "\n\n".join([
        "## Scaling factors relative to 45 nm",
        table(["node (nm)", "energy", "area", "leakage", "source"], rows),
        SCALING_PROSE.strip(),
        f"Stillmaker & Baas HP energy coefficients (evaluated at {prov['vdd_v']} V):",
        table(["node (nm)", "a", "b", "c"], coeffs)])


def component_section(lib45: TechLibrary, lib7: TechLibrary) -> str:
    rows = []
    for name in sorted(lib45.components()):
        c45, c7 = lib45.component(name), lib7.component(name)
        for action in c45.actions_pj:
            rows.append([f"`{name}`", action, c45.per, fmt(c45.actions_pj[action]),
                         fmt(c7.actions_pj[action]), fmt(c45.area_um2), fmt(c7.area_um2),
                         fmt(c45.leakage_w), fmt(c7.leakage_w), c45.scaling, c45.source])
    header = ["component", "action", "per", "pJ 45 nm", "pJ 7 nm", "um^2 45 nm", "um^2 7 nm",
              "leak W 45 nm", "leak W 7 nm", "scaling", "source / rule"]
    paths = [[f"`{p}`", fmt(lib45.dram_path_pj_per_bit(p))] for p in lib45.dram_paths()]
    ref_params = reference().params
    params = [[f"`{k}`", fmt(lib45.param(k)), fmt(lib7.param(k)), ref_params[k].source]
              for k in sorted(ref_params)]
    return "\n\n".join([
        "## Components at 45 and 7 nm", table(header, rows),
        "## HBM access paths (pJ per bit, every node)",
        table(["path", "pJ/bit"], paths),
        "## Parameters", table(["key", "45 nm", "7 nm", "source"], params)])


def sram_section(lib45: TechLibrary, lib7: TechLibrary) -> str:
    points = load_data("sram.yaml")["points"]
    rows = []
    for p in points:
        got = lib45.sram(p["capacity_bytes"], p["width_bits"], p["banks"]).read_pj
        rows.append([p["name"], str(p["capacity_bytes"]), str(p["width_bits"]), str(p["banks"]),
                     fmt(p["read_pj"]), fmt(got), f"{100 * (got / p['read_pj'] - 1):+.1f} %",
                     p["source"]])
    f45, f7, sources = lib45.to_dict()["sram_fit"], lib7.to_dict()["sram_fit"], fit_sources()
    coeffs = [[f"`sram.fit.{k}`", fmt(f45[k]), fmt(f7[k]), sources.get(k, "range of the fit")]
              for k in f45]
    samples = []
    min_bank = f45["min_bank_bytes"]
    for cap in (8 * 1024, 32 * 1024, 128 * 1024, 512 * 1024, 1024 * 1024):
        for banks in (b for b in (1, 4, 32) if cap / b >= min_bank):
            a, b = lib45.sram(cap, 64, banks), lib7.sram(cap, 64, banks)
            samples.append([str(cap // 1024), str(banks), fmt(a.read_pj), fmt(a.write_pj),
                            fmt(a.area_um2), fmt(b.read_pj), fmt(b.area_um2)])
    return "\n\n".join([
        "## SRAM fit", SRAM_PROSE.strip(),
        "Fitted points (45 nm, read energy per access):",
        table(["point", "bytes", "width", "banks", "cited pJ", "fit pJ", "error", "source"], rows),
        "Coefficients and range:",
        table(["key", "45 nm", "7 nm", "from"], coeffs),
        "Examples, 64-bit access:",
        table(["KiB", "banks", "read pJ 45", "write pJ 45", "um^2 45", "read pJ 7", "um^2 7"],
              samples)])


SYSTOLIC_PROSE = """\
## How the systolic NPU uses the library

`arch/systolic/energy.py` builds the systolic NPU's component table from the
library at the spec's `tech_node_nm`; `accel.energy(counts)` is then
`sum(count x energy per action)` per component and `accel.area_mm2()` is
`count x area` per component.

| NPU component | count | library component | action: energy per action |
|---|---|---|---|
| `pe` | PEs per core x cores | `mac.<pe_dtype>` | `mac`: the MAC's energy |
| `ifmap_sram`, `filter_sram` | macros per scratchpad x cores | `lib.sram(macro, {access_bits}, banks)` | `read`: read energy x word bits / {access_bits} |
| `ofmap_sram` | macros per scratchpad x cores | same | `write`, `read`: as above |
| `vector` | vector lanes x cores | `fma.<dtype>` (`fp16` for int8/fp8 PEs) | `lane_op`: the FMA's energy |
| `dram` | 1 | HBM `host` path | `read_bit`, `write_bit`: the path's pJ per bit (area 0: off die) |

Scratchpad accesses are counted in PE words, as SCALE-Sim counts them. The macro
rule: a scratchpad larger than {macro_kib} KiB (the top of the SRAM fit's range)
is built from identical macros of at most {macro_kib} KiB, each in banks of
{bank_kib} KiB (at most 32 banks, at least one); an access pays one macro's
energy, and area and leakage scale with the number of macros. No scratchpad
therefore exceeds the fit's largest capacity; one below its smallest capacity
raises the library's range error (or warns, with extrapolation allowed).
`benchmarks/energy_area_sanity.py` prints each systolic preset's area by
component, peak TOPS, TOPS/W at full utilisation and TOPS/mm^2, and compares
them with published TPUv1, TPUv4 and TPU7x figures."""


def systolic_section() -> str:
    import arch.sram_macro as energy
    return SYSTOLIC_PROSE.format(access_bits=energy.SRAM_ACCESS_BITS,
                                 macro_kib=energy.SRAM_MACRO_MAX_BYTES // 1024,
                                 bank_kib=energy.SRAM_BANK_BYTES // 1024)


def render() -> str:
    lib45, lib7 = TechLibrary(45), TechLibrary(7)
    parts = [INTRO.strip(), scaling_section(), component_section(lib45, lib7),
             sram_section(lib45, lib7), systolic_section(), OVERRIDE_PROSE.strip()]
    return "\n\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the page is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        return 0 if OUT.exists() and OUT.read_text(encoding="utf-8") == text else 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
