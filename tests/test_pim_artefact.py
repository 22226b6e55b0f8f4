"""NeuPIMs' own KV layout (pim.layout: artefact) and requests placed on channels by their KV lengths."""

import numpy as np
import pytest
from pydantic import ValidationError

from arch import registry
from arch.pim.kernel import pim_rows_kernel, pim_rows_py
from arch.pim.command_timing import device_vector
from arch.pim.layout import AttentionShape, GemvSide, channel_rows, gwrite_cycles, padded_row_sets, request_rows
from arch.pim.options import NeupimsMappingOptions
from arch.pim.spec import PimMemorySpec, load_memory
from benchmarks.neupims_artefact import ARTEFACT, TOLERANCE, measure
from mappers.pim_channels import artefact_estimate_cycles, place_requests, sub_batch_groups
from mappers.subbatch import map_step
from simulator.engine import simulate
from simulator.schema import WorkloadSpec
from simulator.workload_spec import build_workload

PIM = PimMemorySpec.model_validate({**load_memory("neupims-hbm2"), "layout": "artefact"})
# GPT-3 7B on 4 tensor-parallel devices: 32 heads / 4 = 8 heads of 128 per device (workloads/models).
SCORE, CONTEXT = (AttentionShape(side, 8, 128, 1) for side in (GemvSide.SCORE, GemvSide.CONTEXT))


# -- layout -------------------------------------------------------------------------
def test_a_300_token_request_opens_52_row_sets_for_37_5_of_data():
    # K: 2 chunks of 512 elements x ceil(300 / 32) = 10 tiles (PIMTensor.cc KEY); V: 8 heads x
    # ceil(300 / 512) = 1 chunk x ceil(128 / 32) = 4 tiles (NeuPIMSAttend.cc); data: 300 x 1024 x 2 B / 32 KB.
    assert padded_row_sets(SCORE, 300, PIM) == (20, 18.75)
    assert padded_row_sets(CONTEXT, 300, PIM) == (32, 18.75)


def test_commands_per_tile_follow_the_artefacts_loops():
    # score tile: 4 heads x (128 / 16 COMPs) and one READRES per head; context tile: ceil(300 / 16) COMPs, 1 READRES
    macs, reads, before = request_rows(SCORE, 300, PIM)
    assert set(macs) == {32} and set(reads) == {4}
    macs, reads, before_v = request_rows(CONTEXT, 300, PIM)
    assert set(macs) == {19} and set(reads) == {1}
    # a GWRITE per 512-element chunk (2 for K, 8 heads x 1 for V), a P_HEADER (tCMD = 1) per tile
    gwrites = [b for b in before + before_v if b > 1]
    assert len(gwrites) == 10 and set(gwrites) == {gwrite_cycles(PIM) + 1}


def test_a_gwrite_costs_newtonsims_gwrite_delay_after_the_activation():
    # (tCCD_S + tCCD_L) x 32 (NewtonSim configuration.cc) + tRCDRD = (1 + 2) x 32 + 14 on hbm2-neupims
    assert gwrite_cycles(PIM) == 110


def test_the_row_kernel_matches_its_twin_on_a_channel_of_requests():
    for shape in (SCORE, CONTEXT):
        rows = channel_rows(shape, (5, 33, 300, 513, 2048), PIM)
        args = rows + (device_vector(PIM, True),)
        assert tuple(pim_rows_kernel(*args)) == tuple(pim_rows_py(*args))


def test_a_longer_request_never_costs_less():
    accel = registry.build(registry.preset_spec("neupims"))
    op = next(op for op in build_workload(WorkloadSpec(model="gpt3-7b", phase="decode", batch=1, tp=4,
                                                       kv_lens=[100])).ops if op.name.endswith("attn_context"))
    cycles = [accel.channel_cost(op, 1, (n,)).compute_cycles for n in range(1, 1100, 7)]
    assert cycles == sorted(cycles) and cycles[-1] > cycles[0]


# -- placement ----------------------------------------------------------------------
def test_round_robin_and_least_loaded_placement():
    assert place_requests([7] * 5, 2, "round_robin") == [0, 1, 0, 1, 0]
    # clb: the channel with the least summed estimate, lowest index on ties (Scheduler.cc allocate_pim_tile)
    assert place_requests([1000, 10, 10, 10], 3, "clb", estimate=lambda n: n) == [0, 1, 2, 1]


def test_sub_batches_halve_each_channels_queue_alternating_odd_halves():
    # Scheduler.cc group_sub_batches (simple partition): an odd queue's larger half alternates
    channel_of = [0, 0, 0, 1, 1, 1, 2, 2]
    assert sub_batch_groups(channel_of, 3, 2) == [[0, 1, 3, 6], [2, 4, 5, 7]]


def test_the_scheduler_estimate_is_the_artefacts_formula():
    # 300 tokens, E = 1024, 1 KB page, 32 banks: K 1 chunk x (100 + 10 x 184); V 8 chunks x (100 + 4 x 184)
    assert artefact_estimate_cycles(300, 8, 128, 1024, 32) == 100 + 10 * 184 + 8 * (100 + 4 * 184)


def test_an_unknown_placement_names_the_option():
    with pytest.raises(ValidationError, match="channel_placement"):
        NeupimsMappingOptions.model_validate({"channel_placement": "random"})


def test_the_pim_op_ends_with_its_slowest_channel():
    accel = registry.build(registry.preset_spec("neupims"))  # dual row buffers: PIM ops hold no memory
    lengths = [5, 2048, 300, 40] * 16
    workload = build_workload(WorkloadSpec(model="gpt3-7b", phase="decode", batch=64, kv_lens=lengths))
    _, schedule = map_step(workload, accel, {"channel_placement": "round_robin"})  # batch 64: not interleaved
    score = [t for t in schedule.tasks if t.group == "decode_attn_score"]
    assert sorted(t.instance for t in score) == list(range(32))  # round robin: 2 requests per channel
    assert {t.op.count for t in score} == {64}  # 2 requests x 32 heads
    events = {e.task: e for e in simulate(schedule) if e.task.startswith("decode_attn_score#")}
    assert all(events[t.name].end - events[t.name].start == t.cost.compute_cycles for t in score)
    slowest = max(score, key=lambda t: t.cost.compute_cycles)
    assert max(e.end for e in events.values()) == events[slowest.name].end  # the op ends with it
    assert max(t.cost.compute_cycles for t in score) > 2 * min(t.cost.compute_cycles for t in score)


# -- against the artefact's cycles (benchmarks/neupims_artefact.py) ---------------------
def test_neupims_over_naive_and_the_pim_stage_match_the_artefact():
    got = measure()
    for key, tolerance in TOLERANCE.items():
        assert abs(got[key] / ARTEFACT[key] - 1) <= tolerance, (key, got[key], ARTEFACT[key])
    assert got["naive_slowest_channel_over_mean"] > 1.2  # whole requests per channel are not balanced
    assert np.isclose(got["ratio_steady"], got["naive_layer_cycles"] / got["neupims_steady_cycles"])
