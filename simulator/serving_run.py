"""Serving experiments: a request stream batched iteration by iteration on a system.

The request stream (Poisson arrivals or a CSV trace) goes through the
continuous-batching loop of :mod:`workloads.serving`; each iteration's latency is
the simulated time of that iteration's decoder layers on the system
(:func:`simulator.run.run_system` on :func:`workloads.serving_steps.iteration_workload`).
Iterations are bucketed by KV length (``kv_bucket_tokens``) and each distinct one
is simulated once, so a long trace costs a few hundred simulations. Energy is the
sum over iterations of each simulated iteration's energy; the run's time is the
makespan of the trace. Percentiles of TTFT, TPOT and end-to-end latency are
reported under ``serving`` in the results.
"""

from __future__ import annotations

from pathlib import Path

from simulator.errors import InputError, Problem
from simulator.experiment import ResolvedSystem
from simulator.results import ENERGY_CATEGORIES, SystemResult
from simulator.schema import ServingSpec, WorkloadSpec
from workloads.models import ModelConfig
from simulator.workload_spec import length_dist
from workloads.requests import RequestStream, poisson_requests, read_request_csv
from workloads.serving import BatchLimits, simulate_serving
from workloads.serving_steps import cached_latency, iteration_workload


def request_stream(spec: ServingSpec, seed: int, base_dir: Path) -> RequestStream:
    try:
        if spec.csv is not None:
            path = Path(spec.csv)
            return read_request_csv(path if path.is_absolute() else base_dir / path)
        return poisson_requests(spec.rate_per_s, length_dist(spec.prompt), length_dist(spec.output), seed,
                                count=spec.count, duration_s=spec.duration_s)
    except (ValueError, OSError) as err:
        raise InputError("workload.serving", [Problem("workload.serving", str(err))]) from None


def run_serving_system(workload: WorkloadSpec, config: ModelConfig, requests: RequestStream,
                       system: ResolvedSystem, run_system) -> SystemResult:
    serving = workload.serving
    latency = cached_latency(lambda batch: run_system(_iteration(workload, config, batch), system)[0],
                             serving.kv_bucket_tokens)
    limits = BatchLimits(serving.max_batch, serving.kv_capacity_tokens, serving.max_tokens_per_iter)
    result = simulate_serving(requests, latency, limits)
    return _summarise(system.name, result, latency.cache, latency.counts)


def _iteration(workload: WorkloadSpec, config: ModelConfig, batch):
    return iteration_workload(config, batch, workload.weight_bits, workload.act_bits, workload.kv_bits,
                              weight_group_size=workload.weight_group_size,
                              scale_bits=workload.scale_bits, tp=workload.tp)


def _summarise(name: str, result, cache: dict, counts) -> SystemResult:
    any_run = next(iter(cache.values()))
    by_category = dict.fromkeys(ENERGY_CATEGORIES, 0.0)
    by_component: dict[str, float] = {}
    for key, runs in counts.items():
        for category, pj in cache[key].energy_pj_by_category.items():
            by_category[category] += runs * pj
        for component, pj in cache[key].energy_pj_by_component.items():
            by_component[component] = by_component.get(component, 0.0) + runs * pj
    return SystemResult(
        name=name, kind=any_run.kind, clock_hz=any_run.clock_hz,
        cycles=round(result.makespan_s * any_run.clock_hz), layer_cycles=0, repeat=1,
        energy_pj_by_component=by_component, energy_pj_by_category=by_category,
        area_mm2_by_component=any_run.area_mm2_by_component,
        tokens=int(result.requests.output_tokens.sum()),
        macs=sum(runs * cache[key].macs for key, runs in counts.items()),
        peak_macs_per_cycle=any_run.peak_macs_per_cycle, ops=(),
        notes=any_run.notes + (f"serving: {len(cache)} distinct iterations simulated for "
                               f"{sum(counts.values())} iterations (KV lengths bucketed).",),
        serving=result.summary(), warnings=any_run.warnings,
    )
