"""The GPU model's fused-attention and flat-GEMM kernel times (arch/gpu/attention.py)."""

import math

import pytest

from arch import registry
from arch.gpu.attention import (BLOCK_M, FLAT_PAD_ROWS, attention_cost, attention_roofline_cycles, attention_time,
                                flat_gemm_time, softmax_cycles)
from workloads.layers import build_decoder_layer
from workloads.models import load_model
from workloads.op import Op, OpKind, SoftmaxScheme


@pytest.fixture(scope="module")
def a100():
    return registry.build(registry.preset_spec("a100-80gb"))


@pytest.fixture(scope="module")
def llama():
    return load_model("llama2-7b")


def fused(llama, attention, batch, kv, **kw):
    workload = build_decoder_layer(llama, "decode", batch, kv, attention=attention, **kw)
    return next(op for op in workload.ops if op.kind is OpKind.ATTENTION)


def test_decode_attention_at_full_occupancy_streams_exactly_its_bytes(a100, llama):
    op = fused(llama, "flash2", 64, 4096)  # 64 x 32 heads = 2048 blocks on 108 SMs
    time = attention_time(a100.spec, op, "fp16")
    assert time.occupancy == 1.0 and time.blocks == 2048
    assert time.stream_cycles == math.ceil(op.min_bytes / a100.spec.stream_bytes_per_cycle)
    assert time.cycles == time.stream_cycles  # decode attention is memory bound


def test_fewer_blocks_than_sms_stream_at_their_share_and_a_kv_split_restores_it(a100, llama):
    flash2 = attention_time(a100.spec, fused(llama, "flash2", 1, 8192), "fp16")
    split = attention_time(a100.spec, fused(llama, "flashdecoding", 1, 8192), "fp16")
    assert flash2.blocks == 32 and flash2.occupancy == pytest.approx(32 / 108)
    assert split.blocks > 0.8 * 108 and split.cycles < flash2.cycles / 2.5


def test_unified_max_pads_rows_to_8_not_64_and_runs_fewer_softmax_flops(a100, llama):
    online = attention_time(a100.spec, fused(llama, "flashdecoding", 4, 4096, kv_splits=4), "fp16")
    unified = attention_time(a100.spec, fused(llama, "flashdecoding++", 4, 4096, kv_splits=4), "fp16")
    assert (online.padded_rows, unified.padded_rows) == (BLOCK_M, FLAT_PAD_ROWS)
    assert online.tensor_cycles == pytest.approx(8 * unified.tensor_cycles, rel=1e-3)
    # 8 of 64 padded rows; the one exponential per score on the special-function units bounds both schemes, so
    # the unified max's fewer CUDA-core FLOPs (3 of 5) save nothing more
    assert unified.softmax_cycles == pytest.approx(online.softmax_cycles * 8 / 64, rel=0.01)  # ceil per block
    assert unified.stream_cycles == online.stream_cycles
    # with the exponentials on the CUDA cores (no special-function rate), they do: 3 of 5
    cores_only = a100.spec.model_copy(update={"sfu_exps_per_sm_cycle": 0.0})
    online = attention_time(cores_only, fused(llama, "flashdecoding", 4, 4096, kv_splits=4), "fp16")
    unified = attention_time(cores_only, fused(llama, "flashdecoding++", 4, 4096, kv_splits=4), "fp16")
    assert unified.softmax_cycles == pytest.approx(online.softmax_cycles * (8 * 3) / (64 * 5), rel=0.01)


def test_softmax_takes_the_longer_of_the_cuda_cores_and_the_special_function_units(a100):
    spec = a100.spec  # 1.95e13 / 1.41e9 / 108 = 128.06 CUDA-core FLOP per SM cycle; 16 exp2 per SM cycle [CUDA-PG]
    scores = 128 * 128
    assert softmax_cycles(spec, scores, SoftmaxScheme.ONLINE) == scores // 16          # 1024: exp-bound
    assert math.ceil(4 * scores / 128.06) < scores // 16                                # the other 4 FLOPs: 512
    cores_only = spec.model_copy(update={"sfu_exps_per_sm_cycle": 0.0})
    assert softmax_cycles(cores_only, scores, SoftmaxScheme.ONLINE) == math.ceil(5 * scores / (1.95e13 / 1.41e9 / 108))
    slow_cores = spec.model_copy(update={"vector_flops_per_s": spec.vector_flops_per_s / 8})  # 16 FLOP/SM/cycle
    assert softmax_cycles(slow_cores, scores, SoftmaxScheme.ONLINE) == math.ceil(4 * scores / (1.95e13 / 8 / 1.41e9 / 108))


def test_longer_contexts_never_take_fewer_cycles(a100, llama):
    for attention in ("flash2", "flashdecoding", "flashdecoding++"):
        cycles = [attention_time(a100.spec, fused(llama, attention, b, kv), "fp16").cycles
                  for b in (1, 8) for kv in (512, 2048, 8192, 32768)]
        assert cycles[:4] == sorted(cycles[:4]) and cycles[4:] == sorted(cycles[4:])


def test_engine_cost_reproduces_max_of_compute_and_stream_plus_launch(a100, llama):
    spec = a100.spec
    op = fused(llama, "flash2", 1, 4096)
    cost, time = attention_cost(spec, op, "fp16"), attention_time(spec, op, "fp16")
    full_rate = sum(math.ceil(b / spec.stream_bytes_per_cycle) for b in (cost.read_bytes, cost.write_bytes))
    assert cost.compute_cycles + full_rate == time.cycles + spec.launch_cycles
    assert cost.read_bytes + cost.write_bytes == op.min_bytes
    assert dict(cost.actions)["hbm.read_bit"] == 8 * cost.read_bytes


@pytest.mark.parametrize("attention", ["flash2", "flashdecoding", "flashdecoding++"])
@pytest.mark.parametrize("phase,batch,kv", [("decode", 1, 4096), ("decode", 64, 512), ("prefill", 2, 2048)])
def test_cost_is_never_below_the_roofline(a100, llama, attention, phase, batch, kv):
    spec = a100.spec
    op = next(o for o in build_decoder_layer(llama, phase, batch, kv, attention=attention).ops
              if o.kind is OpKind.ATTENTION)
    cost = attention_cost(spec, op, "fp16")
    simulated = cost.compute_cycles + sum(math.ceil(b / spec.stream_bytes_per_cycle)
                                          for b in (cost.read_bytes, cost.write_bytes))
    assert simulated >= attention_roofline_cycles(spec, op, "fp16") > 0


def test_prefill_attention_is_compute_bound_and_counts_its_row_blocks(a100, llama):
    op = next(o for o in build_decoder_layer(llama, "prefill", 1, 4096, attention="flash2").ops
                              if o.kind is OpKind.ATTENTION)
    time = attention_time(a100.spec, op, "fp16")
    assert time.blocks == 32 * 4096 // BLOCK_M
    assert time.compute_cycles > time.stream_cycles
    # tensor time at least the op's MACs at the derated peak
    peak = a100.spec.macs_per_sm_cycle("fp16") * a100.spec.sm_count * a100.spec.gemm_efficiency_max
    assert time.tensor_cycles >= op.macs / peak


def test_flat_gemm_padding_and_double_buffering_only_ever_help(a100):
    spec = a100.spec
    for m in (1, 8, 33, 64):
        op = Op("q_proj", OpKind.GEMM, m=m, n=4096, k=4096)
        library = flat_gemm_time(spec, op, "fp16", 64, double_buffered=False)
        flat = flat_gemm_time(spec, op, "fp16", 8, double_buffered=True)
        assert flat.cycles <= library.cycles
        assert library.cycles == library.compute_cycles + library.stream_cycles
        assert flat.cycles == max(flat.compute_cycles, flat.stream_cycles)
    same = Op("g", OpKind.GEMM, m=64, n=4096, k=4096)
    assert flat_gemm_time(spec, same, "fp16", 8, True).tensor_cycles == \
        flat_gemm_time(spec, same, "fp16", 64, True).tensor_cycles


def test_wrong_op_kinds_are_refused_by_name(a100):
    with pytest.raises(ValueError, match="needs an attention op"):
        attention_time(a100.spec, Op("g", OpKind.GEMM, m=1, n=1, k=1), "fp16")
    with pytest.raises(ValueError, match="needs a gemm op"):
        flat_gemm_time(a100.spec, Op("s", OpKind.SOFTMAX, m=1, n=1), "fp16", 8, True)
