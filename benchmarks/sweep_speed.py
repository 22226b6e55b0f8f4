"""Design-space sweep speed: a 1,000-point sweep of a Llama-2-7B decode step on local workers.

DESIGN.md's budget: 1,000 points of a 7B model on 2 cores in under a minute.
The grid varies the array shape, core count, scratchpad size and batch of a
systolic NPU (10 x 5 x 4 x 5 = 1,000 points); every point is a whole 32-layer
decode step. Prints points/s and the total wall time for 1 and N workers, and how
many points found their schedule already simulated (points whose scratchpad size
does not change the tiling map to the same schedule, which the engine simulates
once per worker process: ``simulator.engine.simulate``).

    python benchmarks/sweep_speed.py [--workers 2] [--points 1000]
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

from simulator.engine import simulation_cache_info
from simulator.sweep import expand, run_points, sweep_rows
from workloads.yamlio import load_yaml

# capacity: warn -- batch 128 and 256 exceed the 32 GiB DRAM; the budget counts simulated points,
# so those are simulated (and marked) rather than skipped.
EXPERIMENT = """
name: sweep-speed
capacity: warn
workload: {model: llama2-7b, phase: decode, batch: 8, seq_len: 1024, weight_bits: 16, act_bits: 16, kv_bits: 16}
systems:
  - name: npu
    arch: tpuv4-like
sweep:
  grid:
    systems.npu.arch.rows: [16, 32, 48, 64, 96, 128, 160, 192, 224, 256]
    systems.npu.arch.cores: [1, 2, 4, 8, 16]
    systems.npu.arch.filter_sram_bytes: [1048576, 4194304, 16777216, 33554432]
    workload.batch: [1, 8, 32, 128, 256]
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--points", type=int, default=1000)
    args = parser.parse_args()
    points = expand(load_yaml(EXPERIMENT), "sweep-speed", ".")[: args.points]
    print(f"{len(points)} points (Llama-2-7B decode, 32 layers each) on {os.cpu_count()} cores")
    run_points(points[:4], workers=1)  # compile and warm the caches, as a user's second sweep would find them
    for workers in sorted({1, args.workers}):
        start = time.perf_counter()
        results = run_points(points, workers=workers)
        seconds = time.perf_counter() - start
        failed = sum(1 for row in sweep_rows(points, results) if "error" in row)
        print(f"workers={workers}: {seconds:.1f} s, {len(points) / seconds:.1f} points/s, {failed} failed "
              f"(budget: 1,000 points in 60 s on 2 cores)")
        if workers == 1:
            info = simulation_cache_info()
            print(f"  one process: {info.misses} schedules simulated, {info.hits} reused")


if __name__ == "__main__":
    main()
