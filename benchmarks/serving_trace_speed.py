"""Print how long forming continuous batches for a 1-hour serving trace takes (target < 10 s).

Draws a one-hour Poisson request stream at 10 requests/s (lognormal prompt and
output lengths, seed 0), then times :func:`workloads.serving.simulate_serving`
with max batch 256 and a 500k-token KV cache. The per-iteration latency is a cheap
roofline of Llama-2-7B in fp16 on one A100-80GB (NVIDIA A100 datasheet: 312
TFLOP/s dense bf16, 2.039 TB/s HBM2e): the larger of the step's FLOPs over peak
and its weight plus KV bytes over bandwidth. It stands in for a simulated step
time; the point here is the batching loop's own speed.

Usage: ``python benchmarks/serving_trace_speed.py [--rate R] [--hours H]``.
"""

from __future__ import annotations

import argparse
import time

from workloads.models import load_model
from workloads.requests import LengthDist, poisson_requests
from workloads.serving import Batch, BatchLimits, simulate_serving

PEAK_FLOPS_PER_S = 312e12
BANDWIDTH_BYTES_PER_S = 2.039e12
TARGET_S = 10.0


def roofline_latency(model: str = "llama2-7b"):
    """Seconds per iteration: max(FLOPs / peak, (weights + KV read) / bandwidth)."""
    config = load_model(model)
    flops_per_token = 2 * config.active_parameter_count()
    attention_flops_per_pair = 4 * config.num_layers * config.q_size  # score + context
    weight_bytes = config.weight_bytes(16)
    kv_bytes_per_token = config.kv_cache_bytes_per_token(16)

    def latency_s(batch: Batch) -> float:
        pairs = float((batch.query_tokens * batch.kv_tokens).sum())
        flops = flops_per_token * batch.tokens + attention_flops_per_pair * pairs
        moved = weight_bytes + kv_bytes_per_token * float(batch.kv_tokens.sum())
        return max(flops / PEAK_FLOPS_PER_S, moved / BANDWIDTH_BYTES_PER_S)
    return latency_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=10.0, help="requests per second")
    parser.add_argument("--hours", type=float, default=1.0)
    args = parser.parse_args()

    start = time.perf_counter()
    requests = poisson_requests(args.rate, LengthDist.lognormal(512, 0.8, high=4096),
                                LengthDist.lognormal(128, 0.8, high=2048), seed=0,
                                duration_s=args.hours * 3600)
    draw_s = time.perf_counter() - start
    latency = roofline_latency()
    start = time.perf_counter()
    result = simulate_serving(requests, latency, BatchLimits(max_batch=256,
                                                             kv_capacity_tokens=500_000))
    loop_s = time.perf_counter() - start
    summary = result.summary()
    print(f"{len(requests)} requests over {args.hours:g} h at {args.rate:g}/s "
          f"(drawn in {draw_s * 1e3:.1f} ms)")
    print(f"{summary['iterations']} iterations, max batch {summary['max_batch_size']}, "
          f"{summary['output_tokens_per_s']:.0f} output tokens/s")
    print(f"TTFT p50/p99 {summary['ttft_s']['p50'] * 1e3:.1f}/{summary['ttft_s']['p99'] * 1e3:.1f} ms, "
          f"TPOT p50/p99 {summary['tpot_s']['p50'] * 1e3:.1f}/{summary['tpot_s']['p99'] * 1e3:.1f} ms")
    print(f"batching loop: {loop_s:.2f} s, {loop_s / summary['iterations'] * 1e6:.1f} us per "
          f"iteration (target < {TARGET_S:.0f} s)")


if __name__ == "__main__":
    main()
