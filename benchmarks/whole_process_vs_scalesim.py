"""One GEMM as a whole process: ``xpusim run`` of a one-GEMM experiment against SCALE-Sim 3.0.0.

For each case of ``tests/data/scalesim_golden.json`` (M, N, K, array rows x cols, dataflow)
this writes a one-GEMM experiment (the ``tpuv4-like`` preset cut to one core of that array,
SCALE-Sim's 1 MiB SRAMs) and times, as fresh processes started one after the other:

- ``xpusim run FILE`` (every output file, figures included),
- ``xpusim run FILE --no-figures`` (the scripted-run form),
- the same two commands through an ``xpusim server`` (started here, with every kernel loaded,
  in a folder of its own, and stopped at the end; its start time is printed): each command is
  still a fresh ``xpusim`` process, which hands the run to a process forked from the server,
- SCALE-Sim on the same GEMM (``benchmarks/scalesim_runner.py``: imports scalesim, writes its
  three input files, runs it, reads its report), when scalesim is installed.

The columns without the server run with ``XPUSIM_SERVER=0``, so that a server the user has
running does not change them.

It prints each case's wall times and the ratios SCALE-Sim / xpusim (above 1: xpusim is
faster), then the median ratios and how many cases xpusim wins, for each of the four forms. Times are wall-clock seconds
on this machine, measured side by side in one run, so the ratios hold where the absolute
times vary. It also prints the start-up breakdown (``--version``, ``validate``, the import of
the run path, the first output line of ``run``).

Run: ``python benchmarks/whole_process_vs_scalesim.py [--cases N | --all] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "scalesim_golden.json"
XPUSIM = [sys.executable, "-m", "simulator.cli"]
ALONE = {**os.environ, "XPUSIM_SERVER": "0"}  # every fresh-process column: a server the user runs is not used
FORMS = (("xpusim_s", "xpusim run"), ("xpusim_no_figures_s", "xpusim run --no-figures"),
         ("server_s", "xpusim run, server"), ("server_no_figures_s", "xpusim run --no-figures, server"))


def golden_cases() -> list[dict]:
    return json.loads(GOLDEN.read_text())["cases"]


def pick(cases: list[dict], count: int) -> list[dict]:
    """``count`` cases spread evenly over the golden list (all of them when count >= its length)."""
    if count >= len(cases):
        return cases
    step = len(cases) / count
    return [cases[int(i * step)] for i in range(count)]


def experiment_text(case: dict) -> str:
    sram = 1 << 20  # SCALE-Sim's IfmapSramSzkB / FilterSramSzkB / OfmapSramSzkB of the golden runs: 1024 kB
    return (f"name: one-gemm\nworkload:\n  ops: [{{name: gemm, M: {case['m']}, K: {case['k']}, N: {case['n']}}}]\n"
            f"systems:\n  - name: npu\n    arch: tpuv4-like\n"
            f"    set: {{rows: {case['rows']}, cols: {case['cols']}, dataflow: {case['dataflow']}, cores: 1, "
            f"ifmap_sram_bytes: {sram}, filter_sram_bytes: {sram}, ofmap_sram_bytes: {sram}}}\n")


def wall_s(command: list[str], cwd: Path, env: dict | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=ALONE if env is None else env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return elapsed


def scalesim_available() -> bool:
    return subprocess.run([sys.executable, "-c", "import scalesim"], capture_output=True).returncode == 0


@contextlib.contextmanager
def warm_server():
    """(environment reaching it, seconds ``xpusim server start`` took) of a server in a folder of its own."""
    folder = tempfile.mkdtemp(prefix="xs", dir="/tmp")  # a socket's path has at most ~100 characters
    env = {k: v for k, v in os.environ.items() if k != "XPUSIM_SERVER"}
    env["TMPDIR"] = folder
    try:
        yield env, wall_s(XPUSIM + ["server", "start"], ROOT, env)
    finally:
        subprocess.run(XPUSIM + ["server", "stop"], cwd=ROOT, env=env, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def time_case(case: dict, folder: Path, with_scalesim: bool, repeats: int, server_env: dict) -> dict:
    path = folder / "one.yaml"
    path.write_text(experiment_text(case))
    out = folder / "out"
    run = XPUSIM + ["run", str(path), "--out", str(out), "--force"]
    row = {"case": f"{case['m']}x{case['n']}x{case['k']} {case['rows']}x{case['cols']} {case['dataflow']}",
           "xpusim_s": min(wall_s(run, ROOT) for _ in range(repeats)),
           "xpusim_no_figures_s": min(wall_s(run + ["--no-figures"], ROOT) for _ in range(repeats)),
           "server_s": min(wall_s(run, ROOT, server_env) for _ in range(repeats)),
           "server_no_figures_s": min(wall_s(run + ["--no-figures"], ROOT, server_env) for _ in range(repeats))}
    if with_scalesim:
        scalesim = [sys.executable, str(ROOT / "benchmarks" / "scalesim_runner.py"), str(case["m"]), str(case["n"]),
                    str(case["k"]), str(case["rows"]), str(case["cols"]), case["dataflow"]]
        row["scalesim_s"] = min(wall_s(scalesim, ROOT) for _ in range(repeats))
    return row


def first_line_s(command: list[str]) -> tuple[float, float]:
    """(seconds to the first line on stdout or stderr, seconds to exit) of a fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "COLUMNS": "200"})
    process.stdout.readline()
    first = time.perf_counter() - start
    process.communicate()
    return first, time.perf_counter() - start


def startup_breakdown(repeats: int) -> list[tuple[str, float, float]]:
    quickstart = str(ROOT / "experiments" / "quickstart.yaml")
    with tempfile.TemporaryDirectory() as out:
        probes = {
            "xpusim --version": XPUSIM + ["--version"],
            "import simulator.cli": [sys.executable, "-c", "import simulator.cli; print('ok')"],
            "import the run path": [sys.executable, "-c", "import simulator.cli_commands; print('ok')"],
            "xpusim validate quickstart": XPUSIM + ["validate", quickstart],
            "xpusim run quickstart --no-figures": XPUSIM + ["run", quickstart, "--out", out, "--force",
                                                            "--no-figures"],
            "xpusim run quickstart": XPUSIM + ["run", quickstart, "--out", out, "--force"],
        }
        rows = []
        for label, command in probes.items():
            times = [first_line_s(command) for _ in range(repeats)]
            rows.append((label, min(t[0] for t in times), min(t[1] for t in times)))
    return rows


def print_cases(rows: list[dict]) -> None:
    has_scalesim = "scalesim_s" in rows[0]
    heads = ("xpusim s", "no-figs s", "server s", "srv nf s")
    print(f"{'case':<28} " + " ".join(f"{h:>9}" for h in heads)
          + (f" {'SCALE-Sim s':>11} " + " ".join(f"{'ratio ' + str(i + 1):>8}" for i in range(len(FORMS)))
             if has_scalesim else ""))
    for row in rows:
        line = f"{row['case']:<28} " + " ".join(f"{row[key]:9.3f}" for key, _ in FORMS)
        if has_scalesim:
            line += f" {row['scalesim_s']:11.3f} " + " ".join(f"{row['scalesim_s'] / row[key]:8.2f}" for key, _ in FORMS)
        print(line)
    if has_scalesim:
        for number, (key, label) in enumerate(FORMS, 1):
            ratios = [row["scalesim_s"] / row[key] for row in rows]
            wins = sum(ratio > 1 for ratio in ratios)
            print(f"ratio {number}, {label}: median SCALE-Sim/xpusim {statistics.median(ratios):.2f}x, "
                  f"xpusim faster on {wins} of {len(rows)} cases")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=8, help="golden cases, spread over the list (default 8)")
    parser.add_argument("--all", action="store_true", help="every golden case")
    parser.add_argument("--repeats", type=int, default=1, help="runs per process, the fastest kept (default 1)")
    args = parser.parse_args(argv)
    print("start-up (fresh processes, fastest of", args.repeats, "):")
    for label, first, total in startup_breakdown(args.repeats):
        print(f"  {label:<36} first line {first:6.3f} s   exit {total:6.3f} s")
    with_scalesim = scalesim_available()
    if not with_scalesim:
        print("scalesim is not installed (pip install -e '.[scalesim]'): xpusim times only")
    cases = pick(golden_cases(), len(golden_cases()) if args.all else args.cases)
    with tempfile.TemporaryDirectory() as folder, warm_server() as (server_env, start_s):
        print(f"xpusim server start (every kernel loaded from Numba's cache or compiled): {start_s:.2f} s")
        rows = [time_case(case, Path(folder), with_scalesim, args.repeats, server_env) for case in cases]
    print_cases(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
