"""Duplex (xPU + Logic-PIM): placement by Op/B, internal bandwidth, energy, bad inputs."""

import dataclasses
import math

import pytest
from pydantic import ValidationError

from arch import registry
from arch.logicpim.kernel import pim_gemm_kernel, pim_gemm_kernel_py
from arch.logicpim.model import DuplexSystem
from arch.logicpim.spec import DuplexSpec
from arch.tech import TechLibrary
from mappers import placement
from mappers.schedule import map_workload
from simulator.engine import simulate
from workloads.graph import Workload
from workloads.layers import build_decoder_layer
from workloads.models import load_model
from workloads.op import Op, OpKind, Operand

GEMV = Op("gemv", OpKind.GEMM, 1, 4096, 4096)
PREFILL = Op("prefill_qkv", OpKind.GEMM, 2048, 4096, 4096)


def preset():
    return registry.build(registry.preset_spec("duplex"))


def small_xpu():
    """A 4-core 128x128 NPU inline spec (its own bandwidth is replaced by the system's)."""
    return {"kind": "systolic", "rows": 128, "cols": 128, "cores": 4, "clock_hz": 1e9,
            "ifmap_sram_bytes": 16 << 20, "filter_sram_bytes": 16 << 20, "ofmap_sram_bytes": 4 << 20,
            "dram_bandwidth_bytes_per_s": 1e12}


def duplex(multiple=4.0, bandwidth=1e11, **pim):
    """A system whose GEMVs are memory-bound on both sides: 100 B/cycle external."""
    logic_pim = {"units": 16, "macs_per_cycle_per_unit": 256, "dot_width": 16, "vector_lanes_per_unit": 16,
                 "clock_hz": 1e9, "buffer_bytes_per_unit": 65536, "internal_bandwidth_multiple": multiple, **pim}
    return DuplexSystem(DuplexSpec(xpu=small_xpu(), hbm_stacks=1, hbm_bandwidth_bytes_per_s=bandwidth,
                                   logic_pim=logic_pim))


def placed(accel, op, **mapping):
    """``op``'s cost on the unit the mapper's placement gives it under ``mapping``."""
    options = accel.mapping_options(mapping, "decode", 1)
    return accel.op_cost(op, placement.choose_unit(accel, op, options), options)


def cycles(accel, ops, mapping=None):
    return max(e.end for e in simulate(map_workload(Workload(name="w", ops=tuple(ops)), accel, mapping)))


# -- placement -------------------------------------------------------------------------
def test_a_gemv_goes_to_logic_pim_and_a_prefill_gemm_to_the_xpu():
    accel = preset()
    assert accel.candidate_units(GEMV) == ("xpu_array", "logic_pim")  # the model offers both; the mapper picks
    assert placed(accel, GEMV).unit == "logic_pim" and placed(accel, PREFILL).unit == "xpu_array"
    assert placed(accel, GEMV).memories == ("logic_die",) and placed(accel, PREFILL).memories == ("hbm",)


def test_the_threshold_moves_ops():
    accel = preset()
    batch16 = Op("proj", OpKind.GEMM, 16, 4096, 4096)  # ~15.9 FLOP/B
    assert batch16.flops_per_byte == pytest.approx(2 * 16 * 4096 * 4096 / (2 * (2 * 16 * 4096 + 4096 ** 2)))
    assert placed(accel, batch16).unit == "logic_pim"
    assert placed(accel, batch16, placement_threshold_flops_per_byte=8.0).unit == "xpu_array"
    assert placed(accel, PREFILL, placement_threshold_flops_per_byte=1e9).unit == "logic_pim"
    moved = registry.build({**registry.preset_spec("duplex"), "placement_threshold_flops_per_byte": 8.0})
    assert placed(moved, batch16).unit == "xpu_array"
    assert placed(accel, GEMV, placement="host").unit == "xpu_array"
    assert placed(accel, PREFILL, placement="near_memory").unit == "logic_pim"


def test_a_compute_bound_gemm_is_never_moved():
    accel = preset()
    for m in (64, 256, 2048, 8192):
        op = Op("big", OpKind.GEMM, m, 8192, 8192)
        assert op.flops_per_byte > 32 and placed(accel, op).unit == "xpu_array", m


def test_moe_experts_with_few_tokens_and_gqa_attention_go_to_logic_pim():
    mixtral = build_decoder_layer(load_model("mixtral-8x7b"), "decode", batch=16, seq_len=1024)
    accel = preset()
    rows = {p.op: p for p in placement.place_workload(mixtral, accel, accel.mapping_options(None, "decode", 16))}
    for name in ("expert_gate", "expert_up", "expert_down", "attn_score", "attn_context"):
        assert rows[name].near_memory and rows[name].unit.name == "logic_pim", name
    # 16 requests x top-2 over 8 experts = 4 tokens per expert: Op/B about 4 (fp16);
    # GQA groups 32 / 8 = 4 query heads per KV head: Op/B about 4 (Duplex: 4-8).
    assert 3.5 < rows["expert_up"].flops_per_byte < 4.0
    assert 3.5 < rows["attn_score"].flops_per_byte < 4.0


def test_the_schedule_places_by_the_rule_and_the_experiment_can_override_it():
    accel = preset()
    for model, phase, batch in (("mixtral-8x7b", "decode", 64), ("llama3-70b", "decode", 32),
                                ("llama3-70b", "prefill", 2)):
        layer = build_decoder_layer(load_model(model), phase, batch=batch, seq_len=512)
        for task in map_workload(layer, accel).tasks:
            below = task.op.flops_per_byte < 32.0 and task.op.kind in (OpKind.GEMM, OpKind.SOFTMAX, OpKind.ADD)
            assert (task.unit == "logic_pim") == below or task.op.kind not in (OpKind.GEMM,), task.name
    prefill = {t.group: t.unit for t in map_workload(layer, accel).tasks}
    assert prefill["q_proj"] == "xpu_array" and prefill["ffn_gate"] == "xpu_array"
    forced = {t.unit for t in map_workload(layer, accel, {"placement": "host"}).tasks}
    assert "logic_pim" not in forced


# -- bandwidth and cycles --------------------------------------------------------------
@pytest.mark.parametrize("multiple", [2.0, 4.0, 8.0])
def test_a_memory_bound_gemv_is_faster_on_logic_pim_by_the_bandwidth_ratio(multiple):
    accel = duplex(multiple)
    on_xpu = cycles(accel, [GEMV], {"placement": "host"})
    on_pim = cycles(accel, [GEMV])
    # xPU: 4096 x 4096 x 2 B of weights over 100 B/cycle = 335,544 cycles at least.
    assert on_xpu >= GEMV.min_bytes / 100
    assert on_xpu / on_pim == pytest.approx(multiple, rel=0.02)


def test_logic_pim_cycles_follow_the_kernel():
    accel = duplex()
    op = Op("attn", OpKind.GEMM, 4, 1000, 128, count=6, b_operand=Operand.KV)
    # 16 units in 4 slices (one per xPU core): a slice has 4 units of 16 lanes x 16
    # wide. ceil(1000 / 16) = 63 tiles per instance, 378 tiles over 4 units = 95
    # rounds of 4 rows x 128 / 16 = 8 steps: 95 x 4 x 8 = 3040 cycles.
    assert accel.units()[-1].count == 4 and placed(accel, op).compute_cycles == 3040
    assert tuple(pim_gemm_kernel(4, 1000, 128, 6, 16, 16, 16)) == pim_gemm_kernel_py(4, 1000, 128, 6, 16, 16, 16)
    # One tile, 16 units: reduction split 8 ways (8 steps), one step each + 3 tree levels.
    assert pim_gemm_kernel_py(2, 16, 128, 1, 16, 16, 16) == (2 * 1 + 2 * 3, 2 * 128)


def test_logic_pim_cycles_convert_to_the_xpu_clock():
    slow = duplex(clock_hz=5e8)
    fast = duplex(clock_hz=1e9)
    op = Op("score", OpKind.GEMM, 8, 4096, 128, count=64, b_operand=Operand.KV)
    assert placed(slow, op).compute_cycles == 2 * placed(fast, op).compute_cycles


@pytest.mark.parametrize("op", [GEMV, Op("score", OpKind.GEMM, 4, 1025, 128, count=64, b_operand=Operand.KV),
                                Op("softmax", OpKind.SOFTMAX, 4, 1025, count=64)])
def test_more_work_never_costs_less_on_logic_pim(op):
    accel = preset()
    base = cycles(accel, [op])
    energy = accel.energy(placed(accel, op).action_counts).total_pj
    grown = [dataclasses.replace(op, m=op.m + 1), dataclasses.replace(op, n=op.n + 1),
             dataclasses.replace(op, count=op.count + 1)]
    if op.kind is OpKind.GEMM:
        grown.append(dataclasses.replace(op, k=op.k + 1))
    for more in grown:
        assert placed(accel, more).unit == "logic_pim"
        assert cycles(accel, [more]) >= base, more
        assert accel.energy(placed(accel, more).action_counts).total_pj >= energy, more


# -- energy and area -------------------------------------------------------------------
def test_energy_is_counts_times_the_library():
    accel = preset()
    lib = TechLibrary(7)
    cost = placed(accel, GEMV)
    counts = cost.action_counts
    assert counts["pim_mac.mac"] == 4096 * 4096
    assert counts["pim_dram.read_bit"] == 8 * (GEMV.a_bytes + GEMV.b_bytes)
    by = accel.energy(counts).by_component_pj
    assert by["pim_mac"] == pytest.approx(4096 * 4096 * lib.energy_pj("mac.fp16", "mac"))
    # buffer-die PIM path 3.29 pJ/bit against the host path 3.59 (REFERENCE_DATA.md "HBM data path")
    assert by["pim_dram"] == pytest.approx(3.29 * 8 * (GEMV.a_bytes + GEMV.b_bytes + GEMV.out_bytes))
    xpu = placed(accel, GEMV, placement="host").action_counts
    assert accel.energy({"xpu.dram.read_bit": 8}).total_pj == pytest.approx(3.59 * 8)
    assert xpu["xpu.pe.mac"] == 4096 * 4096


def test_area_is_the_xpu_plus_the_logic_die_units():
    accel = preset()
    area = accel.area_mm2()
    xpu_alone = sum(registry.build(registry.preset_spec("tpu7x-like")).area_mm2().values())
    assert sum(v for k, v in area.items() if k.startswith("xpu.")) == pytest.approx(xpu_alone)
    lib = TechLibrary(7)
    assert area["pim_mac"] == pytest.approx(80 * 1024 * lib.area_um2("mac.fp16") * 1e-6)
    assert area["pim_buffer"] == pytest.approx(80 * lib.sram(262144, 64, banks=8).area_um2 * 1e-6)


# -- the preset and bad inputs ----------------------------------------------------------
def test_the_preset_derivations():
    accel = preset()
    spec = accel.spec
    assert spec.hbm_bandwidth_bytes_per_s == pytest.approx(5 * 670.4e9)
    assert accel.xpu_spec.dram_bandwidth_bytes_per_s == spec.hbm_bandwidth_bytes_per_s
    peak_flops = 2 * spec.logic_pim.units * spec.logic_pim.macs_per_cycle_per_unit * spec.logic_pim.clock_hz
    crossover = placement.crossover_flops_per_byte(peak_flops, spec.hbm_bandwidth_bytes_per_s)
    assert crossover == pytest.approx(48.9, abs=0.05) and crossover > spec.placement_threshold_flops_per_byte
    assert math.ceil(accel.memories()[1].bytes_per_cycle) == math.ceil(3 * 3.352e12 / 1.1e9)


@pytest.mark.parametrize("key, value, loc", [
    ("internal_bandwidth_multiple", -2.0, ("logic_pim", "internal_bandwidth_multiple")),
    ("units", 0, ("logic_pim", "units")),
    ("dot_width", 7, ("logic_pim", "dot_width")),
])
def test_bad_logic_pim_values_name_the_key(key, value, loc):
    raw = registry.preset_spec("duplex")
    raw["logic_pim"][key] = value
    with pytest.raises(ValidationError) as info:
        registry.build(raw)
    assert info.value.errors()[0]["loc"] == loc


def test_bad_xpu_and_mapping_values_name_the_key():
    with pytest.raises(ValidationError) as info:
        registry.build({**registry.preset_spec("duplex"), "xpu": "tpu7x-lik"})
    assert info.value.errors()[0]["loc"] == ("xpu",) and "tpu7x-like" in str(info.value)
    with pytest.raises(ValidationError) as info:
        registry.build({**registry.preset_spec("duplex"), "placement_threshold_flops_per_byte": -1})
    assert info.value.errors()[0]["loc"] == ("placement_threshold_flops_per_byte",)
    with pytest.raises(ValidationError) as info:
        preset().mapping_options({"placement_threshold_flops_per_byte": -3}, "decode", 1)
    assert info.value.errors()[0]["loc"] == ("placement_threshold_flops_per_byte",)
    with pytest.raises(ValidationError, match="placement"):
        preset().mapping_options({"placement": "gpu"}, "decode", 1)
    with pytest.raises(ValidationError, match="Extra inputs"):
        preset().mapping_options({"processor": "xpu"}, "decode", 1)


def test_logic_pim_rejects_activations_wider_than_its_datapath():
    with pytest.raises(ValueError, match="logic_pim.pe_dtype"):
        preset().op_cost(Op("wide", OpKind.GEMM, 1, 64, 64, a_bits=32), "logic_pim")


def test_units_must_split_evenly_over_the_xpu_cores():
    raw = registry.preset_spec("duplex")
    raw["logic_pim"]["units"] = 81
    with pytest.raises(ValidationError, match=r"logic_pim.units = 81 must be a multiple of the xPU's cores \(8\)"):
        registry.build(raw)


def test_capacity_is_checked_against_the_weights_and_kv_cache():
    accel = preset()
    llama = load_model("llama3-70b")
    accel.check_workload(build_decoder_layer(llama, "decode", batch=8, seq_len=2048, tp=4))
    with pytest.raises(ValueError, match="hbm_capacity_bytes: .* need 14"):
        accel.check_workload(build_decoder_layer(llama, "decode", batch=8, seq_len=2048))
