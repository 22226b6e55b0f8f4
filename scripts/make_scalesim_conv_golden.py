"""Write tests/data/scalesim_conv_golden.json: SCALE-Sim 3.0.0 cycles of convolution layers.

The layers below (a topology of SCALE-Sim's convolution format) run on each array with
each dataflow; SCALE-Sim reports one row per layer (a depthwise layer, ``DP`` in its name,
one row per channel). SCALE-Sim runs in CALC bandwidth mode with SRAMs large enough that it
reports no stall cycles, so "Total Cycles" is the stall-free compute time; a case with
stalls is an error. ``tests/test_topology.py`` lowers the same layers with
``workloads/topology.py`` and checks the systolic kernel's cycles against these.

Usage (from the repository root): python scripts/make_scalesim_conv_golden.py
"""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

from benchmarks.scalesim_runner import DATAFLOWS, SCALESIM_VERSION, run_conv_topology  # noqa: E402
from scripts.make_scalesim_golden import write_golden  # noqa: E402

DEFAULT_OUT = os.path.join("tests", "data", "scalesim_conv_golden.json")
SRAM_KB = (4096, 4096, 4096)

# (name, ifmap_h, ifmap_w, filter_h, filter_w, channels, filters, stride): what each exercises
LAYERS = (
    ("Conv5x5", 27, 27, 5, 5, 16, 32, 1),      # a window larger than the array's side
    ("Conv3x3s2", 31, 31, 3, 3, 8, 24, 2),     # stride 2, (31 - 3 + 2) / 2 = 15 outputs a side
    ("Conv1x1", 14, 14, 1, 1, 40, 20, 1),      # pointwise
    ("ConvRect", 20, 9, 3, 2, 5, 7, 3),        # a rectangular ifmap and filter, a ragged stride
    ("DPConv", 12, 12, 3, 3, 4, 8, 1),         # depthwise: one layer per channel
)
ARRAYS = ((16, 16), (8, 32), (32, 8))


def build_golden(command: str) -> dict:
    installed = importlib.metadata.version("scalesim")
    if installed != SCALESIM_VERSION:
        raise RuntimeError(f"need scalesim {SCALESIM_VERSION}, found {installed}")
    cases = []
    for rows, cols in ARRAYS:
        for dataflow in DATAFLOWS:
            reported = run_conv_topology(LAYERS, rows, cols, dataflow, sram_kb=SRAM_KB)
            if any(stall for _, stall in reported):
                raise RuntimeError(f"SCALE-Sim stalled on {rows}x{cols} {dataflow}: enlarge SRAM_KB")
            cases.append({"rows": rows, "cols": cols, "dataflow": dataflow,
                          "total_cycles_per_report_row": [total for total, _ in reported]})
    return {
        "description": ("SCALE-Sim total cycles of convolution layers (its conv topology format), one entry "
                        "per row of its COMPUTE_REPORT: a depthwise layer has one row per channel."),
        "scalesim_version": installed,
        "command": command,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "settings": {"bandwidth_mode": "CALC", "sram_kb_ifmap_filter_ofmap": list(SRAM_KB)},
        "layers": [list(layer) for layer in LAYERS],
        "cases": cases,
    }


def main(argv=None) -> int:
    return write_golden(build_golden, DEFAULT_OUT, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    raise SystemExit(main())
