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

The computation and the artefact's figures live in :mod:`simulator.reproduce.neupims`
(``xpusim reproduce neupims`` holds each as a claim); this script prints them. The
artefact's figures were measured by building and running
``casys-kaist/NeuPIMs`` (branches main and npu+pim) on GPT-3 7B, n_tp 4, its
512-request ShareGPT traces (``request-traces/{clb,rr}/share-gpt2-bs512-ms7B-tp4-*-0.csv``),
one layer at 1 GHz, with op and stage completion cycles logged: NeuPIMs with
``sub-batch-on.json`` and clb placement; the naive stand-in with
``sub-batch-off.json`` and round-robin placement (stages serial).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator.reproduce.neupims import (ARTEFACT, ARTEFACT_LABELS, BATCH, EXPERIMENT as DEFAULT_FILE,  # noqa: E402
                                         TOLERANCE, artefact_tolerance, measure, tokens_per_s_rows)


def main(path: Path) -> int:
    got = measure(path)
    print(f"GPT-3 7B decode, batch {BATCH}, tp 4 (mean KV tokens {got['kv_mean']:.1f}); artefact = casys-kaist/NeuPIMs run")
    print(f"  {'figure':<36}{'xpusim':>12}{'artefact':>12}{'ratio':>8}")
    failed = False
    for key, label in ARTEFACT_LABELS.items():
        ratio = got[key] / ARTEFACT[key]
        ok = abs(ratio - 1) <= artefact_tolerance(key)
        verdict = f"  within {artefact_tolerance(key):.0%}: {'yes' if ok else 'no'}"
        if key in TOLERANCE:  # the figures tests/test_pim_artefact.py holds
            failed |= not ok
        form = ",.2f" if key.startswith("ratio") else ",.0f"
        print(f"  {label:<36}{got[key]:>12{form}}{ARTEFACT[key]:>12{form}}{ratio:>8.3f}{verdict}")
    print(f"  naive: slowest channel over the mean {got['naive_slowest_channel_over_mean']:.2f}; "
          f"neupims: fill and drain {got['neupims_fill_drain_cycles']:,.0f} cycles per step, "
          f"{got['neupims_layer_cycles']:,.0f} per layer as the preset simulates it; "
          f"neupims/naive so {got['ratio_simulated']:.2f}")
    print(f"\nTokens/s per device, GPT-3 7B decode, batch {BATCH}, tp 4, {got['layers']} layers "
          "(paper: the artefact's NeuPIMs rate over the paper's ratio; docs/pim.md \"Tokens per second\")")
    print(f"  {'system':<10}{'xpusim':>10}{'artefact':>10}{'paper':>10}{'xpusim/artefact':>17}")
    for name, ours, theirs, paper in tokens_per_s_rows(path):
        print(f"  {name:<10}{ours:>10,.0f}{theirs:>10,.0f}{paper:>10,.0f}{ours / theirs:>17.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FILE))
