"""Design search against an exhaustive grid over the same systolic design space.

Loads ``experiments/search_systolic.yaml`` (a Llama-2-7B decode step, batch 32, on
a TPUv4-like NPU whose rows, cols, cores, input and weight scratchpad sizes and
clock are searched, area <= 30 mm²), runs every point of the space as a sweep and
the file's search (optuna TPE, 200 trials), and prints the best feasible design of
each, the search's gap to the grid's best, the trial at which the search first came
within 5 % of it, how many grid designs lie within 5 % (how hard the target is),
the wall times, and for reference what random sampling finds with the same trials. With ``--dask`` the search is run again on a local Dask cluster
of two worker processes and its trials compared with the local ones.

    python benchmarks/search_vs_grid.py [--workers 2] [--trials 200] [--dask]

Target (what the search must show): within 200 trials, a design within 5 % of the
grid's best; 200 trials on 2 local workers in under 2 minutes.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from simulator import api as xs

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = ROOT / "experiments" / "search_systolic.yaml"


def grid_best(experiment: xs.Experiment, workers: int) -> tuple[dict, int, float, list[dict]]:
    """The exhaustive grid over the search's choices: its best feasible row, size, wall time and rows."""
    spec = experiment.resolved.spec.search
    grid = {key: list(p.choices) for key, p in spec.parameters.items()}
    bound = next(c.max for c in spec.constraints if c.metric.value == "area_mm2")
    started = time.perf_counter()
    sweep = xs.sweep(experiment.with_systems(spec.system), grid, workers=workers)
    wall_s = time.perf_counter() - started
    feasible = [r for r in sweep.rows if r.get("fits", True) and "tokens_per_s" in r and not r.get("warnings")
                and r["area_mm2"] <= bound]
    return max(feasible, key=lambda r: r["tokens_per_s"]), len(sweep.rows), wall_s, feasible


def describe(row: dict, keys: list[str]) -> str:
    return ", ".join(f"{k.split('.')[-1]}={row[k]:g}" if isinstance(row[k], float) else f"{k.split('.')[-1]}={row[k]}"
                     for k in keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--dask", action="store_true", help="also run the search on a local Dask cluster")
    args = parser.parse_args()
    experiment = xs.load(EXPERIMENT)
    keys = list(experiment.resolved.spec.search.parameters)
    size = 1
    for p in experiment.resolved.spec.search.parameters.values():
        size *= len(p.choices)

    best, points, grid_s, feasible = grid_best(experiment, args.workers)
    near = sum(r["tokens_per_s"] >= 0.95 * best["tokens_per_s"] for r in feasible)
    print(f"design space: {size} designs ({', '.join(k.split('.')[-1] for k in keys)}); {len(feasible)} feasible")
    print(f"grid:   best {best['tokens_per_s']:.2f} tokens/s ({describe(best, keys)}, {best['area_mm2']:.2f} mm²); "
          f"{points} points in {grid_s:.1f} s on {args.workers} workers; "
          f"{near} feasible designs ({near / len(feasible):.1%}) within 5 % of it")

    started = time.perf_counter()
    found = xs.search(experiment, workers=args.workers, trials=args.trials)
    search_s = time.perf_counter() - started
    top = found.best
    gap = 1 - top["tokens_per_s"] / best["tokens_per_s"]
    first = next((r["trial"] for r in found.rows if r["feasible"] and r["tokens_per_s"] >= 0.95 * best["tokens_per_s"]), None)
    distinct = len({tuple(r[k] for k in keys) for r in found.rows})
    print(f"search: best {top['tokens_per_s']:.2f} tokens/s ({describe(top, keys)}, {top['area_mm2']:.2f} mm²) "
          f"after {len(found.rows)} trials ({distinct} distinct designs simulated) in {search_s:.1f} s on "
          f"{args.workers} workers")
    print(f"gap to the grid's best: {gap:.2%} (target <= 5 %): {'holds' if gap <= 0.05 else 'DOES NOT HOLD'}; "
          f"first within 5 % at trial {first}")
    print(f"search wall time {search_s:.1f} s (target < 120 s for 200 trials on 2 workers): "
          f"{'holds' if search_s < 120 else 'DOES NOT HOLD'}")
    random = xs.search(xs.load(experiment, search={**experiment.to_dict()["search"], "sampler": "random"}),
                       workers=args.workers, trials=args.trials).best
    print(f"for reference, random sampling with the same trials and seed: best {random['tokens_per_s']:.2f} tokens/s "
          f"(gap {1 - random['tokens_per_s'] / best['tokens_per_s']:.2%})")
    if args.dask:
        compare_on_dask(experiment, args.trials, found)


def compare_on_dask(experiment: xs.Experiment, trials: int, local) -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        started = time.perf_counter()
        on_dask = xs.search(experiment, scheduler=cluster.scheduler_address, trials=trials)
        wall_s = time.perf_counter() - started
    same = on_dask.rows == local.rows
    print(f"dask:   {len(on_dask.rows)} trials on a local cluster of 2 worker processes in {wall_s:.1f} s; "
          f"trials identical to the local ones: {same}")



if __name__ == "__main__":
    main()
