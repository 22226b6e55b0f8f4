"""Design-space sweep speed: a 1,000-point sweep of a Llama-2-7B decode step, 1 against N workers.

DESIGN.md's budget: 1,000 points of a 7B model on 2 cores in under a minute; the
speed target: under 20 s on 2 local workers, Dask from 1 to 2 workers at least
1.8x faster, and ``--workers N`` never slower than one worker. The grid varies
the array shape, core count, scratchpad size and batch of a systolic NPU
(10 x 5 x 4 x 5 = 1,000 points); every point is a whole 32-layer decode step.

What is timed is :func:`simulator.sweep.run_sweep` into a fresh journal, as
``xpusim sweep`` runs it: chunk planning (the schedule probe), starting and
warming the workers, simulating, journaling. Both worker counts are timed in the
same run, alternately (``--repeats`` pairs), each in a fresh process started for it
(``spawn``): no memo of an earlier measurement is inherited by the process or by the
local workers it forks, and the Numba cache is warm (a few points are run first, as
a user's second sweep finds it). Dask runs on a fresh ``LocalCluster`` of worker
processes for each measurement (cluster start-up not timed; the workers' warm-up
is), twice per pair: with Dask's default worker profiler (a thread sampling every
worker's stack every 10 ms) and with it off (``distributed.worker.profile.enabled:
false``, as docs/validation-and-results.md recommends for sweeps). The rows of every run are
compared with those of the first one-worker run, value for value.
Each measurement also prints the CPU seconds of the sweep's process (planning,
journaling; on Dask the client and the LocalCluster's scheduler) and of its worker
processes: on two cores the parent's share competes with two workers but not with one.
The parent's serial work outside the timed call -- expanding the grid, the
journal key, writing the report -- is timed once and printed.

    python benchmarks/sweep_speed.py [--workers 2] [--points 1000] [--repeats 3] [--dask]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from simulator.engine import clear_simulation_cache
from simulator.journal import Journal, sweep_key
from simulator.sweep import expand, run_points, run_sweep
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


def timed_sweep(points, workers: int = 1, scheduler: str | None = None):
    """Rows, wall seconds, and stats of one run_sweep into a fresh journal, schedule cache cold."""
    clear_simulation_cache()
    stats: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        journal = Journal.open(Path(folder), "benchmark", len(points))
        start = time.perf_counter()
        rows, _ = run_sweep(points, journal, workers, scheduler=scheduler, stats=stats)
        seconds = time.perf_counter() - start
    return rows, seconds, stats


def on_dask(points, workers: int, profiler: bool = True):
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.worker.profile.enabled": profiler}):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            return timed_sweep(points, scheduler=cluster.scheduler_address)


def measure(executor: str, workers: int, count: int):
    """In a fresh process: the first ``count`` points swept by ``executor`` on ``workers`` (rows, seconds, stats).

    ``stats`` also gets the CPU seconds of this process (the sweep's parent: planning, journaling, and on Dask
    the client and the LocalCluster's scheduler) and of its children once they have exited (the workers;
    in-process, a one-worker local sweep has none) over the measurement."""
    points = expand(load_yaml(EXPERIMENT), "sweep-speed", Path("."))[:count]
    parent, children = time.process_time(), _children_cpu_s()
    if executor == "local":
        rows, seconds, stats = timed_sweep(points, workers)
    else:
        rows, seconds, stats = on_dask(points, workers, profiler=executor == "dask")
    stats = {**stats, "parent_cpu_s": time.process_time() - parent, "workers_cpu_s": _children_cpu_s() - children}
    return rows, seconds, stats


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def in_fresh_process(executor: str, workers: int, count: int):
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(measure, executor, workers, count).result()


def serial_work(raw) -> list[tuple[str, float]]:
    """Seconds of the parent's work around the timed call: expansion, journal key, the report."""
    from reports.writers import write_sweep

    start = time.perf_counter()
    points = expand(raw, "sweep-speed", Path("."))
    expanded = time.perf_counter() - start
    start = time.perf_counter()
    sweep_key(points)
    keyed = time.perf_counter() - start
    rows, _, _ = timed_sweep(points[:40])
    rows = rows * (len(points) // 40)  # a full table's size for the writer
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        write_sweep(rows, Path(folder) / "sweep-speed")
        report = time.perf_counter() - start
    return [("expand the grid", expanded), ("journal key", keyed), (f"report of {len(rows)} rows", report)]


def summary(values: list[float]) -> str:
    return f"best {max(values):.2f}x, median {statistics.median(values):.2f}x over {len(values)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3, help="pairs of (1 worker, N workers) runs")
    parser.add_argument("--dask", action="store_true", help="also time Dask LocalClusters of 1 and N workers")
    args = parser.parse_args()
    raw = load_yaml(EXPERIMENT)
    points = expand(raw, "sweep-speed", Path("."))[: args.points]
    print(f"{len(points)} points (Llama-2-7B decode, 32 layers each); {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.2f} at start")
    run_points(points[:4], workers=1)  # Numba cache warm, as a user's second sweep finds it
    reference, identical = None, True
    executors = ["local"] + (["dask", "dask-no-profiler"] if args.dask else [])
    ratios: dict[str, list[float]] = {name: [] for name in executors}
    for repeat in range(args.repeats):
        for name in executors:
            seconds = {}
            for workers in ((1, args.workers) if repeat % 2 == 0 else (args.workers, 1)):
                rows, seconds[workers], stats = in_fresh_process(name, workers, len(points))
                reference = reference if reference is not None else rows
                same = rows == reference
                identical &= same
                print(f"  {name} workers={workers}: {seconds[workers]:.2f} s, {len(points) / seconds[workers]:.1f} "
                      f"points/s, {stats['chunks']} chunks, {stats['simulated']} schedules simulated, CPU "
                      f"{stats['parent_cpu_s']:.2f} s parent + {stats['workers_cpu_s']:.2f} s workers, "
                      f"rows {'identical' if same else 'DIFFER'}", flush=True)
            ratios[name].append(seconds[1] / seconds[args.workers])
            print(f"{name} repeat {repeat + 1}: {args.workers} workers {ratios[name][-1]:.2f}x faster than 1 "
                  f"(target: {'>= 1.8x' if name.startswith('dask') else '> 1x'}; 1,000 points in < 20 s)", flush=True)
    for name in executors:
        print(f"{name} {args.workers} workers against 1: {summary(ratios[name])}")
    print(f"rows identical across every run: {identical}")
    print("parent's serial work outside the timed call: " +
          ", ".join(f"{what} {s:.2f} s" for what, s in serial_work(raw)))
    print(f"load average {os.getloadavg()[0]:.2f} at the end (2 cores shared: ratios are noisy above ~1)")
    sys.exit(0 if identical else 1)


if __name__ == "__main__":
    main()
