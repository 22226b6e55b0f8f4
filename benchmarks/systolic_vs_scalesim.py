"""xpusim's systolic compute cycles against SCALE-Sim 3.0.0: agreement and speed.

For every GEMM x array x dataflow case, both tools compute the stall-free compute
cycles ("Total Cycles" minus "Stall Cycles" for SCALE-Sim, run with
``bandwidth_mode="CALC"`` and 1 MB SRAMs by :mod:`scalesim_runner`;
:func:`arch.systolic.kernel.gemm_compute` for xpusim). Printed per case: both
cycle counts, whether they are equal, both wall times and the speed ratio; then
the number of exact matches and the median ratio. xpusim's time is the mean of
many calls after warm-up (validation and the jitted kernel, no caching);
SCALE-Sim's is one run, input writing and report parsing excluded.

Then xpusim alone on the full-size Llama-2-7B layer GEMMs on a 128 x 128
weight-stationary array: compute cycles and time per call, the full model's
simulated cycles with a TPUv4-like core's scratchpads and HBM (SRAM tiling,
DRAM traffic and stalls through the SimPy engine), and how long SCALE-Sim would
take at the simulated-cycles-per-second rate measured here on 128 x 128 cases,
and the simulated cycles when the GEMM is split over 4 such cores sharing the
one HBM (:mod:`mappers.split`).

Stalls and DRAM traffic are not compared case by case: SCALE-Sim's stall
cycles come from its per-cycle demand matrices against an interface bandwidth
in words per cycle (0 here, in CALC mode, by construction), while xpusim's come
from the SRAM tiling (:mod:`arch.systolic.tiling`) and a contended DRAM in the
engine, per tile; the two agree only in the stall-free compute cycles.

With ``--full-check``, SCALE-Sim also runs the smallest full-size layer GEMM
(decode, batch 1, o_proj: 1 x 4096 x 4096), to check the rate and to measure
its peak memory per simulated cycle, from which the memory it would need for
the other full-size layers is extrapolated (linearly: its per-cycle demand
matrices dominate).

Usage: ``python benchmarks/systolic_vs_scalesim.py [--quick] [--full-check]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import statistics
import sys
import time
import timeit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from arch.systolic.kernel import gemm_compute  # noqa: E402
from arch.systolic.model import SystolicArray  # noqa: E402
from arch.systolic.spec import SystolicSpec  # noqa: E402
from mappers.schedule import map_workload  # noqa: E402
from scalesim_runner import run_gemm  # noqa: E402
from simulator.engine import simulate  # noqa: E402
from arch import registry  # noqa: E402
from workloads.graph import Workload  # noqa: E402
from workloads.layers import build_decoder_layer  # noqa: E402
from workloads.models import load_model  # noqa: E402
from workloads.op import Op, OpKind  # noqa: E402

SCALE = 32  # Llama-2-7B dimensions divided by this so SCALE-Sim finishes in seconds
LLAMA_FULL = {  # (M, N, K) of one Llama-2-7B layer at a 512-token prefill
    "qkv": (512, 12288, 4096), "o_proj": (512, 4096, 4096),
    "ffn_up": (512, 11008, 4096), "ffn_down": (512, 4096, 11008),
}
SHAPES = (
    [(f"llama7b/{SCALE} prefill {name}", m // SCALE, n // SCALE, k // SCALE)
     for name, (m, n, k) in LLAMA_FULL.items()]
    + [(f"llama7b/{SCALE} decode b8 qkv", 8, 12288 // SCALE, 4096 // SCALE),
       (f"llama7b/{SCALE} decode b1 ffn_down", 1, 4096 // SCALE, 11008 // SCALE),
       ("attention score 1 head", 1, 256, 128),
       ("classic 64^3", 64, 64, 64),
       ("classic odd 77x300x129", 77, 300, 129),
       ("classic 128^3", 128, 128, 128)]
)
QUICK_SHAPES = (SHAPES[0], SHAPES[5], SHAPES[8])
ARRAYS = ((8, 8), (32, 32), (128, 128), (16, 64))
DATAFLOWS = ("os", "ws", "is")
DECODE_BATCHES = (1, 8, 32, 256)
FULL_CHECK = ("decode b1 o_proj", 1, 4096, 4096)  # the smallest full-size layer GEMM


def xpusim_seconds(fn, min_total_s: float = 0.05) -> float:
    """Mean wall seconds of ``fn()`` after warm-up, over enough calls to last ``min_total_s``."""
    for _ in range(3):
        fn()
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    number = max(number, int(number * min_total_s / 0.2) or 1)
    return min(timer.repeat(repeat=3, number=number)) / number


def compare_case(label, m, n, k, rows, cols, dataflow) -> dict:
    reference = run_gemm(m, n, k, rows, cols, dataflow)
    ours = gemm_compute(m, n, k, rows, cols, dataflow).compute_cycles
    ours_s = xpusim_seconds(lambda: gemm_compute(m, n, k, rows, cols, dataflow))
    return {"label": label, "array": f"{rows}x{cols}", "dataflow": dataflow,
            "scalesim_cycles": reference.compute_cycles, "xpusim_cycles": ours,
            "equal": reference.compute_cycles == ours, "scalesim_s": reference.wall_s,
            "xpusim_s": ours_s, "ratio": reference.wall_s / ours_s}


def print_cases(rows_out: list[dict]) -> None:
    print(f"{'GEMM (MxNxK)':44} {'array':>8} {'df':>3} {'SCALE-Sim':>10} {'xpusim':>10} {'eq':>3} "
          f"{'SCALE-Sim s':>11} {'xpusim us':>10} {'speed-up':>10}")
    for r in rows_out:
        print(f"{r['label']:44} {r['array']:>8} {r['dataflow']:>3} {r['scalesim_cycles']:>10} "
              f"{r['xpusim_cycles']:>10} {'yes' if r['equal'] else 'NO':>3} {r['scalesim_s']:>11.3f} "
              f"{r['xpusim_s'] * 1e6:>10.2f} {r['ratio']:>9.0f}x")


def print_totals(rows_out: list[dict]) -> dict[str, float]:
    matches = sum(r["equal"] for r in rows_out)
    ratios = [r["ratio"] for r in rows_out]
    print(f"\nexact compute-cycle matches: {matches}/{len(rows_out)}")
    print(f"speed ratio SCALE-Sim/xpusim: median {statistics.median(ratios):,.0f}x, "
          f"min {min(ratios):,.0f}x, max {max(ratios):,.0f}x")
    rates = {}
    for array in dict.fromkeys(r["array"] for r in rows_out):
        cases = [r for r in rows_out if r["array"] == array]
        rates[array] = sum(r["scalesim_cycles"] for r in cases) / sum(r["scalesim_s"] for r in cases)
        print(f"SCALE-Sim rate on {array:>7}: {rates[array]:>9,.0f} simulated cycles per wall second")
    return rates


def full_size_layers() -> list[tuple[str, int, int, int]]:
    layers = [(f"prefill 512 {name}", m, n, k) for name, (m, n, k) in LLAMA_FULL.items()]
    for batch in DECODE_BATCHES:
        layers += [(f"decode b{batch} {name}", batch, n, k) for name, (_, n, k) in LLAMA_FULL.items()]
    return layers


def tpuv4_like_core(cores: int = 1) -> SystolicSpec:
    """One core of the tpuv4-like preset (128x128 WS, 16/16/4 MiB SRAM, 1.2 TB/s HBM)."""
    return SystolicSpec(rows=128, cols=128, dataflow="ws", cores=cores, clock_hz=1e9, pe_dtype="bf16",
                        ifmap_sram_bytes=16 << 20, filter_sram_bytes=16 << 20, ofmap_sram_bytes=4 << 20,
                        dram_bandwidth_bytes_per_s=1.2e12)


def simulate_op(accel: SystolicArray, op: Op) -> tuple[int, int, str]:
    """(simulated cycles, DRAM bytes, bound) of ``op`` alone on ``accel``."""
    schedule = map_workload(Workload(name=op.name, ops=(op,)), accel)
    cycles = max(e.end for e in simulate(schedule))
    moved = sum(t.cost.read_bytes + t.cost.write_bytes for t in schedule.tasks)
    compute = max(t.cost.compute_cycles for t in schedule.tasks)
    return cycles, moved, "memory" if cycles > 1.05 * compute else "compute"


def full_size_check() -> float:
    """Run SCALE-Sim on one full-size layer GEMM (128x128 WS); return its peak memory per cycle."""
    label, m, n, k = FULL_CHECK
    reference = run_gemm(m, n, k, 128, 128, "ws")
    ours = gemm_compute(m, n, k, 128, 128, "ws").compute_cycles
    peak_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    print(f"\nSCALE-Sim on the full-size {label} ({m}x{n}x{k}, 128x128 WS): "
          f"{reference.compute_cycles:,} cycles (xpusim {ours:,}, {'equal' if ours == reference.compute_cycles else 'DIFFERENT'}), "
          f"{reference.wall_s:.1f} s, peak memory of this process {peak_bytes / 2**30:.1f} GiB "
          f"= {peak_bytes / reference.compute_cycles / 1024:.1f} KiB per simulated cycle")
    return peak_bytes / reference.compute_cycles


def print_full_size(rate_128: float, bytes_per_cycle: float | None = None) -> None:
    accel, four_cores = SystolicArray(tpuv4_like_core()), SystolicArray(tpuv4_like_core(cores=4))
    print(f"\nFull-size Llama-2-7B layer GEMMs on one 128x128 WS array (xpusim only; SCALE-Sim "
          f"estimated at {rate_128:,.0f} cycles/s)")
    print(f"{'GEMM':24} {'MxNxK':>20} {'compute cyc':>12} {'xpusim us':>10} {'SCALE-Sim est':>14} "
          f"{'sim cyc (HBM)':>14} {'DRAM MB':>8} {'bound':>7} {'map+sim ms':>10} {'4-core cyc':>11}"
          + (f" {'SCALE-Sim GiB est':>17}" if bytes_per_cycle else ""))
    for label, m, n, k in full_size_layers():
        cycles = gemm_compute(m, n, k, 128, 128, "ws").compute_cycles
        ours_s = xpusim_seconds(lambda: gemm_compute(m, n, k, 128, 128, "ws"), 0.02)
        start = time.perf_counter()
        simulated, moved, bound = simulate_op(accel, Op(label, OpKind.GEMM, m, n, k))
        model_ms = (time.perf_counter() - start) * 1e3
        split_cycles, _, _ = simulate_op(four_cores, Op(label, OpKind.GEMM, m, n, k))
        print(f"{label:24} {f'{m}x{n}x{k}':>20} {cycles:>12,} {ours_s * 1e6:>10.2f} "
              f"{_duration(cycles / rate_128):>14} {simulated:>14,} {moved / 1e6:>8.1f} {bound:>7} "
              f"{model_ms:>10.2f} {split_cycles:>11,}"
              + (f" {cycles * bytes_per_cycle / 2**30:>17.1f}" if bytes_per_cycle else ""))


def print_whole_model(rate_128: float) -> None:
    """Whole Llama-2-7B steps (32 layers): SCALE-Sim-equivalent compute cycles and times."""
    config = load_model("llama2-7b")
    accel = registry.build(registry.preset_spec("tpuv4-like"))
    print(f"\nWhole Llama-2-7B ({config.num_layers} layers), every GEMM on one 128x128 WS array "
          f"(SCALE-Sim timing), and the whole step on the tpuv4-like preset (engine, HBM, vector ops)")
    print(f"{'step':22} {'GEMM compute cyc':>17} {'SCALE-Sim est':>14} {'xpusim GEMMs ms':>16} "
          f"{'tpuv4-like cyc':>15} {'map+sim ms':>11}")
    steps = [("prefill 512", "prefill", 1, 512)] + [(f"decode b{b} s1024", "decode", b, 1024)
                                                    for b in DECODE_BATCHES]
    for label, phase, batch, seq_len in steps:
        layer = build_decoder_layer(config, phase, batch, seq_len)
        gemms = [op for op in layer.ops if op.kind is OpKind.GEMM]
        start = time.perf_counter()
        cycles = layer.repeat * sum(op.count * gemm_compute(op.m, op.n, op.k, 128, 128, "ws").compute_cycles
                                    for op in gemms)
        gemm_ms = (time.perf_counter() - start) * 1e3
        start = time.perf_counter()
        simulated = layer.repeat * max(e.end for e in simulate(map_workload(layer, accel)))
        model_ms = (time.perf_counter() - start) * 1e3
        print(f"{label:22} {cycles:>17,} {_duration(cycles / rate_128):>14} {gemm_ms:>16.2f} "
              f"{simulated:>15,} {model_ms:>11.1f}")


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def main(argv=None) -> int:
    if importlib.util.find_spec("scalesim") is None:
        print("this benchmark runs SCALE-Sim beside xpusim: install the scalesim extra first "
              '(pip install -e ".[scalesim]", which pins scalesim==3.0.0 and numpy<2.4)', file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three GEMM shapes instead of all")
    parser.add_argument("--full-check", action="store_true",
                        help="also run SCALE-Sim on one full-size layer GEMM (about a minute, 3 GiB)")
    args = parser.parse_args(argv)
    shapes = QUICK_SHAPES if args.quick else SHAPES
    results = [compare_case(label, m, n, k, rows, cols, dataflow)
               for label, m, n, k in shapes for rows, cols in ARRAYS for dataflow in DATAFLOWS]
    print_cases(results)
    rates = print_totals(results)
    bytes_per_cycle = full_size_check() if args.full_check else None
    print_full_size(rates["128x128"], bytes_per_cycle)
    print_whole_model(rates["128x128"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
