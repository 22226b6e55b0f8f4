"""LUT Tensor Core, T-MAC and LUT-GEMM validation: the model's figures next to the published ones.

Run: ``python benchmarks/lut_validation.py`` (a few seconds).

The claims are computed by :mod:`simulator.reproduce.lut_tensor_core`,
:mod:`simulator.reproduce.tmac` and :mod:`simulator.reproduce.lut_gemm` (the same as
``xpusim reproduce lut-tensor-core t-mac lut-gemm``, which also writes them as a report);
this script prints each with its published value, error, tolerance and verdict, then
the figures that are shown but are not claims: the K sweep's densities, Fig. 13's DP4
areas, T-MAC's and llama.cpp's thread curves of the README's figure data and the early
README's T-MAC thread scaling (older T-MAC and llama.cpp versions, pitfall L15).
Published values are quoted from Mo et al., "LUT Tensor Core", ISCA 2025 (``arch/lut/published.py``, ``arch/lut/energy.py``), from
``microsoft/T-MAC`` (``arch/cpu/published.py``) and from LUT-GEMM's Table 4.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arch.cpu.published import TMAC_E2E_THREADS, TMAC_EARLY_THREADS, row as tmac_row  # noqa: E402
from arch.lut.cells import LutArrayDesign, part_areas_um2_45nm  # noqa: E402
from arch.lut.dp_area import weight_bits_sweep  # noqa: E402
from arch.lut.energy import part_factors  # noqa: E402
from simulator.reproduce.registry import paper, checks, run_check  # noqa: E402
from simulator.reproduce.tmac import DEQUANT, LUT, rate  # noqa: E402

PAPERS = ("lut-tensor-core", "t-mac", "lut-gemm")


def print_claims(name: str) -> None:
    for check in checks(paper(name)):
        print(f"{name}: {check.text}")
        for c in run_check(name, check):
            err = f"{c.ratio - 1:+7.1%}" if c.published else "       "
            mark = c.verdict.value + (" (fit)" if c.fitted else "")
            print(f"  {c.text[:60]:60s} {c.computed:10.4g} {c.published:10.4g} {c.unit:8s} {err} "
                  f"{c.tolerance_text:>10s} {mark}")


def k_sweep() -> None:
    print("L-V11 K sweep: cell-count density (1-bit-weight MACs per cycle per 1000 um2 at 45 nm), int8 activations")
    for n, label in ((1, "DP unit M = N = 1 (Fig. 11)"), (64, "tensor core N = 64")):
        cells = []
        for g in range(1, 9):
            d = LutArrayDesign(array_m=1, array_n=n, g=g, entry_bits=8 + (g - 1).bit_length(), acc_bits=32,
                               weight_bits=1)
            cells.append(f"K{g}:{1e3 * g * n / sum(part_areas_um2_45nm(d).values()):5.2f}")
        print(f"  {label:30s} {' '.join(cells)}")


def area_factors() -> None:
    print("L-V4 synthesis factors per part (synthesised / cell-count area, fitted on Table 2; arch/lut/energy.py)")
    print("  " + "  ".join(f"{part} {factor:.3f}" for part, factor in part_factors().items()))


def dp4_areas() -> None:
    print("L-V11 Fig. 13 shape: DP4 unit area (N = 4 outputs, A_FP16, 28 nm library components), um2")
    for r in weight_bits_sweep():
        print(f"  W_INT{r.w_bits}: MAC {r.mac_um2:8.0f}  conventional LUT {r.conventional_lut_um2:8.0f}  "
              f"LUT TC {r.lut_tc_um2:8.0f}")


def cpu_extras() -> None:
    print("T-MAC and llama.cpp thread curves (tokens/s at t threads / at 1 thread), model and published "
          "(README e2e_threads data, an earlier run; not a claim)")
    for (device, model, framework), published in TMAC_E2E_THREADS.items():
        kernel = LUT if framework == "tmac" else DEQUANT
        one = rate(device, model, 1, kernel)
        cells = " ".join(f"{t}t {rate(device, model, t, kernel) / one:5.2f}/{published[t - 1] / published[0]:5.2f}"
                         for t in (2, 4, 8, 12, 16) if t <= len(published))
        print(f"  {device:15s} {model:13s} {framework:9s} {cells}")
    w4 = tmac_row("m2-ultra", "llama2-7b-w4", 1)
    print("T-MAC thread scaling on M2-Ultra, Llama-2-7B W4, against the early README (older version, not a claim)")
    for threads, (published, _) in TMAC_EARLY_THREADS.items():
        print(f"  {threads}t/1t: {rate(w4.device, w4.model, threads, LUT) / rate(w4.device, w4.model, 1, LUT):.3f} "
              f"(published {published / TMAC_EARLY_THREADS[1][0]:.3f})")


if __name__ == "__main__":
    print(f"  {'claim':60s} {'model':>10} {'published':>10} {'unit':8s} {'error':>7} {'tolerance':>10} verdict")
    for name in PAPERS:
        print_claims(name)
    area_factors()
    k_sweep()
    dp4_areas()
    cpu_extras()
    print("Not modelled: Fig. 13's ADD (bit-serial adder) design; clock and power limits of CPU hosts")
