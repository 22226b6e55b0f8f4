"""Fit and check the GPU model's element-wise and all-reduce parameters on measured A100 kernels.

Data (vendored, with their source paths, in ``tests/data/``):

* ``a100_elementwise_measured.csv``: fp16 softmax, layer norm and GELU on an
  A100, LLMCompass's Figure 5c-5g measurements, one eagerly launched and
  individually timed PyTorch call each;
* ``a100_allreduce_measured.csv``: fp16 all-reduce over 4 NVLink-connected
  A100s, 8 B to 16 GiB per device (LLMCompass Figure 5h).

What is fitted, on which rows, and checked on which:

* ``write_efficiency_max`` on the GELU rows (a pure stream: one read and one
  write per element, its reads at the GEMM-fitted ``memory_efficiency_max``),
  fitted on the even-numbered rows, checked on the odd ones;
* ``softmax_efficiency_max`` and ``norm_efficiency_max`` on the softmax and
  layer-norm rows with N = 4096 and M varying (``m_sweep``), checked on the
  rows with M = 4096 and N varying (``n_sweep``);
* with each kind, the fixed cost of one eager call of that kind (host-side
  dispatch, torch.compile's guards for GELU and layer norm, the launch, the
  synchronisation): a harness overhead, as ``benchmarks/gpu_calibration.py``
  adds one to the GEMMs. It belongs to the measurement, not to a GPU running a
  stream of kernels, and is not part of the preset;
* ``nvlink_efficiency_max`` and ``collective_latency_s`` on the even-numbered
  all-reduce sizes, checked on the odd ones.

Each fit is a grid search for the least mean absolute relative error. The
presets carry the fitted values; ``VECTOR_HARNESS_OVERHEAD_S`` of
:mod:`simulator.reproduce.a100_data` (where the data and the modelled times live)
carries the harness overheads. The claims these rows make are
:mod:`simulator.reproduce.a100`'s (``xpusim reproduce a100``). The GPT-3 layer targets of ``benchmarks/gpu_layers.py`` are
never fitted on.

Usage: ``python benchmarks/gpu_ops_calibration.py [--fit]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arch import registry  # noqa: E402
from arch.gpu.model import Gpu  # noqa: E402
from simulator.reproduce.a100_data import (ALLREDUCE_DEVICES, FITTED_FIELD, OP_KINDS, PRESET, Row,  # noqa: E402,F401
                                           allreduce_model_seconds, allreduce_op, allreduce_rows, elementwise_rows,
                                           mean_abs as _mae, modelled_call_seconds, relative_errors, split,
                                           vector_op, VECTOR_HARNESS_OVERHEAD_S as HARNESS_OVERHEAD_S)

EFFICIENCY_GRID = [round(0.30 + 0.01 * i, 2) for i in range(63)]
HARNESS_GRID = [0.5e-6 * i for i in range(121)]
LATENCY_GRID = [0.25e-6 * i for i in range(81)]


def fit_elementwise(rows: list[Row], op: str) -> tuple[float, float]:
    """The grid's best (efficiency, harness overhead) for one kind on its fit rows."""
    base = registry.preset_spec(PRESET)
    fit_rows, _ = split(rows, op)
    best, best_err = (0.0, 0.0), float("inf")
    for efficiency in EFFICIENCY_GRID:
        if efficiency > base["memory_efficiency_max"]:
            continue
        gpu = registry.build({**base, FITTED_FIELD[op]: efficiency})
        on_gpu = [gpu.op_seconds(vector_op(r)) for r in fit_rows]
        for harness_s in HARNESS_GRID:
            err = _mae(relative_errors([t + harness_s for t in on_gpu], [r.seconds for r in fit_rows]))
            if err < best_err:
                best, best_err = (efficiency, harness_s), err
    return best


def fit_allreduce(points: list[tuple[int, float]]) -> tuple[float, float]:
    """The grid's best (nvlink_efficiency_max, collective_latency_s) on the even-numbered sizes."""
    gpu = registry.build(registry.preset_spec(PRESET))
    fit_points = points[0::2]
    best, best_err = (0.0, 0.0), float("inf")
    for efficiency in EFFICIENCY_GRID + [round(0.93 + 0.01 * i, 2) for i in range(8)]:
        for latency_s in LATENCY_GRID:
            model = [allreduce_model_seconds(gpu, b, efficiency, latency_s) for b, _ in fit_points]
            err = _mae(relative_errors(model, [s for _, s in fit_points]))
            if err < best_err:
                best, best_err = (efficiency, latency_s), err
    return best


def report_elementwise(gpu: Gpu, rows: list[Row], op: str) -> tuple[float, float]:
    """Print each row of ``op``; return the mean absolute error on (fit rows, check rows)."""
    fit_rows, check_rows = split(rows, op)
    print(f"\n{op} ({FITTED_FIELD[op]} = {getattr(gpu.spec, FITTED_FIELD[op])}, "
          f"harness {HARNESS_OVERHEAD_S[op] * 1e6:.1f} us)")
    print(f"{'rows':>6} {'M':>7} {'N':>6} {'measured us':>12} {'model us':>9} {'error %':>8}")
    result = []
    for label, part in (("fit", fit_rows), ("check", check_rows)):
        model = [modelled_call_seconds(gpu, r) for r in part]
        errs = relative_errors(model, [r.seconds for r in part])
        for r, t, e in zip(part, model, errs):
            print(f"{label:>6} {r.m:>7} {r.n:>6} {r.seconds * 1e6:>12.1f} {t * 1e6:>9.1f} {e * 100:>+8.1f}")
        result.append(_mae(errs))
    print(f"mean absolute error: fit rows {100 * result[0]:.1f} %, check rows {100 * result[1]:.1f} %")
    return result[0], result[1]


def report_allreduce(gpu: Gpu, points: list[tuple[int, float]]) -> tuple[float, float]:
    spec = gpu.spec
    print(f"\nall-reduce over {ALLREDUCE_DEVICES} GPUs (nvlink_efficiency_max = {spec.nvlink_efficiency_max}, "
          f"collective_latency_s = {spec.collective_latency_s:g})")
    print(f"{'rows':>6} {'bytes':>12} {'measured us':>12} {'model us':>10} {'error %':>8}  algorithm")
    result = []
    for label, part in (("fit", points[0::2]), ("check", points[1::2])):
        errs = []
        for nbytes, seconds in part:
            model = allreduce_model_seconds(gpu, nbytes)
            choice = gpu.allreduce_choice(allreduce_op(nbytes))
            errs.append((model - seconds) / seconds)
            print(f"{label:>6} {nbytes:>12} {seconds * 1e6:>12.2f} {model * 1e6:>10.2f} {errs[-1] * 100:>+8.1f}"
                  f"  {choice.algorithm.value}/{choice.protocol.value}")
        result.append(_mae(errs))
    print(f"mean absolute error: fit rows {100 * result[0]:.1f} %, check rows {100 * result[1]:.1f} %")
    return result[0], result[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true", help="grid-search the fitted parameters first")
    args = parser.parse_args()
    rows, points = elementwise_rows(), allreduce_rows()
    spec = dict(registry.preset_spec(PRESET))
    if args.fit:
        for op in OP_KINDS:
            efficiency, harness_s = fit_elementwise(rows, op)
            print(f"best fit {op}: {FITTED_FIELD[op]} = {efficiency:g}, harness overhead = {harness_s:.3g} s")
            spec[FITTED_FIELD[op]] = efficiency
            HARNESS_OVERHEAD_S[op] = harness_s
        efficiency, latency_s = fit_allreduce(points)
        print(f"best fit all-reduce: nvlink_efficiency_max = {efficiency:g}, collective_latency_s = {latency_s:.3g}")
        spec.update(nvlink_efficiency_max=efficiency, collective_latency_s=latency_s)
    gpu = registry.build(spec)
    print(f"preset {PRESET!r}" + (" with the fitted parameters" if args.fit else ""))
    for op in OP_KINDS:
        report_elementwise(gpu, rows, op)
    report_allreduce(gpu, points)


if __name__ == "__main__":
    main()
