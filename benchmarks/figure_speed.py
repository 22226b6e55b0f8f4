"""Drawing time of a run's figures: each figure alone, all of them in this process, and all of them on two
cores (``reports.forked``: a forked child draws about half), on the quickstart's result.

Usage: ``python benchmarks/figure_speed.py [--repeats N]`` (fastest of N per figure). The relative
costs printed in the last column are what ``reports.forked._RELATIVE_COST`` balances the two groups by.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def fastest(draw, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        draw()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from simulator.experiment import load_experiment
    from simulator.run import run_experiment

    result = run_experiment(load_experiment(os.path.join(ROOT, "experiments", "quickstart.yaml")))
    start = time.perf_counter()
    from reports import forked
    from reports.figures import RUN_FIGURES, run_figure_names, run_figures
    import_s = time.perf_counter() - start
    names = run_figure_names(result)
    RUN_FIGURES[names[0]](result)  # fonts and caches loaded once, as in any run after the first figure
    each = {name: fastest(lambda name=name: RUN_FIGURES[name](result), args.repeats) for name in names}
    serial = fastest(lambda: [RUN_FIGURES[name](result) for name in names], args.repeats)
    both = fastest(lambda: run_figures(result), args.repeats)
    unit = min(each.values())
    print(f"matplotlib and reports.figures import: {import_s:.3f} s")
    print(f"{'figure':<14}{'draw (s)':>10}{'relative':>10}")
    for name, seconds in each.items():
        print(f"{name:<14}{seconds:>10.3f}{seconds / unit:>10.2f}")
    child, own = forked.split(names)
    print(f"all figures in this process: {serial:.3f} s")
    print(f"on two cores (child: {', '.join(child)}; here: {', '.join(own)}): {both:.3f} s "
          f"({serial / both:.2f}x; forking allowed here: {forked.can_fork()})")


if __name__ == "__main__":
    main()
