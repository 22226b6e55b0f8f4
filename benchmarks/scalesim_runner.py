"""Run SCALE-Sim 3.0.0 on one GEMM and return its reported cycles.

SCALE-Sim is the reference for the systolic-array cycle kernel
(`arch/systolic/kernel.py`). This module writes the three input files SCALE-Sim
needs (config, GEMM topology, layout) into a temporary folder, runs it there with
its stdout and its NumPy deprecation warnings silenced, and reads back one row of
`COMPUTE_REPORT.csv` plus the SRAM access counts of `DETAILED_ACCESS_REPORT.csv`.

SCALE-Sim's GEMM convention (scalesim 3.0.0: topology_utils.py, `load_arrays_gemm`):
M = rows of the input and output (tokens), N = output features, K = reduction.

With `bandwidth_mode="CALC"` SCALE-Sim estimates DRAM bandwidth instead of
limiting it, so reads never stall; with SRAMs large enough for the output buffer
the reported "Stall Cycles" is 0 and "Total Cycles" minus "Stall Cycles" is the
stall-free compute time.

Importable without SCALE-Sim installed; `run_gemm` raises ImportError then.
CLI: `python benchmarks/scalesim_runner.py M N K ROWS COLS {os,ws,is}` prints JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import io
import json
import os
import tempfile
import time
import warnings

SCALESIM_VERSION = "3.0.0"
DATAFLOWS = ("os", "ws", "is")
BANDWIDTH_MODES = ("CALC", "USER")
RUN_NAME = "run"

_CONFIG_TEMPLATE = """\
[general]
run_name = {run_name}

[architecture_presets]
ArrayHeight: {rows}
ArrayWidth: {cols}
IfmapSramSzkB: {ifmap_kb}
FilterSramSzkB: {filter_kb}
OfmapSramSzkB: {ofmap_kb}
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth: {bandwidth}
Dataflow: {dataflow}
MemoryBanks: 1
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: {bandwidth}
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: {bandwidth}
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport: false
SparseRep: ellpack_block
OptimizedMapping: false
BlockSize: 8
RandomNumberGeneratorSeed: 40

[run_presets]
InterfaceBandwidth: {bandwidth_mode}
UseRamulatorTrace: False
"""


@dataclasses.dataclass(frozen=True)
class ScaleSimGemmResult:
    """One SCALE-Sim layer result: COMPUTE_REPORT columns, SRAM counts, wall time."""

    total_cycles_incl_prefetch: int
    total_cycles: int
    stall_cycles: int
    overall_util_percent: float
    mapping_efficiency_percent: float
    compute_util_percent: float
    ifmap_sram_reads: int
    filter_sram_reads: int
    ofmap_sram_writes: int
    wall_s: float

    @property
    def compute_cycles(self) -> int:
        """Stall-free compute cycles: "Total Cycles" minus "Stall Cycles"."""
        return self.total_cycles - self.stall_cycles


def _write_inputs(folder, m, n, k, rows, cols, dataflow, sram_kb, bandwidth_mode,
                  bandwidth_words_per_cycle, topology=None):
    """Write config, topology (``topology``'s text, else the one GEMM) and layout files; return their paths."""
    ifmap_kb, filter_kb, ofmap_kb = sram_kb
    config = _CONFIG_TEMPLATE.format(
        run_name=RUN_NAME, rows=rows, cols=cols, ifmap_kb=ifmap_kb,
        filter_kb=filter_kb, ofmap_kb=ofmap_kb, dataflow=dataflow,
        bandwidth=bandwidth_words_per_cycle, bandwidth_mode=bandwidth_mode)
    paths = {name: os.path.join(folder, name + ".csv")
             for name in ("config", "topology", "layout")}
    files = {
        "config": config,
        # each GEMM row needs a trailing comma: SCALE-Sim drops the last field
        "topology": topology if topology is not None else f"Layer,M,N,K,\ngemm,{m},{n},{k},\n",
        # read even when custom layouts are off
        "layout": "Layer name,\n",
    }
    for name, text in files.items():
        with open(paths[name], "w", encoding="utf-8") as handle:
            handle.write(text)
    return paths


def _read_report_row(path):
    """Return the first data row of a SCALE-Sim report as a list of stripped strings."""
    return _read_report_rows(path)[0]


def _read_report_rows(path):
    """Every data row of a SCALE-Sim report (one per layer), as lists of stripped strings."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle) if row]
    return [[field.strip() for field in row] for row in rows[1:]]


def _parse_reports(report_folder, wall_s):
    """Build a ScaleSimGemmResult from the report files of one run."""
    compute = _read_report_row(os.path.join(report_folder, "COMPUTE_REPORT.csv"))
    detail = _read_report_row(os.path.join(report_folder, "DETAILED_ACCESS_REPORT.csv"))
    return ScaleSimGemmResult(
        total_cycles_incl_prefetch=int(compute[1]),
        total_cycles=int(compute[2]),
        stall_cycles=int(compute[3]),
        overall_util_percent=float(compute[4]),
        mapping_efficiency_percent=float(compute[5]),
        compute_util_percent=float(compute[6]),
        ifmap_sram_reads=int(float(detail[3])),
        filter_sram_reads=int(float(detail[6])),
        ofmap_sram_writes=int(float(detail[9])),
        wall_s=wall_s,
    )


def _check_args(m, n, k, rows, cols, dataflow, bandwidth_mode):
    for name, value in (("m", m), ("n", n), ("k", k), ("rows", rows), ("cols", cols)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if dataflow not in DATAFLOWS:
        raise ValueError(f"dataflow must be one of {DATAFLOWS}, got {dataflow!r}")
    if bandwidth_mode not in BANDWIDTH_MODES:
        raise ValueError(f"bandwidth_mode must be one of {BANDWIDTH_MODES}, got {bandwidth_mode!r}")


def run_gemm(m: int, n: int, k: int, rows: int, cols: int, dataflow: str,
             sram_kb: tuple[int, int, int] = (1024, 1024, 1024),
             bandwidth_mode: str = "CALC",
             bandwidth_words_per_cycle: int = 10) -> ScaleSimGemmResult:
    """Run SCALE-Sim on the GEMM (m x k) @ (k x n) on a rows x cols array.

    `sram_kb` is (ifmap, filter, ofmap) SRAM size in KB; `wall_s` in the result is
    the time SCALE-Sim itself took (input writing and report parsing excluded).
    """
    _check_args(m, n, k, rows, cols, dataflow, bandwidth_mode)
    from scalesim.scale_sim import scalesim  # optional dependency

    with tempfile.TemporaryDirectory(prefix="xpusim-scalesim-") as folder:
        paths = _write_inputs(folder, m, n, k, rows, cols, dataflow, sram_kb,
                              bandwidth_mode, bandwidth_words_per_cycle)
        start_s = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            # SCALE-Sim 3.0.0 converts 1-element arrays to scalars (NumPy >= 1.25 warns)
            warnings.simplefilter("ignore", DeprecationWarning)
            sim = scalesim(save_disk_space=True, verbose=False, config=paths["config"],
                           topology=paths["topology"], layout=paths["layout"],
                           input_type_gemm=True)
            sim.run_scale(top_path=folder)
        wall_s = time.perf_counter() - start_s
        return _parse_reports(os.path.join(folder, RUN_NAME), wall_s)


def run_conv_topology(layers, rows: int, cols: int, dataflow: str,
                      sram_kb: tuple[int, int, int] = (1024, 1024, 1024),
                      bandwidth_mode: str = "CALC", bandwidth_words_per_cycle: int = 10) -> list[tuple[int, int]]:
    """Run SCALE-Sim on a convolution topology; (total cycles, stall cycles) per layer SCALE-Sim reports.

    ``layers``: (name, ifmap_h, ifmap_w, filter_h, filter_w, channels, filters, stride) rows, written as
    SCALE-Sim's conv topology file (a depthwise layer, ``DP`` in its name, is one report row per channel).
    """
    _check_args(1, 1, 1, rows, cols, dataflow, bandwidth_mode)
    from scalesim.scale_sim import scalesim  # optional dependency

    header = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
    text = header + "".join(",".join(str(v) for v in layer) + ",\n" for layer in layers)
    with tempfile.TemporaryDirectory(prefix="xpusim-scalesim-") as folder:
        paths = _write_inputs(folder, 1, 1, 1, rows, cols, dataflow, sram_kb, bandwidth_mode,
                              bandwidth_words_per_cycle, topology=text)
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            sim = scalesim(save_disk_space=True, verbose=False, config=paths["config"],
                           topology=paths["topology"], layout=paths["layout"], input_type_gemm=False)
            sim.run_scale(top_path=folder)
        report = os.path.join(folder, RUN_NAME, "COMPUTE_REPORT.csv")
        return [(int(row[2]), int(row[3])) for row in _read_report_rows(report)]


def _parse_cli(argv=None):
    parser = argparse.ArgumentParser(description="Run SCALE-Sim 3.0.0 on one GEMM.")
    for name in ("m", "n", "k", "rows", "cols"):
        parser.add_argument(name, type=int)
    parser.add_argument("dataflow", choices=DATAFLOWS)
    parser.add_argument("--sram-kb", type=int, nargs=3, default=(1024, 1024, 1024),
                        metavar=("IFMAP", "FILTER", "OFMAP"))
    parser.add_argument("--bandwidth-mode", choices=BANDWIDTH_MODES, default="CALC")
    parser.add_argument("--bandwidth-words-per-cycle", type=int, default=10)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = _parse_cli(argv)
    result = run_gemm(args.m, args.n, args.k, args.rows, args.cols, args.dataflow,
                      sram_kb=tuple(args.sram_kb), bandwidth_mode=args.bandwidth_mode,
                      bandwidth_words_per_cycle=args.bandwidth_words_per_cycle)
    record = dataclasses.asdict(result)
    record["compute_cycles"] = result.compute_cycles
    print(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
