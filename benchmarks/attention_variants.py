"""Print what the attention and softmax variants change: measured on this host, and modelled on an A100.

1. **Two-pass vs three-pass softmax on this host.** Both algorithms run over an
   out-of-cache float32 vector (``--elements``, default 2**25 = 128 MiB) as
   Numba-compiled loops sharing one exp (polynomial on the reduced argument,
   scaled by 2**n through the exponent bits), every loop cut into one chunk per
   thread (``--threads``, default every usable CPU); the best of five runs each. Printed
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

The host measurement and the claims' computations live in :mod:`simulator.reproduce.softmax_host` and
:mod:`simulator.reproduce.attention` (``xpusim reproduce attention`` holds them as claims).
Every number is computed when the script runs. Usage:
``python benchmarks/attention_variants.py [--elements N] [--threads T]``.
"""

from __future__ import annotations

import argparse

from arch import registry
from simulator.reproduce.attention import (ATTENTION_CORE, BYTES_SCALE_TOLERANCE, FA2_PEAK as PAPER_FA2_PEAK,
                                           FDPP_AVERAGE, MEMORY_BOUND,
                                           TWO_PASS_UP_TO, engine_step_seconds as engine_step_s,
                                           flash2_peak_fraction, layer_step_seconds)
from simulator.reproduce.softmax_host import measure
from workloads.layers import build_decoder_layer
from workloads.models import load_model

PAPER_FDPP = {"average over engines": FDPP_AVERAGE, "max over Hugging Face": 4.86}  # PAPERS.md, FlashDecoding++


# -- host softmax ------------------------------------------------------------------------
def host_softmax(elements: int, threads: int | None) -> None:
    got = measure(elements, threads=threads)
    speedup = got.speedup
    print(f"1. softmax over {elements} float32 ({got.nbytes / 2**20:.0f} MiB) on this host, every loop on "
          f"{got.threads} thread(s)")
    print(f"   three-pass {got.three_pass_s * 1e3:.1f} ms, two-pass {got.two_pass_s * 1e3:.1f} ms: speed-up "
          f"{speedup:.3f}x (max error / max value: {got.error_three_pass:.1e}, {got.error_two_pass:.1e})")
    for label, ratio in (("traffic, as the cost model counts (4/3)", 4 / 3),
                         ("traffic with write-allocate (5/4)", 5 / 4),
                         (f"traffic at this host's measured read ({got.read_s * 1e3:.1f} ms) and read-write "
                          f"({got.read_write_s * 1e3:.1f} ms) loops", got.measured_traffic_ratio)):
        print(f"   predicted by {label}: {ratio:.3f}x; measured/predicted {speedup / ratio:.3f}")
    print("   paper (Skylake-X, up to): " + ", ".join(f"{k} {v:.2f}x" for k, v in TWO_PASS_UP_TO.items()))
    print("   the paper's figures against the traffic: " + ", ".join(
        f"{k} {v / (5 / 4):.3f} of 5/4" for k, v in TWO_PASS_UP_TO.items()) + " -- its AVX512 loops move the bytes "
        "the write-allocate count predicts; the AVX2 ones, with half the vector width for the same exp, fall short "
        "of it as a loop limited partly by its arithmetic does (an inference from the ratios, not the paper's own "
        "breakdown)")
    print(f"   this host's exp-and-sum pass alone: {got.exp_sum_s * 1e3:.1f} ms against the read loop's "
          f"{got.read_s * 1e3:.1f} ms")
    scales = abs(got.bytes_scale - 1) <= BYTES_SCALE_TOLERANCE
    print(f"   do loop times scale with bytes? the read loop over half the vector: {got.read_half_s * 1e3:.1f} ms, "
          f"whole over twice half {got.bytes_scale:.3f}: " + ("yes" if scales else
          "no -- this host's times are quantised (shared or CPU-throttled), so no loop rate measures memory"))
    three, two = got.three_pass_memory_fraction, got.two_pass_memory_fraction
    print(f"   memory bound? three-pass runs at {three:.0%}, two-pass at {two:.0%} of the speed its traffic allows "
          "at those rates: " + ("not testable (times do not scale)" if not scales else
                               "yes -- the speed-up measures the traffic" if got.bandwidth_fraction >= MEMORY_BOUND
                               else f"no (below {MEMORY_BOUND:.0%}) -- a loop is limited by its arithmetic, so the "
                               "speed-up does not test the traffic ratio"))


# -- cost model --------------------------------------------------------------------------
def op_seconds(gpu, op) -> float:
    """One op alone on the GPU: max(compute, stream) + launch."""
    return gpu.op_seconds(op)


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
        peak = flash2_peak_fraction(prompt) if config.name == "llama2-7b" else float("nan")
        print(f"   prompt {prompt:>5}: unfused {unfused_s * 1e3:7.3f} ms, {unfused_b / 1e9:6.2f} GB; flash2 "
              f"{flash_s * 1e3:7.3f} ms, {flash_b / 1e9:6.3f} GB: {unfused_s / flash_s:.2f}x faster, "
              f"{unfused_b / flash_b:.0f}x fewer bytes; flash2 at {peak:.0%} of the tensor peak")
    print(f"   paper: FlashAttention-2 reaches {PAPER_FA2_PEAK[0]:.0%}-{PAPER_FA2_PEAK[1]:.0%} of the A100's peak "
          "(PAPERS.md); above its top, the model's kernel is optimistic: no register or shared-memory limits "
          "per block, no cost for converting the probabilities to fp16 (its exponentials run on the SFUs)")


def decode_step(gpu, config) -> None:
    print("\n4. whole decode step (32 layers), a100-80gb: FlashDecoding++ vs FlashDecoding (ms)")
    for batch in (1, 8, 64):
        for kv in (4096, 32768):
            step = layer_step_seconds(batch, kv)
            fd, library, pp = step["flashdecoding"], step["library"], step["flashdecoding++"]
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
    parser.add_argument("--threads", type=int, default=None,
                        help="threads each host loop is cut over (default: every usable CPU)")
    args = parser.parse_args()
    host_softmax(args.elements, args.threads)
    gpu, config = registry.build(registry.preset_spec("a100-80gb")), load_model("llama2-7b")
    model_softmax(gpu, config)
    decode_attention(gpu, config)
    prefill_attention(gpu, config)
    decode_step(gpu, config)


if __name__ == "__main__":
    main()
