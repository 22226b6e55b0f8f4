"""LUT-GEMM (Park et al., ICLR'24) claims: OPT-175B per-token latency on one A100 (LUT_AND_WAFER.md L-V7).

Published: Table 4's 1-GPU rows (``arch/lut/published.py`` ``LUT_GEMM_OPT175B_1GPU_MS``).
Computed: the ``a100-lut-gemm`` preset (the GPU model with LUT-GEMM's kernel for
quantised weights), OPT-175B decode at batch 1 with 128 cached tokens (an assumption:
the table gives no KV length), fp16 activations, per-op times summed over the layers.
Tolerance ±20 % (L-V7, ``tests/test_lut_gemm_gpu.py``).
"""

from __future__ import annotations

from functools import lru_cache, partial

from arch import registry
from arch.lut.published import LUT_GEMM_OPT175B_1GPU_MS
from simulator.reproduce.claims import Check, Claim
from workloads.layers import build_decoder_layer
from workloads.models import load_model

claim = partial(Claim, "lut-gemm")
SRC = "[LG] Table 4, 1 GPU (arch/lut/published.py LUT_GEMM_OPT175B_1GPU_MS)"
REMAINDER = ("per-token latencies come out 20-50 % low: about 14 ms per token of the measured FasterTransformer "
             "runs is not explained by weight streaming and table lookups (tests/test_lut_gemm_gpu.py xfail; "
             "docs/lut.md)")


@lru_cache(maxsize=None)
def token_ms(bits: int) -> float:
    """Modelled OPT-175B per-token latency with ``bits``-bit weights on a100-lut-gemm."""
    accel = registry.build(registry.preset_spec("a100-lut-gemm"))
    layer = build_decoder_layer(load_model("opt-175b"), "decode", 1, 128, bits, 16, 16)
    return sum(accel.op_seconds(op) for op in layer.ops) * layer.repeat * 1e3


def latencies() -> list[Claim]:
    out = [claim(f"token_ms/{bits}bit", f"OPT-175B per-token latency, {bits}-bit weights, one A100", published, SRC,
                 token_ms(bits), 0.20, "ms", residual=REMAINDER)
           for bits, published in sorted(LUT_GEMM_OPT175B_1GPU_MS.items())]
    published = (LUT_GEMM_OPT175B_1GPU_MS[3] - LUT_GEMM_OPT175B_1GPU_MS[1]) / 2
    out.append(claim("per_bit_ms", "per-bit increment of the per-token latency, (3-bit - 1-bit) / 2", published, SRC,
                     (token_ms(3) - token_ms(1)) / 2, 0.20, "ms"))
    return out


CHECKS = (Check("latencies", latencies, quick=True, text="L-V7 OPT-175B per-token latency"),)
