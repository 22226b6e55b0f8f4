"""Channels scheduled once when their requests repeat, and the channel loop run as plain Python.

Both are exact rewrites of the same schedule: every test compares whole outputs (completions,
command counts, which requests needed an ACT, the command log) with the plain per-channel
jitted run, value for value.
"""

import dataclasses

import numpy as np
import pytest

from arch.dram import load_preset, random_stream, sequential_stream
from arch.dram import channels, kernel
from arch.dram.grouping import group_requests
from arch.dram.channels import PYTHON_S_PER_COMMAND, schedule_kernel
from arch.tiered_kernel import plain_python
from tests.test_dram_kernel import kernel_args

PRESETS = [load_preset("hbm2-neupims"), load_preset("hbm3-6400")]


def run(spec, grouped, dedupe, record_log=True):
    args = list(kernel_args(spec, grouped))
    args[-1] = record_log
    return schedule_kernel(*args, dedupe=dedupe)


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.shape == y.shape and np.array_equal(x, y)


class CountingLoop:
    """RUN_CHANNEL wrapped to count the channels it schedules."""

    def __init__(self, loop):
        self.loop, self.calls = loop, 0

    def __call__(self, *args):
        self.calls += 1
        return self.loop(*args)


@pytest.mark.parametrize("spec", PRESETS, ids=lambda s: s.name)
def test_a_sequential_stream_schedules_one_channel_and_copies_it_exactly(spec, monkeypatch):
    grouped = group_requests(spec, sequential_stream(spec, 256 << 10))
    n_channels = grouped.channel_start.size - 1
    counting = CountingLoop(channels.RUN_CHANNEL)
    monkeypatch.setattr(channels, "RUN_CHANNEL", counting)
    once = run(spec, grouped, dedupe=True)
    assert counting.calls == 1  # every channel of a sequential stream holds the same requests
    counting.calls = 0
    each = run(spec, grouped, dedupe=False)
    assert counting.calls == n_channels
    assert_same(once, each)
    assert set(np.unique(once[3][:, 2])) == set(range(n_channels))  # each copied log names its own channel


def test_a_channel_that_differs_is_scheduled_on_its_own(monkeypatch):
    spec = PRESETS[0]
    grouped = group_requests(spec, sequential_stream(spec, 256 << 10))
    lo, hi = int(grouped.channel_start[3]), int(grouped.channel_start[4])
    row = grouped.row.copy()
    row[lo + 5:hi] = (row[lo + 5:hi] + 1) % spec.organisation.rows_per_bank  # channel 3 switches rows
    changed = dataclasses.replace(grouped, row=row)
    counting = CountingLoop(channels.RUN_CHANNEL)
    monkeypatch.setattr(channels, "RUN_CHANNEL", counting)
    once = run(spec, changed, dedupe=True)
    assert counting.calls == 2
    assert_same(once, run(spec, changed, dedupe=False))


def test_equal_digests_of_different_requests_are_not_taken_for_the_same_channel(monkeypatch):
    """The check behind the digest: with every channel's digest made equal, channels still differ."""
    spec = PRESETS[0]
    grouped = group_requests(spec, random_stream(spec, 2000, seed=3, write_fraction=0.3))
    monkeypatch.setattr(channels, "_digest", lambda requests, lo, hi: b"same")
    assert_same(run(spec, grouped, dedupe=True), run(spec, grouped, dedupe=False))


@pytest.mark.parametrize("spec", PRESETS, ids=lambda s: s.name)
def test_the_channel_loop_as_plain_python_gives_the_jitted_schedule(spec, monkeypatch):
    grouped = group_requests(spec, random_stream(spec, 600, seed=1, write_fraction=0.4, interval_cycles=3))
    jitted = run(spec, grouped, dedupe=False)
    monkeypatch.setattr(channels, "RUN_CHANNEL", plain_python(kernel._run_channel))
    assert_same(run(spec, grouped, dedupe=False), jitted)


def test_the_plain_python_estimate_counts_a_command_per_request_and_two_per_row_switch():
    spec = PRESETS[0]
    grouped = group_requests(spec, sequential_stream(spec, 64 << 10))
    n = grouped.arrival.size
    bank = np.zeros(n, dtype=np.int64)
    one_row = np.zeros(n, dtype=np.int64)
    alternating = np.arange(n, dtype=np.int64) % 2
    estimate = lambda rows: channels._python_estimate_s(0, 0, n, grouped.arrival, grouped.is_write, bank, rows)  # noqa: E731
    assert estimate(one_row) == pytest.approx((n + 2) * PYTHON_S_PER_COMMAND)  # one ACT and PRE for the row
    assert estimate(alternating) == pytest.approx((n + 2 * n) * PYTHON_S_PER_COMMAND)
