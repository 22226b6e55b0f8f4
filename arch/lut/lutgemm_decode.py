"""LUT-GEMM's end-to-end token latency on the GPU model, and the per-kernel gap it is fitted with.

What it models
--------------
A token of batch-1 generation with FasterTransformer, as LUT-GEMM's paper measured it
(Park et al., ICLR'24, Tables 3 and 4; ``arch/lut/published.py``): the decoder layers
(one tensor-parallel shard when ``tp > 1``, with its all-reduces) plus the fp16 LM head
(a cuBLAS GEMM of ``vocab / tp`` rows -- an assumption: LUT-GEMM replaces the decoder's
linear layers), each op one kernel at the GPU model's ``max(compute, stream) + launch``,
in sequence. Low-bit weight GEMMs run LUT-GEMM (:mod:`arch.lut.lutgemm`), which also
clears its output with a ``cudaMemset`` before each call (one more kernel).

The gap each kernel adds (``launch_overhead_s``) is **fitted** here on the cuBLAS FP16
rows of Table 3 only (LLaMA-30B on 1/2/4 GPUs, LLaMA-65B on 2/4): the least-squares gap
per kernel over those five rows. Those runs are host-bound at batch 1 -- the time beyond
weight streaming is a near-constant per layer, whatever the model width and GPU count
(``docs/lut.md``) -- so it is a property of the serving stack, not of LUT-GEMM. Every
LUT-GEMM row of Tables 3 and 4, and Table 4's 8-GPU FP16 row, then checks the model.

How faithful
------------
The xpusim layer has one op per projection (q, k and v apart), where FasterTransformer
fuses some kernels and splits others: the fitted gap is per *xpusim op*, so it carries
that mapping. The KV cache length of the measured runs is not stated; 128 cached tokens
are assumed (attention is a few per cent of a token at that length). LLaMA-1's shapes:
:data:`LLAMA1`.
"""

from __future__ import annotations

from functools import lru_cache

from arch import registry
from arch.lut.published import LUT_GEMM_TABLE3_GROUP, LUT_GEMM_TABLE3_MS, LUT_GEMM_TABLE4_MS
from workloads.layers import build_decoder_layer
from workloads.models import load_model
from workloads.op import Op, OpKind

PRESET = "a100-lut-gemm"
CACHED_TOKENS = 128        # ASSUMPTION: Tables 3 and 4 give no context length
FP16_BITS = 16
SCALE_BITS = 16            # fp16 scales and bias ([LG] §3; the repository's nqmv_bias kernel reads __half)
# LLaMA-1 shapes (Touvron et al., arXiv 2302.13971, Table 2: dim, heads, layers; the FFN
# widths from the huggyllama/llama-30b and llama-65b config.json intermediate_size).
_LLAMA1 = {"activation": "swiglu", "norm": "rmsnorm", "vocab_size": 32000, "position": "rope",
           "max_positions": 2048, "tied_embeddings": False, "head_dim": 128}
LLAMA1 = {
    "llama-30b": {**_LLAMA1, "name": "llama-30b", "hidden_size": 6656, "num_layers": 60, "num_heads": 52,
                  "num_kv_heads": 52, "ffn_size": 17920},
    "llama-65b": {**_LLAMA1, "name": "llama-65b", "hidden_size": 8192, "num_layers": 80, "num_heads": 64,
                  "num_kv_heads": 64, "ffn_size": 22016},
}


def model_config(name: str):
    return load_model(LLAMA1.get(name, name))


def weight_format(kernel: str, bits: int, group: int | None) -> tuple[int | None, float]:
    """(group size, scale bits per group) of a run's weights for ``build_decoder_layer``.

    LUT-GEMM's group-wise binary-coded weights carry ``bits`` fp16 scales (one per plane)
    and one fp16 bias per group of ``group`` weights ([LG] §3; the repository's
    ``nqmv_bias`` kernel reads ``alpha`` per group, plane and row and ``q_bias`` per group
    and row). The same bytes are passed as a quarter-size group with a quarter of the bits
    (the workload's scale field holds at most 64 bits). Row-wise BCQ (``group=None``, Table
    4): one scale per plane per row of ``k`` weights, counted as none.
    """
    if kernel == "cublas" or bits >= FP16_BITS:
        return None, SCALE_BITS
    if group is None:
        return None, SCALE_BITS
    per_group_bits = (bits + 1) * SCALE_BITS
    sub = group // 4                                  # 32 for group 128: scale bits stay <= 64
    return sub, per_group_bits * sub / group


@lru_cache(maxsize=None)
def _accel(launch_overhead_s: float | None):
    raw = registry.preset_spec(PRESET)
    if launch_overhead_s is not None:
        raw = {**raw, "launch_overhead_s": launch_overhead_s}
    return registry.build(raw)


def token_ms(model: str, kernel: str, bits: int, tp: int = 1, group: int | None = None,
             launch_overhead_s: float | None = None, accel=None) -> float:
    """Per-token latency (ms) of batch-1 generation: decoder layers + fp16 LM head (module docstring)."""
    accel = accel if accel is not None else _accel(launch_overhead_s)
    config = model_config(model)
    wb = FP16_BITS if kernel == "cublas" else bits
    g, scale_bits = weight_format(kernel, wb, group)
    layer = build_decoder_layer(config, "decode", 1, CACHED_TOKENS, wb, FP16_BITS, FP16_BITS,
                                weight_group_size=g, scale_bits=scale_bits, tp=tp)
    head = Op("lm_head", OpKind.GEMM, 1, -(-config.vocab_size // tp), config.hidden_size)
    seconds = sum(accel.op_seconds(op) for op in layer.ops) * layer.repeat + accel.op_seconds(head)
    return seconds * 1e3


def runs() -> list[tuple[str, str, int, int, int | None, float]]:
    """Every published run: (model, kernel, bits, GPUs, group, measured ms)."""
    out = []
    for (kernel, bits), by_gpus in LUT_GEMM_TABLE4_MS.items():
        out += [("opt-175b", kernel, bits, tp, None, ms) for tp, ms in by_gpus.items()]
    for (model, kernel, bits), by_gpus in LUT_GEMM_TABLE3_MS.items():
        group = None if kernel == "cublas" else LUT_GEMM_TABLE3_GROUP
        out += [(model, kernel, bits, tp, group, ms) for tp, ms in by_gpus.items()]
    return out


def is_fit_run(model: str, kernel: str) -> bool:
    """The runs the kernel gap is fitted on: Table 3's cuBLAS FP16 rows."""
    return kernel == "cublas" and model != "opt-175b"


def fit_launch_overhead_s() -> float:
    """Least-squares gap per kernel over the fit runs: the model is linear in the gap,
    ``t = t0 + kernels x gap``, with ``kernels`` read off the model itself."""
    num = den = 0.0
    for model, kernel, bits, tp, group, ms in runs():
        if not is_fit_run(model, kernel):
            continue
        t0 = token_ms(model, kernel, bits, tp, group, launch_overhead_s=0.0)
        kernels = (token_ms(model, kernel, bits, tp, group, launch_overhead_s=1e-6) - t0) / 1e-3
        num += kernels * (ms - t0) * 1e-3
        den += kernels * kernels
    return num / den
