"""A100 calibration claims: the GPU model (``a100-80gb``) against LLMCompass's measured A100 kernels and layers.

Data and modelled times: :mod:`simulator.reproduce.a100_data`. What is fitted on what
(docs/gpu.md): the GEMM ceilings and the GEMM harness overhead on the 20 GEMMs (all
``fitted``); each element-wise ceiling on one half of its kind's rows, checked on the
other; the all-reduce's bandwidth and latency on the even-numbered sizes, checked on the
odd ones; the GPT-3 175B layers at tp 4 never fitted on. Tolerances are those of
``tests/test_gpu.py`` and ``tests/test_gpu_ops.py``; a row-set's mean absolute error is a
claim with published value 0 (the measurement itself) and an absolute tolerance.
Residuals quote docs/gpu.md "GPT-3 175B layers" and the tests' comments.
"""

from __future__ import annotations

from functools import lru_cache, partial

from arch import registry
from simulator.reproduce import a100_data as data
from simulator.reproduce.claims import Check, Claim, Comparison

claim = partial(Claim, "a100")
SRC = "PrincetonUniversity/LLMCompass: ae/figure5/"
GEMM_SRC = SRC + "ab/real_hardware/matmul_A100.csv (tests/data/a100_gemm_measured.csv)"
VECTOR_SRC = SRC + "{cf,de,g}/real_hardware/ (tests/data/a100_elementwise_measured.csv)"
ALLREDUCE_SRC = SRC + "h/test_allreduce.py (tests/data/a100_allreduce_measured.csv)"
LAYER_SRC = SRC + "ijkl/real_hardware/transformer{,AR}_A100.csv (tests/data/a100_gpt3_layer_measured.csv)"
WIDE_NORM = ("layer-norm rows of 16K and 32K elements run 1.65-2x slower on the A100 than at 4K: the torch.compile "
             "kernel's reduction changes with the row width, the model has one ceiling for all widths "
             "(docs/gpu.md; tests/test_gpu_ops.py)")
MIDDLE_ALLREDUCE = ("all-reduce at 16 KB - 4 MB is optimistic: NCCL's model without its channel and thread "
                    "reduction for small messages (docs/gpu.md \"GPT-3 175B layers\"; tests/test_gpu_ops.py)")
PV = ("P V (reading the probability matrix in prefill; 192 tiles in two waves in decode) is optimistic: no batched-"
      "GEMM term is fitted, the only measurements of these shapes being the layer rows themselves (docs/gpu.md)")
WIDE_NORM_LAYER = ("layer norm at 12288-wide rows is optimistic, as on the layer-norm sweep's 16K and 32K rows "
                   "(docs/gpu.md)")
WEIGHT_ROWS = ("Q_K_V", "Wo_proj", "W1_proj", "W2_proj")


@lru_cache(maxsize=1)
def a100():
    return registry.build(registry.preset_spec(data.PRESET))


def gemms() -> list[Claim]:
    gpu = a100()
    return [claim(f"gemm/{m}x{n}x{k}", f"fp16 GEMM M={m} N={n} K={k}, one eager call", seconds * 1e3, GEMM_SRC,
                  data.modelled_seconds(gpu, m, n, k) * 1e3, 0.05, "ms", fitted=True)
            for m, n, k, seconds in data.measured_points()]


def _mae_claim(key: str, text: str, errs: list[float], tolerance: float, source: str, fitted: bool = False) -> Claim:
    return claim(key, text, 0.0, source, data.mean_abs(errs), tolerance, "rel. error", Comparison.ABSOLUTE,
                 fitted=fitted)


def elementwise() -> list[Claim]:
    gpu, rows = a100(), data.elementwise_rows()
    out = []
    # (kind, MAE bound on fit rows, MAE bound on check rows) -- tests/test_gpu_ops.py
    for op, fit_bound, check_bound in (("gelu", 0.05, 0.05), ("softmax", 0.04, 0.12), ("layernorm", 0.06, 0.07)):
        fit, check = data.split(rows, op)
        if op == "layernorm":
            check_mae_rows = [r for r in check if r.n <= 8192]
            label = f"{op}: mean |error| over the {len(check_mae_rows)} rows of N <= 8192 not fitted on"
        else:
            check_mae_rows = check
            label = f"{op}: mean |error| over the {len(check)} rows not fitted on"
        fit_errs = data.relative_errors([data.modelled_call_seconds(gpu, r) for r in fit], [r.seconds for r in fit])
        out.append(_mae_claim(f"{op}/fit_mae", f"{op}: mean |error| over the {len(fit)} rows fitted on", fit_errs,
                              fit_bound, VECTOR_SRC, fitted=True))
        check_errs = data.relative_errors([data.modelled_call_seconds(gpu, r) for r in check_mae_rows],
                                          [r.seconds for r in check_mae_rows])
        out.append(_mae_claim(f"{op}/check_mae", label, check_errs, check_bound, VECTOR_SRC))
        for r in check:
            if op == "softmax" and r.elements < 1 << 24:
                continue  # held by the mean above only (tests/test_gpu_ops.py)
            tolerance = 0.08 if op == "softmax" else 0.15
            out.append(claim(f"{op}/{r.m}x{r.n}", f"{op} M={r.m} N={r.n}, one eager call (not fitted on)",
                             r.seconds * 1e6, VECTOR_SRC, data.modelled_call_seconds(gpu, r) * 1e6, tolerance, "us",
                             residual=WIDE_NORM if op == "layernorm" and r.n >= 16384 else None))
    return out


def allreduce() -> list[Claim]:
    gpu = a100()
    check = data.allreduce_rows()[1::2]
    model = [data.allreduce_model_seconds(gpu, b) for b, _ in check]
    out = [_mae_claim("allreduce/check_mae", f"all-reduce over 4 A100s: mean |error| over the {len(check)} sizes not "
                      "fitted on", data.relative_errors(model, [s for _, s in check]), 0.16, ALLREDUCE_SRC)]
    for (nbytes, seconds), t in zip(check, model):
        if nbytes >= 1 << 26:
            tolerance, residual = 0.10, None
        elif nbytes <= 1 << 10:
            tolerance, residual = 0.08, None
        elif (1 << 14) <= nbytes <= (1 << 22):
            tolerance, residual = 0.10, MIDDLE_ALLREDUCE
        else:
            continue  # 4 KB and 16 MB: held by the mean only (tests/test_gpu_ops.py)
        out.append(claim(f"allreduce/{nbytes}", f"fp16 all-reduce of {nbytes:,} B per device over 4 A100s",
                         seconds * 1e6, ALLREDUCE_SRC, t * 1e6, tolerance, "us", residual=residual))
    return out


def layers() -> list[Claim]:
    gpu, out = a100(), []
    for phase in data.LAYER_SEQ_LEN:
        rows = data.layer_rows(gpu, phase)
        label = f"GPT-3 175B layer, tp 4, batch 8, {phase}"
        out.append(claim(f"layer/{phase}", f"{label}: whole layer (measured ops)", sum(r.measured_s for r in rows) * 1e3,
                         LAYER_SRC, sum(r.model_s for r in rows) * 1e3, 0.05, "ms"))
        for r in rows:
            residual = None
            if r.row == "A_mul_V":
                residual = PV
            elif r.row.startswith("LayerNorm") and phase == "prefill":
                residual = WIDE_NORM_LAYER
            elif r.row.startswith("AllReduce") and phase == "decode":
                residual = MIDDLE_ALLREDUCE + "; the decode all-reduce is 196 KB"
            out.append(claim(f"layer/{phase}/{r.row}", f"{label}: {r.row}", r.measured_s * 1e3, LAYER_SRC,
                             r.model_s * 1e3, 0.05 if r.row in WEIGHT_ROWS else 0.15, "ms", residual=residual))
    return out


CHECKS = (
    Check("gemms", gemms, quick=True, text="fp16 GEMMs the GEMM ceilings are fitted on"),
    Check("elementwise", elementwise, quick=True, text="softmax, layer norm and GELU, fitted and held-out rows"),
    Check("allreduce", allreduce, quick=True, text="4-GPU NVLink all-reduce, held-out sizes"),
    Check("layers", layers, quick=True, text="GPT-3 175B layers at tp 4, per op and whole (never fitted on)"),
)
