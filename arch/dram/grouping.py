"""Requests sorted into per-channel arrival order: the input both scheduler engines take."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arch.dram.addressing import RequestBatch
from arch.dram.spec import DramSpec


@dataclass(frozen=True, eq=False)
class GroupedRequests:
    """Requests ordered by (channel, arrival, index), with each channel's start offset."""

    order: np.ndarray
    channel_start: np.ndarray
    arrival: np.ndarray
    is_write: np.ndarray
    bank_id: np.ndarray
    row: np.ndarray


def group_requests(spec: DramSpec, requests: RequestBatch) -> GroupedRequests:
    """Validate coordinates and sort requests into per-channel arrival order."""
    org = spec.organisation
    _check_range(requests, org)
    order = _channel_arrival_order(requests)
    bank_id = ((requests.rank * org.bankgroups_per_rank + requests.bankgroup)
               * org.banks_per_bankgroup + requests.bank)
    channel_start = np.searchsorted(requests.channel[order], np.arange(org.scheduled_channels + 1))
    return GroupedRequests(order, channel_start.astype(np.int64),
                           np.ascontiguousarray(requests.arrival_cycle[order], dtype=np.int64),
                           np.ascontiguousarray(requests.is_write[order], dtype=np.bool_),
                           np.ascontiguousarray(bank_id[order], dtype=np.int64),
                           np.ascontiguousarray(requests.row[order], dtype=np.int64))


def _check_range(requests: RequestBatch, org) -> None:
    limits = {"channel": org.scheduled_channels, "rank": org.ranks_per_channel,
              "bankgroup": org.bankgroups_per_rank, "bank": org.banks_per_bankgroup,
              "row": org.rows_per_bank, "column": org.columns_per_row}
    for name, limit in limits.items():
        values = getattr(requests, name)
        if len(values) and (values.min() < 0 or values.max() >= limit):
            raise ValueError(f"request {name} out of range [0, {limit})")


def _channel_arrival_order(requests: RequestBatch) -> np.ndarray:
    """Indices sorted by (channel, arrival, index); a stable sort by channel suffices
    when arrivals are already in order (radix sort when channels fit in 16 bits)."""
    arrival, channel = requests.arrival_cycle, requests.channel
    if len(arrival) and np.any(arrival[1:] < arrival[:-1]):
        return np.lexsort((np.arange(len(arrival)), arrival, channel))
    if channel.max(initial=0) < 1 << 16:
        channel = channel.astype(np.uint16)
    return np.argsort(channel, kind="stable")
