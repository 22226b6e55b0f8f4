"""Numba CUDA reference kernels (run by the CUDA simulator here) and the functional checks built on them."""

import dataclasses

import numpy as np
import pytest

from arch.systolic import functional
from arch.systolic.spec import SystolicSpec
from simulator.reference import checks, kernels
from workloads.layers import build_decoder_layer
from workloads.models import load_model


def small_spec(dataflow, sram_bytes=256, pe_dtype="fp16"):
    # 4x4 array, 256-byte scratchpads: a 12x20x24 fp16 GEMM needs several tiles in every dimension.
    return SystolicSpec(rows=4, cols=4, dataflow=dataflow, pe_dtype=pe_dtype, ifmap_sram_bytes=sram_bytes,
                        filter_sram_bytes=sram_bytes, ofmap_sram_bytes=sram_bytes,
                        dram_bandwidth_bytes_per_s=1e10)


def test_gemm_kernel_equals_numpy_on_shapes_that_are_not_tile_multiples():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((13, 21)).astype(np.float32), rng.standard_normal((21, 10)).astype(np.float32)
    assert np.allclose(kernels.gemm(a, b), a @ b, rtol=1e-5, atol=1e-5)


def test_softmax_rows_sum_to_one_and_match_numpy():
    x = np.random.default_rng(2).standard_normal((6, 11)) * 20
    y = kernels.softmax_rows(x)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    assert np.allclose(y, e / e.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-7)
    assert np.allclose(y.sum(axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize("dataflow", ["ws", "os", "is"])
def test_systolic_schedule_computes_the_gemm_and_reads_what_the_plan_counts(dataflow):
    check = checks.check_systolic_gemm(small_spec(dataflow), 12, 20, 24)
    assert check.ok, check
    assert check.max_abs_error < check.tolerance


def test_int8_arrays_accumulate_exactly():
    check = checks.check_systolic_gemm(small_spec("ws", pe_dtype="int8"), 8, 12, 16, seed=3)
    assert check.max_abs_error == 0.0 and check.ok


def test_the_check_catches_a_plan_that_skips_part_of_the_reduction(monkeypatch):
    real_plan = checks.plan_gemm

    def short_plan(*args, **kwargs):
        plan = real_plan(*args, **kwargs)
        return dataclasses.replace(plan, tiles_k=plan.tiles_k - 1)
    monkeypatch.setattr(checks, "plan_gemm", short_plan)
    check = checks.check_systolic_gemm(small_spec("ws"), 12, 20, 24)
    assert not check.ok and check.max_abs_error > 100 * check.tolerance


def test_the_check_catches_byte_accounting_that_differs_from_the_schedule(monkeypatch):
    real_plan = checks.plan_gemm
    monkeypatch.setattr(checks, "plan_gemm",
                        lambda *a, **k: dataclasses.replace(real_plan(*a, **k), weight_reads=1))
    check = checks.check_systolic_gemm(small_spec("ws"), 12, 20, 24)
    assert check.mismatches and "weight reads" in check.mismatches[0]


def test_bf16_rounding_keeps_eight_significant_bits():
    values = np.array([1.0 + 2 ** -8, 1.0 + 3 * 2 ** -8, 3.14159265])
    assert functional.to_pe_dtype(values, "bf16").tolist() == [1.0, 1.015625, 3.140625]


@pytest.mark.parametrize("heads,kv_heads", [(4, 2), (4, 4), (4, 1)])
def test_decode_attention_ops_compute_per_head_attention(heads, kv_heads):
    config = load_model({"name": "tiny", "hidden_size": 32, "num_layers": 1, "num_heads": heads,
                         "num_kv_heads": kv_heads, "ffn_size": 64, "activation": "swiglu", "norm": "rmsnorm",
                         "vocab_size": 100, "position": "rope", "max_positions": 64})
    workload = build_decoder_layer(config, "decode", batch=2, seq_len=9)
    check = checks.check_attention_ops(config, workload, kv_len=10)
    assert check.ok, check


def test_split_k_gemv_partial_sums_add_up():
    check = checks.check_split_k_gemv(40, 12, parts=4)
    assert check.ok, check
