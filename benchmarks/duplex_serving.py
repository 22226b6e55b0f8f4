"""Duplex (xPU + Logic-PIM) under a continuous-batching serving mix.

Usage: ``python benchmarks/duplex_serving.py [experiments/duplex-serving.yaml]``

Runs the experiment once (Mixtral-8x7B requests whose prefill iterations mix with
the decode iterations of the requests already in flight; ``serving.latency:
composed``) and prints, per system, output tokens/s, TPOT p50 and end-to-end p50,
then duplex / system for each, next to Duplex's headline figure, "up to 2.67x"
throughput over an H100 GPU (MICRO'24, REFERENCE_DATA.md "Headline results").

``h100-nolaunch`` is the H100 preset with ``launch_overhead_s: 0``: the gap
between ``vs h100`` and ``vs h100-nolaunch`` is the share of the duplex / GPU
ratio that the GPU model's per-kernel launch overhead accounts for.

The request lengths and arrival rate are the experiment's choice; the paper's
serving traces are not in REFERENCE_DATA.md, so only the headline ratio is
compared (see docs/logicpim.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator import api  # noqa: E402

PAPER_RATIO = 2.67  # Duplex, MICRO'24: up to 2.67x throughput (REFERENCE_DATA.md "Headline results")
DEFAULT_FILE = Path(__file__).resolve().parent.parent / "experiments" / "duplex-serving.yaml"


def serving_ratios(path: Path = DEFAULT_FILE) -> dict[str, dict[str, float]]:
    """Per system: tokens/s, TPOT p50 and E2E p50 (s), and duplex's throughput ratio over it."""
    result = api.run(path).result
    if result.failures:
        raise RuntimeError("; ".join(f"{f.system}: {f.message}" for f in result.failures))
    systems = {s.name: s for s in result.systems}
    duplex = systems["duplex"].tokens_per_s
    return {name: {"tokens_per_s": s.tokens_per_s,
                   "tpot_p50_s": (s.serving or {}).get("tpot_s", {}).get("p50", float("nan")),
                   "e2e_p50_s": (s.serving or {}).get("e2e_s", {}).get("p50", float("nan")),
                   "duplex_ratio": duplex / s.tokens_per_s}
            for name, s in systems.items()}


def main(path: Path) -> int:
    rows = serving_ratios(path)
    print(f"{'system':<16}{'tok/s':>10}{'TPOT p50 ms':>13}{'E2E p50 ms':>12}{'duplex/sys':>12}")
    for name, row in rows.items():
        print(f"{name:<16}{row['tokens_per_s']:>10.0f}{row['tpot_p50_s'] * 1e3:>13.2f}"
              f"{row['e2e_p50_s'] * 1e3:>12.1f}{row['duplex_ratio']:>11.2f}x")
    if "h100" in rows and "h100-nolaunch" in rows:
        with_launch, without = rows["h100"]["duplex_ratio"], rows["h100-nolaunch"]["duplex_ratio"]
        print(f"\nduplex / h100: {with_launch:.2f}x with the per-kernel launch overhead, "
              f"{without:.2f}x without it; Duplex (MICRO'24): up to {PAPER_RATIO}x over an H100 GPU")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FILE))
