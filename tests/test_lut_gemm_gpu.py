"""LUT-GEMM as a GEMM option of the GPU model (kind: lut-gemm)."""

import dataclasses

import pytest

from arch import registry
from arch.lut.lutgemm import GemmKernel, LutGemmOptions, bank_conflict_degree, lut_gemm_compute_cycles
from arch.lut.lutgemm_decode import fit_launch_overhead_s, is_fit_run, runs, token_ms
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
    gpu = registry.build({**registry.preset_spec("a100-80gb"), "launch_overhead_s": accel.spec.launch_overhead_s})
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


def opt175b_token_ms(bits, tp=1):
    return token_ms("opt-175b", "lut_gemm", bits, tp)


def test_each_call_clears_its_output_first():
    # the repository's matmul: cudaMemset(output) then the LUT kernel -- two kernel gaps per call
    gap = build().spec.launch_cycles
    free = build(launch_overhead_s=0.0)
    assert build().op_cost(GEMV).compute_cycles - free.op_cost(GEMV).compute_cycles == 2 * gap


def test_preset_gap_is_the_fit():
    # fitted on Table 3's cuBLAS FP16 LLaMA rows only (arch/lut/lutgemm_decode.py)
    assert build().spec.launch_overhead_s == pytest.approx(fit_launch_overhead_s(), rel=0.01)
    assert 5e-6 < fit_launch_overhead_s() < 10e-6


def test_opt175b_cost_of_one_bit_plane():
    # the per-bit increment of LUT-GEMM's Table 4 (30.4 -> 51.6 ms over 1 -> 3 bits): bytes and lookups per plane
    model = (opt175b_token_ms(3) - opt175b_token_ms(1)) / 2
    published = (LUT_GEMM_OPT175B_1GPU_MS[3] - LUT_GEMM_OPT175B_1GPU_MS[1]) / 2
    assert model == pytest.approx(published, rel=0.2)


@pytest.mark.parametrize("bits", sorted(LUT_GEMM_OPT175B_1GPU_MS))
def test_opt175b_per_token_latency(bits):
    # [LG] Table 4, one A100-80GB: 30.4 / 40.1 / 51.6 ms; not fitted on (the gap comes from Table 3's FP16 rows)
    assert opt175b_token_ms(bits) == pytest.approx(LUT_GEMM_OPT175B_1GPU_MS[bits], rel=0.2)


# LLaMA-30B on 4 GPUs: most of the modelled token is kernel gaps, and the layer graph has q/k/v and
# gate/up as separate GEMMs, each with its cudaMemset -- more kernels than the measured runs launch.
LLAMA30_4GPU = {("llama-30b", "lut_gemm", 3, 4)}
CHECK_RUNS = [r for r in runs() if not is_fit_run(r[0], r[1])]


@pytest.mark.parametrize("run", CHECK_RUNS, ids=lambda r: f"{r[0]}-{r[1]}-q{r[2]}-tp{r[3]}")
def test_unfitted_runs_of_tables_3_and_4(run, request):
    model, kernel, bits, tp, group, ms = run
    if (model, kernel, bits, tp) in LLAMA30_4GPU:
        request.applymarker(pytest.mark.xfail(strict=True, reason="kernel gaps over-counted (LLAMA30_4GPU)"))
    assert token_ms(model, kernel, bits, tp, group) == pytest.approx(ms, rel=0.2)


def test_fit_runs_within_their_spread():
    fitted = [token_ms(m, k, b, tp, g) / ms - 1 for m, k, b, tp, g, ms in runs() if is_fit_run(m, k)]
    assert len(fitted) == 5 and max(map(abs, fitted)) < 0.06


def test_more_bits_and_fewer_gpus_never_faster():
    for tp in (1, 2, 4, 8):
        times = [opt175b_token_ms(b, tp) for b in (1, 2, 3, 4)]
        assert times == sorted(times)
    for bits in (1, 2, 3):
        times = [opt175b_token_ms(bits, tp) for tp in (8, 4, 2, 1)]
        assert times == sorted(times)
