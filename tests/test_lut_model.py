"""The LUT system model: what runs where, precompute placement, costs, Table 1 shapes."""

import dataclasses
import math

import pytest
from pydantic import ValidationError

from arch import registry
from arch.lut.model import LUT_UNIT, VECTOR_UNIT, LutSystem, array_cycles, lut_kernel_counts
from arch.lut.waves import lut_wave_kernel_py
from arch.lut.options import LutMappingOptions, Precompute
from arch.lut.published import PRECOMPUTE_FUSED, PRECOMPUTE_UNFUSED, TABLE1
from simulator.reproduce.lut_tensor_core import row_ms
from workloads.op import Op, OpKind, Operand

PRESETS = ("a100-lut-4x", "a100-lut-8x", "h100-lut-4x", "h100-lut-8x", "lut-npu")
GEMV = Op("gemv", OpKind.GEMM, 1, 4096, 4096, a_bits=8, b_bits=2)


def build(preset, **changes):
    return registry.build({**registry.preset_spec(preset), **changes})


def test_presets_are_registered():
    assert set(PRESETS) <= set(registry.presets()) and "lut" in registry.kinds()


@pytest.mark.parametrize("preset", PRESETS)
def test_units_and_support(preset):
    accel = build(preset)
    assert accel.candidate_units(GEMV) == (LUT_UNIT,)
    wide = dataclasses.replace(GEMV, b_bits=8)
    assert accel.candidate_units(wide) == (VECTOR_UNIT,)   # W8 exceeds max_weight_bits = 4
    assert accel.candidate_units(Op("s", OpKind.SOFTMAX, 4, 64)) == (VECTOR_UNIT,)
    fp16_kv = Op("attn", OpKind.GEMM, 1, 128, 128, count=8, b_operand=Operand.KV, a_bits=16, b_bits=16)
    assert accel.candidate_units(fp16_kv) == (VECTOR_UNIT,)


def test_int8_kv_runs_bit_serially_only_when_enabled():
    kv = Op("attn", OpKind.GEMM, 1, 128, 128, count=8, b_operand=Operand.KV, a_bits=8, b_bits=8)
    assert build("a100-lut-4x").candidate_units(kv) == (LUT_UNIT,)
    assert build("a100-lut-4x", int_b_bit_serial=False).candidate_units(kv) == (VECTOR_UNIT,)


def test_bad_values_name_the_field():
    with pytest.raises(ValidationError) as info:
        build("a100-lut-4x", array_k=0)
    assert info.value.errors()[0]["loc"] == ("array_k",)
    with pytest.raises(ValidationError, match="weight_buffer_bits"):
        build("a100-lut-4x", weight_buffer_bits=8)
    with pytest.raises(ValidationError):
        build("a100-lut-4x", arrays=4)  # unknown key
    with pytest.raises(ValidationError) as info:
        LutMappingOptions.model_validate({"precompute": "later"})
    assert info.value.errors()[0]["loc"] == ("precompute",)


def seconds(accel, op, precompute=Precompute.FUSED):
    cost = accel.op_cost(op, options=LutMappingOptions(precompute=precompute))
    mem = accel.memories()[0]
    cycles = cost.compute_cycles + mem.transfer_cycles(cost.read_bytes) + mem.transfer_cycles(cost.write_bytes)
    return cycles / accel.clock_hz


def test_separate_precompute_costs_more_than_fused():
    accel = build("a100-lut-4x")
    for op in (GEMV, dataclasses.replace(GEMV, m=2048)):
        fused, separate = (accel.op_cost(op, options=LutMappingOptions(precompute=p)) for p in Precompute)
        assert separate.read_bytes > fused.read_bytes and seconds(accel, op, Precompute.SEPARATE) > seconds(accel, op)
        assert fused.action_counts["vector.add"] == separate.action_counts["vector.add"] > 0


def test_in_array_precompute_rebuilds_tables_per_n_tile():
    conventional = build("a100-lut-4x", precompute_in_array=True, symmetric_tables=False, offline_weight_flip=False)
    op = dataclasses.replace(GEMV, m=64)
    counts = conventional.op_cost(op).action_counts
    lut_tc = build("a100-lut-4x").op_cost(op).action_counts
    tiles = -(-op.n // conventional.spec.columns)
    # 11 adds per 16-entry table and one build per N tile vs 10 adds per 8-entry table once
    assert counts["lut_precompute.add"] == tiles * 11 * op.m * op.k // 4
    assert lut_tc["vector.add"] == 10 * op.m * op.k // 4
    reinterpreted = build("a100-lut-4x", precompute_in_array=True, offline_weight_flip=False)
    again = reinterpreted.op_cost(op).action_counts
    assert again["lut_negation.lookup"] == again["lut_mux.lookup"] and "lut_negation.lookup" not in counts


def test_decode_gemv_is_memory_bound_and_weight_bits_shrink_it():
    accel = build("a100-lut-4x", launch_overhead_s=0.0)
    big = dataclasses.replace(GEMV, n=16384, k=16384)
    w2, w4 = seconds(accel, big), seconds(accel, dataclasses.replace(big, b_bits=4))
    assert w4 == pytest.approx(2 * w2, rel=0.02)  # weight bytes double, the arrays stay idle half the time
    cost = accel.op_cost(big)
    assert accel.roofline_cycles(big) <= cost.compute_cycles + accel.memories()[0].transfer_cycles(cost.read_bytes)


def test_kernel_twins_are_declared():
    names = [name for name, *_ in LutSystem.kernel_twins()]
    assert names == ["lut_mpgemm_kernel", "lut_wave_kernel"]
    for _, jitted, twin, examples in LutSystem.kernel_twins():
        assert all(tuple(jitted(*a)) == tuple(twin(*a)) for a in examples)


# Table 1 rows as simulator/reproduce/lut_tensor_core.py runs them: BitNet b1.58 3B's decoder layers,
# the A100 rows on the GPU model (kind: gpu; the INT8 row dequantises its INT2 weights first), the LUT
# rows on kind: lut.
A100_ROWS = ("A100 FP16 TC", "A100 INT8 TC", "A100-LUT-4X", "A100-LUT-8X")
PHASES = ("prefill", "decode")


def published_ms(row, phase):
    return getattr(TABLE1[row], f"{phase}_ms")


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("a, b", [("A100 FP16 TC", "A100-LUT-4X"), ("A100 FP16 TC", "A100-LUT-8X"),
                                  ("A100 INT8 TC", "A100-LUT-4X"), ("A100-LUT-4X", "A100-LUT-8X")])
def test_table1_speedups_over_the_a100(a, b, phase):
    # L-V5 ratios (+-15 %), [LTC] Table 1 (arch/lut/published.py)
    assert row_ms(a, phase) / row_ms(b, phase) == pytest.approx(published_ms(a, phase) / published_ms(b, phase),
                                                                rel=0.15)


ABSOLUTE_LOW = pytest.mark.xfail(strict=True, reason="below the paper's unreleased tile simulator by more than "
                                 "25 %, for MAC rows (the GPU model, fitted on measured A100 kernels) and LUT rows "
                                 "alike (docs/lut.md)")
ABSOLUTE_CASES = [pytest.param(row, phase, marks=ABSOLUTE_LOW if (row, phase) in {
    ("A100 FP16 TC", "decode"), ("A100 INT8 TC", "prefill"), ("A100-LUT-4X", "prefill"),
    ("A100-LUT-8X", "prefill")} else ()) for row in A100_ROWS for phase in PHASES]


@pytest.mark.parametrize("row, phase", ABSOLUTE_CASES)
def test_table1_absolute_latency(row, phase):
    # L-V5 absolutes (+-25 %): prefill BS1 SEQ2048, decode BS1024 SEQ1
    assert row_ms(row, phase) == pytest.approx(published_ms(row, phase), rel=0.25)


def test_int8_tensor_cores_dequantise_narrow_weights_first():
    # dequantisation-based mpGEMM ([LTC] Fig. 2b): the INT2 weights are unpacked to int8 by a kernel of
    # their own before the int8 GEMM, so the INT8 row costs more than the same GEMMs on int8 weights
    from simulator.reproduce.lut_tensor_core import build as build_row, dequant_kernel, op_seconds
    gpu = build_row("a100-80gb")
    op = Op("w", OpKind.GEMM, 1024, 3200, 3200, a_bits=8, b_bits=2)
    kernel = dequant_kernel(op)
    assert (kernel.a_bytes, kernel.out_bytes) == (3200 * 3200 // 4, 3200 * 3200)
    assert op_seconds(gpu, op) == pytest.approx(gpu.op_seconds(kernel)
                                                + gpu.op_seconds(dataclasses.replace(op, b_bits=8)))
    assert op_seconds(gpu, op) > gpu.op_seconds(dataclasses.replace(op, b_bits=8))


WAVE_SHAPES = ((1024, 3200, 3200, 1), (2048, 8640, 3200, 1), (1, 2, 100, 32768), (77, 300, 129, 3), (2048, 100, 2048, 32))


@pytest.mark.parametrize("preset", ["a100-lut-4x", "a100-lut-8x"])
def test_host_tiles_never_beat_the_even_spread_and_more_k_never_costs_less(preset):
    spec = build(preset).spec
    for m, n, k, count in WAVE_SHAPES:
        op = Op("g", OpKind.GEMM, m, n, k, count=count, a_bits=8, b_bits=2)
        counts = lut_kernel_counts(spec, op, Precompute.FUSED)
        assert array_cycles(spec, op, counts) >= counts.array_cycles  # padding, tile overhead, issue ceiling
        longer = dataclasses.replace(op, k=k + 64)
        assert array_cycles(spec, longer, lut_kernel_counts(spec, longer, Precompute.FUSED)) > \
            array_cycles(spec, op, counts)


def test_few_large_tiles_take_the_work_centric_schedule():
    # A100-LUT-8X decode q_proj: 128 x 512 tiles leave 8 x 7 = 56 tiles for 108 SMs, one wave half full;
    # splitting the k-loop over all SMs (stream-K) is faster, and the same shape on 4X (104 tiles) is not
    spec = build("a100-lut-8x").spec
    args = (1024, 3200, 3200, 1, 2, spec.array_k, spec.array_m, spec.columns, 128, 512, spec.sm_count,
            spec.tensor_cores_per_sm, spec.gemm_efficiency, spec.tile_overhead_k)
    cycles, tiles, waves = lut_wave_kernel_py(*args)
    assert (tiles, waves) == (56, 1)
    per_k_group = 64 * 1 * 2 / (4 * spec.gemm_efficiency)
    data_parallel = math.ceil(per_k_group * ((3200 + 32 + 3) // 4))  # one wave of full tiles
    assert cycles < data_parallel


@pytest.fixture(scope="module")
def overheads():
    from simulator.reproduce.lut_tensor_core import precompute_overheads
    return precompute_overheads()


def test_fused_precompute_overhead_matches_table4(overheads):
    # [LTC] Table 4 / §4.6.1 (arch/lut/published.py): fused 2.62 % (prefill), 2.52 % (decode); L-V6 +-2 points
    for phase, (unfused, fused) in overheads.items():
        assert fused == pytest.approx(PRECOMPUTE_FUSED[phase], abs=0.02), phase
        assert unfused > fused > 0, phase  # a kernel of its own never costs less than fused tables


@pytest.mark.xfail(strict=True, reason="the separate precompute kernel (activation read, table write, launch) costs "
                   "a small multiple of the fused tables' extra writes, Table 4 several times more; its datatypes "
                   "and precompute kernel are not published (docs/lut.md)")
def test_unfused_precompute_overhead_matches_table4(overheads):
    for phase, (unfused, _) in overheads.items():
        assert unfused == pytest.approx(PRECOMPUTE_UNFUSED[phase], abs=0.02), phase
