"""The scheduler kernel's own bookkeeping: per-command rule lists and the packed-priority limits."""

import numpy as np
import pytest

from arch.dram import load_preset, random_stream
from arch.dram.commands import COMMAND_SCOPE, N_COMMANDS
from arch.dram.grouping import group_requests
from arch.dram.channels import schedule_kernel
from arch.dram.kernel import AGE_MASK, NO_DELAY
from arch.dram.timing_state import bank_rules

PRESETS = [load_preset("hbm2-neupims"), load_preset("hbm3-6400")]


@pytest.mark.parametrize("spec", PRESETS, ids=lambda s: s.name)
def test_bank_rules_list_every_rule_below_the_channel_once(spec):
    tables = spec.compiled
    start, level, following, latency, sibling = bank_rules(tables.latency, tables.sibling_latency,
                                                           tables.command_scope)
    listed = {}
    for c in range(N_COMMANDS):
        for k in range(start[c], start[c + 1]):
            key = (c, int(level[k]), int(following[k]), bool(sibling[k]))
            assert key not in listed
            listed[key] = int(latency[k])
    # From the resolved table itself: plain rules below the channel, within the preceding command's scope.
    expected = {}
    for c in spec.constraints:
        if c.window == 1 and 1 <= c.level <= COMMAND_SCOPE[c.preceding] and max(c.preceding, c.following) < N_COMMANDS:
            key = (int(c.preceding), int(c.level), int(c.following), c.sibling)
            expected[key] = max(expected.get(key, 0), c.latency_cycles)
    assert listed == expected
    assert start[N_COMMANDS] == len(level) and len(listed) > 0


def kernel_args(spec, grouped, latency=None):
    org, tables = spec.organisation, spec.compiled
    return (grouped.arrival, grouped.is_write, grouped.bank_id, grouped.row, grouped.channel_start,
            org.ranks_per_channel, org.bankgroups_per_rank, org.banks_per_bankgroup,
            tables.latency if latency is None else latency, tables.sibling_latency, tables.command_scope,
            tables.window_level, tables.window_preceding, tables.window_following, tables.window_latency,
            tables.window_count, spec.read_latency_cycles, spec.write_latency_cycles,
            np.array(spec.first_refresh_cycles(), dtype=np.int64), spec.timing_cycles["tREFI"],
            spec.controller.queue_depth_requests, False)


def test_a_latency_beyond_the_packed_delay_is_rejected_by_name():
    spec = PRESETS[0]
    grouped = group_requests(spec, random_stream(spec, 10, seed=0))
    latency = spec.compiled.latency.copy()
    latency[3, 0, 2] = NO_DELAY
    with pytest.raises(ValueError, match=f"timing_cycles: .*below {NO_DELAY} cycles, the longest is {NO_DELAY}"):
        schedule_kernel(*kernel_args(spec, grouped, latency))


def test_more_requests_than_the_packed_age_holds_are_rejected():
    spec = PRESETS[0]
    grouped = group_requests(spec, random_stream(spec, 10, seed=0))
    args = list(kernel_args(spec, grouped))
    args[0] = np.broadcast_to(np.int64(0), (AGE_MASK + 1,))  # a request count, without the memory
    with pytest.raises(ValueError, match=f"requests: at most {AGE_MASK} per schedule"):
        schedule_kernel(*args)
