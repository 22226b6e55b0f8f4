"""Timing legality: every log the scheduler writes passes the independent checker,
the checker catches broken logs, and the Numba kernel equals its Python twin."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arch.dram import (
    Command,
    CommandLog,
    Engine,
    RequestBatch,
    check_command_log,
    load_preset,
    random_stream,
    schedule,
    sequential_stream,
)

ACT, PRE, RD, WR, REF = Command.ACT, Command.PRE, Command.RD, Command.WR, Command.REF
HBM2 = load_preset("hbm2-neupims")
HBM3 = load_preset("hbm3-6400")
# Two channels and a short refresh interval, so small streams meet refresh often.
SMALL_HBM2 = HBM2.with_changes(organisation={"channels": 2}, timing_cycles={"tREFI": 400})
SMALL_HBM3 = HBM3.with_changes(organisation={"channels": 1}, timing_cycles={"tREFI": 700})
NO_REFRESH = HBM2.with_changes(controller={"refresh": "none"})


def log_of(*rows):
    return CommandLog.from_rows(np.array(rows, dtype=np.int64))


def messages(spec, log, **kwargs):
    return [v.message for v in check_command_log(spec, log, **kwargs)]


def assert_twin_equal(spec, batch):
    jit = schedule(spec, batch, record_log=True)
    twin = schedule(spec, batch, record_log=True, engine=Engine.TWIN)
    assert np.array_equal(jit.completion_cycle, twin.completion_cycle)
    assert jit.command_counts == twin.command_counts
    assert (jit.row_hits, jit.row_misses) == (twin.row_hits, twin.row_misses)
    assert jit.log.entries() == twin.log.entries()
    return jit


@pytest.mark.parametrize("spec", [HBM2, HBM3], ids=lambda s: s.name)
@pytest.mark.parametrize("workload", ["stream-read", "stream-write", "random-mixed"])
def test_scheduler_logs_are_legal(spec, workload):
    batch = {
        "stream-read": lambda: sequential_stream(spec, 2 << 20),
        "stream-write": lambda: sequential_stream(spec, 1 << 20, is_write=True),
        "random-mixed": lambda: random_stream(spec, 10_000, seed=5, write_fraction=0.4, interval_cycles=1),
    }[workload]()
    result = schedule(spec, batch, record_log=True)
    assert len(result.log) == result.commands
    assert check_command_log(spec, result.log) == []


def test_checker_catches_a_command_moved_one_cycle_early():
    result = schedule(SMALL_HBM2, random_stream(SMALL_HBM2, 400, seed=1), record_log=True)
    log = result.log
    for index in (10, 200, len(log) - 1):
        cycle = log.cycle.copy()
        cycle[index] -= 1
        tampered = CommandLog(cycle, log.command, log.channel, log.rank, log.bankgroup, log.bank, log.row)
        found = check_command_log(SMALL_HBM2, tampered)
        assert found and found[0].index <= index


def test_checker_reports_an_early_read():
    found = check_command_log(NO_REFRESH, log_of((0, ACT, 0, 0, 0, 0, 9), (13, RD, 0, 0, 0, 0, 9)))
    assert len(found) == 1
    assert (found[0].index, found[0].cycle, found[0].command) == (1, 13, RD)
    assert "1 cycles early: bank ACT -> RD needs 14 cycles (tRCDRD)" in found[0].message


def test_checker_reports_a_fifth_activate_inside_tfaw():
    # Five ACTs 6 cycles apart (tRRD_L) to different banks of rank 0: the fifth is 24 < tFAW = 30 after the first.
    rows = [(6 * i, ACT, 0, 0, i % 4, i // 4, 1) for i in range(5)]
    assert messages(NO_REFRESH, log_of(*rows[:4])) == []
    assert messages(NO_REFRESH, log_of(*rows)) == [
        "ACT at rank 0, bank group 0, bank 1 is 6 cycles early: rank ACT -> ACT needs 30 cycles (tFAW) "
        "within a window of 4"]


def test_checker_reports_a_rank_switch_without_turnaround():
    rows = [(0, ACT, 0, 0, 0, 0, 1), (1, ACT, 0, 1, 0, 0, 1),
            (20, RD, 0, 0, 0, 0, 1), (23, RD, 0, 1, 0, 0, 1)]
    found = messages(NO_REFRESH, log_of(*rows))
    assert found == ["RD at rank 1, bank group 0, bank 0 is 1 cycles early: "
                     "rank (other nodes) RD -> RD needs 4 cycles (BL + tRTRS)"]


def test_checker_reports_bank_state_errors():
    rows = [(0, RD, 0, 0, 0, 0, 3), (10, ACT, 0, 0, 0, 0, 3), (60, ACT, 0, 0, 0, 0, 4),
            (100, PRE, 0, 0, 0, 0, 8), (200, REF, 0, 0, -1, -1, -1)]
    assert messages(NO_REFRESH, log_of(*rows)) == [
        "RD of row 3 at rank 0, bank group 0, bank 0, which has closed",
        "ACT to rank 0, bank group 0, bank 0, which has row 3 open",
        "PRE of row 8 at rank 0, bank group 0, bank 0, which has row 4 open",
    ]
    rows = [(0, ACT, 0, 0, 1, 2, 3), (200, REF, 0, 0, -1, -1, -1)]
    assert messages(NO_REFRESH, log_of(*rows)) == ["REF to rank 0 with banks open: [(0, 1, 2)]"]


def test_checker_reports_missing_refresh_and_backward_cycles():
    rows = [(0, ACT, 0, 0, 0, 0, 1), (14, RD, 0, 0, 0, 0, 1), (9000, RD, 0, 0, 0, 0, 1)]
    assert messages(HBM2, log_of(*rows)) == [
        "rank 0 owes 2 refreshes by the end of the log (at most 1 allowed)",
        "rank 1 owes 2 refreshes by the end of the log (at most 1 allowed)",
    ]
    assert messages(NO_REFRESH, log_of(*rows)) == []
    backwards = CommandLog(*(np.array(col) for col in zip(*[(20, ACT, 0, 0, 0, 0, 1), (10, PRE, 0, 0, 0, 0, 1)])))
    assert "cycle goes back from 20" in messages(NO_REFRESH, backwards)


@pytest.mark.parametrize("spec", [SMALL_HBM2, SMALL_HBM3], ids=["hbm2", "hbm3"])
def test_kernel_equals_twin_on_seeded_random_streams(spec):
    for seed in range(3):
        batch = random_stream(spec, 500, seed=seed, write_fraction=0.3 * seed, interval_cycles=seed)
        result = assert_twin_equal(spec, batch)
        assert check_command_log(spec, result.log) == []


def test_kernel_equals_twin_on_streams_with_refresh():
    for spec in (SMALL_HBM2, SMALL_HBM3, SMALL_HBM2.with_changes(controller={"refresh": "simultaneous"})):
        result = assert_twin_equal(spec, sequential_stream(spec, 64 * 1500))
        assert result.command_counts[REF] > 0
        assert check_command_log(spec, result.log) == []


def test_kernel_equals_twin_when_row_hits_mix_reads_and_writes():
    """Four banks, two rows each, half writes: banks often hold queued read and write
    hits on their open row at once (two candidates per bank), and refresh stops ranks."""
    spec = SMALL_HBM2.with_changes(organisation={"channels": 1})
    rng = np.random.default_rng(4)
    n = 1500
    rows = [(int(rng.integers(0, n // 3)), bool(rng.random() < 0.5), 0, int(rng.integers(0, 2)),
             int(rng.integers(0, 2)), 0, int(rng.integers(0, 2))) for _ in range(n)]  # 4 banks
    batch = batch_of(sorted(rows))
    result = assert_twin_equal(spec, batch)
    assert check_command_log(spec, result.log) == []
    assert result.row_hits > n // 2
    assert result.command_counts[REF] > 0
    assert result.command_counts[RD] + result.command_counts[WR] == n


def request_lists(spec):
    org = spec.organisation
    one = st.tuples(st.integers(0, 300), st.booleans(), st.integers(0, org.scheduled_channels - 1),
                    st.integers(0, org.ranks_per_channel - 1), st.integers(0, org.bankgroups_per_rank - 1),
                    st.integers(0, org.banks_per_bankgroup - 1), st.integers(0, 3))
    return st.lists(one, min_size=1, max_size=80)


def batch_of(rows):
    columns = np.array(rows, dtype=np.int64).T
    return RequestBatch(columns[0], columns[1].astype(bool), *columns[2:], np.zeros(len(rows), dtype=np.int64))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([SMALL_HBM2, SMALL_HBM3]), st.sampled_from([1, 3, 32]), st.data())
def test_random_request_streams_are_legal_and_twin_equal(spec, depth, data):
    spec = spec.with_changes(controller={"queue_depth_requests": depth})
    batch = batch_of(data.draw(request_lists(spec)))
    result = assert_twin_equal(spec, batch)
    assert check_command_log(spec, result.log) == []
    assert result.command_counts[RD] + result.command_counts[WR] == len(batch)
    assert np.all(result.completion_cycle >= batch.arrival_cycle + spec.write_latency_cycles)
