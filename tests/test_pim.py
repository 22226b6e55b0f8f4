"""The PIM memory: spec errors, GEMV layout and command timing, energy, legality."""

import dataclasses

import pytest
from pydantic import ValidationError

from arch import registry
from arch.dram import CommandLog, check_command_log, load_preset
from arch.pim.gemv import PimCapacityError, gemv_timing, layout, timing_args
from arch.dram import Command
from arch.pim.kernel import T_RP, device_array, pim_gemv_kernel, pim_gemv_py
from arch.pim.spec import NeupimsSpec, PimMemorySpec
from arch.tech import TechLibrary
from workloads.op import Op, OpKind, Operand

NEUPIMS_PIM = {"dram": "hbm2-neupims", "multipliers_per_bank": 16, "row_buffers": 2}


def kv_op(n=700, k=128, count=8, m=1, name="attn_score"):
    return Op(name, OpKind.GEMM, m, n, k, count=count, b_operand=Operand.KV)


def pim(**changes):
    return PimMemorySpec.model_validate({**NEUPIMS_PIM, **changes})


def device(**changes):
    """A device vector with hbm2-neupims's numbers (tRC = tRAS + tRP; one-cycle command bus)."""
    values = dict(ganged=1, ranks=1, bankgroups=4, banks_per_group=4, t_rcd=14, t_ras=34, t_rp=14, t_rc=48,
                  t_rtp=6, t_rrd_s=4, t_rrd_l=6, t_faw=30, t_rfc=260, t_refi=0, mac_spacing=2, bl=2, cl=14,
                  act_to_act=1, pre_to_pre=1, pre_to_act=1, act_to_col=1, col_to_pre=1, ref_to_ref=1)
    return device_array(**{**values, **changes})


# -- spec errors -------------------------------------------------------------------
def test_banks_per_unit_must_divide_the_banks_per_channel():
    with pytest.raises(ValidationError, match=r"banks_per_unit = 3: must divide the 32 banks per channel"):
        pim(banks_per_unit=3)


def test_a_missing_timing_parameter_names_the_key():
    raw = load_preset("hbm2-neupims").model_dump(mode="json")
    del raw["timing_cycles"]["tRP"]
    with pytest.raises(ValidationError, match=r"timing_cycles\.tRP: missing"):
        pim(dram=raw)


def test_a_negative_timing_parameter_names_the_key():
    with pytest.raises(ValidationError, match=r"timing_cycles\.tRP = -1"):
        pim(dram_changes={"timing_cycles": {"tRP": -1}})


def test_an_unknown_dram_preset_is_named():
    with pytest.raises(ValidationError, match=r"dram = 'hbm9'.*unknown DRAM preset"):
        pim(dram="hbm9")


def test_a_kv_matrix_larger_than_the_memory_is_an_error():
    capacity = pim().dram_spec.organisation.capacity_bytes  # 32 GiB
    huge = kv_op(n=1 << 20, k=128, count=160)  # 160 x 2^27 x 2 B = 40 GiB
    assert huge.b_bytes > capacity
    with pytest.raises(PimCapacityError, match=r"attn_score.*does not fit in the PIM memory"):
        layout(huge, pim())


def test_npu_must_be_a_systolic_preset():
    with pytest.raises(ValidationError, match=r"npu = 'neupims'"):
        NeupimsSpec.model_validate({"npu": "neupims", "pim": NEUPIMS_PIM})


# -- layout and timing --------------------------------------------------------------
def test_layout_follows_the_page_and_the_multipliers():
    # 32 banks, 1 KB page = 512 fp16; 16 multipliers per MAC; n = 700 -> 22 outputs per bank;
    # 8 instances x 22 x 128 = 22,528 elements per bank = 44 rows; 512 / 16 = 32 MACs per row.
    lay = layout(kv_op(), pim())
    assert (lay.row_sets, lay.macs_full, lay.macs_last, lay.readouts) == (44, 32, 32, 8 * 22)
    assert lay.gwrite_bursts == 8 * 128 * 2 // 64


def test_gemv_cycles_follow_the_timing_table_hand_computed():
    # One row set of 64 elements per bank (n = 32 over 32 banks, k = 64): 4 MACs, 1 result read,
    # 2 input bursts. hbm2-neupims: BL 2, tRCD 14, tCCD_L 2, tRAS 34, tRTP 6, tRP 14, CL 14.
    # gwrite 0..4; ACT at 4; MACs at 18, 20, 22, 24; result read at 26, data by 26 + 14 + 2 = 42;
    # PRE at max(4 + 34, 26 + 6) = 38; banks ready 38 + 14 = 52.
    op = kv_op(n=32, k=64, count=1)
    timing = gemv_timing(op, pim())
    assert (timing.dram_cycles, timing.mac_commands, timing.readouts, timing.bank_activates) == (52, 4, 1, 32)
    raw = registry.preset_spec("neupims")
    raw["pim"]["all_bank_activation"] = "ganged"
    raw["pim"]["layout"] = "dense"  # the densely packed layout this timeline is computed for
    assert registry.build(raw).op_cost(op, "pim").compute_cycles == 52  # NPU and DRAM both at 1 GHz


def test_two_row_sets_hand_computed():
    # Row 0 as above without inputs: ACT 0, MACs 14..20, read 22, PRE 34, ready 48.
    # Row 1: ACT 48, MACs 62..68, read 70 (data 86), PRE max(82, 76) = 82, ready 96.
    args = (2, 4, 4, 2, 0, device(ganged=1, ranks=1))
    assert pim_gemv_py(*args) == (96, 32, 8, 2, 0)  # 1 rank x 16 banks x 2 rows
    assert tuple(pim_gemv_kernel(*args)) == (96, 32, 8, 2, 0)


def test_faw_limited_activation_hand_computed():
    # 1 rank, 4 bank groups x 2 banks; tRRD_S 4, tFAW 30: ACTs at 0, 4, 8, 12, then the fifth
    # waits for the window: 30, 34, 38, 42. First MAC 42 + 14 = 56, second 58. PREs one per
    # cycle from max(58 + tRTP 6, ...) = 64 .. 69, then tRAS after their ACTs: 38 + 34 = 72, 42 + 34 = 76;
    # ready 76 + tRP 14 = 90.
    args = (1, 2, 2, 0, 0, device(ganged=0, ranks=1, bankgroups=4, banks_per_group=2))
    log = []
    assert pim_gemv_py(*args, log=log) == (90, 8, 2, 0, 0)
    assert tuple(pim_gemv_kernel(*args)) == (90, 8, 2, 0, 0)
    assert [t for t, c, *_ in log if c == Command.ACT] == [0, 4, 8, 12, 30, 34, 38, 42]
    assert [t for t, c, *_ in log if c == Command.PRE] == [64, 65, 66, 67, 68, 69, 72, 76]
    assert [t for t, c, *_ in log if c == Command.MAC_AB] == [56, 58]


def test_timing_parameters_come_from_the_dram_spec():
    slower = pim(dram_changes={"timing_cycles": {"tRP": 30}})
    base, slow = gemv_timing(kv_op(), pim()), gemv_timing(kv_op(), slower)
    assert slow.dram_cycles - base.dram_cycles >= 16 * base.row_sets - 16
    assert timing_args(layout(kv_op(), slower), slower, False)[-1][T_RP] == 30


@pytest.mark.parametrize("mode", ["ganged", "faw_limited"])
def test_more_rows_never_cost_less(mode):
    spec = pim(all_bank_activation=mode)
    cycles = [gemv_timing(kv_op(n=n), spec).dram_cycles for n in range(32, 4000, 97)]
    assert cycles == sorted(cycles) and cycles[0] < cycles[-1]


def test_faw_limited_activation_is_slower_than_ganged():
    assert gemv_timing(kv_op(), pim(all_bank_activation="faw_limited")).dram_cycles > \
        gemv_timing(kv_op(), pim()).dram_cycles


def test_refresh_is_paid_every_trefi():
    # Long enough to span several tREFI = 3900 cycles: one REF per rank per interval.
    timing = gemv_timing(kv_op(n=4096, count=16), pim())
    assert timing.refreshes == 2 * (timing.dram_cycles // 3900) or timing.refreshes == 2 * (timing.dram_cycles // 3900 + 1)
    no_refresh = pim(dram_changes={"controller": {"refresh": "none"}})
    assert gemv_timing(kv_op(n=4096, count=16), no_refresh).dram_cycles < timing.dram_cycles


def test_a_shared_unit_at_300_mhz_slows_the_mac_spacing():
    # Samsung HBM-PIM: one unit per 2 banks at 300 MHz: 2 x 1 GHz / 300 MHz = 6.67 -> 7 DRAM cycles.
    samsung = PimMemorySpec.model_validate(registry_memory("samsung-hbm-pim"))
    assert samsung.mac_spacing() == 7
    assert pim().mac_spacing() == 2  # tCCD_L of hbm2-neupims


def test_a_unit_per_bank_at_1_ghz_streams_faster_than_one_per_two_banks_at_300_mhz():
    # AiM-style (one 1 GHz unit per bank) vs Samsung HBM-PIM (one 300 MHz unit per 2 banks), same op.
    aim = PimMemorySpec.model_validate(registry_memory("aim-like-hbm2"))
    samsung = PimMemorySpec.model_validate(registry_memory("samsung-hbm-pim"))
    assert (aim.banks_per_unit, aim.unit_clock_hz) == (1, 1e9)
    assert aim.mac_spacing() < samsung.mac_spacing()
    assert gemv_timing(kv_op(), aim).dram_cycles < gemv_timing(kv_op(), samsung).dram_cycles


def registry_memory(name):
    from arch.pim.spec import load_memory
    return load_memory(name)


def test_grouped_query_rows_multiply_the_macs():
    one, four = gemv_timing(kv_op(m=1), pim()), gemv_timing(kv_op(m=4), pim())
    assert four.mac_commands == 4 * one.mac_commands and four.dram_cycles > one.dram_cycles


# -- energy ---------------------------------------------------------------------
def test_energy_is_counts_times_the_table():
    accel = registry.build(registry.preset_spec("neupims"))
    op = kv_op()
    counts = accel.op_cost(op, "pim").action_counts
    lib = TechLibrary(45)
    timing = gemv_timing(op, accel.spec.pim, dual_bus=True)
    assert counts["pim_mult.mac"] == op.macs
    assert counts["pim_cells.read_bit"] == timing.mac_commands * 32 * 16 * 16
    expected = (op.macs * lib.energy_pj("mac.fp16", "mac")
                + counts["pim_cells.read_bit"] * (0.11 + 0.44)          # bank_pim path (FGDRAM)
                + (counts["dram.read_bit"] + counts["dram.write_bit"]) * 3.59)  # host path
    assert accel.energy(counts).total_pj == pytest.approx(expected, rel=1e-9)


def test_pim_reads_cost_less_per_bit_than_npu_reads():
    accel = registry.build(registry.preset_spec("neupims"))
    table = accel.component_table()
    assert table["pim_cells"].energy_pj_per_action["read_bit"] < table["dram"].energy_pj_per_action["read_bit"]


# -- legality of the generated command stream --------------------------------------
def test_faw_limited_row_commands_pass_the_dram_checker():
    spec = pim(all_bank_activation="faw_limited")
    op = kv_op(n=2048, count=16)  # several tREFI long, so REF commands are included
    log = []
    cycles, *_ = pim_gemv_py(*timing_args(layout(op, spec), spec, False), log=log)
    rows = [(t, c, 0, r, g, b, row) for t, c, r, g, b, row in log]
    assert any(c == 4 for _, c, *_ in rows) and cycles > 3 * 3900
    assert check_command_log(spec.dram_spec, CommandLog.from_rows(rows)) == []


def test_the_checker_catches_a_broken_stream():
    spec = pim(all_bank_activation="faw_limited")
    log = []
    pim_gemv_py(*timing_args(layout(kv_op(n=64, count=1), spec), spec, False), log=log)
    rows = [(t, c, 0, r, g, b, row) for t, c, r, g, b, row in log]
    rows[4] = (rows[3][0], *rows[4][1:])  # fifth ACT at the fourth one's cycle
    assert check_command_log(spec.dram_spec, CommandLog.from_rows(rows))


def test_conformance_examples_of_the_kernel_match_the_twin():
    cls = registry.model_class("neupims")
    pairs = cls.kernel_twins()
    assert [name for name, *_ in pairs] == ["pim_gemv_kernel", "pim_rows_kernel"]
    for name, jitted, twin, examples in pairs:
        assert len(examples) >= 8 and all(tuple(jitted(*a)) == tuple(twin(*a)) for a in examples), name


def test_replace_keeps_ops_hashable():
    assert hash(dataclasses.replace(kv_op(), n=5)) != hash(kv_op())
