"""LUT-GEMM (Park et al., ICLR'24) claims: batch-1 token latency, Tables 3 and 4 (LUT_AND_WAFER.md L-V7).

Published: every run of Tables 3 and 4 (``arch/lut/published.py``). Computed:
:func:`arch.lut.lutgemm_decode.token_ms` on the ``a100-lut-gemm`` preset (decoder layers
plus the fp16 LM head, each op one kernel; 128 cached tokens assumed). The per-kernel gap
is fitted on Table 3's cuBLAS FP16 rows (``fitted``); every other run is a check.
Tolerance ±20 % (L-V7, ``tests/test_lut_gemm_gpu.py``), whose strict xfail gives the
residual.
"""

from __future__ import annotations

from functools import lru_cache, partial

from arch.lut.lutgemm_decode import is_fit_run, runs, token_ms
from arch.lut.published import LUT_GEMM_OPT175B_1GPU_MS
from simulator.reproduce.claims import Check, Claim

claim = partial(Claim, "lut-gemm")
SRC = "[LG] Tables 3 and 4 (arch/lut/published.py)"
# tests/test_lut_gemm_gpu.py LLAMA30_4GPU
GAPS_OVER_COUNTED = {("llama-30b", "lut_gemm", 3, 4)}
GAPS = ("most of the modelled token is kernel gaps, and the layer graph has q/k/v and gate/up as separate GEMMs, "
        "each with its cudaMemset: more kernels than the measured runs launch (tests/test_lut_gemm_gpu.py "
        "LLAMA30_4GPU xfail)")


@lru_cache(maxsize=None)
def cached_token_ms(model: str, kernel: str, bits: int, tp: int, group: int | None) -> float:
    return token_ms(model, kernel, bits, tp, group)


def latencies() -> list[Claim]:
    out = []
    for model, kernel, bits, tp, group, ms in runs():
        name = "FP16 cuBLAS" if kernel == "cublas" else f"LUT-GEMM {bits}-bit" + (f" g{group}" if group else "")
        out.append(claim(f"token_ms/{model}/{kernel}/{bits}/{tp}gpu", f"{model} per-token latency, {name}, {tp} A100(s)",
                         ms, SRC, cached_token_ms(model, kernel, bits, tp, group), 0.20, "ms",
                         fitted=is_fit_run(model, kernel),
                         residual=GAPS if (model, kernel, bits, tp) in GAPS_OVER_COUNTED else None))
    published = (LUT_GEMM_OPT175B_1GPU_MS[3] - LUT_GEMM_OPT175B_1GPU_MS[1]) / 2
    computed = (cached_token_ms("opt-175b", "lut_gemm", 3, 1, None) - cached_token_ms("opt-175b", "lut_gemm", 1, 1, None)) / 2
    out.append(claim("per_bit_ms", "OPT-175B, one A100: per-bit increment, (3-bit - 1-bit) / 2", published,
                     "[LG] Table 4 (arch/lut/published.py LUT_GEMM_OPT175B_1GPU_MS)", computed, 0.20, "ms"))
    return out


CHECKS = (Check("latencies", latencies, quick=True, text="L-V7 per-token latency of Tables 3 and 4"),)
