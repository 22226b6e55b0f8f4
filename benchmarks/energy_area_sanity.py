"""Sanity check of the systolic presets' area and peak efficiency against public figures.

Usage: ``python benchmarks/energy_area_sanity.py``

For each systolic preset it prints:

* area by component and in total (mm^2), from the preset's component table at the
  preset's node (``accel.area_mm2()``);
* peak TOPS = 2 x PEs per core x cores x clock (one MAC = two operations);
* peak TOPS/W at full utilisation: every PE retires a MAC each cycle, and each MAC
  also pays the scratchpad accesses per MAC that the model counts for a large square
  GEMM (SCALE-Sim's SRAM word counts for the preset's dataflow, one core), plus the
  leakage of every component. DRAM traffic is left out: the figure is the core's,
  as the peak figures of the chips below are;
* TOPS/mm^2 = peak TOPS / modelled area;

and, where a chip the preset stands for has published figures, the factor
public / model with a one-line reason. The model counts only the arrays, the
scratchpads and the vector lanes; a die also holds HBM/DDR PHYs, host and chip
interconnects, accumulators, scalar and control units and clock distribution.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from arch import registry  # noqa: E402
from workloads.op import Op, OpKind  # noqa: E402

SQUARE_GEMM = 4096  # M = N = K of the GEMM whose SRAM accesses per MAC are counted

# Published figures. Each entry: what the preset covers of the chip, and the chip's
# numbers with their sources.
PUBLIC = {
    "tpuv1-like": {
        "chip": "TPUv1",
        "fraction": "the whole 256x256 int8 array at 700 MHz and its 24 MiB Unified Buffer + weight FIFO",
        # Jouppi et al., "In-Datacenter Performance Analysis of a Tensor Processing
        # Unit", ISCA 2017: Table 2 (28 nm, die <= 331 mm^2, 92 TOPS int8, busy power
        # 40 W), Figure 2 caption (data buffers 37 %, compute 30 % of the die).
        "node_nm": 28,
        "die_mm2": 331.0,
        "core_fraction_of_die": 0.37 + 0.30,
        "peak_tops": 92.0,
        "power_w": 40.0,
        "power_what": "busy power (Table 2)",
        "source": "Jouppi et al., ISCA 2017, Table 2 and Figure 2",
        "why": {
            "area": "die also holds I/O (10 % of the die, Figure 2), control, the host interface and the "
                    "activation pipeline; the model's PE and SRAM areas are Horowitz/Accelergy 45 nm "
                    "standard-cell figures scaled by Stillmaker & Baas, not a full-custom layout",
            "power": "busy power is the whole die (I/O, accumulators, activation pipeline, control, clock tree) "
                     "at typical, not peak, utilisation",
        },
    },
    "tpuv4-like": {
        "chip": "TPUv4",
        "fraction": "ONNXim's 4 cores of 128x128 at 1 GHz: half of the chip's 8 MXUs, at 1.0 instead of 1.05 GHz",
        # Jouppi et al., "TPU v4: An Optically Reconfigurable Supercomputer for
        # Machine Learning with Hardware Support for Embeddings", ISCA 2023, Table 1:
        # 7 nm, die < 400 mm^2, 275 TFLOPS bf16 peak, mean / max power 170 / 192 W.
        # 192 W maximum and 275 TFLOPS bf16 also on Google Cloud's "TPU v4" page.
        "node_nm": 7,
        "die_mm2": 400.0,
        "core_fraction_of_die": None,
        "peak_tops": 275.0,
        "power_w": 170.0,
        "power_what": "mean power (Table 1; 192 W max)",
        "source": "Jouppi et al., ISCA 2023, Table 1",
        "why": {
            "peak": "preset models 4 of the chip's 8 MXUs (ONNXim's configuration) at 1.0 GHz",
            "area": "die also holds HBM PHYs, ICI links, SparseCores, vector/scalar units, the 128 MiB CMEM "
                    "(ISCA 2023) and control; the preset has half the MXUs",
            "power": "chip power covers HBM, ICI, SparseCores, vector/scalar units, CMEM and control, none of which the model counts",
        },
    },
    "tpu7x-like": {
        "chip": "TPU7x (Ironwood)",
        "fraction": "one of the chip's 2 TensorCores, bf16",
        # Google Cloud blog, "Ironwood: The first Google TPU for the age of inference"
        # (April 2025): 4,614 TFLOPS peak (FP8) per chip. Die area and chip power are
        # not published there.
        "node_nm": None,
        "die_mm2": None,
        "core_fraction_of_die": None,
        "peak_tops": 4614.0,
        "power_w": None,
        "power_what": "",
        "source": "Google Cloud blog, Ironwood announcement, April 2025 (FP8 peak)",
        "why": {
            "peak": "public figure is the whole chip (2 TensorCores) in FP8; the preset is one TensorCore in bf16 "
                    "(an FP8 MXU pass at twice the bf16 rate would make the factor 2 x 2 = 4)",
        },
    },
}


def square_gemm(bits: int) -> Op:
    return Op("square", OpKind.GEMM, SQUARE_GEMM, SQUARE_GEMM, SQUARE_GEMM,
              a_bits=bits, b_bits=bits, out_bits=bits)


def figures(accel) -> dict:
    """Area, peak TOPS, TOPS/W at full utilisation and TOPS/mm^2 of one model."""
    spec = accel.spec
    area = accel.area_mm2()
    total_area = sum(area.values())
    peak_macs_per_s = spec.pes_per_core * spec.cores * spec.clock_hz
    peak_tops = 2 * peak_macs_per_s / 1e12
    op = square_gemm(spec.pe_bits)
    counts = accel.op_cost(op).action_counts
    core_counts = {key: n for key, n in counts.items() if accel.category_of(key.rpartition(".")[0]) != "dram"}
    by_component = accel.energy(core_counts).by_component_pj
    pj_per_mac = sum(by_component.values()) / op.macs
    dynamic_w = peak_macs_per_s * pj_per_mac * 1e-12
    leakage_w = accel.leakage_w()
    power_w = dynamic_w + leakage_w
    sram_accesses_per_mac = sum(n for key, n in core_counts.items() if key.endswith(("read", "write"))) / op.macs
    return {
        "area": area, "total_area": total_area, "peak_tops": peak_tops, "pj_per_mac": pj_per_mac,
        "mac_pj": accel.component_table()["pe"].energy_pj_per_action["mac"],
        "sram_accesses_per_mac": sram_accesses_per_mac, "dynamic_w": dynamic_w, "leakage_w": leakage_w,
        "power_w": power_w, "tops_per_w": peak_tops / power_w, "tops_per_mm2": peak_tops / total_area,
    }


def factor_line(label: str, public: float, model: float, why: str) -> str:
    return f"    {label:<11} public {public:10.3g}  model {model:10.3g}  public/model {public / model:6.2f}x  ({why})"


def main() -> None:
    names = [n for n in registry.presets() if registry.preset_spec(n)["kind"] == "systolic"]
    for name in names:
        accel = registry.build(registry.preset_spec(name))
        spec = accel.spec
        f = figures(accel)
        print(f"== {name}: {spec.cores} x {spec.rows}x{spec.cols} {spec.dataflow.upper()} {spec.pe_dtype} "
              f"at {spec.clock_hz / 1e9:g} GHz, {spec.tech_node_nm} nm")
        for component, mm2 in f["area"].items():
            print(f"    area {component:<12} {mm2:10.3f} mm^2")
        print(f"    area {'total':<12} {f['total_area']:10.3f} mm^2")
        print(f"    peak {f['peak_tops']:.2f} TOPS; at full utilisation {f['pj_per_mac']:.4f} pJ/MAC "
              f"(MAC {f['mac_pj']:.4f} + {f['sram_accesses_per_mac']:.4f} SRAM word accesses/MAC, "
              f"{SQUARE_GEMM}^3 GEMM), power {f['dynamic_w']:.2f} W dynamic + {f['leakage_w']:.3f} W leakage")
        print(f"    {f['tops_per_w']:.2f} TOPS/W, {f['tops_per_mm2']:.3f} TOPS/mm^2")
        public = PUBLIC.get(name)
        if public is None:
            print("    public figures: none (no fabricated chip of this configuration)")
            print()
            continue
        print(f"    vs {public['chip']} [{public['source']}]; preset covers {public['fraction']}")
        why = public["why"]
        print(factor_line("peak TOPS", public["peak_tops"], f["peak_tops"],
                          why.get("peak", "same array size and clock")))
        if public["die_mm2"] is not None:
            print(factor_line("area mm^2", public["die_mm2"], f["total_area"], "die upper bound; " + why["area"]))
            if public["core_fraction_of_die"]:
                core = public["die_mm2"] * public["core_fraction_of_die"]
                print(factor_line("buf+compute", core, f["total_area"],
                                  "data buffers + compute share of the die (Figure 2) vs arrays + scratchpads"))
        if public["power_w"] is not None:
            public_tops_w = public["peak_tops"] / public["power_w"]
            print(factor_line("TOPS/W", public_tops_w, f["tops_per_w"],
                              f"peak / {public['power_what']}; " + why["power"]))
        if public["die_mm2"] is not None:
            print(factor_line("TOPS/mm^2", public["peak_tops"] / public["die_mm2"], f["tops_per_mm2"],
                              "follows from the two factors above"))
        print()


if __name__ == "__main__":
    main()
