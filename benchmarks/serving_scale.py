"""Serving traces at scale: composed iteration latency against the exact path, side by side.

1. A ``--large`` request trace (default 10,000; Poisson, ShareGPT-like lengths)
   of Llama-2-7B on ``tpuv4-like`` with ``serving.latency: composed``: wall time
   (target < 60 s, one process, one thread) and peak resident memory (target
   < 500 MB, ``getrusage`` max RSS of this process, imports included).
2. A ``--small`` trace (default 500 requests, same distribution and seed) run
   both ways, ``exact`` and ``composed``, at the default rate and at each
   ``--also-rate``: p50/p99 TTFT and TPOT of each and their relative difference
   (target within 1 %), next to how far the *exact* path's own percentiles move
   when every exact iteration is 1 ppm, 0.001 %, 0.01 % or 0.1 % longer or shorter (a trace at a
   queueing tipping point moves a lot: no approximation of the iteration time is
   then held to 1 % by anything but luck).
3. Per iteration, along the exact path's iterations: composed minus exact by
   iteration kind, and on a sample of distinct iterations the split of that
   difference into interpolation (composed vs the same groups simulated at
   their own sizes) and composition (those groups vs the whole layer).

Lengths follow the ShareGPT-like derivation of docs/workloads.md: the vLLM paper
(Kwon et al., SOSP 2023, §6.1) reports ShareGPT means of 161.31 input and 337.99
output tokens; a lognormal with sigma 1.0 has mean = median x exp(0.5), so the
medians are 161.31 / 1.6487 = 97.8 and 337.99 / 1.6487 = 205.0 tokens, clipped to
[1, 2048] (NeuPIMs' cap). The rate (``--rate``, default 4 requests/s) keeps the
256-request batch busy without an unbounded queue; ``--also-rate`` (default 2)
is a lighter load. Both are choices, not data.

Usage: ``python benchmarks/serving_scale.py [--large N] [--small N] [--rate R] [--also-rate R ...]
[--sample K] [--tolerance T]``.
"""

from __future__ import annotations

import argparse
import math
import random
import resource
import time
from pathlib import Path

import numpy as np

from simulator.experiment import resolve_system
from simulator.run import run_system
from simulator.schema import WorkloadSpec
from simulator.serving_compose import iteration_kind
from simulator.serving_run import composed_latency, exact_latency, request_stream, run_serving_system
from workloads.models import load_model
from workloads.serving import BatchLimits, simulate_serving
from workloads.serving_steps import bucket_batch

SHAREGPT_MEAN_PROMPT, SHAREGPT_MEAN_OUTPUT = 161.31, 337.99  # vLLM paper §6.1 (docs/workloads.md)
SIGMA = 1.0  # docs/workloads.md: chosen for the long right tail, not fitted
TIME_TARGET_S, MEMORY_TARGET_MB, ERROR_TARGET = 60.0, 500.0, 0.01
PERTURBATIONS = tuple(1 + s * e for e in (1e-6, 1e-5, 1e-4, 1e-3) for s in (1, -1))  # every exact iteration x
METRICS = (("ttft_s", "p50"), ("ttft_s", "p99"), ("tpot_s", "p50"), ("tpot_s", "p99"))


def workload(count: int, rate: float, latency: str, tolerance: float | None = None) -> WorkloadSpec:
    def lengths(mean: float) -> dict:
        return {"kind": "lognormal", "median_tokens": round(mean / math.exp(SIGMA ** 2 / 2)),
                "sigma": SIGMA, "low": 1, "high": 2048}
    return WorkloadSpec.model_validate({
        "model": "llama2-7b", "phase": "serving",
        "serving": {"rate_per_s": rate, "count": count, "prompt": lengths(SHAREGPT_MEAN_PROMPT),
                    "output": lengths(SHAREGPT_MEAN_OUTPUT), "max_batch": 256, "latency": latency,
                    **({} if tolerance is None else {"interpolation_tolerance": tolerance})}})


def trace_parameters(spec: WorkloadSpec, seed: int) -> str:
    s = spec.serving
    def dist(d) -> str:
        return f"lognormal(median {d.median_tokens}, sigma {d.sigma:g}, [{d.low}, {d.high}])"
    return (f"{s.count} requests, Poisson {s.rate_per_s:g}/s, seed {seed}, prompt {dist(s.prompt)}, "
            f"output {dist(s.output)}, max_batch {s.max_batch}, kv_bucket_tokens {s.kv_bucket_tokens}, "
            f"interpolation_tolerance {s.interpolation_tolerance:g}, whole prompts (no chunking)")


def run(count: int, rate: float, latency: str, system, seed: int = 0, tolerance: float | None = None):
    spec = workload(count, rate, latency, tolerance)
    requests = request_stream(spec.serving, seed, Path("."))
    start, cpu = time.perf_counter(), time.process_time()
    result = run_serving_system(spec, load_model("llama2-7b"), requests, system, run_system)
    return result, time.perf_counter() - start, time.process_time() - cpu


def percentiles(result) -> dict:
    stats = result.percentiles()
    return {key: stats[key[0]][key[1]] for key in METRICS}


def side_by_side(count: int, rate: float, system, seed: int = 0, sample: int = 0,
                 tolerance: float | None = None) -> dict:
    """The small trace both ways, the exact path's own sensitivity, and per-iteration differences."""
    spec, config = workload(count, rate, "exact", tolerance), load_model("llama2-7b")
    requests = request_stream(spec.serving, seed, Path("."))
    limits = BatchLimits(max_batch=spec.serving.max_batch)
    print(f"\n{trace_parameters(spec, seed)}; Llama-2-7B on tpuv4-like")
    runs = {}
    for name, make in (("exact", exact_latency), ("composed", composed_latency)):
        latency = make(spec, config, system, run_system)
        start = time.perf_counter()
        runs[name] = (simulate_serving(requests, latency, limits, keep_iterations=False),
                      time.perf_counter() - start, latency)
    (exact, exact_s, exact_fn), (composed, composed_s, composed_fn) = runs["exact"], runs["composed"]
    print(f"  exact {exact_s:.1f} s ({len(exact_fn.cache)} whole-layer simulations), "
          f"composed {composed_s:.1f} s ({composed_fn.simulations()} group simulations), "
          f"{exact.summary()['iterations']} iterations; widest composed bracket {composed_fn.bracket:.2%}")
    reference = percentiles(exact)
    rows = {"composed": percentiles(composed)}
    for factor in PERTURBATIONS:
        scaled = simulate_serving(requests, lambda batch, f=factor: exact_fn(batch) * f, limits,
                                  keep_iterations=False)
        rows[f"exact x {factor:.6f}"] = percentiles(scaled)
    table(reference, rows)
    per_iteration(requests, limits, exact_fn, composed_fn, sample, seed)
    errors = {k: rows["composed"][k] / reference[k] - 1 for k in reference}
    for key, error in errors.items():
        moved = [rows[name][key] / reference[key] - 1 for name in rows if name != "composed"]
        lo, hi = min(moved + [0.0]), max(moved + [0.0])
        print(f"  {key[0][:-2].upper()} {key[1]}: composed {error:+.3%} (target within {ERROR_TARGET:.0%}: "
              f"{'met' if abs(error) <= ERROR_TARGET else 'NOT met'}); the exact path itself spans "
              f"[{lo:+.3%}, {hi:+.3%}] under the perturbations above; composed "
              f"{'inside' if lo <= error <= hi else 'outside'} that range")
    return errors


def table(reference: dict, rows: dict) -> None:
    print(f"  {'':18}" + "".join(f"{m[:-2].upper()} {p:>4} ".rjust(16) for m, p in reference))
    print(f"  {'exact (ms)':18}" + "".join(f"{v * 1e3:16.3f}" for v in reference.values()))
    for name, values in rows.items():
        print(f"  {name:18}" + "".join(f"{values[k] / reference[k] - 1:+16.3%}" for k in reference))


def per_iteration(requests, limits, exact_fn, composed_fn, sample: int, seed: int) -> None:
    """Composed minus exact along the exact path's iterations, by kind; its causes on a sample."""
    errors: dict[str, list[float]] = {}
    distinct: dict[tuple, object] = {}

    def both(batch):
        seconds = exact_fn(batch)
        errors.setdefault(iteration_kind(batch), []).append(composed_fn(batch) / seconds - 1)
        bucketed = bucket_batch(batch, composed_fn.kv_bucket_tokens)
        distinct.setdefault(key_of(bucketed), bucketed)
        return seconds
    simulate_serving(requests, both, limits, keep_iterations=False)
    for kind, values in sorted(errors.items()):
        a = np.array(values)
        print(f"  per iteration, {kind}: {len(a)} iterations, composed - exact: mean {a.mean():+.3%}, "
              f"std {a.std():.3%}, 1st/99th percentile {np.percentile(a, 1):+.3%} / {np.percentile(a, 99):+.3%}, "
              f"max |{np.abs(a).max():.3%}|")
    if sample:
        causes(distinct, exact_fn, composed_fn, sample, seed)


def key_of(batch) -> tuple:
    decode, prefill = ~batch.is_prefill, batch.is_prefill
    return (int(decode.sum()), int(batch.kv_tokens[decode].max(initial=0)),
            tuple(zip(batch.query_tokens[prefill].tolist(), batch.kv_tokens[prefill].tolist())))


def causes(distinct: dict, exact_fn, composed_fn, sample: int, seed: int) -> None:
    """On ``sample`` distinct iterations of each kind: interpolation vs composition error."""
    by_kind: dict[str, list] = {}
    for batch in distinct.values():
        by_kind.setdefault(iteration_kind(batch), []).append(batch)
    rng = random.Random(seed)
    for kind, batches in sorted(by_kind.items()):
        picked = rng.sample(batches, min(sample, len(batches)))
        interp, compose = [], []
        for batch in picked:
            whole, groups = exact_fn(batch), composed_fn.uninterpolated_s(batch)
            interp.append(composed_fn(batch) / groups - 1)
            compose.append(groups / whole - 1)
        print(f"  causes, {kind} ({len(picked)} of {len(batches)} distinct): interpolation mean "
              f"{np.mean(interp):+.3%} max |{np.max(np.abs(interp)):.3%}|; composition (groups at their own "
              f"sizes vs whole layer) mean {np.mean(compose):+.3%} max |{np.max(np.abs(compose)):.3%}|")


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--rate", type=float, default=4.0)
    parser.add_argument("--also-rate", type=float, nargs="*", default=[2.0])
    parser.add_argument("--sample", type=int, default=12, help="distinct iterations per kind split by cause")
    parser.add_argument("--tolerance", type=float, default=None, help="serving.interpolation_tolerance "
                        "(default: the schema's)")
    args = parser.parse_args()
    system = resolve_system("npu", "tpuv4-like", {}, [], Path("."))

    large, large_s, large_cpu_s = run(args.large, args.rate, "composed", system, tolerance=args.tolerance)
    s = large.serving
    spec = workload(args.large, args.rate, "composed", args.tolerance)
    print(f"{trace_parameters(spec, 0)}; composed: {large_s:.1f} s wall, "
          f"{large_cpu_s:.1f} s CPU (target < {TIME_TARGET_S:.0f}), max RSS {max_rss_mb():.0f} MB "
          f"(target < {MEMORY_TARGET_MB:.0f}); {s['iterations']} iterations, makespan {s['makespan_s']:.0f} s")
    print(f"  {large.notes[-1]}")

    for rate in (args.rate, *args.also_rate):
        errors = side_by_side(args.small, rate, system, sample=args.sample, tolerance=args.tolerance)
        worst = max(map(abs, errors.values()))
        print(f"  at {rate:g}/s: worst composed p50/p99 TTFT/TPOT difference {worst:.3%} "
              f"(target within {ERROR_TARGET:.0%})")


if __name__ == "__main__":
    main()
