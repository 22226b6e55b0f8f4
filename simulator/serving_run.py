"""Serving experiments: a request stream batched iteration by iteration on a system.

The request stream (Poisson arrivals or a CSV trace) goes through the
continuous-batching loop of :mod:`workloads.serving`; each iteration's latency is
the simulated time of that iteration's decoder layers on the system
(:func:`simulator.run.run_system` on :func:`workloads.serving_steps.iteration_workload`).
With ``serving.latency: exact`` (the default) iterations are bucketed by KV length
(``kv_bucket_tokens``) and each distinct one is simulated once as a whole layer;
with ``composed`` an iteration's latency, energy and MACs are
composed from op groups simulated once per size (:mod:`simulator.serving_compose`),
so a long trace costs a few hundred small simulations. Energy is the
sum over iterations of each simulated iteration's energy; the run's time is the
makespan of the trace. Percentiles of TTFT, TPOT and end-to-end latency are
reported under ``serving`` in the results.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

from simulator.errors import InputError, Problem
from simulator.experiment import ResolvedSystem
from simulator.results import ENERGY_CATEGORIES, SystemResult
from simulator.schema import ServingLatency, ServingSpec, WorkloadSpec
from simulator.serving_compose import ComposedLatency, GroupRun
from workloads.models import ModelConfig
from simulator.workload_spec import length_dist
from workloads.requests import RequestStream, poisson_requests, read_request_csv
from workloads.serving import BatchLimits, simulate_serving
from workloads.serving_groups import decode_attention_group, prefill_attention_group, token_group
from workloads.serving_steps import cached_latency, iteration_workload


def request_stream(spec: ServingSpec, seed: int, base_dir: Path) -> RequestStream:
    if spec.csv is not None:
        path = Path(spec.csv)
        try:
            return read_request_csv(path if path.is_absolute() else base_dir / path)
        except UnicodeDecodeError as err:
            raise InputError("workload.serving", [Problem("workload.serving.csv", (
                f"{path}: not UTF-8 text (byte {err.object[err.start]:#04x} at offset {err.start})"))]) from None
        except (ValueError, OSError) as err:
            raise InputError("workload.serving", [Problem("workload.serving.csv", str(err))]) from None
    prompt, output = (_lengths(spec.prompt, "prompt"), _lengths(spec.output, "output"))
    try:
        return poisson_requests(spec.rate_per_s, prompt, output, seed, count=spec.count, duration_s=spec.duration_s)
    except ValueError as err:
        raise InputError("workload.serving", [Problem("workload.serving", str(err))]) from None


def _lengths(spec, key: str):
    try:
        return length_dist(spec)
    except ValueError as err:
        raise InputError("workload.serving", [Problem(f"workload.serving.{key}", str(err))]) from None


SPOT_CHECK_WARN = 0.02  # composed vs whole layer on a checked iteration: warn above this (docs/workloads.md)


def run_serving_system(workload: WorkloadSpec, config: ModelConfig, requests: RequestStream,
                       system: ResolvedSystem, run_system,
                       on_progress: Callable[[int, int], None] | None = None) -> SystemResult:
    """The serving trace on ``system``; ``on_progress(finished, total)`` as the batching loop reports it."""
    serving = workload.serving
    limits = BatchLimits(serving.max_batch, serving.kv_capacity_tokens, serving.max_tokens_per_iter)
    if serving.latency is ServingLatency.COMPOSED:
        return _run_composed(workload, config, requests, system, run_system, limits, on_progress)
    latency = exact_latency(workload, config, system, run_system)
    result = simulate_serving(requests, latency, limits, keep_iterations=False, on_progress=on_progress)
    return _summarise(system.name, result, latency.cache, latency.counts)


def exact_latency(workload: WorkloadSpec, config: ModelConfig, system: ResolvedSystem, run_system):
    """The exact latency function: each distinct bucketed iteration simulated as a whole layer."""
    return cached_latency(lambda batch: run_system(_iteration(workload, config, batch), system)[0],
                          workload.serving.kv_bucket_tokens)


def composed_latency(workload: WorkloadSpec, config: ModelConfig, system: ResolvedSystem,
                     run_system) -> ComposedLatency:
    """The composed latency function of ``system`` (see :mod:`simulator.serving_compose`)."""
    quant = _quant(workload)
    builders = {"tokens": lambda size, kv: token_group(config, size, **quant),
                "decode": lambda size, kv: decode_attention_group(config, size, kv, **quant),
                "prefill": lambda size, kv: prefill_attention_group(config, size, kv, **quant)}
    first: list[SystemResult] = []

    def simulate(kind: str, size: int, kv: int) -> GroupRun:
        result = run_system(builders[kind](size, kv), system)[0]
        if not first:
            first.append(result)
        ops, edges = _op_chain(builders[kind](size, kv), result) if kind != "tokens" else ((), ())
        return GroupRun(result.seconds, dict(result.energy_pj_by_category),
                        dict(result.energy_pj_by_component), float(result.macs), ops, edges)
    latency = ComposedLatency(simulate, workload.serving.kv_bucket_tokens,
                              workload.serving.interpolation_tolerance,
                              exact_s=lambda batch: run_system(_iteration(workload, config, batch), system)[0].seconds)
    latency.first = first  # type: ignore[attr-defined]  # one run's system-level fields, for the summary
    return latency


def _op_chain(workload, result: SystemResult):
    """Per op of ``workload``: its unit kind and the seconds its tasks span (all layers), and its edges."""
    spans: dict[str, list] = {}
    for op in result.ops:
        base = op.name.split("#")[0]
        span = spans.setdefault(base, [op.unit.split("[")[0], op.start_cycle, op.end_cycle])
        span[1], span[2] = min(span[1], op.start_cycle), max(span[2], op.end_cycle)
    names = [op.name for op in workload.ops]
    scale = workload.repeat / result.clock_hz
    ops = tuple((spans[n][0], (spans[n][2] - spans[n][1]) * scale) for n in names)
    index = {n: i for i, n in enumerate(names)}
    return ops, tuple((index[s], index[d]) for s, d in workload.edges)


def _run_composed(workload, config, requests, system, run_system, limits, on_progress=None) -> SystemResult:
    latency = composed_latency(workload, config, system, run_system)
    result = simulate_serving(requests, latency, limits, keep_iterations=False, on_progress=on_progress)
    any_run = latency.first[0]
    by_category, by_component, macs = latency.totals()
    by_category = {name: by_category.get(name, 0.0) for name in ENERGY_CATEGORIES}
    checks = "; ".join(f"{kind}: {c / e - 1:+.2%}" for kind, (c, e) in latency.spot_checks.items())
    warnings = tuple(f"serving: the composed latency of the first iteration with {kind} is {c / e - 1:+.1%} "
                     f"off the whole-layer simulation (more than {SPOT_CHECK_WARN:.0%}): this system overlaps "
                     "op groups in a way composing does not capture; use serving.latency: exact"
                     for kind, (c, e) in latency.spot_checks.items() if abs(c / e - 1) > SPOT_CHECK_WARN)
    any_run = dataclasses.replace(any_run, warnings=any_run.warnings + warnings)
    return _result(system.name, any_run, result, by_category, by_component, round(macs),
                   f"serving: {latency.iterations} iterations composed from {latency.simulations()} "
                   f"op-group simulations (tokens, decode and prefill attention; interpolated where a "
                   f"midpoint check met {workload.serving.interpolation_tolerance:g}; widest monotone bracket "
                   f"{latency.bracket:.2%} of an iteration; attention-group overlap replayed; first iterations "
                   f"checked against the whole layer: {checks or 'none'}).")


def _quant(workload: WorkloadSpec) -> dict:
    return dict(weight_bits=workload.weight_bits, act_bits=workload.act_bits, kv_bits=workload.kv_bits,
                weight_group_size=workload.weight_group_size, scale_bits=workload.scale_bits, tp=workload.tp)


def _iteration(workload: WorkloadSpec, config: ModelConfig, batch):
    return iteration_workload(config, batch, **_quant(workload))


def _summarise(name: str, result, cache: dict, counts) -> SystemResult:
    any_run = next(iter(cache.values()))
    by_category = dict.fromkeys(ENERGY_CATEGORIES, 0.0)
    by_component: dict[str, float] = {}
    for key, runs in counts.items():
        for category, pj in cache[key].energy_pj_by_category.items():
            by_category[category] += runs * pj
        for component, pj in cache[key].energy_pj_by_component.items():
            by_component[component] = by_component.get(component, 0.0) + runs * pj
    return _result(name, any_run, result, by_category, by_component,
                   sum(runs * cache[key].macs for key, runs in counts.items()),
                   f"serving: {len(cache)} distinct iterations simulated for "
                   f"{sum(counts.values())} iterations (KV lengths bucketed).")


def _result(name: str, any_run: SystemResult, result, by_category: dict, by_component: dict,
            macs: int, note: str) -> SystemResult:
    return SystemResult(
        name=name, kind=any_run.kind, clock_hz=any_run.clock_hz,
        cycles=round(result.makespan_s * any_run.clock_hz), layer_cycles=0, repeat=1,
        energy_pj_by_component=by_component, energy_pj_by_category=by_category,
        area_mm2_by_component=any_run.area_mm2_by_component,
        tokens=int(result.requests.output_tokens.sum()), macs=macs,
        peak_macs_per_cycle=any_run.peak_macs_per_cycle, ops=(),
        notes=any_run.notes + (note,), serving=result.summary(), warnings=any_run.warnings,
    )
