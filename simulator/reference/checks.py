"""Functional checks: a model's schedule run on numbers, against a Numba CUDA reference kernel.

* :func:`check_systolic_gemm`: a GEMM executed the way a systolic core's tile
  plan and dataflow schedule it (:mod:`arch.systolic.functional`) equals the
  reference GEMM to a float32-accumulation tolerance, and the DRAM reads the
  execution really makes equal the plan's byte accounting.
* :func:`check_attention_ops`: a decode layer's attention ops as the workload
  builder shapes them (one batched GEMM per KV group, query heads of a group
  stacked in ``m``) compute per-head attention exactly as the reference does,
  GQA included.
* :func:`check_split_k_gemv`: a GEMV whose reduction is cut into slices (the
  layout of a GEMV spread over banks or channels) sums back to the full GEMV.

Data come from a seeded generator, so a failing check is reproducible. The
tolerance is stated with each check and derived from float32 rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arch.systolic.functional import execute_plan, to_pe_dtype
from arch.systolic.spec import SystolicSpec
from arch.systolic.tiling import plan_gemm
from simulator.reference import kernels
from workloads.graph import Workload
from workloads.models import ModelConfig


@dataclass(frozen=True)
class Check:
    """One comparison: the largest error found, the tolerance, and any accounting mismatch."""

    name: str
    max_abs_error: float
    tolerance: float
    mismatches: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.max_abs_error <= self.tolerance and not self.mismatches


def _tolerance(reference: np.ndarray, depth: int) -> float:
    """float32 summation error bound: depth x eps x the largest magnitude, with a floor."""
    return float(depth * np.finfo(np.float32).eps * max(1.0, np.abs(reference).max()) * 4)


def check_systolic_gemm(spec: SystolicSpec, m: int, n: int, k: int, seed: int = 0) -> Check:
    rng = np.random.default_rng(seed)
    inputs, weights = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    bits = spec.pe_bits
    plan = plan_gemm(m, n, k, bits, bits, bits, spec.ifmap_sram_bytes, spec.filter_sram_bytes,
                     spec.ofmap_sram_bytes, spec.dataflow)
    run = execute_plan(inputs, weights, plan, spec.rows, spec.cols, spec.dataflow, spec.pe_dtype)
    reference = kernels.gemm(to_pe_dtype(inputs, spec.pe_dtype), to_pe_dtype(weights, spec.pe_dtype))
    mismatches = []
    if run.input_elements_read != plan.input_reads * m * k:
        mismatches.append(f"input reads {run.input_elements_read} elements, plan says {plan.input_reads * m * k}")
    if run.weight_elements_read != plan.weight_reads * k * n:
        mismatches.append(f"weight reads {run.weight_elements_read} elements, plan says {plan.weight_reads * k * n}")
    error = float(np.abs(run.output.astype(np.float64) - reference).max())
    return Check(f"systolic {spec.dataflow} {m}x{n}x{k}", error, _tolerance(reference, k), tuple(mismatches))


def check_attention_ops(config: ModelConfig, workload: Workload, kv_len: int, seed: int = 0) -> Check:
    """The workload's ``attn_score`` / ``softmax`` / ``attn_context`` shapes, run on numbers, vs per-head attention."""
    ops = {op.name: op for op in workload.ops}
    score, context = ops["attn_score"], ops["attn_context"]
    batch, groups, d = workload.batch, config.num_kv_heads, config.head_dim
    query_len = score.m // (config.num_heads // groups)
    mismatches = _shape_mismatches(score, context, batch * groups, config, kv_len)
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((batch, config.num_heads, query_len, d)).astype(np.float32)
    k = rng.standard_normal((batch, groups, kv_len, d)).astype(np.float32)
    v = rng.standard_normal((batch, groups, kv_len, d)).astype(np.float32)
    per_group = config.num_heads // groups
    error = 0.0
    for b in range(batch):
        for g in range(groups):  # one instance of the batched op: the group's query heads stacked in m
            q_stacked = q[b, g * per_group:(g + 1) * per_group].reshape(score.m, d)
            probs = _softmax(q_stacked @ k[b, g].T / np.sqrt(d))
            out = (probs @ v[b, g]).reshape(per_group, query_len, d)
            for h in range(per_group):
                expected = kernels.attention(q[b, g * per_group + h], k[b, g], v[b, g])
                error = max(error, float(np.abs(out[h] - expected).max()))
    return Check(f"attention {config.name} b{batch} kv{kv_len}", error, _tolerance(v, kv_len), tuple(mismatches))


def _shape_mismatches(score, context, instances: int, config: ModelConfig, kv_len: int) -> list[str]:
    expected = {"score count": (score.count, instances), "score k": (score.k, config.head_dim),
                "score n": (score.n, kv_len), "context k": (context.k, kv_len),
                "context n": (context.n, config.head_dim), "context m": (context.m, score.m)}
    return [f"{what}: workload has {got}, attention needs {want}" for what, (got, want) in expected.items()
            if got != want]


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def check_split_k_gemv(k: int, n: int, parts: int, seed: int = 0) -> Check:
    rng = np.random.default_rng(seed)
    w, x = rng.standard_normal((k, n)).astype(np.float32), rng.standard_normal(k).astype(np.float32)
    partial = kernels.gemv_split_k(w, x, parts)
    reference = kernels.gemm(x[None, :], w)[0]
    error = float(np.abs(partial.sum(axis=0) - reference).max())
    return Check(f"split-k gemv {k}x{n} in {parts}", error, _tolerance(reference, k))
