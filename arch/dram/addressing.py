"""Byte addresses to DRAM coordinates, and request streams to feed the scheduler.

Address mapping: the byte address is divided by ``burst_bytes`` (the offset inside
a burst is dropped) and the burst index is read as a mixed-radix number whose
digits are the spec's ``address_mapping`` fields, least significant last. With
``[rank, row, bank, column, bankgroup, pseudo_channel, channel]`` consecutive
bursts go to consecutive channels, then pseudo-channels, then bank groups, and a
channel sees the columns of one row before the next bank. Counts need not be
powers of two. Addresses must lie below the device capacity.

A :class:`RequestBatch` holds one request per burst as parallel numpy arrays;
``channel`` there is the scheduled channel, ``channel * pseudo_channels +
pseudo_channel``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arch.dram.spec import AddressField, DramSpec


@dataclass(frozen=True, eq=False)
class RequestBatch:
    """Requests of one burst each, as parallel arrays (int64, ``is_write`` bool)."""

    arrival_cycle: np.ndarray
    is_write: np.ndarray
    channel: np.ndarray
    rank: np.ndarray
    bankgroup: np.ndarray
    bank: np.ndarray
    row: np.ndarray
    column: np.ndarray

    def __post_init__(self) -> None:
        lengths = {name: len(getattr(self, name)) for name in self.__dataclass_fields__}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"request arrays differ in length: {lengths}")
        if len(self) and int(np.min(self.arrival_cycle)) < 0:
            raise ValueError("arrival_cycle must be >= 0")

    def __len__(self) -> int:
        return len(self.arrival_cycle)


def decode_addresses(spec: DramSpec, byte_addresses) -> dict[AddressField, np.ndarray]:
    """Each address field of each byte address (int64 arrays)."""
    org = spec.organisation
    burst = np.asarray(byte_addresses, dtype=np.int64) // org.burst_bytes
    if burst.size and (burst.min() < 0 or burst.max() * org.burst_bytes >= org.capacity_bytes):
        raise ValueError(f"byte addresses must lie in [0, {org.capacity_bytes}) for {spec.name}")
    counts = org.field_counts()
    fields = {}
    for field in reversed(spec.address_mapping):
        burst, fields[field] = np.divmod(burst, counts[field])
    return fields


def encode_addresses(spec: DramSpec, fields: dict[AddressField, np.ndarray]) -> np.ndarray:
    """The byte address of the first byte of each burst: the inverse of :func:`decode_addresses`."""
    counts = spec.organisation.field_counts()
    burst = np.zeros_like(np.asarray(fields[AddressField.ROW], dtype=np.int64))
    for field in spec.address_mapping:
        burst = burst * counts[field] + np.asarray(fields[field], dtype=np.int64)
    return burst * spec.organisation.burst_bytes


def requests_from_addresses(spec: DramSpec, byte_addresses, *, is_write=False,
                            arrival_cycle=0) -> RequestBatch:
    """One request per address; ``is_write`` and ``arrival_cycle`` broadcast."""
    fields = decode_addresses(spec, byte_addresses)
    n = len(fields[AddressField.ROW])
    pcs = spec.organisation.pseudo_channels_per_channel
    return RequestBatch(
        arrival_cycle=np.broadcast_to(np.asarray(arrival_cycle, dtype=np.int64), (n,)).copy(),
        is_write=np.broadcast_to(np.asarray(is_write, dtype=bool), (n,)).copy(),
        channel=fields[AddressField.CHANNEL] * pcs + fields[AddressField.PSEUDO_CHANNEL],
        rank=fields[AddressField.RANK],
        bankgroup=fields[AddressField.BANKGROUP],
        bank=fields[AddressField.BANK],
        row=fields[AddressField.ROW],
        column=fields[AddressField.COLUMN],
    )


def sequential_stream(spec: DramSpec, n_bytes: int, *, start_byte: int = 0, is_write: bool = False,
                      interval_cycles: int = 0) -> RequestBatch:
    """Bursts covering ``[start_byte, start_byte + n_bytes)`` in address order.

    Request i arrives at ``i * interval_cycles`` (0: all at once, a backlogged stream).
    """
    burst = spec.organisation.burst_bytes
    first, end = start_byte // burst, -(-(start_byte + n_bytes) // burst)
    addresses = np.arange(first, end, dtype=np.int64) * burst
    arrivals = np.arange(len(addresses), dtype=np.int64) * interval_cycles
    return requests_from_addresses(spec, addresses, is_write=is_write, arrival_cycle=arrivals)


def random_stream(spec: DramSpec, n_requests: int, *, seed: int, write_fraction: float = 0.0,
                  interval_cycles: int = 0) -> RequestBatch:
    """``n_requests`` bursts at uniformly random addresses over the whole device."""
    rng = np.random.default_rng(seed)
    org = spec.organisation
    bursts = rng.integers(0, org.capacity_bytes // org.burst_bytes, size=n_requests, dtype=np.int64)
    writes = rng.random(n_requests) < write_fraction
    arrivals = np.arange(n_requests, dtype=np.int64) * interval_cycles
    return requests_from_addresses(spec, bursts * org.burst_bytes, is_write=writes, arrival_cycle=arrivals)
