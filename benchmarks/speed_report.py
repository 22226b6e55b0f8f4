"""xpusim's speed where users feel it, in one run: every speed benchmark, side by side.

Sections, each a benchmark of this folder run as its own process (so one does not warm the
caches of the next) with the arguments shown in its heading:

1. start-up breakdown and one GEMM as whole processes against SCALE-Sim
   (``whole_process_vs_scalesim.py``);
2. one GEMM through the public in-process path against SCALE-Sim (``public_path_vs_scalesim.py``);
3. the bare systolic kernel against SCALE-Sim on the golden shapes, and whole Llama-2-7B
   prefill and decode steps (``systolic_vs_scalesim.py --quick``);
4. decode steps in-process (``decode_step_speed.py``) and the Llama-2-70B batch-256 step as a
   whole ``xpusim run`` on every preset (``decode_step_speed.py --whole-process``);
5. a serving trace, composed against exact (``serving_scale.py``);
6. sweep scaling over workers, local and Dask (``sweep_speed.py``);
7. cold start with an empty Numba cache (``cold_start.py``) and the DRAM scheduler's rate
   (``dram_scheduler_speed.py``).

Each section prints its own figures and ratios, measured side by side within that section;
a section whose benchmark or optional peer (SCALE-Sim, Dask) is missing says so and the
report goes on. ``--quick`` runs smaller sizes (the headings say which). Every figure comes
from the run itself; none is typed in. Run on a quiet machine: the ratios are what matter,
the absolute times depend on it.

Usage: ``python benchmarks/speed_report.py [--quick] [--only N ...]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def sections(quick: bool) -> list[tuple[str, list[str]]]:
    """(title, benchmark command line) per section, in order."""
    cases = ["--cases", "6"] if quick else ["--all"]
    return [
        ("start-up and one GEMM as whole processes", ["whole_process_vs_scalesim.py", *cases]),
        ("one GEMM through the public in-process path", ["public_path_vs_scalesim.py"]),
        ("systolic kernel and whole Llama-2-7B steps", ["systolic_vs_scalesim.py", "--quick"]),
        ("decode steps in-process", ["decode_step_speed.py"]),
        ("Llama-2-70B batch 256 as a whole `xpusim run` per preset",
         ["decode_step_speed.py", "--whole-process", "--repeats", "1" if quick else "2"]),
        ("serving trace, composed against exact",
         ["serving_scale.py"] + (["--large", "2000", "--small", "200"] if quick else [])),
        ("sweep scaling over workers",
         ["sweep_speed.py", "--dask"] + (["--points", "200", "--repeats", "1"] if quick else [])),
        ("cold start, empty Numba cache", ["cold_start.py"]),
        ("DRAM scheduler", ["dram_scheduler_speed.py"] + (["--requests", "200000"] if quick else [])),
    ]


def run_section(number: int, title: str, command: list[str]) -> float:
    script = HERE / command[0]
    print(f"\n## {number}. {title}\n$ python benchmarks/{' '.join(command)}", flush=True)
    if not script.exists():
        print(f"(benchmarks/{command[0]} is not in this checkout: section skipped)")
        return 0.0
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(script), *command[1:]], cwd=HERE.parent)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        print(f"(exit status {done.returncode}: see the messages above)")
    print(f"(section took {elapsed:.1f} s)", flush=True)
    return elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes per section")
    parser.add_argument("--only", type=int, nargs="*", default=None, help="section numbers to run (default: all)")
    args = parser.parse_args(argv)
    print("# xpusim speed report" + (" (quick)" if args.quick else ""))
    total = 0.0
    for number, (title, command) in enumerate(sections(args.quick), start=1):
        if args.only is None or number in args.only:
            total += run_section(number, title, command)
    print(f"\nreport took {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
