"""Print what the attention and softmax variants change: measured on this host, and modelled on an A100.

1. **Two-pass vs three-pass softmax on this host.** Both algorithms run over an
   out-of-cache float32 vector (``--elements``, default 2**25 = 128 MiB) as
   Numba-compiled loops sharing one exp (polynomial on the reduced argument,
   scaled by 2**n through the exponent bits); the best of five runs each. Printed
   next to: the ratio the traffic predicts (3 reads + 1 write vs 2 reads + 1
   write: 4/3 as the cost model counts bytes; 5/4 when each written line is
   first read, as a cached store without non-temporal hints does), and the
   paper's speed-ups (Dukhan and Ablavatski 2020, PAPERS.md "The Two-Pass Softmax
   Algorithm": up to 28 % with AVX512, 18 % with AVX2 on Skylake-X). Whether the
   host is memory bound here is measured too: the three-pass loop's achieved
   bytes per second against a plain read loop's. When it is not, the speed-up
   reflects the loops' arithmetic, not their traffic, and says so.
2. **The cost model's softmax traffic**: a two-pass and a three-pass softmax op
   of one decode layer on ``a100-80gb`` (memory-bound vector ops).
3. **Decode attention on ``a100-80gb``** (Llama-2-7B, one layer, batch 1 and 64,
   KV 4k-32k): the attention core's time as unfused score/softmax/context,
   FlashAttention-2, FlashDecoding and FlashDecoding++, with FlashDecoding's
   speed-up over unfused next to the bytes ratio, and FlashDecoding++'s over
   FlashDecoding; and prefill attention (unfused vs FlashAttention-2) at prompts of
   1k-16k, where the score matrix dominates. Then one whole decode step (32 layers) with FlashDecoding++'s
   flat GEMMs (rows padded to 8, double-buffered, the faster of that and the
   calibrated GEMM model per shape) against FlashDecoding with the calibrated
   GEMMs and against a library flat GEMM (rows padded to 64, no double
   buffering), next to the paper's 1.37x average over engines and up to 4.86x
   over Hugging Face (PAPERS.md, FlashDecoding++).

Every number is computed when the script runs. Usage:
``python benchmarks/attention_variants.py [--elements N]``.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from numba import njit

from arch import registry
from arch.gpu.attention import LIBRARY_PAD_ROWS, flat_gemm_cycles
from simulator import api
from workloads.layers import build_decoder_layer
from workloads.models import load_model
from workloads.op import OpKind

LN2 = np.float32(math.log(2.0))
LOG2E = np.float32(1.0 / math.log(2.0))
BLOCK = 1024  # elements per inner block: the exp's scratch stays in L1
PAPER_SPEEDUP = {"AVX512": 1.28, "AVX2": 1.18}  # PAPERS.md, The Two-Pass Softmax Algorithm (up to)
PAPER_FA2_PEAK = (0.50, 0.73)  # PAPERS.md, FlashAttention-2: 50-73 % of the theoretical maximum FLOP/s on A100
PAPER_FDPP = {"average over engines": 1.37, "max over Hugging Face": 4.86}  # PAPERS.md, FlashDecoding++
ATTENTION_CORE = ("attn_score", "softmax", "attn_context", "attention", "attn_reduce")


# -- host softmax ------------------------------------------------------------------------
@njit(fastmath=True, inline="always")
def _poly_exp(r):
    """exp(r) for |r| <= ln2 / 2: degree-5 Taylor polynomial (relative error < 3e-7)."""
    return np.float32(1.0) + r * (np.float32(1.0) + r * (np.float32(0.5) + r * (
        np.float32(1 / 6) + r * (np.float32(1 / 24) + r * np.float32(1 / 120)))))


@njit(fastmath=True)
def _exp_block(x, start, shift, out, bits):
    """out[j] = exp(x[start + j] - shift) over one block, as poly(r) * 2**n (n >= -126)."""
    count = min(BLOCK, x.size - start)
    scale = bits.view(np.float32)
    for j in range(count):
        v = max(x[start + j] - shift, np.float32(-87.0))
        n = np.floor(v * LOG2E + np.float32(0.5))
        out[j] = _poly_exp(v - n * LN2)
        bits[j] = (np.int32(n) + np.int32(127)) << 23
    for j in range(count):
        out[j] *= scale[j]
    return count


@njit(fastmath=True)
def softmax_three_pass_host(x, y):
    out, bits = np.empty(BLOCK, np.float32), np.empty(BLOCK, np.int32)
    top = np.float32(-np.inf)
    for i in range(x.size):  # pass 1: max
        top = max(top, x[i])
    total = 0.0
    for start in range(0, x.size, BLOCK):  # pass 2: sum of exp(x - max)
        for j in range(_exp_block(x, start, top, out, bits)):
            total += out[j]
    inv = np.float32(1.0 / total)
    for start in range(0, x.size, BLOCK):  # pass 3: exp(x - max) / sum
        for j in range(_exp_block(x, start, top, out, bits)):
            y[start + j] = out[j] * inv


@njit(fastmath=True)
def softmax_two_pass_host(x, y):
    out, bits, exps = np.empty(BLOCK, np.float32), np.empty(BLOCK, np.int32), np.empty(BLOCK, np.float32)
    scale = bits.view(np.float32)
    sum_m, sum_e = 0.0, -1e30
    for start in range(0, x.size, BLOCK):  # pass 1: sum of (mantissa, exponent) pairs
        count = min(BLOCK, x.size - start)
        block_e = np.float32(-1e30)
        for j in range(count):
            exps[j] = np.floor(x[start + j] * LOG2E + np.float32(0.5))
            block_e = max(block_e, exps[j])
        for j in range(count):
            out[j] = _poly_exp(x[start + j] - exps[j] * LN2)
            bits[j] = (np.int32(max(exps[j] - block_e, np.float32(-126.0))) + np.int32(127)) << 23
        block_m = 0.0
        for j in range(count):
            block_m += out[j] * scale[j]
        top = max(sum_e, block_e)
        sum_m = sum_m * 2.0 ** (sum_e - top) + block_m * 2.0 ** (block_e - top)
        sum_e = top
    inv = np.float32(1.0 / sum_m)
    for start in range(0, x.size, BLOCK):  # pass 2: exp(x) / sum, as 2**-sum_e scaled pairs
        for j in range(_exp_block(x, start, np.float32(sum_e * LN2), out, bits)):
            y[start + j] = out[j] * inv


@njit(fastmath=True)
def _read_all(x):
    total = np.float32(0.0)
    for i in range(x.size):
        total += x[i]
    return total


def _best_s(fn, *args, repeats: int = 5) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best


def host_softmax(elements: int) -> None:
    x = (np.random.default_rng(0).standard_normal(elements) * 8).astype(np.float32)
    y = np.empty_like(x)
    for fn in (softmax_three_pass_host, softmax_two_pass_host):
        fn(x[:4 * BLOCK], y[:4 * BLOCK])  # compile
    _read_all(x)
    e = np.exp(x.astype(np.float64) - x.max())
    want = e / e.sum()
    errors = {}
    for name, fn in (("three-pass", softmax_three_pass_host), ("two-pass", softmax_two_pass_host)):
        fn(x, y)
        errors[name] = float(np.abs(y - want).max() / want.max())
    three_s, two_s = _best_s(softmax_three_pass_host, x, y), _best_s(softmax_two_pass_host, x, y)
    read_gbs = x.nbytes / _best_s(_read_all, x) / 1e9
    achieved_gbs = 4 * x.nbytes / three_s / 1e9
    speedup = three_s / two_s
    print(f"1. softmax over {elements} float32 ({x.nbytes / 2**20:.0f} MiB) on this host")
    print(f"   three-pass {three_s * 1e3:.1f} ms, two-pass {two_s * 1e3:.1f} ms: speed-up {speedup:.3f}x "
          f"(max error / max value: {errors['three-pass']:.1e}, {errors['two-pass']:.1e})")
    for label, ratio in (("traffic, as the cost model counts (4/3)", 4 / 3),
                         ("traffic with write-allocate (5/4)", 5 / 4)):
        print(f"   predicted by {label}: {ratio:.3f}x; measured/predicted {speedup / ratio:.3f}")
    print("   paper (Skylake-X, up to): " + ", ".join(f"{k} {v:.2f}x" for k, v in PAPER_SPEEDUP.items()))
    bound = achieved_gbs / read_gbs
    print(f"   memory bound? three-pass moves {achieved_gbs:.1f} GB/s against a read loop's "
          f"{read_gbs:.1f} GB/s ({bound:.0%}): " +
          ("yes -- the speed-up measures the traffic" if bound >= 0.7 else
           "no -- the loops are limited by their arithmetic, so the speed-up does not test the traffic ratio"))


# -- cost model --------------------------------------------------------------------------
def op_seconds(gpu, op) -> float:
    """One op alone on the GPU: max(compute, stream) + launch."""
    return gpu.op_seconds(op)


def engine_step_s(attention: str, batch: int, kv_len: int) -> float:
    """A whole Llama-2-7B decode step on a100-80gb through the mapper and the engine."""
    result = api.run({"name": "attention-step", "systems": [{"name": "a100", "arch": "a100-80gb"}],
                      "workload": {"model": "llama2-7b", "phase": "decode", "batch": batch,
                                   "seq_len": kv_len, "attention": attention}})
    return result.system("a100").seconds


def core_ops(config, attention, batch, kv_len, **kw):
    workload = build_decoder_layer(config, "decode", batch, kv_len, attention=attention, **kw)
    return workload, [op for op in workload.ops if op.name in ATTENTION_CORE]


def model_softmax(gpu, config) -> None:
    print("\n2. cost model: one decode layer's softmax op on a100-80gb (batch 64, KV 4096)")
    ops = {p: next(o for o in core_ops(config, "unfused", 64, 4096, softmax_passes=p)[1] if o.name == "softmax")
           for p in (3, 2)}
    for p, op in ops.items():
        print(f"   {p}-pass: reads {op.a_bytes} B, writes {op.out_bytes} B, {op_seconds(gpu, op) * 1e6:.1f} us")
    print(f"   speed-up {op_seconds(gpu, ops[3]) / op_seconds(gpu, ops[2]):.3f}x; bytes ratio "
          f"{ops[3].min_bytes / ops[2].min_bytes:.3f}")


def decode_attention(gpu, config) -> None:
    print("\n3. Llama-2-7B decode attention core, one layer, a100-80gb (us)")
    print(f"   {'batch':>5} {'KV':>6} {'unfused':>9} {'flash2':>9} {'flashdec':>9} {'fd++':>9} {'splits':>6} "
          f"{'fd/unf':>7} {'bytes':>7} {'resid':>7} {'fd++/fd':>7}")
    spec = gpu.spec
    for batch in (1, 64):
        for kv in (4096, 8192, 16384, 32768):
            times, moved, kernels, splits = {}, {}, {}, 1
            for attention in ("unfused", "flash2", "flashdecoding", "flashdecoding++"):
                ops = core_ops(config, attention, batch, kv)[1]
                times[attention] = sum(op_seconds(gpu, op) for op in ops)
                moved[attention] = sum(op.min_bytes for op in ops)
                kernels[attention] = len(ops)
                splits = max(splits, *(op.kv_splits for op in ops))
            # FlashDecoding predicted from unfused: the bytes it does not move, the launches it does not make
            saved_s = (moved["unfused"] - moved["flashdecoding"]) / (spec.stream_bytes_per_cycle * spec.clock_hz)
            predicted = times["unfused"] - saved_s - (kernels["unfused"] - kernels["flashdecoding"]) * \
                spec.launch_overhead_s
            print(f"   {batch:>5} {kv:>6} " + " ".join(f"{times[a] * 1e6:>9.1f}" for a in times) +
                  f" {splits:>6} {times['unfused'] / times['flashdecoding']:>7.3f}"
                  f" {moved['unfused'] / moved['flashdecoding']:>7.3f}"
                  f" {times['flashdecoding'] / predicted - 1:>+7.1%}"
                  f" {times['flashdecoding'] / times['flashdecoding++']:>7.3f}")
    print("   fd/unf: FlashDecoding's speed-up over unfused; bytes: unfused bytes / FlashDecoding bytes; resid: "
          "FlashDecoding's time against unfused minus the saved bytes at the stream rate and the saved launches")


def prefill_attention(gpu, config) -> None:
    print("\n3b. Llama-2-7B prefill attention core, one layer, batch 1, a100-80gb: where the score matrix dominates")
    for prompt in (1024, 4096, 16384):
        row = []
        for attention in ("unfused", "flash2"):
            ops = [op for op in build_decoder_layer(config, "prefill", 1, prompt, attention=attention).ops
                   if op.name in ATTENTION_CORE]
            row.append((sum(op_seconds(gpu, op) for op in ops), sum(op.min_bytes for op in ops)))
        (unfused_s, unfused_b), (flash_s, flash_b) = row
        fused = next(op for op in build_decoder_layer(config, "prefill", 1, prompt, attention="flash2").ops
                     if op.kind is OpKind.ATTENTION)
        peak = 2 * fused.macs / flash_s / gpu.spec.peak_flops_per_s(gpu.math_dtype(fused))  # matmul FLOPs
        print(f"   prompt {prompt:>5}: unfused {unfused_s * 1e3:7.3f} ms, {unfused_b / 1e9:6.2f} GB; flash2 "
              f"{flash_s * 1e3:7.3f} ms, {flash_b / 1e9:6.3f} GB: {unfused_s / flash_s:.2f}x faster, "
              f"{unfused_b / flash_b:.0f}x fewer bytes; flash2 at {peak:.0%} of the tensor peak")
    print(f"   paper: FlashAttention-2 reaches {PAPER_FA2_PEAK[0]:.0%}-{PAPER_FA2_PEAK[1]:.0%} of the A100's peak "
          "(PAPERS.md); the model's kernel has no register or shared-memory limits and so runs faster")


def decode_step(gpu, config) -> None:
    print("\n4. whole decode step (32 layers), a100-80gb: FlashDecoding++ vs FlashDecoding (ms)")
    spec = gpu.spec
    for batch in (1, 8, 64):
        for kv in (4096, 32768):
            fd_ops = build_decoder_layer(config, "decode", batch, kv, attention="flashdecoding").ops
            pp_ops = build_decoder_layer(config, "decode", batch, kv, attention="flashdecoding++").ops
            fd = sum(op_seconds(gpu, op) for op in fd_ops)
            library = sum(flat_gemm_cycles(spec, op, gpu.math_dtype(op), LIBRARY_PAD_ROWS, False) / spec.clock_hz
                          if op.kind is OpKind.GEMM else op_seconds(gpu, op) for op in fd_ops)
            pp = sum(min(flat_gemm_cycles(spec, op, gpu.math_dtype(op)) / spec.clock_hz, op_seconds(gpu, op))
                     if op.kind is OpKind.GEMM else op_seconds(gpu, op) for op in pp_ops)
            layers = config.num_layers
            print(f"   batch {batch:>2} KV {kv:>5}: FlashDecoding {fd * layers * 1e3:6.2f} (calibrated GEMMs), "
                  f"{library * layers * 1e3:6.2f} (library flat GEMMs); FlashDecoding++ {pp * layers * 1e3:6.2f}: "
                  f"{fd / pp:.3f}x and {library / pp:.3f}x")
    unfused, flashdec = engine_step_s("unfused", 1, 32768), engine_step_s("flashdecoding", 1, 32768)
    print(f"   the engine's whole step at batch 1, KV 32768: unfused {unfused * 1e3:.2f} ms, FlashDecoding "
          f"{flashdec * 1e3:.2f} ms ({unfused / flashdec:.3f}x)")
    print("   paper: " + ", ".join(f"{k} {v:.2f}x" for k, v in PAPER_FDPP.items()) +
          " (end to end, against engines with their own kernels and framework overheads)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elements", type=int, default=1 << 25)
    args = parser.parse_args()
    host_softmax(args.elements)
    gpu, config = registry.build(registry.preset_spec("a100-80gb")), load_model("llama2-7b")
    model_softmax(gpu, config)
    decode_attention(gpu, config)
    prefill_attention(gpu, config)
    decode_step(gpu, config)


if __name__ == "__main__":
    main()
