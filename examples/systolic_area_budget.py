"""The fastest systolic NPU under an area budget: a sweep over array shape and core count.

Starts from a systolic preset (default: the TPUv4-like NPU), sweeps rows, columns and
cores on one decode step of a model, and keeps the designs whose area (the sum of
the technology library's component areas) is within the budget; prints them best
first and the one with the highest tokens/s. Designs whose weights and KV cache do
not fit the DRAM are marked.

    python examples/systolic_area_budget.py --budget-mm2 60 --workers 2
"""

from __future__ import annotations

import argparse
from typing import Any, Sequence

from simulator import api as xs


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tpuv4-like")
    parser.add_argument("--model", default="llama2-7b")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128, 256], help="rows and cols to try")
    parser.add_argument("--cores", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--budget-mm2", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    experiment = xs.load(name="systolic-area-budget",
                         workload={"model": args.model, "phase": "decode", "batch": args.batch, "seq_len": 1024},
                         systems=[{"name": "npu", "arch": args.preset}])
    grid = {"systems.npu.arch.rows": args.sizes, "systems.npu.arch.cols": args.sizes,
            "systems.npu.arch.cores": args.cores}
    frame = xs.sweep(experiment, grid, workers=args.workers).to_pandas()
    frame = frame.rename(columns={k: k.split(".")[-1] for k in grid})
    frame["fits_dram"] = frame["fits"] if "fits" in frame else frame.get("warnings", frame["system"]).isna()
    if "area_mm2" not in frame:  # every design was left out: weights + KV cache exceed its DRAM
        print(f"no design could be run: {frame['capacity'].iloc[0]}")
        return {"frame": frame, "within": frame.iloc[0:0], "best": None}
    within = frame[frame["area_mm2"] <= args.budget_mm2].sort_values("tokens_per_s", ascending=False)
    columns = ["rows", "cols", "cores", "tokens_per_s", "energy_per_token_j", "area_mm2", "fits_dram"]
    print(f"{len(within)} of {len(frame)} designs within {args.budget_mm2:g} mm² "
          f"({args.model} decode, batch {args.batch}, from {args.preset}):")
    print(within[columns].head(10).to_string(index=False))
    best = within.iloc[0][columns].to_dict() if len(within) else None
    print(f"best: {best}" if best else "no design is within the budget")
    return {"frame": frame, "within": within, "best": best}


if __name__ == "__main__":
    main()
