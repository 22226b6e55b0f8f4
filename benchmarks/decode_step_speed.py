"""Wall time to simulate whole decode steps on the systolic presets (DESIGN budget: < 2 s).

Cases: one Llama-2-7B decode step (32 layers, batch 32, 1024 tokens of KV cache)
on ``neupims-npu``, and one Llama-2-70B decode step (80 layers, batch 256, 1024
tokens of KV cache) on every systolic preset, with 16-bit weights, activations
and KV cache (8-bit on the int8 presets, whose arrays reject wider operands). Each case runs in a fresh Python
process pinned to one CPU core with Numba limited to one thread: "cold" is the
first run in that process (imports done, the on-disk Numba cache loaded, every
in-process cost cache empty), "warm" the same run again (layer and shape caches
filled, as in a sweep; the engine's cache of whole schedules is cleared first, so
the SimPy simulation runs again). A run is what ``xpusim run`` does short of writing files:
validate the experiment, build the workload, map it, simulate it in the SimPy
engine and summarise cycles, energy and area.

Usage: ``python benchmarks/decode_step_speed.py`` (prints one row per case).

``--whole-process`` instead times ``xpusim run`` of the Llama-2-70B batch-256 step as a whole
process (start-up, validation, simulation and every output file, figures included, then
again with ``--no-figures``) on every registered preset, each the fastest of ``--repeats``
fresh processes with the on-disk Numba cache filled by a first, untimed run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

BUDGET_S = 2.0
CASES = [("llama2-7b", 32, "neupims-npu")] + [
    ("llama2-70b", 256, preset) for preset in
    ("neupims-npu", "scalesim-default", "tpu7x-like", "tpuv1-like", "tpuv4-like")]

EXPERIMENT = textwrap.dedent("""\
    name: speed
    seed: 0
    workload: {{model: {model}, phase: decode, batch: {batch}, seq_len: 1024,
               weight_bits: {bits}, act_bits: {bits}, kv_bits: {bits}}}
    systems:
      - name: npu
        arch: {preset}
    """)


def run_case(model: str, batch: int, preset: str) -> dict:
    """Time one case twice in this process (called in the child)."""
    from simulator.engine import clear_simulation_cache
    from simulator.experiment import parse_text
    from simulator.run import run_experiment

    text = EXPERIMENT.format(model=model, batch=batch, preset=preset, bits=operand_bits(preset))
    times, result = [], None
    for _ in range(2):
        clear_simulation_cache()
        start = time.perf_counter()
        result = run_experiment(parse_text(text))
        times.append(time.perf_counter() - start)
    if result.failures:
        return {"error": result.failures[0].message}
    system = result.systems[0]
    return {"cold_s": times[0], "warm_s": times[1], "cycles": system.cycles, "seconds": system.seconds}


def operand_bits(preset: str) -> int:
    """8-bit operands on the int8 presets (which reject wider ones), 16 elsewhere."""
    from arch import registry
    return 8 if registry.preset_spec(preset).get("pe_dtype") in ("int8", "fp8") else 16


def child_env() -> dict:
    env = dict(os.environ, XPUSIM_SERVER="0", NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1", PYTHONPATH=ROOT)
    return env


def measure(model: str, batch: int, preset: str) -> dict:
    code = ("import json, os, sys; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
            "sys.path.insert(0, sys.argv[1]); from benchmarks.decode_step_speed import run_case; "
            "print(json.dumps(run_case(sys.argv[2], int(sys.argv[3]), sys.argv[4])))")
    out = subprocess.run([sys.executable, "-c", code, ROOT, model, str(batch), preset], env=child_env(),
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def whole_process(repeats: int) -> int:
    import tempfile
    from pathlib import Path

    from arch import registry

    print(f"{'preset':18} {'run s':>7} {'no-figs s':>9} {'budget':>7}  first line of output")
    worst = 0.0
    with tempfile.TemporaryDirectory() as folder:
        for preset in registry.presets():
            path = Path(folder) / f"{preset}.yaml"
            path.write_text(EXPERIMENT.format(model="llama2-70b", batch=256, preset=preset,
                                              bits=operand_bits(preset)) + "capacity: warn\n")
            command = [sys.executable, "-m", "simulator.cli", "run", str(path), "--out", folder, "--force"]
            first = subprocess.run(command, capture_output=True, text=True, env=child_env())  # fills the caches
            times = {}
            for extra in ((), ("--no-figures",)):
                best = float("inf")
                for _ in range(repeats):
                    start = time.perf_counter()
                    subprocess.run(command + list(extra), capture_output=True, env=child_env())
                    best = min(best, time.perf_counter() - start)
                times[extra] = best
            worst = max(worst, times[()])
            verdict = "ok" if times[()] < BUDGET_S else "OVER"
            lines = first.stderr.strip().splitlines() or ["(no output)"]
            line = next((text for text in lines if text.startswith(("npu:", "error"))), lines[0])[:70]
            print(f"{preset:18} {times[()]:>7.2f} {times[('--no-figures',)]:>9.2f} {verdict:>7}  {line}")
    print(f"\nslowest whole run: {worst:.2f} s (budget {BUDGET_S:.0f} s)")
    return 0


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--whole-process", action="store_true", help="time `xpusim run` of the 70B step per preset")
    parser.add_argument("--repeats", type=int, default=2, help="with --whole-process: runs per case, fastest kept")
    args = parser.parse_args()
    if args.whole_process:
        return whole_process(args.repeats)
    print(f"{'model':12} {'batch':>5} {'preset':18} {'cold s':>7} {'warm s':>7} {'budget':>7} "
          f"{'step cycles':>14} {'step ms':>9}")
    worst = 0.0
    for model, batch, preset in CASES:
        row = measure(model, batch, preset)
        if "error" in row:
            print(f"{model:12} {batch:>5} {preset:18} error: {row['error']}")
            continue
        worst = max(worst, row["cold_s"])
        verdict = "ok" if row["cold_s"] < BUDGET_S else "OVER"
        print(f"{model:12} {batch:>5} {preset:18} {row['cold_s']:>7.2f} {row['warm_s']:>7.2f} {verdict:>7} "
              f"{row['cycles']:>14,} {row['seconds'] * 1e3:>9.2f}")
    print(f"\nslowest cold run: {worst:.2f} s (budget {BUDGET_S:.0f} s, one core)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
