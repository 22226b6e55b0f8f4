"""Speed of the DRAM command scheduler: commands scheduled per wall-clock second.

Usage: ``python benchmarks/dram_scheduler_speed.py [--preset hbm2-neupims]
[--requests 3000000] [--repeats 5] [--twin-requests 20000] [--against REV]
[--cold 0]``

For a streaming workload (sequential bursts read, backlogged at cycle 0) and a
random one (uniformly random reads over the whole device), it prints the
commands the scheduler issued, the simulated fraction of peak bandwidth, and
commands per second (the median of ``--repeats`` runs, compilation excluded) of

* the Numba kernel on requests already grouped by channel ("kernel"), by wall
  clock and by the process's CPU time ("kernel cpu": on a machine shared with
  other jobs, CPU time leaves out the time the process waited for a core), every
  channel scheduled (``dedupe=False``);
* :func:`arch.dram.schedule` as a whole, grouping and result included ("schedule"),
  where a channel whose requests repeat an earlier channel's copies its schedule (every
  channel of the streaming workload; :mod:`arch.dram.channels`);
* the pure-Python twin, on the first ``--twin-requests`` requests of the same
  workload (it steps every cycle, so it is far slower; one run);
* the kernel's channel loop run as plain Python (what a process with an empty Numba
  cache runs for small channels), in microseconds per command on the first
  ``--python-requests`` requests of channel 0, next to the per-command figure the
  kernel's estimate uses.

The kernel's target is at least 5 million commands per second on both
workloads; the last line says whether the wall-clock medians meet it.

``--against REV`` also runs the kernel of git revision REV (its ``kernel.py`` and
``timing_state.py``) on the same grouped requests, the two timed in turn, and
prints both rates, their ratio and whether the two gave identical outputs.

``--cold N`` also times, N times, a fresh process that imports :mod:`arch.dram`
and schedules a few requests with an empty Numba cache (``NUMBA_CACHE_DIR`` set
to a new temporary folder): as a user's first call runs (few requests: the channel
loop as plain Python, nothing compiled), and with the kernel compiled for it
(``XPUSIM_JIT_ALWAYS=1``): the cost of compiling the kernel.
"""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import importlib
import inspect
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from arch.dram import Engine, RequestBatch, load_preset, random_stream, schedule, sequential_stream  # noqa: E402
from arch.dram.grouping import group_requests  # noqa: E402
from arch.dram import scheduler  # noqa: E402
from arch.dram.scheduler import run_kernel  # noqa: E402
from arch.dram import channels as dram_channels, kernel as dram_kernel  # noqa: E402
from arch.tiered_kernel import plain_python  # noqa: E402

TARGET_COMMANDS_PER_S = 5e6


def head(batch: RequestBatch, n: int) -> RequestBatch:
    return RequestBatch(*(getattr(batch, name)[:n] for name in RequestBatch.__dataclass_fields__))


def plain_python_s_per_command(spec, batch: RequestBatch, n: int) -> float:
    """Seconds per command of the channel loop run as plain Python, on the first ``n`` requests of ``batch``
    that fall in channel 0 (what ``arch.dram.kernel.PYTHON_S_PER_COMMAND`` stands for)."""
    grouped = group_requests(spec, batch)
    first = int(grouped.channel_start[1])  # channel 0's requests come first
    one = dataclasses.replace(grouped, channel_start=np.array([0, min(n, first)], dtype=np.int64))
    commands = int(run_kernel(spec, one, False)[1].sum())
    with mock.patch.object(dram_channels, "RUN_CHANNEL", plain_python(dram_kernel._run_channel)):
        seconds, _ = median_seconds(lambda: run_kernel(spec, one, False), 1)
    return seconds / commands


def median_seconds(run, repeats: int) -> tuple[float, float]:
    """Median wall-clock and median CPU seconds of ``repeats`` calls of ``run``."""
    wall, cpu = [], []
    for _ in range(repeats):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - start_wall)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def kernel_at(revision: str):
    """The scheduler kernel of git ``revision`` (the module holding its ``schedule_kernel``), loaded beside the
    current one under other names."""
    root = Path(__file__).resolve().parent.parent
    folder = Path(tempfile.mkdtemp(prefix="dram_kernel_"))
    atexit.register(shutil.rmtree, folder, True)

    def source(path: str) -> str:
        return subprocess.run(["git", "show", f"{revision}:{path}"], cwd=root, check=True, capture_output=True,
                              text=True).stdout

    (folder / "previous_timing_state.py").write_text(source("arch/dram/timing_state.py"))
    kernel = source("arch/dram/kernel.py")
    (folder / "previous_kernel.py").write_text(
        kernel.replace("from arch.dram.timing_state import", "from previous_timing_state import"))
    sys.path.insert(0, str(folder))
    if "def schedule_kernel(" in kernel:  # revisions before the channel driver had its own module
        module = importlib.import_module("previous_kernel")
    else:
        driver = source("arch/dram/channels.py")
        (folder / "previous_channels.py").write_text(
            driver.replace("from arch.dram.timing_state import", "from previous_timing_state import")
            .replace("from arch.dram.kernel import", "from previous_kernel import"))
        module = importlib.import_module("previous_channels")
    if hasattr(module, "RUN_CHANNEL"):  # the jitted loop always: its cache here starts empty
        module.RUN_CHANNEL = importlib.import_module("previous_kernel")._run_channel
    return module


def schedule_kernel_of(previous):
    """``previous``'s schedule_kernel taking ``dedupe`` as this one does (a revision from before the
    repeated-channel copy has no such argument: it schedules every channel)."""
    knows_dedupe = "dedupe" in inspect.signature(previous.schedule_kernel).parameters

    def kernel(*args, dedupe=True):
        return previous.schedule_kernel(*args, **({"dedupe": dedupe} if knows_dedupe else {}))
    return kernel


def compare_kernels(spec, grouped, commands: int, previous, revision: str, repeats: int) -> None:
    """Time this kernel and ``previous`` in turn on ``grouped``; print rates, ratio and output equality."""
    def run_previous():  # every channel scheduled by both
        with mock.patch.object(scheduler, "schedule_kernel", schedule_kernel_of(previous)):
            return run_kernel(spec, grouped, False, dedupe=False)

    same = all(np.array_equal(a, b) for a, b in zip(run_kernel(spec, grouped, False, dedupe=False), run_previous()))
    wall = {"this": [], "previous": []}
    cpu = {"this": [], "previous": []}
    for _ in range(repeats):
        for name, run in (("this", lambda: run_kernel(spec, grouped, False, dedupe=False)), ("previous", run_previous)):
            w, c = median_seconds(run, 1)
            wall[name].append(w)
            cpu[name].append(c)
    rate = {name: (commands / statistics.median(wall[name]), commands / statistics.median(cpu[name]))
            for name in wall}
    print(f"  {revision}: {rate['previous'][0] / 1e6:.2f} M/s wall ({rate['previous'][1] / 1e6:.2f} M/s cpu); "
          f"this kernel {rate['this'][0] / 1e6:.2f} M/s ({rate['this'][1] / 1e6:.2f} M/s cpu): "
          f"{rate['this'][0] / rate['previous'][0]:.2f}x wall, {rate['this'][1] / rate['previous'][1]:.2f}x cpu "
          f"(medians of {repeats}, in turn); outputs {'identical' if same else 'DIFFERENT'}")


COLD_RUN = """
import sys, time
start_wall, start_cpu = time.perf_counter(), time.process_time()
from arch.dram import load_preset, random_stream, schedule
spec = load_preset(sys.argv[1])
imported_wall, imported_cpu = time.perf_counter(), time.process_time()
schedule(spec, random_stream(spec, 1000, seed=0))
print(imported_wall - start_wall, imported_cpu - start_cpu,
      time.perf_counter() - imported_wall, time.process_time() - imported_cpu)
"""


def cold_seconds(preset: str, jit_always: bool = False) -> tuple[float, float, float, float]:
    """Import and first-schedule seconds (wall, CPU each) of a fresh process with an empty Numba cache;
    ``jit_always``: the kernel is compiled for that schedule (XPUSIM_JIT_ALWAYS=1) rather than the few
    requests being scheduled by the channel loop run as plain Python."""
    root = str(Path(__file__).resolve().parent.parent)
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=root, XPUSIM_BACKGROUND_COMPILE="0",
                   XPUSIM_JIT_ALWAYS="1" if jit_always else "0")
        out = subprocess.run([sys.executable, "-c", COLD_RUN, preset], env=env, cwd=root, check=True,
                             capture_output=True, text=True).stdout
    return tuple(float(x) for x in out.split()[-4:])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="hbm2-neupims")
    parser.add_argument("--requests", type=int, default=3_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--twin-requests", type=int, default=20_000)
    parser.add_argument("--python-requests", type=int, default=4_000,
                        help="requests of channel 0 timed with the channel loop run as plain Python")
    parser.add_argument("--against", metavar="REV",
                        help="also time the kernel of this git revision on the same inputs, in turn with this one")
    parser.add_argument("--cold", type=int, default=0, metavar="N",
                        help="also time N fresh processes compiling the kernel with an empty Numba cache")
    args = parser.parse_args(argv)

    spec = load_preset(args.preset)
    burst = spec.organisation.burst_bytes
    workloads = {
        "streaming": sequential_stream(spec, args.requests * burst),
        "random": random_stream(spec, args.requests, seed=0),
    }
    schedule(spec, sequential_stream(spec, 64 * burst))  # compile (or load the cache) outside the timing
    previous = kernel_at(args.against) if args.against else None
    if previous is not None:
        with mock.patch.object(scheduler, "schedule_kernel", schedule_kernel_of(previous)):
            schedule(spec, sequential_stream(spec, 64 * burst))
    print(f"preset {spec.name}: {spec.organisation.scheduled_channels} channels, "
          f"peak {spec.organisation.peak_bandwidth_bytes_per_s / 1e9:.1f} GB/s")
    print(f"{'workload':<10} {'requests':>9} {'commands':>9} {'% peak':>7} {'kernel cmd/s':>13} "
          f"{'kernel cpu':>11} {'schedule cmd/s':>15} {'twin cmd/s':>11}")
    slowest = float("inf")
    for name, batch in workloads.items():
        result = schedule(spec, batch)
        grouped = group_requests(spec, batch)
        kernel_wall, kernel_cpu = median_seconds(lambda: run_kernel(spec, grouped, False, dedupe=False),
                                                 args.repeats)
        schedule_wall, _ = median_seconds(lambda: schedule(spec, batch), args.repeats)
        twin_batch = head(batch, args.twin_requests)
        twin_commands = schedule(spec, twin_batch).commands
        twin_wall, _ = median_seconds(lambda: schedule(spec, twin_batch, engine=Engine.TWIN), 1)
        kernel_rate = result.commands / kernel_wall
        slowest = min(slowest, kernel_rate)
        print(f"{name:<10} {len(batch):>9} {result.commands:>9} {100 * result.fraction_of_peak:>6.1f}% "
              f"{kernel_rate / 1e6:>11.2f} M {result.commands / kernel_cpu / 1e6:>9.2f} M "
              f"{result.commands / schedule_wall / 1e6:>13.2f} M {twin_commands / twin_wall / 1e3:>9.1f} k")
        if previous is not None:
            compare_kernels(spec, grouped, result.commands, previous, args.against, args.repeats)
    per_command = {name: plain_python_s_per_command(spec, batch, args.python_requests)
                   for name, batch in workloads.items()}
    print("channel loop as plain Python (first cold calls): " +
          ", ".join(f"{name} {s * 1e6:.1f} us/command" for name, s in per_command.items()) +
          f"; the estimate uses {dram_channels.PYTHON_S_PER_COMMAND * 1e6:.0f} us/command")
    verdict = "met" if slowest >= TARGET_COMMANDS_PER_S else "NOT met"
    print(f"target: kernel >= {TARGET_COMMANDS_PER_S / 1e6:.0f} M commands/s on every workload "
          f"(median of {args.repeats} wall-clock runs): {verdict}, slowest {slowest / 1e6:.2f} M/s")
    for i in range(args.cold):
        import_wall, import_cpu, first_wall, first_cpu = cold_seconds(args.preset)
        *_, compile_wall, compile_cpu = cold_seconds(args.preset, jit_always=True)
        print(f"cold run {i + 1}: import {import_wall:.2f} s wall ({import_cpu:.2f} s cpu), first schedule with an "
              f"empty Numba cache {first_wall:.2f} s wall ({first_cpu:.2f} s cpu); with the kernel compiled "
              f"for it {compile_wall:.2f} s wall ({compile_cpu:.2f} s cpu)")


if __name__ == "__main__":
    main()
