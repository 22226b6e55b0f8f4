"""Address mapping and request streams."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arch.dram import (
    AddressField,
    RequestBatch,
    decode_addresses,
    encode_addresses,
    load_preset,
    random_stream,
    requests_from_addresses,
    sequential_stream,
)

HBM2 = load_preset("hbm2-neupims")
HBM3 = load_preset("hbm3-6400")


@settings(max_examples=50, deadline=None)
@given(st.sampled_from([HBM2, HBM3]), st.lists(st.integers(0, 2**40), min_size=1, max_size=20))
def test_decode_then_encode_returns_the_burst_address(spec, raw):
    addresses = np.array(raw, dtype=np.int64) % spec.organisation.capacity_bytes
    fields = decode_addresses(spec, addresses)
    counts = spec.organisation.field_counts()
    for field, values in fields.items():
        assert values.min() >= 0 and values.max() < counts[field]
    burst = spec.organisation.burst_bytes
    assert np.array_equal(encode_addresses(spec, fields), addresses // burst * burst)


def test_consecutive_bursts_spread_over_channels_then_bank_groups():
    requests = sequential_stream(HBM2, 64 * 32 * 8)
    assert np.array_equal(requests.channel[:32], np.arange(32))
    # Each channel's consecutive bursts alternate bank groups, then move along the row.
    ch0 = requests.channel == 0
    assert list(requests.bankgroup[ch0]) == [0, 1, 2, 3, 0, 1, 2, 3]
    assert list(requests.column[ch0]) == [0, 0, 0, 0, 1, 1, 1, 1]
    assert set(requests.row) == {0} and set(requests.rank) == {0} and set(requests.bank) == {0}


def test_pseudo_channels_are_scheduled_channels():
    requests = sequential_stream(HBM3, 32 * 32)
    assert np.array_equal(requests.channel, np.r_[np.arange(0, 32, 2), np.arange(1, 32, 2)])


def test_mapping_with_row_lowest_keeps_a_stream_in_one_bank():
    spec = HBM2.with_changes(address_mapping=["channel", "pseudo_channel", "rank", "bankgroup", "bank",
                                              "column", "row"])
    requests = sequential_stream(spec, 64 * 100)
    assert set(requests.channel) == {0} and set(requests.bank) == {0}
    assert np.array_equal(requests.column, np.zeros(100)) and np.array_equal(requests.row, np.arange(100))


def test_stream_covers_partial_bursts_and_spaces_arrivals():
    requests = sequential_stream(HBM2, 100, start_byte=32, interval_cycles=3)
    assert len(requests) == 3  # bytes 32..131 touch bursts 0, 1 and 2
    assert list(requests.arrival_cycle) == [0, 3, 6]


def test_random_stream_is_seeded():
    a, b = random_stream(HBM2, 500, seed=7, write_fraction=0.5), random_stream(HBM2, 500, seed=7, write_fraction=0.5)
    c = random_stream(HBM2, 500, seed=8)
    assert np.array_equal(a.row, b.row) and np.array_equal(a.is_write, b.is_write)
    assert not np.array_equal(a.row, c.row)
    assert 150 < a.is_write.sum() < 350 and not c.is_write.any()
    assert len(set(a.channel)) == 32


def test_addresses_outside_the_device_are_rejected():
    with pytest.raises(ValueError, match="byte addresses must lie in"):
        requests_from_addresses(HBM2, [HBM2.organisation.capacity_bytes])
    with pytest.raises(ValueError, match="byte addresses must lie in"):
        decode_addresses(HBM2, [-64])


def test_request_arrays_must_agree():
    with pytest.raises(ValueError, match="differ in length"):
        RequestBatch(*(np.zeros(2, dtype=np.int64),) * 7, np.zeros(3, dtype=np.int64))
    fields = decode_addresses(HBM2, [0])
    assert set(fields) == set(AddressField)
