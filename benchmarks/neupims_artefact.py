"""NeuPIMs and its naive NPU+PIM next to the NeuPIMs artefact's own cycle counts (GPT-3 7B, batch 512).

Usage: ``python benchmarks/neupims_artefact.py [experiments/neupims.yaml]``

Runs the experiment's ``naive`` and ``neupims`` systems on its workload at batch
512 (GPT-3 7B decode, tp 4, KV lengths drawn from the ShareGPT fit) and prints,
each next to the artefact's figure:

* naive: cycles per layer; the PIM attention stage (first score GEMV start to
  last context GEMV end, 512 requests); the mean PIM-busy cycles per channel and
  the slowest channel's over the mean;
* neupims: one layer alone (``unroll_layers_max: 1``, fill and drain included,
  as the artefact ran it); the steady state and the fill and drain, measured
  from ``unroll_layers_max`` 4 and 8 (per-layer cycles ``c(L) = steady +
  fill_drain / L``); the preset's own per-layer cycles;
* NeuPIMs / naive, steady state and for one layer.

The artefact's figures (ARTEFACT below) were measured by building and running
``casys-kaist/NeuPIMs`` (branches main and npu+pim) on GPT-3 7B, n_tp 4, its
512-request ShareGPT traces (``request-traces/{clb,rr}/share-gpt2-bs512-ms7B-tp4-*-0.csv``),
one layer at 1 GHz, with op and stage completion cycles logged: NeuPIMs with
``sub-batch-on.json`` and clb placement; the naive stand-in with
``sub-batch-off.json`` and round-robin placement (stages serial).
"""

from __future__ import annotations

import dataclasses
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator.experiment import parse_experiment  # noqa: E402
from simulator.run import run_system  # noqa: E402
from simulator.workload_spec import build_workload  # noqa: E402
from workloads.yamlio import load_yaml_file  # noqa: E402

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "experiments" / "neupims.yaml"
# The artefact's measured cycles (module docstring), GPT-3 7B, batch 512, one layer.
ARTEFACT = {
    "naive_layer_cycles": 695_576,        # sub-batch-off, rr-0: stages A + B + E
    "naive_pim_stage_cycles": 341_031,    # stage B: PIM attention of 512 requests
    "naive_pim_busy_mean_cycles": 219_527,  # stage B: mean PIM-busy cycles per channel
    "naive_npu_cycles": 87_268 + 267_277,  # stages A (LN + QKV) + E (projection + FFN), 512 tokens
    "neupims_steady_cycles": 481_000,     # sub-batch-on, clb-0: stages C + D (steady state)
    "neupims_one_layer_cycles": 529_120,  # the same layer counting its fill and drain
}
ARTEFACT["ratio_steady"] = ARTEFACT["naive_layer_cycles"] / ARTEFACT["neupims_steady_cycles"]  # 1.45
ARTEFACT["ratio_one_layer"] = ARTEFACT["naive_layer_cycles"] / ARTEFACT["neupims_one_layer_cycles"]  # 1.31
TOLERANCE = {"ratio_steady": 0.10, "naive_pim_stage_cycles": 0.15}  # what xpusim is held to
BATCH = 512


def run(path: Path, name: str, batch: int = BATCH, **mapping):
    """(result, timeline, workload) of system ``name`` of the experiment at ``batch`` requests
    (KV lengths drawn with the experiment's seed), with ``mapping`` over the system's options."""
    raw = load_yaml_file(path)
    raw["workload"] = {**raw["workload"], "batch": batch}
    experiment = parse_experiment(raw, source=str(path), base_dir=path.parent)
    workload = build_workload(experiment.spec.workload)
    system = next(s for s in experiment.systems if s.name == name)
    system = dataclasses.replace(system, mapping=tuple({**dict(system.mapping), **mapping}.items()))
    result, timeline = run_system(workload, system)
    return result, timeline, workload


def pim_stage(timeline) -> dict:
    """The PIM attention stage of an uninterleaved layer: span, mean and max busy cycles per channel."""
    pim = [e for e in timeline if e.unit.startswith("pim")]
    busy = defaultdict(int)
    for event in pim:
        busy[event.unit] += event.end - event.start
    mean = sum(busy.values()) / max(1, len(busy))
    return {"span": max(e.end for e in pim) - min(e.start for e in pim), "busy_mean": mean,
            "slowest_over_mean": max(busy.values()) / mean}


def per_layer(result, workload) -> float:
    return result.cycles / workload.repeat


def measure(path: Path = DEFAULT_FILE) -> dict:
    """Every figure the module docstring lists, computed."""
    naive, naive_timeline, workload = run(path, "naive")
    stage = pim_stage(naive_timeline)
    c1 = per_layer(run(path, "neupims", unroll_layers_max=1)[0], workload)
    neupims, _, _ = run(path, "neupims")
    c4 = per_layer(run(path, "neupims", unroll_layers_max=4)[0], workload)
    c8 = per_layer(run(path, "neupims", unroll_layers_max=8)[0], workload)
    steady = 2 * c8 - c4
    naive_layer = per_layer(naive, workload)
    return {
        "naive_layer_cycles": naive_layer, "naive_pim_stage_cycles": stage["span"],
        "naive_pim_busy_mean_cycles": stage["busy_mean"], "naive_npu_cycles": naive_layer - stage["span"], "naive_slowest_channel_over_mean": stage["slowest_over_mean"],
        "neupims_layer_cycles": per_layer(neupims, workload), "neupims_steady_cycles": steady,
        "neupims_one_layer_cycles": c1, "ratio_one_layer": naive_layer / c1,
        "neupims_fill_drain_cycles": (c4 - steady) * 4, "ratio_steady": naive_layer / steady,
        "ratio_simulated": naive_layer / per_layer(neupims, workload), "kv_mean": dict(workload.meta)["kv_tokens"] / BATCH,
    }


def main(path: Path) -> int:
    got = measure(path)
    print(f"GPT-3 7B decode, batch {BATCH}, tp 4 (mean KV tokens {got['kv_mean']:.1f}); artefact = casys-kaist/NeuPIMs run")
    print(f"  {'figure':<36}{'xpusim':>12}{'artefact':>12}{'ratio':>8}")
    failed = False
    for key, label in (("naive_layer_cycles", "naive: cycles per layer"),
                       ("naive_pim_stage_cycles", "naive: PIM attention stage"),
                       ("naive_pim_busy_mean_cycles", "naive: mean PIM-busy per channel"),
                       ("naive_npu_cycles", "naive: NPU stages (layer - PIM)"),
                       ("neupims_steady_cycles", "neupims: steady state per layer"),
                       ("neupims_one_layer_cycles", "neupims: one layer, fill and drain"),
                       ("ratio_steady", "neupims/naive, steady state"),
                       ("ratio_one_layer", "neupims/naive, one layer")):
        ratio = got[key] / ARTEFACT[key]
        verdict = ""
        if key in TOLERANCE:
            ok = abs(ratio - 1) <= TOLERANCE[key]
            failed |= not ok
            verdict = f"  within {TOLERANCE[key]:.0%}: {'yes' if ok else 'no'}"
        form = ",.2f" if key.startswith("ratio") else ",.0f"
        print(f"  {label:<36}{got[key]:>12{form}}{ARTEFACT[key]:>12{form}}{ratio:>8.3f}{verdict}")
    print(f"  naive: slowest channel over the mean {got['naive_slowest_channel_over_mean']:.2f}; "
          f"neupims: fill and drain {got['neupims_fill_drain_cycles']:,.0f} cycles per step, "
          f"{got['neupims_layer_cycles']:,.0f} per layer as the preset simulates it; "
          f"neupims/naive so {got['ratio_simulated']:.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FILE))
