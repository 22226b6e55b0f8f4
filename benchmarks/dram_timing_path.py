"""DRAM timing on the run path: the controller's efficiency per access pattern, and a decode step's simulate time.

Part 1, per DRAM preset (``arch/dram/presets``): the fraction of peak bandwidth
the FR-FCFS controller attains on a backlogged 16 MiB stream of sequential
reads, sequential writes, uniformly random one-burst reads and KV-like runs
(one request-head's block: 64 KiB, 256 KiB), as ``dram_timing: dram`` gives them
to transfers (:mod:`arch.dram.access`), and what the controller gives scattered
runs of ``SEQUENTIAL_RUN_BYTES`` (the run path takes the sequential figure
there). Next to them: the streaming target (>= 0.90 of peak) and the
four-activate-window bound on random reads (ranks x 4 bursts per tFAW over the
channel's peak bytes per tFAW, from the preset's own timing), which random
access cannot exceed.

Part 2: one Llama-2-70B decode step (80 layers, batch 256, 1024 tokens of KV
cache, 16-bit operands) on systolic presets with ``dram_timing: dram``, timed
cold (the system's first run in this process: its layer and shape caches
empty; the controller's schedules of a standard are run by the first system on
that standard and reused by the next) and warm (the same run again with the engine's cache of
whole schedules cleared, so the SimPy simulation runs again), next to the same
step under ``dram_timing: bandwidth`` (warm) and the DESIGN budget of 2 s. The
step's cycles under both timings are printed too.

Usage: ``python benchmarks/dram_timing_path.py [--repeats N]`` (warm time: the
fastest of N runs; default 3). Timings on a shared machine are noisy; compare
the dram and bandwidth columns, which are measured side by side.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from arch.dram import list_presets, load_preset  # noqa: E402
from arch.dram.access import (SEQUENTIAL_READ, SEQUENTIAL_RUN_BYTES, SEQUENTIAL_WRITE, AccessPattern,  # noqa: E402
                              pattern_efficiency, random_read, run_efficiency)

BUDGET_S = 2.0                 # DESIGN.md "Performance budget": a 70B batch-256 decode step in under 2 s
STREAMING_TARGET = 0.90        # issue: HBM streaming >= 90 % of peak under timing: dram
KV_RUNS = (64 << 10, 256 << 10)
# (systolic preset, DRAM preset timing it): the HBM generation each preset's memory is closest to
SYSTEMS = (("neupims-npu", "hbm2-neupims"), ("tpuv4-like", "hbm2-neupims"), ("tpu7x-like", "hbm3-6400"))

EXPERIMENT = textwrap.dedent("""\
    name: dram-timing
    seed: 0
    workload: {{model: llama2-70b, phase: decode, batch: 256, seq_len: 1024,
               weight_bits: 16, act_bits: 16, kv_bits: 16}}
    systems:
      - name: npu
        arch: {preset}
        set: {{dram_timing: {timing}, dram_standard: {standard}}}
    """)


def faw_bound(preset: str) -> float:
    """The most of the peak random one-burst reads can reach: ranks x 4 ACTs (one burst each) per tFAW."""
    spec = load_preset(preset)
    org = spec.organisation
    peak_bytes_per_cycle = org.bus_width_bits / 8 * org.transfers_per_clock
    return org.ranks_per_channel * 4 * org.burst_bytes / (spec.timing_cycles["tFAW"] * peak_bytes_per_cycle)


def efficiency_rows() -> None:
    print("preset        seq read  seq write  (target)  random read  (tFAW bound)  "
          + "  ".join(f"KV {run >> 10} KiB runs" for run in KV_RUNS)
          + f"  {SEQUENTIAL_RUN_BYTES >> 10} KiB runs (controller; run path: seq read)")
    for preset in list_presets():
        spec = load_preset(preset)
        figures = [run_efficiency(preset, p) for p in (SEQUENTIAL_READ, SEQUENTIAL_WRITE, random_read(spec))]
        runs = [run_efficiency(preset, AccessPattern(run)) for run in KV_RUNS]
        print(f"{preset:13s} {figures[0]:8.4f}  {figures[1]:9.4f}  (>= {STREAMING_TARGET:.2f})  "
              f"{figures[2]:11.4f}  ({faw_bound(preset):10.4f})  " + "  ".join(f"{r:16.4f}" for r in runs)
              + f"  {pattern_efficiency(preset, AccessPattern(SEQUENTIAL_RUN_BYTES)):18.4f}")


def time_step(preset: str, timing: str, standard: str, repeats: int) -> tuple[float, float, int]:
    """(cold seconds, fastest warm seconds, cycles) of one decode step."""
    from simulator.engine import clear_simulation_cache
    from simulator.experiment import parse_text
    from simulator.run import run_experiment

    text = EXPERIMENT.format(preset=preset, timing=timing, standard=standard)
    times, cycles = [], 0
    for _ in range(1 + repeats):
        clear_simulation_cache()
        start = time.perf_counter()
        result = run_experiment(parse_text(text))
        times.append(time.perf_counter() - start)
        if result.failures:
            raise SystemExit(f"{preset}: {result.failures[0].message}")
        cycles = result.systems[0].cycles
    return times[0], min(times[1:]), cycles


def step_rows(repeats: int) -> None:
    print(f"\nLlama-2-70B decode, batch 256, kv 1024: simulate time (budget {BUDGET_S:.1f} s warm)")
    print("system        standard       dram cold  dram warm  bandwidth warm  warm ratio  "
          "cycles (dram)  cycles (bandwidth)  within budget")
    for preset, standard in SYSTEMS:
        cold, warm, cycles = time_step(preset, "dram", standard, repeats)
        _, warm_bw, cycles_bw = time_step(preset, "bandwidth", standard, repeats)
        print(f"{preset:13s} {standard:13s} {cold:9.3f}  {warm:9.3f}  {warm_bw:14.3f}  {warm / warm_bw:10.2f}  "
              f"{cycles:13d}  {cycles_bw:18d}  {'yes' if warm < BUDGET_S else 'NO'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="warm runs per case (the fastest is printed)")
    args = parser.parse_args(argv)
    efficiency_rows()
    step_rows(args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
