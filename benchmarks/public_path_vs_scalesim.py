"""One GEMM through xpusim's public in-process path against SCALE-Sim 3.0.0.

For each case of ``tests/data/scalesim_golden.json`` (M x N x K, array rows x cols,
dataflow) the one-GEMM experiment of ``whole_process_vs_scalesim.py`` (the
``tpuv4-like`` preset cut to one core of that array, SCALE-Sim's 1 MiB SRAMs) is
loaded once with :func:`simulator.api.load`, and :func:`simulator.api.run` of it is
timed: validation, building the system, mapping, the engine's timeline, energy,
area and the result objects -- everything ``xpusim run`` does in-process except
reading the YAML and writing files. Three states of the memos are timed, each the
median of ``--repeats`` calls:

* ``new system``: every memo is cleared before each call (the shared accelerator
  models and their component, energy and area tables; everything below), so the
  call builds the system and computes the GEMM from nothing -- the run of a design
  point never seen before, SCALE-Sim's own situation;
* ``new GEMM``: the memos that depend on the op are cleared (the engine's schedule
  cache, the split-search memo, the op-cost memo, the mapped-step and workload
  memos, the checks' workload memo, the passed-checks memo, the systolic cycle and
  tiling caches); the system's model and tables, which depend on its spec alone,
  are kept -- a loop over workloads on one design;
* ``repeat``: nothing is cleared -- the same experiment run again (the unchanged
  systems of a sweep's points), every memo answering.

Printed per case: xpusim's time in each state, SCALE-Sim's time recorded in the
golden file (``scalesim_wall_s``, its run alone, from
``scripts/make_scalesim_golden.py``), the ratio SCALE-Sim / xpusim for ``new
system`` and ``new GEMM``, and the engine events: SimPy events the tile pipeline
would take against those taken (0 when the closed form of
:mod:`simulator.engine_closed_form` answers); then per state the median ratio and
how many cases reach 1000x. With scalesim importable, ``--live N`` cases are also
run by SCALE-Sim here (``benchmarks/scalesim_runner.py``, in-process, its run
alone) next to xpusim, as ratios measured in one run.

Run: ``python benchmarks/public_path_vs_scalesim.py [--repeats R] [--live N]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import simpy  # noqa: E402

from arch.systolic import model as systolic_model, tiling  # noqa: E402
from mappers.split import clear_split_memo  # noqa: E402
from simulator import api, checks, run as run_module  # noqa: E402
from simulator.engine import Engine, clear_simulation_cache  # noqa: E402

GOLDEN = ROOT / "tests" / "data" / "scalesim_golden.json"
SRAM_BYTES = 1 << 20  # SCALE-Sim's IfmapSramSzkB / FilterSramSzkB / OfmapSramSzkB of the golden runs: 1024 kB
STATES = ("new system", "new GEMM", "repeat")


def experiment(case: dict) -> api.Experiment:
    return api.load(name="one-gemm", workload={"ops": [{"name": "gemm", "M": case["m"], "K": case["k"],
                                                         "N": case["n"]}]},
                    systems=[{"name": "npu", "arch": "tpuv4-like",
                              "set": {"rows": case["rows"], "cols": case["cols"], "dataflow": case["dataflow"],
                                      "cores": 1, "ifmap_sram_bytes": SRAM_BYTES, "filter_sram_bytes": SRAM_BYTES,
                                      "ofmap_sram_bytes": SRAM_BYTES}}])


def _clear(name: str) -> None:
    """Call ``name``'s clearing function if this checkout has it (older engines lack some memos)."""
    module, _, function = name.rpartition(".")
    try:
        target = __import__(module, fromlist=[function])
    except ImportError:
        return
    if hasattr(target, function):
        getattr(target, function)()


def clear_memos() -> None:
    """Forget everything that depends on the op: the next call computes the GEMM afresh."""
    clear_simulation_cache()
    clear_split_memo()
    systolic_model._gemm_counts.cache_clear()
    tiling._plan.cache_clear()
    for name in ("mappers.schedule.clear_cost_memo", "simulator.run.clear_run_memos",
                 "simulator.api.clear_validation_memo"):
        _clear(name)
    getattr(checks, "_BUILT", {}).clear()  # the checks' workloads by spec (no public clearing function)


def clear_all() -> None:
    """:func:`clear_memos` and the shared models with their tables: the next call builds the system too."""
    clear_memos()
    _clear("simulator.system_cache.clear_system_cache")


CLEARING = {"new system": clear_all, "new GEMM": clear_memos, "repeat": lambda: None}


def run_seconds(exp: api.Experiment, repeats: int, state: str = "new GEMM") -> float:
    clear = CLEARING[state]
    times = []
    for _ in range(repeats):
        clear()
        start = time.perf_counter()
        result = api.run(exp)
        times.append(time.perf_counter() - start)
        if not result.ok:
            raise RuntimeError(f"{exp.name}: {result.failures}")
    return statistics.median(times)


class _CountingEnvironment(simpy.Environment):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.events = 0

    def step(self):
        self.events += 1
        super().step()


def simpy_events(exp: api.Experiment) -> int:
    """SimPy events the engine's SimPy path takes for the experiment's schedule (simulated aside)."""
    from mappers.subbatch import map_step  # noqa: F401  (the run path's mapper, for its schedule)
    from simulator import engine

    seen = []
    original = engine.Engine.run

    def counting(self):
        self.env.__class__ = _CountingEnvironment
        self.env.events = 0
        timeline = original(self)
        seen.append(self.env.events)
        return timeline

    engine.Engine.run = counting
    try:
        clear_memos()
        schedules = []
        real = getattr(engine, "closed_form_timeline", None)
        if real is None:  # an engine without the closed form: every schedule runs in SimPy
            api.run(exp)
            return sum(seen), sum(seen)
        engine.closed_form_timeline = lambda s: schedules.append(s) or real(s)
        try:
            api.run(exp)
        finally:
            engine.closed_form_timeline = real
        taken = sum(seen)
        seen.clear()
        for schedule in schedules:
            Engine(schedule).run()
        return sum(seen), taken
    finally:
        engine.Engine.run = original


def live_scalesim_seconds(case: dict) -> float:
    from scalesim_runner import run_gemm

    return run_gemm(case["m"], case["n"], case["k"], case["rows"], case["cols"], case["dataflow"]).wall_s


def _jitted() -> bool:
    """Whether the closed form's calls go to its jitted kernel now (always on an engine without twin calls)."""
    from simulator import engine_closed_form

    tiered = getattr(engine_closed_form, "PIPELINE_KERNEL", None)
    return getattr(tiered, "jitted", True)


def _label(case: dict) -> str:
    return f"{case['m']}x{case['n']}x{case['k']} {case['rows']}x{case['cols']} {case['dataflow']}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="timed calls per case and state, the median kept")
    parser.add_argument("--live", type=int, default=4, help="cases SCALE-Sim also runs here (0: none)")
    args = parser.parse_args(argv)
    cases = json.loads(GOLDEN.read_text())["cases"]
    # warm-up: imports, and the kernels past the twin calls that answer a process's first calls
    # (arch.tiered_kernel): the figures below are a long in-process loop's; cold_start.py times first calls
    warm_up = experiment(cases[0])
    for _ in range(1000):
        run_seconds(warm_up, 1)
        if _jitted():
            break
    run_seconds(warm_up, 3)
    print(f"{'case (MxNxK array df)':<30} {'new system':>10} {'new GEMM':>9} {'repeat':>7} {'SCALE-Sim':>9} "
          f"{'ratio':>7} {'ratio':>7} {'SimPy events':>12} {'taken':>6}")
    print(f"{'':<30} {'us':>10} {'us':>9} {'us':>7} {'s':>9} {'system':>7} {'GEMM':>7}")
    ratios = {state: [] for state in STATES}
    for case in cases:
        exp = experiment(case)
        seconds = {state: run_seconds(exp, args.repeats, state) for state in STATES}
        would, taken = simpy_events(exp)
        for state in STATES:
            ratios[state].append(case["scalesim_wall_s"] / seconds[state])
        print(f"{_label(case):<30} {seconds['new system'] * 1e6:10.1f} {seconds['new GEMM'] * 1e6:9.1f} "
              f"{seconds['repeat'] * 1e6:7.1f} {case['scalesim_wall_s']:9.4f} {ratios['new system'][-1]:6.0f}x "
              f"{ratios['new GEMM'][-1]:6.0f}x {would:12d} {taken:6d}")
    print("\npublic path (api.run of a loaded one-GEMM experiment), SCALE-Sim's recorded time / xpusim's:")
    for state in STATES:
        found = ratios[state]
        print(f"  {state:<10}: median {statistics.median(found):,.0f}x, min {min(found):,.0f}x, "
              f"max {max(found):,.0f}x; {sum(r >= 1000 for r in found)} of {len(found)} cases at 1000x or more")
    if args.live and importlib.util.find_spec("scalesim") is not None:
        step = max(1, len(cases) // args.live)
        print("\nmeasured side by side in this run (SCALE-Sim in-process, its run alone):")
        live = {state: [] for state in STATES[:2]}
        for case in cases[::step][:args.live]:
            ours = {state: run_seconds(experiment(case), args.repeats, state) for state in live}
            theirs = live_scalesim_seconds(case)
            for state in live:
                live[state].append(theirs / ours[state])
            print(f"{_label(case):<30} xpusim new system {ours['new system'] * 1e6:8.1f} us, new GEMM "
                  f"{ours['new GEMM'] * 1e6:8.1f} us  SCALE-Sim {theirs:8.4f} s  ratios "
                  f"{live['new system'][-1]:6.0f}x {live['new GEMM'][-1]:6.0f}x")
        print("live median ratio: " + ", ".join(f"{state} {statistics.median(found):,.0f}x"
                                                for state, found in live.items()))
    elif args.live:
        print("\nscalesim is not importable (pip install -e '.[scalesim]'): no live comparison")
    return 0


if __name__ == "__main__":
    sys.exit(main())
