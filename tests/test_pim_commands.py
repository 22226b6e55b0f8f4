"""PIM commands in the DRAM rule tables: every PIM stream is replayed by the DRAM legality checker.

The all-bank commands (ACT_AB, PRE_AB, MAC_AB, RD_RES, WR_GB) are rules of each
standard's table (arch/dram/standards.py); the PIM kernel's spacings are read
from that table (arch/pim/command_timing.py), and a memory whose stream breaks a
rule is refused.
"""

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from arch.dram import CONSTRAINT_RULES, Command, check_command_log, list_presets, load_preset
from arch.dram.commands import PIM_COMMANDS
from arch.pim.command_timing import command_log, device_vector, stream_violations
from arch.pim.gemv import layout
from arch.pim.kernel import (ACT_TO_ACT, ACT_TO_COL, COL_TO_PRE, PRE_TO_ACT, PRE_TO_PRE, REF_TO_REF, T_RC,
                              pim_rows_kernel)
from arch.pim.layout import AttentionShape, GemvSide, channel_rows, readout_bursts
from arch.pim.spec import PimMemorySpec, load_memory
ROOT = Path(__file__).resolve().parent.parent
from workloads.op import Op, OpKind, Operand

MODES = ("ganged", "faw_limited")


def memory(dram="hbm2-neupims", **changes):
    return PimMemorySpec.model_validate({**load_memory("neupims-hbm2"), "dram": dram, **changes})


def kv_op(n=2048, k=128, count=16):
    return Op("attn_score", OpKind.GEMM, 1, n, k, count=count, b_operand=Operand.KV)


def dense_rows(op, pim):
    lay = layout(op, pim)
    macs = [lay.macs_full] * lay.row_sets
    macs[-1] = lay.macs_last
    reads = [lay.readouts // lay.row_sets + (r < lay.readouts % lay.row_sets) for r in range(lay.row_sets)]
    before = [lay.gwrite_bursts * pim.dram_spec.timing_cycles["BL"]] + [0] * (lay.row_sets - 1)
    return macs, reads, before


def artefact_rows(pim):
    shape = AttentionShape(GemvSide.SCORE, kv_heads=8, head_dim=128, query_rows=1)
    macs, reads, before = channel_rows(shape, (300, 1200, 2048, 77), pim)
    return list(macs), [int(r) * readout_bursts(shape, pim) for r in reads], list(before)


def test_every_standard_declares_every_pim_command():
    for standard, rules in CONSTRAINT_RULES.items():
        used = {c for r in rules for c in r.preceding + r.following}
        assert set(PIM_COMMANDS) <= used, standard


@pytest.mark.parametrize("dram", list_presets())
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("rows_of", ["dense", "artefact"])
def test_a_pim_stream_passes_the_checker_on_every_dram_preset(dram, mode, rows_of):
    pim = memory(dram, all_bank_activation=mode)
    rows = dense_rows(kv_op(), pim) if rows_of == "dense" else artefact_rows(pim)
    log, cycles = command_log(rows, device_vector(pim, dual_bus=True))
    refresh = pim.dram_spec.timing_cycles["tREFI"]
    assert cycles > 2 * refresh and Command.REF in set(log.command)  # refreshes are in the stream
    assert {Command.MAC_AB, Command.RD_RES, Command.WR_GB} <= set(log.command)
    assert check_command_log(pim.dram_spec, log) == []


@pytest.mark.parametrize("dram", list_presets())
@pytest.mark.parametrize("mode", MODES)
def test_the_twin_logs_the_counts_the_kernel_returns(dram, mode):
    pim = memory(dram, all_bank_activation=mode)
    rows = artefact_rows(pim)
    device = device_vector(pim, dual_bus=False)
    log, cycles = command_log(rows, device)
    cycles_jit, activates, macs, reads, refreshes = pim_rows_kernel(*(np.asarray(x, np.int64) for x in rows), device)
    count = {c: int((log.command == c).sum()) for c in Command}
    banks = pim.dram_spec.organisation.banks_per_channel
    assert cycles == cycles_jit and count[Command.MAC_AB] == macs and count[Command.RD_RES] == reads
    assert count[Command.REF] == refreshes
    if mode == "ganged":
        assert count[Command.ACT_AB] == count[Command.PRE_AB] == activates // banks
    else:
        assert count[Command.ACT] == count[Command.PRE] == activates


def test_hbm3_precharges_are_spaced_by_tppd():
    pim = memory("hbm3-6400", all_bank_activation="faw_limited")
    device = device_vector(pim, dual_bus=False)
    assert device[PRE_TO_PRE] == pim.dram_spec.timing_cycles["tPPD"] == 2
    assert device[T_RC] == pim.dram_spec.timing_cycles["tRC"]
    rows = dense_rows(kv_op(n=512, count=1), pim)
    assert check_command_log(pim.dram_spec, command_log(rows, device)[0]) == []
    # Mutation: one PRE per cycle (the command bus alone, as a table without tPPD would allow).
    device[PRE_TO_PRE] = 1
    broken = check_command_log(pim.dram_spec, command_log(rows, device)[0])
    assert broken and all("tPPD" in v.message for v in broken)


def test_hbm3_all_bank_activates_wait_trc():
    pim = memory("hbm3-6400")
    device = device_vector(pim, dual_bus=False)
    tc = pim.dram_spec.timing_cycles
    assert tc["tRC"] > tc["tRAS"] + tc["tRP"]  # so tRC, not tRAS + tRP, binds back-to-back row sets
    device[T_RC] = tc["tRAS"] + tc["tRP"]      # mutation: the kernel without tRC
    rows = ([1] * 8, [0] * 8, [0] * 8)
    broken = check_command_log(pim.dram_spec, command_log(rows, device)[0])
    assert broken and all("tRC" in v.message for v in broken)


@pytest.mark.parametrize("dram", list_presets())
def test_a_mac_spacing_below_tccd_l_is_refused_naming_the_rule(dram):
    with pytest.raises(ValidationError) as info:
        memory(dram, mac_spacing_cycles=1)
    text = str(info.value)
    assert f"dram = {dram!r}" in text and "MAC_AB -> MAC_AB" in text and "tCCD_L" in text


def test_the_checker_bites_on_all_bank_state():
    pim = memory()
    log, _ = command_log(([2, 2], [1, 1], [0, 0]), device_vector(pim, False))
    entries = list(zip(log.cycle, log.command, log.channel, log.rank, log.bankgroup, log.bank, log.row))
    first_pre = next(i for i, e in enumerate(entries) if e[1] == Command.PRE_AB)
    del entries[first_pre]  # the second ACT_AB now finds the banks open
    broken = check_command_log(pim.dram_spec, type(log).from_rows(entries))
    assert any("ACT_AB with banks open" in v.message for v in broken)
    entries = list(zip(log.cycle, log.command, log.channel, log.rank, log.bankgroup, log.bank, log.row))
    mac = next(i for i, e in enumerate(entries) if e[1] == Command.MAC_AB)
    entries[mac] = entries[mac][:6] + (7,)  # a MAC to a row no bank has open
    broken = check_command_log(pim.dram_spec, type(log).from_rows(entries))
    assert any("MAC_AB of row 7" in v.message for v in broken)


def test_every_shipped_memory_on_every_dram_preset_is_legal():
    for name in ("neupims-hbm2", "aim-like-hbm2", "samsung-hbm-pim"):
        for dram in list_presets():
            for mode in MODES:
                pim = PimMemorySpec.model_validate({**load_memory(name), "dram": dram, "all_bank_activation": mode})
                assert stream_violations(pim) == [] and stream_violations(pim, dual_bus=True) == []


def test_hbm2_timelines_are_unchanged_by_the_table_derived_spacings():
    # hbm2-neupims has one command per cycle (tCMD = 1) for every pair: the table gives the
    # spacings the earlier positional arguments did (test_pim.py's hand-computed timelines).
    # Channel-level latencies of an all-bank pair are that pair's rules (ACT_AB -> MAC_AB is tRCDRD),
    # which the kernel applies anyway; between per-bank row commands they are the command bus.
    tc = load_preset("hbm2-neupims").timing_cycles
    faw = device_vector(memory(all_bank_activation="faw_limited"), dual_bus=False)
    assert tc["tCMD"] == 1 and [faw[i] for i in (ACT_TO_ACT, PRE_TO_PRE, PRE_TO_ACT, REF_TO_REF)] == [1] * 4
    ganged = device_vector(memory(), dual_bus=False)
    assert [ganged[i] for i in (PRE_TO_ACT, ACT_TO_COL, COL_TO_PRE)] == [tc["tRP"], tc["tRCDRD"], tc["tRTP"]]
    assert ganged[T_RC] == faw[T_RC] == tc["tRAS"] + tc["tRP"]


def test_validate_refuses_an_illegal_pim_stream_and_accepts_hbm3(cli, write):
    base = (ROOT / "experiments" / "neupims.yaml").read_text(encoding="utf-8")
    old = "set: {npu.link_bandwidth_bytes_per_s: 3.0e11}   # assumption, above\n# GPT-3"
    assert old in base
    bad = base.replace(old, "set: {npu.link_bandwidth_bytes_per_s: 3.0e11, pim.mac_spacing_cycles: 1}\n# GPT-3")
    code, out, err = cli("validate", write(bad))
    assert code == 2 and "systems.neupims" in err and "MAC_AB -> MAC_AB" in err and "Traceback" not in err
    hbm3 = base.replace(old, "set: {npu.link_bandwidth_bytes_per_s: 3.0e11, pim.dram: hbm3-6400}\n# GPT-3")
    code, out, err = cli("validate", write(hbm3))
    assert code == 0, err
