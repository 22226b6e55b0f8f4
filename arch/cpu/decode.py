"""Token generation on a CPU host: one decode token's time and bytes, by kernel and weight format.

A token of a decoder-only model at batch 1 is its decoder layers
(:func:`workloads.layers.build_decoder_layer`, decode phase, ``kv_len`` tokens
cached) plus the LM head GEMV; each op takes ``max(compute, DRAM stream) +
overhead`` (:mod:`arch.cpu.model`) and the ops run one after another.

Weight formats (bits per weight, scale group, bits per group) are the storage
layouts of the kernels compared:

* ``TMAC_GPTQ_W4`` / ``TMAC_W2``: T-MAC's GPTQ-layout models, an fp16 scale and an
  fp16 zero point per group of 128 (``python/t_mac/intrins/tbl.cc`` reads both
  per group when ``ZeroPoint``); ``TMAC_BITNET``: ternary weights as 2 bits with
  one scale per tensor (BitNet b1.58's absmean scale);
* ``Q4_0``: 32 weights in 18 bytes (4.5 bits); ``Q2_K``: 256 weights in 84 bytes
  (2.625 bits: a 4-bit scale and min per 16, two fp16 per 256); ``Q6_K``: 256 in
  210 bytes (6.5625 bits) -- llama.cpp's ``ggml-common.h`` block layouts, given
  here as (bits, group, bits per group) with the same bytes;
* the LM head: llama.cpp's quantiser stores ``output.weight`` -- or, for a model
  with tied embeddings (BitNet b1.58 3B), the token embedding it doubles as -- as
  Q6_K for its 2- to 5-bit types (``llama_tensor_get_type``). T-MAC's models keep
  the token embedding un-quantized (``microsoft/T-MAC`` README, "Compared to NPU":
  "our token-embed remaining un-quantized"), so BitNet's LM head is fp16 there;
  Llama-2-7B's separate ``output.weight`` is taken as Q6_K in both (ASSUMPTION;
  the README's 3.7 GB for its 4-bit model fits 4-bit layers, an fp16 embedding and
  a Q6_K head).

Assumptions: ``kv_len = 64`` cached tokens (the tables give no context length),
fp16 activations and KV cache in memory (llama.cpp's default).
"""

from __future__ import annotations

from typing import NamedTuple

from arch.cpu.model import CpuHost
from arch.cpu.options import CpuGemmKernel, CpuMappingOptions
from workloads.layers import build_decoder_layer
from workloads.models import load_model
from workloads.op import Op, OpKind


class WeightFormat(NamedTuple):
    bits: float
    group_size: int       # 0 = one scale per tensor
    scale_bits: float     # bits stored per group


TMAC_GPTQ_W4 = WeightFormat(4, 128, 32)
TMAC_W2 = WeightFormat(2, 128, 32)
TMAC_BITNET = WeightFormat(2, 0, 16)
Q4_0 = WeightFormat(4, 32, 16)
Q2_K = WeightFormat(2, 16, 10)
Q6_K = WeightFormat(6, 16, 9)
F16 = WeightFormat(16, 0, 0)
DEFAULT_KV_LEN = 64

# The published rows' models: (workload preset, (T-MAC layers, head), (llama.cpp layers, head)).
MODELS = {"bitnet-3b": ("bitnet-b1.58-3b", (TMAC_BITNET, F16), (Q2_K, Q6_K)),
          "llama2-7b-w2": ("llama2-7b", (TMAC_W2, Q6_K), (Q2_K, Q6_K)),
          "llama2-7b-w4": ("llama2-7b", (TMAC_GPTQ_W4, Q6_K), (Q4_0, Q6_K))}
KERNEL_FORMAT = {CpuGemmKernel.LUT: 1, CpuGemmKernel.DEQUANT: 2}


def token_ops(model: str, fmt: WeightFormat, head_fmt: WeightFormat = Q6_K,
              kv_len: int = DEFAULT_KV_LEN) -> tuple[tuple[Op, int], ...]:
    """(op, times per token): the decoder layer's ops in ``fmt`` and the LM head in ``head_fmt``."""
    config = load_model(model)
    layer = build_decoder_layer(config, "decode", 1, kv_len, fmt.bits, 16, 16,
                                weight_group_size=fmt.group_size, scale_bits=fmt.scale_bits)
    hidden, vocab = config.hidden_size, config.vocab_size
    groups = -(-hidden // head_fmt.group_size) if head_fmt.group_size else 0
    head_scales = -(-(vocab * groups * head_fmt.scale_bits) // 8)
    head = Op("lm_head", OpKind.GEMM, 1, vocab, hidden, b_bits=head_fmt.bits, extra_bytes=int(head_scales))
    return tuple((op, layer.repeat) for op in layer.ops) + ((head, 1),)


def token_bytes(model: str, fmt: WeightFormat, head_fmt: WeightFormat = Q6_K, kv_len: int = DEFAULT_KV_LEN) -> int:
    """DRAM bytes one token moves (every op's compulsory traffic)."""
    return sum(op.min_bytes * times for op, times in token_ops(model, fmt, head_fmt, kv_len))


def op_seconds(host: CpuHost, op: Op, kernel: CpuGemmKernel) -> float:
    cost = host.op_cost(op, options=CpuMappingOptions(gemm_kernel=kernel))
    mem = host.memories()[0]
    return (cost.compute_cycles + mem.transfer_cycles(cost.read_bytes) + mem.transfer_cycles(cost.write_bytes)) \
        / host.clock_hz


def tokens_per_s(host: CpuHost, row_model: str, kernel: CpuGemmKernel, kv_len: int = DEFAULT_KV_LEN) -> float:
    """Decode tokens per second of a published row's model (``MODELS``) with ``kernel``."""
    model, *formats = MODELS[row_model]
    fmt, head_fmt = formats[KERNEL_FORMAT[kernel] - 1]
    seconds = sum(op_seconds(host, op, kernel) * times for op, times in token_ops(model, fmt, head_fmt, kv_len))
    return 1.0 / seconds
