"""Write tests/data/scalesim_golden.json: SCALE-Sim 3.0.0 results for a fixed GEMM set.

Every shape below runs on its array with each of the three dataflows (os, ws, is).
The set covers square and non-square arrays (8x8, 32x32, 16x32, 32x8, 4x16, 1x1,
128x128), decode GEMVs (M = 1), N = 1, K smaller than the array, dimensions that
are and are not multiples of the array size, and GEMMs smaller than the array.
SCALE-Sim runs in CALC bandwidth mode with SRAMs large enough that it reports no
stall cycles, so "Total Cycles" is the stall-free compute time; a case with stalls
is an error.

Usage (from the repository root): python scripts/make_scalesim_golden.py
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.metadata
import json
import os
import shlex
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

from benchmarks.scalesim_runner import (  # noqa: E402
    DATAFLOWS, SCALESIM_VERSION, run_gemm)

DEFAULT_OUT = os.path.join("tests", "data", "scalesim_golden.json")
SRAM_KB = (1024, 1024, 1024)
BANDWIDTH_MODE = "CALC"
BANDWIDTH_WORDS_PER_CYCLE = 10

# (m, n, k, rows, cols, what the shape exercises)
SHAPES = (
    (20, 12, 10, 8, 8, "no dimension a multiple of the array"),
    (1, 64, 48, 8, 8, "decode GEMV, M = 1"),
    (37, 1, 50, 8, 8, "N = 1"),
    (16, 24, 3, 8, 8, "K smaller than the array"),
    (64, 64, 64, 8, 8, "exact multiples, many folds"),
    (100, 90, 110, 8, 8, "many ragged folds, about 20k cycles"),
    (64, 64, 64, 32, 32, "exact multiples"),
    (1, 100, 70, 32, 32, "decode GEMV, M = 1"),
    (45, 33, 17, 32, 32, "K smaller than the array, ragged folds"),
    (1, 1, 40, 32, 32, "dot product, M = N = 1"),
    (300, 200, 100, 32, 32, "prefill-like GEMM, ragged folds"),
    (45, 70, 33, 16, 32, "non-square array, ragged folds"),
    (1, 96, 80, 16, 32, "decode GEMV on a non-square array"),
    (50, 1, 20, 16, 32, "N = 1 on a non-square array"),
    (70, 45, 33, 32, 8, "tall array, ragged folds"),
    (1, 40, 96, 32, 8, "decode GEMV on a tall array"),
    (9, 5, 7, 32, 8, "GEMM smaller than the array"),
    (12, 10, 9, 4, 16, "wide array, ragged folds"),
    (7, 6, 5, 1, 1, "single PE"),
    (200, 130, 150, 128, 128, "large array, ragged folds"),
    (1, 256, 300, 128, 128, "decode GEMV on a large array"),
    (8, 1, 64, 128, 128, "N = 1, K smaller than a large array"),
)


def _case_record(m, n, k, rows, cols, dataflow, note):
    result = run_gemm(m, n, k, rows, cols, dataflow, sram_kb=SRAM_KB,
                      bandwidth_mode=BANDWIDTH_MODE,
                      bandwidth_words_per_cycle=BANDWIDTH_WORDS_PER_CYCLE)
    if result.stall_cycles != 0:
        raise RuntimeError(f"SCALE-Sim stalled on {(m, n, k, rows, cols, dataflow)}: "
                           f"{result.stall_cycles} cycles; enlarge SRAM_KB")
    record = {"m": m, "n": n, "k": k, "rows": rows, "cols": cols,
              "dataflow": dataflow, "note": note}
    record.update(dataclasses.asdict(result))
    record["scalesim_wall_s"] = round(record.pop("wall_s"), 4)
    return record


def build_golden(command: str) -> dict:
    """Run every case through SCALE-Sim and return the golden document."""
    installed = importlib.metadata.version("scalesim")
    if installed != SCALESIM_VERSION:
        raise RuntimeError(f"need scalesim {SCALESIM_VERSION}, found {installed}")
    cases = [_case_record(m, n, k, rows, cols, dataflow, note)
             for m, n, k, rows, cols, note in SHAPES for dataflow in DATAFLOWS]
    return {
        "description": ("SCALE-Sim results for single GEMMs (m x k) @ (k x n); "
                        "m = rows of input and output, n = output features, k = reduction. "
                        "COMPUTE_REPORT columns plus the SRAM counts of "
                        "DETAILED_ACCESS_REPORT."),
        "scalesim_version": installed,
        "command": command,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "settings": {"bandwidth_mode": BANDWIDTH_MODE,
                     "sram_kb_ifmap_filter_ofmap": list(SRAM_KB),
                     "bandwidth_words_per_cycle": BANDWIDTH_WORDS_PER_CYCLE},
        "cases": cases,
    }


def write_golden(build, default_out: str, description: str, argv=None) -> int:
    """The golden scripts' command line: ``build(command)`` written as JSON to ``--out`` (default ``default_out``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default=default_out,
                        help="output path, relative to the repository root")
    args = parser.parse_args(argv)
    command = shlex.join(["python", os.path.relpath(sys.argv[0], REPO_ROOT), *sys.argv[1:]])
    golden = build(command)
    out_path = os.path.join(REPO_ROOT, args.out)
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(golden, handle, indent=1)
        handle.write("\n")
    print(f"wrote {len(golden['cases'])} cases to {args.out}")
    return 0


def main(argv=None) -> int:
    return write_golden(build_golden, DEFAULT_OUT, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    raise SystemExit(main())
