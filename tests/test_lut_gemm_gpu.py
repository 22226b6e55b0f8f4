"""LUT-GEMM as a GEMM option of the GPU model (kind: lut-gemm)."""

import dataclasses

import pytest

from arch import registry
from arch.lut.lutgemm import GemmKernel, LutGemmOptions, bank_conflict_degree, lut_gemm_compute_cycles
from arch.lut.published import LUT_GEMM_OPT175B_1GPU_MS
from workloads.layers import build_decoder_layer
from workloads.models import load_model
from workloads.op import Op, OpKind

GEMV = Op("gemv", OpKind.GEMM, 1, 12288, 12288, b_bits=3)


def build(**changes):
    return registry.build({**registry.preset_spec("a100-lut-gemm"), **changes})


def test_bank_conflicts():
    assert bank_conflict_degree(32, 32, 4, 4) == 1.0       # one word per bank: never a conflict
    assert bank_conflict_degree(32, 2, 2, 4) == 1.0        # one word: a broadcast
    degree = bank_conflict_degree(32, 256, 2, 4)           # LUT-GEMM's 256 fp16 entries
    assert 2.0 < degree < 4.0 and degree == bank_conflict_degree(32, 256, 2, 4)


def test_the_kernel_option_chooses_the_path():
    accel = build()
    dequant = accel.op_cost(GEMV, options=LutGemmOptions(gemm_kernel=GemmKernel.DEQUANT))
    gpu = registry.build(registry.preset_spec("a100-80gb"))
    assert dequant == gpu.op_cost(GEMV)
    lut = accel.op_cost(GEMV, options=LutGemmOptions(gemm_kernel=GemmKernel.LUT_GEMM))
    assert lut != dequant and lut.read_bytes == dequant.read_bytes
    wide = dataclasses.replace(GEMV, b_bits=8)            # beyond 4 bits: the dequantised GEMM
    assert accel.op_cost(wide) == gpu.op_cost(wide)


def test_lookup_time_grows_with_bits_and_batch():
    spec = build().spec
    one, three = (lut_gemm_compute_cycles(spec, dataclasses.replace(GEMV, b_bits=b)) for b in (1, 3))
    assert 2.5 * one < three <= 3 * one + 1
    assert lut_gemm_compute_cycles(spec, dataclasses.replace(GEMV, m=64)) > 50 * one


def opt175b_token_ms(bits):
    accel = build()
    layer = build_decoder_layer(load_model("opt-175b"), "decode", 1, 128, bits, 16, 16)
    return sum(accel.op_seconds(op) for op in layer.ops) * layer.repeat * 1e3


def test_opt175b_cost_of_one_bit_plane():
    # the per-bit increment of LUT-GEMM's Table 4 (30.4 -> 51.6 ms over 1 -> 3 bits): bytes and lookups per plane
    model = (opt175b_token_ms(3) - opt175b_token_ms(1)) / 2
    published = (LUT_GEMM_OPT175B_1GPU_MS[3] - LUT_GEMM_OPT175B_1GPU_MS[1]) / 2
    assert model == pytest.approx(published, rel=0.2)


@pytest.mark.xfail(strict=True, reason="per-token latencies come out 20-50 % low: about 14 ms per token of the "
                   "measured FasterTransformer runs is not explained by weight streaming and table lookups")
@pytest.mark.parametrize("bits", sorted(LUT_GEMM_OPT175B_1GPU_MS))
def test_opt175b_per_token_latency(bits):
    assert opt175b_token_ms(bits) == pytest.approx(LUT_GEMM_OPT175B_1GPU_MS[bits], rel=0.2)
