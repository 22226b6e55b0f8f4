"""Turning an experiment's ``workload:`` block into a :class:`~workloads.graph.Workload`.

A model (preset name, ``config.json`` path or inline fields) becomes one decoder
layer repeated ``num_layers`` times; an ``ops:`` list becomes a chain of GEMMs; a
``trace:`` file is imported as it was written (:mod:`workloads.tracefile`). A
decode step with ``kv_lens`` (each request its own KV length, as in a
continuous-batching decode batch) is built by
:func:`workloads.serving_steps.iteration_workload` on a decode-only batch, which
times attention at the requests' mean KV length rounded up (exact FLOPs and
KV-cache bytes to within one position per request).

:func:`resolve_workload` runs when an experiment is loaded: it reads ``trace``
relative to the experiment file's folder and draws ``kv_lens`` from its
distribution with the experiment's seed (``numpy.random.default_rng(seed)``), so
the resolved experiment in ``results.json`` lists the lengths that were run and
the same seed always gives the same workload. Errors from the workload layer are
re-raised as input errors naming the key.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from pydantic import ValidationError

from simulator.errors import InputError, Problem, error_text, from_validation_error
from simulator.schema import GemmOpSpec, LengthSpec, WorkloadSpec
from workloads.errors import WorkloadError
from workloads.graph import Workload
from workloads.layers import build_decoder_layer, build_gemm_list
from workloads.models import ModelConfig, load_model
from workloads import requests
from workloads.input_files import MAX_DATA_FILE_BYTES
from workloads.requests import LengthDist
from workloads.serving import Batch
from workloads.serving_steps import iteration_workload
from workloads.topology import read_topology
from workloads.tracefile import import_workload

# Keys a trace file fixes by itself; giving one next to ``trace`` is an error.
_TRACE_FIXES = ("phase", "batch", "seq_len", "kv_lens", "weight_bits", "act_bits", "kv_bits",
                "weight_group_size", "scale_bits", "tp", "serving", "attention", "softmax_passes", "kv_splits")
_ATTENTION_KEYS = ("attention", "softmax_passes", "kv_splits")
TOPOLOGY_BITS = 8  # SCALE-Sim's word (scalesim 3.0.0 counts operands in one-byte words)


def build_workload(spec: WorkloadSpec, source: str = "workload", *, seed: int = 0) -> Workload:
    """The workload of ``spec``; ``seed`` draws ``kv_lens`` if they are still a distribution."""
    problems = workload_problems(spec)
    if problems:
        raise InputError(source, problems)
    if spec.trace is not None:
        return _guarded(lambda: import_workload(spec.trace), "workload.trace", source)
    if spec.ops is not None:
        ops = [dict(op.model_dump(), a_bits=spec.act_bits, b_bits=spec.weight_bits, out_bits=spec.act_bits)
               for op in spec.ops]
        return _guarded(lambda: build_gemm_list(ops), "workload.ops", source)
    config = model_config(spec, source)
    if spec.kv_lens is not None:
        lengths = _guarded(lambda: kv_lengths(spec, seed), "workload.kv_lens", source)
        return _guarded(lambda: decode_batch_workload(config, lengths, spec), "workload", source)
    return _guarded(lambda: build_decoder_layer(
        config, phase=spec.phase, batch=spec.batch, seq_len=spec.seq_len,
        weight_bits=spec.weight_bits, act_bits=spec.act_bits, kv_bits=spec.kv_bits,
        weight_group_size=spec.weight_group_size, scale_bits=spec.scale_bits, tp=spec.tp,
        attention=spec.attention, softmax_passes=spec.softmax_passes, kv_splits=spec.kv_splits,
    ), "workload", source)


def model_config(spec: WorkloadSpec, source: str = "workload") -> ModelConfig:
    return _guarded(lambda: load_model(spec.model), "workload.model", source)


def _guarded(build, path: str, source: str):
    try:
        return build()
    except (ValueError, KeyError, FileNotFoundError, NotImplementedError) as err:
        raise InputError(source, [Problem(path, error_text(err))]) from None
    except RecursionError:  # a JSON file nested thousands deep
        raise InputError(source, [Problem(path, "the file is nested too deeply to read")]) from None


def _topology_ops(topology: str, base_dir: Path) -> tuple[list[GemmOpSpec], Problem | None]:
    """A SCALE-Sim topology file's layers as ``ops`` (read relative to the experiment file's folder)."""
    path = Path(topology)
    path = path if path.is_absolute() else base_dir / path
    try:
        layers = read_topology(path)
    except (WorkloadError, ValueError) as err:
        return [], Problem("workload.topology", error_text(err))
    ops, bad = [], []
    for layer in layers:
        try:
            ops.append(GemmOpSpec.model_validate(layer))
        except ValidationError as err:
            bad += [f"layer {layer['name']!r}: {p}" for p in from_validation_error(err, GemmOpSpec)]
    if bad:
        return [], Problem("workload.topology", f"{path}: " + "; ".join(bad[:10]))
    return ops, None


# -- cross-field rules ------------------------------------------------------------------
def workload_problems(spec: WorkloadSpec) -> list[Problem]:
    """Rules for ``trace`` and ``kv_lens`` that the schema alone cannot express."""
    given = spec.model_fields_set
    problems = _attention_problems(spec)
    if spec.trace is not None:
        clashing = [key for key in _TRACE_FIXES if key in given]
        if clashing:
            problems.append(Problem("workload.trace", (
                f"a trace file fixes its own ops, phase, batch and bit widths: remove "
                f"{', '.join(repr(k) for k in clashing)} from the workload block, or drop 'trace'")))
    if spec.kv_lens is None or spec.trace is not None:
        return problems
    if "seq_len" in given:
        problems.append(Problem("workload.kv_lens", (
            f"'kv_lens' and 'seq_len' both set the decode KV length (seq_len: {spec.seq_len}): "
            "give one of them")))
    if spec.phase != "decode":
        problems.append(Problem("workload.kv_lens", (
            f"per-request KV lengths need phase 'decode', got phase {spec.phase!r}")))
    if spec.ops is not None:
        problems.append(Problem("workload.kv_lens", "per-request KV lengths need a 'model', not 'ops'"))
    if isinstance(spec.kv_lens, list) and "batch" in given and len(spec.kv_lens) != spec.batch:
        problems.append(Problem("workload.kv_lens", (
            f"lists {len(spec.kv_lens)} lengths but batch is {spec.batch}: give one length per request")))
    return problems


def _attention_problems(spec: WorkloadSpec) -> list[Problem]:
    """The attention keys need a model's layers and fit together (workloads/attention.py)."""
    given = [key for key in _ATTENTION_KEYS if key in spec.model_fields_set]
    if given and (spec.ops is not None or spec.phase == "serving"):
        where = "an 'ops' list" if spec.ops is not None else "phase 'serving'"
        return [Problem(f"workload.{given[0]}", f"attention algorithms apply to a model's prefill or decode "
                                                 f"layers, not to {where}: remove {given[0]!r}")]
    problems = []
    if spec.softmax_passes != 1 and spec.attention != "unfused":
        problems.append(Problem("workload.softmax_passes", (
            f"applies to attention 'unfused' (a fused kernel keeps its scores on chip), got attention "
            f"{spec.attention!r}")))
    if spec.kv_splits is not None and spec.attention not in ("flashdecoding", "flashdecoding++"):
        problems.append(Problem("workload.kv_splits", (
            f"applies to attention 'flashdecoding' or 'flashdecoding++', got attention {spec.attention!r}")))
    return problems


# -- per-request KV lengths -------------------------------------------------------------
def kv_lengths(spec: WorkloadSpec, seed: int = 0) -> np.ndarray:
    """Each decode request's KV length (tokens already cached): listed, or ``batch`` draws."""
    if isinstance(spec.kv_lens, list):
        return np.asarray(spec.kv_lens, dtype=np.int64)
    return length_dist(spec.kv_lens).sample(np.random.default_rng(seed), spec.batch)


def length_dist(spec: LengthSpec) -> LengthDist:
    """A :class:`LengthSpec` as a distribution (:func:`workloads.requests.length_dist`)."""
    return requests.length_dist(**spec.model_dump())


def decode_batch_workload(config: ModelConfig, kv_lens: np.ndarray, spec: WorkloadSpec) -> Workload:
    """One decode step of ``len(kv_lens)`` requests, request ``i`` with ``kv_lens[i]`` cached tokens."""
    size = len(kv_lens)
    batch = Batch(index=0, start_s=0.0, request_ids=np.arange(size), is_prefill=np.zeros(size, bool),
                  query_tokens=np.ones(size, np.int64), kv_tokens=np.asarray(kv_lens, np.int64) + 1)
    workload = iteration_workload(config, batch, spec.weight_bits, spec.act_bits, spec.kv_bits,
                                  weight_group_size=spec.weight_group_size,
                                  scale_bits=spec.scale_bits, tp=spec.tp, attention=spec.attention,
                                  softmax_passes=spec.softmax_passes, kv_splits=spec.kv_splits)
    mean = float(np.mean(kv_lens))
    # each request's KV tokens (cached + the new one), for mappers that place requests by length
    per_request = ("request_kv_tokens", ",".join(str(int(n) + 1) for n in kv_lens))
    return dataclasses.replace(workload, name=f"{config.name}-decode-b{size}-kvmean{mean:.0f}",
                               meta=workload.meta + (("kv_lens_min", int(np.min(kv_lens))),
                                                     ("kv_lens_max", int(np.max(kv_lens))), per_request))


# -- resolution at load time -------------------------------------------------------------
def resolve_workload(spec: WorkloadSpec, seed: int, base_dir: Path) -> tuple[WorkloadSpec, list[Problem]]:
    """``spec`` with ``trace`` made absolute and ``kv_lens`` drawn; plus the problems found.

    A model file (``config.json`` or YAML) is read from the working folder, or
    else from the experiment file's folder, as an ``arch`` file is.
    """
    problems = workload_problems(spec)
    if problems:
        return spec, problems
    update: dict = {}
    if isinstance(spec.model, str) and ("/" in spec.model or spec.model.endswith((".json", ".yaml", ".yml"))):
        path = Path(spec.model)
        if not path.is_absolute() and not path.exists() and (base_dir / path).exists():
            update["model"] = str(base_dir / path)  # as for arch files: the working folder, then the file's
    if spec.trace is not None:
        path = Path(spec.trace)
        path = path if path.is_absolute() else base_dir / path
        if not path.is_file():
            problems.append(Problem("workload.trace", (
                f"trace file not found: {path} (a relative path is read from the experiment "
                "file's folder)")))
        elif path.stat().st_size > MAX_DATA_FILE_BYTES:
            problems.append(Problem("workload.trace", (
                f"{path} is {path.stat().st_size} bytes, over the {MAX_DATA_FILE_BYTES}-byte limit for a trace file")))
        update["trace"] = str(path)
    if spec.topology is not None:
        ops, problem = _topology_ops(spec.topology, base_dir)
        if problem:
            problems.append(problem)
        else:
            update.update(ops=ops, topology=None)
            # SCALE-Sim's operands are one-byte words: its topologies run at 8 bits unless the block says
            update.update({key: TOPOLOGY_BITS for key in ("act_bits", "weight_bits")
                           if key not in spec.model_fields_set})
    if spec.kv_lens is not None:
        try:
            lengths = kv_lengths(spec, seed)
        except ValueError as err:
            problems.append(Problem("workload.kv_lens", str(err)))
        else:
            update["kv_lens"] = [int(n) for n in lengths]
            update["batch"] = len(lengths)
    return spec.model_copy(update=update), problems
