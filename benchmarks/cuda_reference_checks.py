"""Functional checks of simulated computations against the Numba CUDA reference kernels.

Runs every check of :mod:`simulator.reference.checks` and prints its error, its
tolerance and whether the schedule's byte accounting matched. On a GPU the shapes
are full-size layer slices; under the CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``,
no GPU) they are shrunk so the run takes seconds.

    python benchmarks/cuda_reference_checks.py          # on a machine with a GPU
    NUMBA_ENABLE_CUDASIM=1 python benchmarks/cuda_reference_checks.py
"""

from __future__ import annotations

import sys
import time

from numba import config, cuda

from arch import registry
from arch.systolic.spec import SystolicSpec
from simulator.reference import checks
from workloads.layers import build_decoder_layer
from workloads.models import load_model


def main() -> int:
    simulated = bool(config.ENABLE_CUDASIM)
    if not simulated and not cuda.is_available():
        print("no CUDA GPU is available here: run the checks in Numba's CUDA simulator with "
              "NUMBA_ENABLE_CUDASIM=1 python benchmarks/cuda_reference_checks.py", file=sys.stderr)
        return 2
    where = "the Numba CUDA simulator (CPU)" if simulated else f"GPU {cuda.get_current_device().name!r}"
    print(f"reference kernels on {where}")
    scale = 1 if not simulated else 32
    results = []
    for preset in ("scalesim-default", "tpuv4-like"):
        spec = SystolicSpec(**{k: v for k, v in registry.preset_spec(preset).items() if k != "kind"})
        for m, n, k in ((512, 512, 1024), (8, 4096, 4096), (300, 200, 700)):
            results.append(_timed(checks.check_systolic_gemm, spec, max(1, m // scale), max(1, n // scale),
                                  max(1, k // scale)))
    config7b = load_model("llama2-7b") if not simulated else load_model("llama3-8b").model_copy(
        update={"num_heads": 8, "num_kv_heads": 2, "head_dim": 16, "hidden_size": 128})
    kv_len = 1024 if not simulated else 32
    workload = build_decoder_layer(config7b, "decode", batch=2, seq_len=kv_len - 1)
    results.append(_timed(checks.check_attention_ops, config7b, workload, kv_len))
    results.append(_timed(checks.check_split_k_gemv, 4096 // scale, 4096 // scale, 32))
    for check, seconds in results:
        status = "ok" if check.ok else "FAILED"
        extra = "; ".join(check.mismatches)
        print(f"  {check.name:<40} max |error| {check.max_abs_error:.3g}  tolerance {check.tolerance:.3g}  "
              f"{seconds:6.2f} s  {status} {extra}")
    print(f"{sum(c.ok for c, _ in results)}/{len(results)} checks passed")
    return 0 if all(c.ok for c, _ in results) else 1


def _timed(fn, *args):
    start = time.perf_counter()
    check = fn(*args)
    return check, time.perf_counter() - start


if __name__ == "__main__":
    raise SystemExit(main())
