"""Turning an experiment's ``workload:`` block into a :class:`~workloads.graph.Workload`.

A model (preset name, ``config.json`` path or inline fields) becomes one decoder
layer repeated ``num_layers`` times; an ``ops:`` list becomes a chain of GEMMs.
Errors from the workload layer are re-raised as input errors naming the key.
"""

from __future__ import annotations

from simulator.errors import InputError, Problem
from simulator.schema import WorkloadSpec
from workloads.graph import Workload
from workloads.layers import build_decoder_layer, build_gemm_list
from workloads.models import ModelConfig, load_model


def build_workload(spec: WorkloadSpec, source: str = "workload") -> Workload:
    if spec.ops is not None:
        ops = [dict(op.model_dump(), a_bits=spec.act_bits, b_bits=spec.weight_bits, out_bits=spec.act_bits)
               for op in spec.ops]
        return _guarded(lambda: build_gemm_list(ops), "workload.ops", source)
    config = model_config(spec, source)
    return _guarded(lambda: build_decoder_layer(
        config, phase=spec.phase, batch=spec.batch, seq_len=spec.seq_len,
        weight_bits=spec.weight_bits, act_bits=spec.act_bits, kv_bits=spec.kv_bits,
        weight_group_size=spec.weight_group_size, scale_bits=spec.scale_bits, tp=spec.tp,
    ), "workload", source)


def model_config(spec: WorkloadSpec, source: str = "workload") -> ModelConfig:
    return _guarded(lambda: load_model(spec.model), "workload.model", source)


def _guarded(build, path: str, source: str):
    try:
        return build()
    except (ValueError, KeyError, FileNotFoundError, NotImplementedError) as err:
        raise InputError(source, [Problem(path, str(err).strip("'\""))]) from None
