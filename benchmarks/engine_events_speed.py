"""The event kernel against SimPy on the contended schedules of a decode step, side by side in one run.

For each preset, every schedule a Llama-2-7B decode step simulates (captured
from the run path) is run by SimPy (:class:`simulator.engine.Engine`) and by the
jitted event kernel (:func:`simulator.engine_events.event_timeline`); the
timelines must be equal, and the best of ``--repeats`` times of each is printed
with their ratio. It also prints what loading the kernel cost in this process
(from Numba's cache, or compiling it when the cache is empty) -- the figure the
engine's SimPy-first budget (``simulator.engine.EVENT_TWIN_BUDGET_*``) is set
against -- and SimPy's time per tile transfer (tiles times one plus their transfers, the work
``simulator.engine.simpy_estimate_s`` counts), what ``SIMPY_S_PER_TILE_TRANSFER`` is set from.

    python benchmarks/engine_events_speed.py [--presets tpuv4-like neupims ...] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import simulator.run
from simulator import api
from simulator.engine import SIMPY_S_PER_TILE_TRANSFER, Engine, simpy_estimate_s, simulate
from simulator.engine_event_kernel import compiled_on_disk
from simulator.engine_events import event_timeline
from simulator.run import clear_run_memos


def schedules_of(preset: str, batch: int) -> list:
    captured = []

    def capture(schedule, *args, **kwargs):
        captured.append(schedule)
        return simulate(schedule, *args, **kwargs)

    real, simulator.run.simulate = simulator.run.simulate, capture
    try:
        clear_run_memos()
        api.run({"name": "engine-speed", "capacity": "warn", "systems": [{"name": "s", "arch": preset}],
                 "workload": {"model": "llama2-7b", "phase": "decode", "batch": batch, "seq_len": 1024}})
    finally:
        simulator.run.simulate = real
    return [s for s in captured if len({t.group for t in s.tasks}) > 1 or len(s.tasks) > 1]


def best_of(repeats: int, call) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        value = call()
        best = min(best, time.perf_counter() - start)
    return best, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["tpuv4-like", "neupims", "npu-pim-naive", "duplex",
                                                         "a100-80gb"])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cached = compiled_on_disk()
    first = schedules_of(args.presets[0], 1)[0]
    start = time.perf_counter()
    event_timeline(first)
    print(f"loading the event kernel: {time.perf_counter() - start:.2f} s "
          f"({'from the Numba cache' if cached else 'compiled: the cache was empty'})")
    print(f"{'preset':<16}{'schedules':>10}{'tasks':>8}{'SimPy s':>10}{'kernel s':>10}{'speed-up':>10}"
          f"{'SimPy us per tile transfer':>28}")
    for preset in args.presets:
        schedules = schedules_of(preset, args.batch)
        simpy_s = kernel_s = work = 0.0
        for schedule in schedules:
            t_simpy, reference = best_of(args.repeats, lambda: Engine(schedule).run())
            t_kernel, timeline = best_of(args.repeats, lambda: event_timeline(schedule))
            if timeline != reference:
                raise SystemExit(f"{preset}: the event kernel's timeline differs from SimPy's")
            simpy_s += t_simpy
            kernel_s += t_kernel
            work += simpy_estimate_s(schedule) / SIMPY_S_PER_TILE_TRANSFER
        tasks = sum(len(s.tasks) for s in schedules)
        ratio = simpy_s / kernel_s if kernel_s else float("nan")
        per_us = simpy_s / work * 1e6 if work else float("nan")
        print(f"{preset:<16}{len(schedules):>10}{tasks:>8}{simpy_s:>10.3f}{kernel_s:>10.4f}{ratio:>9.1f}x"
              f"{per_us:>28.1f}")
    print(f"every timeline equal to SimPy's; the engine estimates {SIMPY_S_PER_TILE_TRANSFER * 1e6:.0f} us "
          f"per tile transfer")


if __name__ == "__main__":
    main()
