"""NeuPIMs against GPU-only, NPU-only and a naive NPU+PIM: decode throughput ratios.

Usage: ``python benchmarks/neupims_ratios.py [experiments/neupims.yaml]``

Runs every point of the experiment's sweep (GPT-3 7B/13B/30B decode at batch
256 and 512; systems ``gpu`` = a100-80gb, ``npu`` = neupims-npu, ``naive`` =
npu-pim-naive, ``neupims`` = neupims) and prints per point the tokens/s, energy
per token and area of each system, then the ratios NeuPIMs / GPU, NeuPIMs / NPU
and NeuPIMs / naive next to the paper's 3x, 2.4x and 1.6x (NeuPIMs, ASPLOS'24,
REFERENCE_DATA.md "Headline results") with "within 25 %: yes/no". Last, the
wall time to simulate one GPT-3 7B decode step at batch 256 on ``neupims``
(budget: under 2 s). Between them, the comparison with the NeuPIMs artefact's own
cycle counts at GPT-3 7B, batch 512 (:mod:`benchmarks.neupims_artefact`). The sweep,
the targets and the row-set rates are computed by :mod:`simulator.reproduce.neupims`
(``xpusim reproduce neupims`` holds them as claims); this script prints them with
the detail that is not a claim.

Why a ratio can miss (see ``docs/pim.md``): the printout's ``attn%`` is the
share of the NPU-only layer spent in KV attention, the part PIM accelerates;
``mem util`` is the share of the NeuPIMs layer during which the HBM moves the
NPU's data (sub-batch interleaving reads every weight once per sub-batch, which
costs time when the NPU's GEMMs are bandwidth-bound, i.e. at batch 256 on this NPU). No constant was
tuned toward the paper's figures.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import neupims_artefact  # noqa: E402
from simulator.engine import clear_simulation_cache  # noqa: E402
from simulator.experiment import load_experiment  # noqa: E402
from simulator.reproduce.neupims import (EXPERIMENT as DEFAULT_FILE, RATIO_TOLERANCE as TOLERANCE,  # noqa: E402
                                         SYSTEMS, TARGETS, ratio_points, row_set_mac_cycles,
                                         row_set_rates)
from arch import registry  # noqa: E402
from simulator.run import run_system  # noqa: E402
from simulator.workload_spec import build_workload  # noqa: E402


def attention_share(npu) -> float:
    """Share of the NPU-only layer's op time spent in KV attention GEMMs."""
    attn = sum(op.total_cycles for op in npu.ops if op.name.split("#")[0].endswith(("attn_score", "attn_context")))
    return attn / max(1, sum(op.total_cycles for op in npu.ops))


def memory_utilisation(neupims) -> float:
    """Share of the NeuPIMs layer during which the HBM moves NPU data (transfer cycles / layer)."""
    return sum(op.memory_cycles for op in neupims.ops) / max(1, neupims.layer_cycles)


def print_point(values: dict, systems: dict) -> list[tuple[str, float]]:
    head = f"{values['workload.model']} batch {values['workload.batch']}"
    print(f"\n{head}")
    print(f"  {'system':<9}{'tokens/s':>12}{'mJ/token':>10}{'area mm2':>10}")
    for name in SYSTEMS:
        if name in systems:
            s = systems[name]
            print(f"  {name:<9}{s.tokens_per_s:>12.0f}{s.energy_per_token_j * 1e3:>10.2f}{s.area_mm2:>10.0f}")
    neupims = systems["neupims"]
    ratios = []
    for base, target in TARGETS.items():
        if base not in systems:
            print(f"  neupims/{base}: {base} not run (see 'failed' below)")
            continue
        ratio = neupims.tokens_per_s / systems[base].tokens_per_s
        within = abs(ratio / target - 1) <= TOLERANCE
        ratios.append((base, ratio))
        print(f"  neupims/{base:<6} {ratio:5.2f}x  (paper {target}x)  within {TOLERANCE:.0%}: {'yes' if within else 'no'}")
    if "npu" in systems:
        print(f"  attn% of npu-only layer {attention_share(systems['npu']):.0%};  "
              f"neupims mem util {memory_utilisation(neupims):.0%}")
    return ratios


def row_set_cycles() -> None:
    """DRAM cycles per 32 KB row set (1 KB in each of 32 banks) of the dense PIM GEMV on the neupims preset's
    memory, in both activation modes (:func:`simulator.reproduce.neupims.row_set_rates`)."""
    for mode, (per_row_set, rate, multiple) in row_set_rates().items():
        print(f"  row set ({mode}): {per_row_set:.0f} DRAM cycles, {rate:.0f} B/cycle "
              f"({multiple:.1f}x the channel bus)")


def explain() -> None:
    rates = row_set_rates()
    tfaw, mac_cycles = row_set_mac_cycles()
    gpu = registry.build(registry.preset_spec("a100-80gb")).spec
    print(f"""
Where the ratios miss, the modelling differences (docs/pim.md, "Measured ratios"):
* neupims/naive: interleaving hides the PIM attention under the other sub-batch's
  GEMMs, so the gain grows with the PIM stage's share of the naive layer. NeuPIMs'
  own layout pads K to 32-token tiles and V to 512-token rows per head, and whole
  requests per channel leave the slowest channel well above the mean (the artefact
  comparison below); sub-batch interleaving reads every weight once per sub-batch,
  which costs more at batch 256, where the NPU's GEMMs are bandwidth-bound.
* neupims/npu: PIM's gain is bounded by the attention share of the NPU-only layer
  (attn% above). The PIM GEMV streams a 32 KB row set (1 KB in each of 32 banks) in
  the cycles printed below, {rates['faw_limited'][2]:.1f}x the channel bus rate: activating 16 banks per
  rank at four per tFAW ({tfaw} cycles), as NeuPIMs' own simulator does (G_ACT -> G_ACT
  = tFAW), costs more than the row set's {mac_cycles:.0f} cycles of MACs. Ganged all-bank
  activation (AttAcc's ACTAB, pim.all_bank_activation: ganged) raises that rate
  {rates['ganged'][1] / rates['faw_limited'][1]:.2f}x.
* neupims/gpu: the GPU model (arch/gpu) is calibrated on measured A100 GEMMs and
  streams decode attention at {gpu.memory_efficiency_max:.0%} of {gpu.hbm_bandwidth_bytes_per_s / 1e12:.3g} TB/s (a100-80gb preset), against the
  NPU's HBM bandwidth; real variable-length attention kernels and serving overheads
  are not modelled, and it is not the GPU measurement NeuPIMs used.""")


def step_wall_time(path: Path) -> tuple[float, float]:
    """Seconds to simulate one GPT-3 7B decode step at batch 256 on ``neupims`` (cold, warm)."""
    experiment = load_experiment(path)
    workload = build_workload(experiment.spec.workload)
    system = next(s for s in experiment.systems if s.name == "neupims")
    times = []
    for _ in range(2):
        clear_simulation_cache()  # time the SimPy simulation itself, not a cached timeline
        start = time.perf_counter()
        run_system(workload, system)
        times.append(time.perf_counter() - start)
    return times[0], times[1]


def main(path: Path) -> int:
    rows, failures = ratio_points(path)
    for values, systems in rows:
        print_point(values, systems)
    for failure in failures:
        print(f"failed: {failure.system}: {failure.message}")
    explain()
    row_set_cycles()
    print("\nAgainst the NeuPIMs artefact's own cycle counts (benchmarks/neupims_artefact.py):")
    artefact_failed = neupims_artefact.main(path)
    cold, warm = step_wall_time(path)
    print(f"\nwall time, one GPT-3 7B decode step at batch 256 on neupims: {warm:.2f} s "
          f"(first call {cold:.2f} s; budget 2 s): {'ok' if warm < 2 else 'over budget'}")
    # A GPU that cannot hold the step (weights + KV > 80 GB) is a result, not an error.
    return 1 if artefact_failed or any(f.system != "gpu" for f in failures) else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FILE))
