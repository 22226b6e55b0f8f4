"""The systolic NPU's vector unit per function, decode attention on the KV cache,
and tensor parallelism over the chip-to-chip link (ring all-reduce)."""

import math

import pytest

from arch import registry
from arch.systolic.link import ring_allreduce_kernel
from mappers.schedule import map_workload
from simulator.engine import simulate
from simulator.experiment import parse_text
from simulator.run import run_experiment
from workloads.graph import Workload
from workloads.layers import build_decoder_layer
from workloads.models import load_model
from workloads.op import Op, OpKind, Operand
from workloads.parallel import allreduce


def preset(name, **overrides):
    spec = registry.preset_spec(name)
    spec.update(overrides)
    return registry.build(spec)


def timeline(accel, workload):
    return simulate(map_workload(workload, accel))


def span(events, prefixes):
    mine = [e for e in events if e.task.split("#")[0] in prefixes]
    return max(e.end for e in mine) - min(e.start for e in mine)


# -- vector unit ---------------------------------------------------------------

def test_softmax_costs_more_than_add_per_element():
    accel = preset("neupims-npu")
    softmax = accel.op_cost(Op("s", OpKind.SOFTMAX, 64, 4096))
    add = accel.op_cost(Op("a", OpKind.ADD, 64, 4096))
    # 64 x 4096 elements on 128 lanes: 5 lane-ops each (ONNXim SOFTMAX) vs 1 (ADD)
    assert (softmax.compute_cycles, add.compute_cycles) == (5 * 2048, 2048)
    assert softmax.action_counts["vector.lane_op"] == 5 * add.action_counts["vector.lane_op"]


def test_lane_ops_per_function_and_vector_clock_are_spec_fields():
    op = Op("n", OpKind.NORM, 32, 4096)
    base = preset("neupims-npu").op_cost(op).compute_cycles
    assert base == 32 * 4096 * 4 // 128                      # RMSNorm default: 4 lane-ops
    layernorm = preset("neupims-npu", vector_lane_ops_per_element={"norm": 7}).op_cost(op)
    assert layernorm.compute_cycles == 32 * 4096 * 7 // 128
    half_clock = preset("neupims-npu", vector_clock_hz=5e8).op_cost(op)
    assert half_clock.compute_cycles == 2 * base              # array-clock cycles


def test_vector_ops_overlap_gemms_of_independent_ops():
    accel = preset("neupims-npu", dram_bandwidth_bytes_per_s=1e15)
    gemm = Op("gemm", OpKind.GEMM, 512, 4096, 4096)
    softmax = Op("softmax", OpKind.SOFTMAX, 512, 4096)
    events = {e.task.split("#")[0]: e for e in timeline(accel, Workload(name="w", ops=(gemm, softmax)))}
    assert events["softmax"].unit.startswith("vector")
    assert events["softmax"].start < events["gemm"].end and events["gemm"].start < events["softmax"].end
    # dependent: the softmax waits for every part of the GEMM
    chained = timeline(accel, Workload(name="w", ops=(gemm, softmax), edges=(("gemm", "softmax"),)))
    gemm_end = max(e.end for e in chained if e.task.startswith("gemm"))
    assert min(e.start for e in chained if e.task.startswith("softmax")) >= gemm_end


# -- decode attention reads the KV cache -------------------------------------------

ATTENTION = ("attn_score", "softmax", "attn_context")


def attention(seq_len):
    """A Llama-2-7B decode layer's attention core (batch 32) alone on neupims-npu."""
    accel = preset("neupims-npu")
    layer = build_decoder_layer(load_model("llama2-7b"), "decode", 32, seq_len)
    ops = {op.name: op for op in layer.ops if op.name in ATTENTION}
    core = Workload(name="attention", ops=tuple(ops.values()),
                    edges=(("attn_score", "softmax"), ("softmax", "attn_context")))
    return timeline(accel, core), ops, accel


def test_decode_attention_streams_the_kv_cache_and_is_memory_bound():
    events, ops, accel = attention(2048)
    assert ops["attn_score"].b_operand is Operand.KV and ops["attn_context"].b_operand is Operand.KV
    # K (and V) of 32 requests x 32 heads x 2049 positions x 128 dims x 2 bytes
    assert ops["attn_score"].b_bytes == ops["attn_context"].b_bytes == 32 * 32 * 2049 * 128 * 2
    for name in ("attn_score", "attn_context"):
        cost = accel.op_cost(ops[name])
        assert cost.read_bytes >= ops[name].b_bytes                  # the KV cache is streamed
        memory_cycles = (cost.read_bytes + cost.write_bytes) / accel.spec.dram_bytes_per_cycle
        parts = [e for e in events if e.task.split("#")[0] == name]
        assert len(parts) == accel.spec.cores
        assert max(e.compute_cycles for e in parts) < 0.7 * memory_cycles   # not bound by the arrays
        assert memory_cycles <= span(events, (name,)) <= 1.04 * memory_cycles


def test_decode_attention_cycles_scale_with_kv_length():
    short, short_ops, _ = attention(2048)
    long, long_ops, _ = attention(4096)
    kv_ratio = long_ops["attn_score"].b_bytes / short_ops["attn_score"].b_bytes   # 4097 / 2049
    assert span(long, ATTENTION) / span(short, ATTENTION) == pytest.approx(kv_ratio, rel=0.02)


# -- tensor parallelism over the link ---------------------------------------------

def test_ring_allreduce_hand_computed():
    # 256 tokens x 8192 x 2 bytes = 4 MiB over 4 devices: 6 steps of 1 MiB;
    # 100 GB/s at 1 GHz = 100 B/cycle -> ceil(6 MiB / 100) + 6 x 500 latency
    assert tuple(ring_allreduce_kernel(4 << 20, 4, 100.0, 500)) == (math.ceil(6 * (1 << 20) / 100) + 3000, 6 << 20)
    assert tuple(ring_allreduce_kernel(4 << 20, 1, 100.0, 500)) == (0, 0)


def test_allreduce_time_grows_with_tp_minus_one_over_tp():
    accel = preset("tpuv4-like")
    cycles = {}
    for tp in (2, 4, 8, 16):
        op = allreduce("ar", 256, 8192, 16, tp, "decode")
        cycles[tp] = accel.op_cost(op).compute_cycles
        expected = 2 * (tp - 1) / tp * op.comm_bytes / accel.spec.link_bytes_per_cycle
        assert cycles[tp] == pytest.approx(expected, rel=1e-4)
    assert cycles[2] < cycles[4] < cycles[8] < cycles[16] < 2 * cycles[2]


def test_link_energy_is_bits_sent_times_the_library_entry():
    accel = preset("tpuv4-like")
    op = allreduce("ar", 16, 8192, 16, 4, "decode")
    counts = accel.op_cost(op).action_counts
    assert counts["link.transfer_bit"] == 8 * 6 * (op.comm_bytes // 4)
    energy = accel.energy({"link.transfer_bit": counts["link.transfer_bit"]}).by_component_pj["link"]
    assert energy == pytest.approx(counts["link.transfer_bit"] * 1.3)  # [AttAcc] 1.3 pJ/bit
    assert accel.category_of("link") == "network"


def layer_cycles(accel, tp, batch=16, seq_len=1024):
    workload = build_decoder_layer(load_model("llama2-70b"), "decode", batch, seq_len, tp=tp)
    return max(e.end for e in timeline(accel, workload)), workload


def test_llama2_70b_decode_with_tp4_runs_and_is_faster_per_step():
    accel = preset("tpuv4-like")
    single, _ = layer_cycles(accel, 1)
    split, workload = layer_cycles(accel, 4)
    assert [op.name for op in workload.ops if op.kind is OpKind.ALLREDUCE] == ["attn_allreduce", "ffn_allreduce"]
    # memory-bound decode: each device streams a quarter of the weights, plus two all-reduces
    assert split < 0.4 * single


def test_tp_without_a_link_is_a_clear_error(cli, write, tmp_path):
    text = ("name: tp\nseed: 0\nworkload: {model: llama2-70b, phase: decode, batch: 8, seq_len: 128, tp: 4}\n"
            "systems:\n  - name: npu\n    arch: neupims-npu\n")
    result = run_experiment(parse_text(text))
    [failure] = result.failures
    assert "tp > 1 needs a chip-to-chip link" in failure.message
    assert failure.message.startswith("link_bandwidth_bytes_per_s:")
    code, out, err = cli("run", write(text), "--out", tmp_path / "out")
    assert "tp > 1 needs a chip-to-chip link" in " ".join(err.split()) and "Traceback" not in err + out
