"""Serving traces at scale: composed iteration latency against the exact path, side by side.

1. A ``--large`` request trace (default 10,000; Poisson, ShareGPT-like lengths)
   of Llama-2-7B on ``tpuv4-like`` with ``serving.latency: composed``: wall time
   (target < 60 s, one process, one thread) and peak resident memory (target
   < 500 MB, ``getrusage`` max RSS of this process, imports included).
2. A ``--small`` trace (default 500 requests, same distribution and seed) run
   both ways, ``exact`` and ``composed``: p50/p99 TTFT and TPOT of each and their
   relative difference (target within 1 %).

Lengths follow the ShareGPT-like derivation of docs/workloads.md: the vLLM paper
(Kwon et al., SOSP 2023, §6.1) reports ShareGPT means of 161.31 input and 337.99
output tokens; a lognormal with sigma 1.0 has mean = median x exp(0.5), so the
medians are 161.31 / 1.6487 = 97.8 and 337.99 / 1.6487 = 205.0 tokens, clipped to
[1, 2048] (NeuPIMs' cap). The rate (``--rate``, default 4 requests/s) keeps the
256-request batch busy without an unbounded queue; it is a choice, not data.

Usage: ``python benchmarks/serving_scale.py [--large N] [--small N] [--rate R]``.
"""

from __future__ import annotations

import argparse
import math
import resource
import time
from pathlib import Path

from simulator.experiment import resolve_system
from simulator.run import run_system
from simulator.schema import WorkloadSpec
from simulator.serving_run import composed_latency, exact_latency, request_stream, run_serving_system
from workloads.models import load_model
from workloads.serving import BatchLimits, simulate_serving

SHAREGPT_MEAN_PROMPT, SHAREGPT_MEAN_OUTPUT = 161.31, 337.99  # vLLM paper §6.1 (docs/workloads.md)
SIGMA = 1.0  # docs/workloads.md: chosen for the long right tail, not fitted
TIME_TARGET_S, MEMORY_TARGET_MB, ERROR_TARGET = 60.0, 500.0, 0.01


def workload(count: int, rate: float, latency: str) -> WorkloadSpec:
    def lengths(mean: float) -> dict:
        return {"kind": "lognormal", "median_tokens": round(mean / math.exp(SIGMA ** 2 / 2)),
                "sigma": SIGMA, "low": 1, "high": 2048}
    return WorkloadSpec.model_validate({
        "model": "llama2-7b", "phase": "serving",
        "serving": {"rate_per_s": rate, "count": count, "prompt": lengths(SHAREGPT_MEAN_PROMPT),
                    "output": lengths(SHAREGPT_MEAN_OUTPUT), "max_batch": 256, "latency": latency}})


def run(count: int, rate: float, latency: str, system, seed: int = 0):
    spec = workload(count, rate, latency)
    requests = request_stream(spec.serving, seed, Path("."))
    start, cpu = time.perf_counter(), time.process_time()
    result = run_serving_system(spec, load_model("llama2-7b"), requests, system, run_system)
    return result, time.perf_counter() - start, time.process_time() - cpu


def percentiles(result) -> dict:
    stats = result.percentiles()
    return {(metric, p): stats[metric][p] for metric in ("ttft_s", "tpot_s") for p in ("p50", "p99")}


def side_by_side(count: int, rate: float, system, seed: int = 0) -> None:
    """The small trace both ways, and the exact path's own sensitivity to a 0.01 % change of every iteration."""
    spec, config = workload(count, rate, "exact"), load_model("llama2-7b")
    requests = request_stream(spec.serving, seed, Path("."))
    limits = BatchLimits(max_batch=spec.serving.max_batch)
    runs = {}
    for name, make in (("exact", exact_latency), ("composed", composed_latency)):
        latency = make(spec, config, system, run_system)
        start = time.perf_counter()
        runs[name] = (simulate_serving(requests, latency, limits, keep_iterations=False),
                      time.perf_counter() - start, latency)
    (exact, exact_s, exact_fn), (composed, composed_s, composed_fn) = runs["exact"], runs["composed"]
    print(f"{count} requests: exact {exact_s:.1f} s ({len(exact_fn.cache)} whole-layer simulations), "
          f"composed {composed_s:.1f} s ({composed_fn.simulations()} group simulations), "
          f"{exact.summary()['iterations']} iterations; widest composed bracket {composed_fn.bracket:.2%}")
    reference = percentiles(exact)
    rows = {"composed": percentiles(composed)}
    for factor in (1 + 1e-4, 1 - 1e-4):  # the exact path with every iteration 0.01 % longer / shorter
        scaled = simulate_serving(requests, lambda batch, f=factor: exact_fn(batch) * f, limits,
                                  keep_iterations=False)
        rows[f"exact x {factor:.4f}"] = percentiles(scaled)
    print(f"  {'':16}" + "".join(f"{m[:-2].upper()} {p:>4} ".rjust(16) for m, p in reference))
    print(f"  {'exact (ms)':16}" + "".join(f"{v * 1e3:16.3f}" for v in reference.values()))
    for name, values in rows.items():
        print(f"  {name:16}" + "".join(f"{values[k] / reference[k] - 1:+16.3%}" for k in reference))
    errors: dict[bool, list[float]] = {False: [], True: []}  # per iteration of the exact trajectory

    def both(batch, exact_fn=exact_fn, composed_fn=composed_fn):
        seconds = exact_fn(batch)
        several = int((~batch.is_prefill).any()) + int(batch.is_prefill.sum()) > 1
        errors[several].append(composed_fn(batch) / seconds - 1)
        return seconds
    simulate_serving(requests, both, limits, keep_iterations=False)
    for several, values in errors.items():
        if values:
            print(f"  per iteration, {'several attention groups' if several else 'one attention group'}: "
                  f"{len(values)} iterations, composed - exact: max |{max(map(abs, values)):.3%}|, "
                  f"mean {sum(values) / len(values):+.3%}")
    worst = max(abs(rows["composed"][k] / reference[k] - 1) for k in reference)
    print(f"worst composed p50/p99 TTFT/TPOT difference {worst:.3%} (target within {ERROR_TARGET:.0%}); "
          "the 'exact x' rows show how far the same percentiles move when every exact iteration changes by 0.01 %")


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--rate", type=float, default=4.0)
    args = parser.parse_args()
    system = resolve_system("npu", "tpuv4-like", {}, [], Path("."))

    large, large_s, large_cpu_s = run(args.large, args.rate, "composed", system)
    s = large.serving
    print(f"{args.large} requests at {args.rate:g}/s on tpuv4-like, composed: {large_s:.1f} s wall, "
          f"{large_cpu_s:.1f} s CPU "
          f"(target < {TIME_TARGET_S:.0f}), max RSS {max_rss_mb():.0f} MB (target < {MEMORY_TARGET_MB:.0f}); "
          f"{s['iterations']} iterations, makespan {s['makespan_s']:.0f} s")
    print(f"  {large.notes[-1]}")

    side_by_side(args.small, args.rate, system)


if __name__ == "__main__":
    main()
