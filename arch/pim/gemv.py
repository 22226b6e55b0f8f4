"""A GEMV op on one PIM channel: data layout, command counts and timing.

Layout (after NeuPIMs' KV-cache layout, ``casys-kaist/NeuPIMs:
src/operations/PIMGEMV.cc``: a request's K/V for all heads live in one channel,
its tokens spread over the banks, each bank's row holding a slice of the
embedding): an op instance computes ``n`` dot products of length ``k`` for each
of ``m`` query rows. The ``n`` outputs are dealt out over the channel's banks, so
each bank holds ``ceil(n / banks)`` length-``k`` vectors per instance, stored
row-major one after another; a GEMV streams the rows of every bank in lockstep
(row sets). An open row is multiplied with every query row before it is closed,
so ``m > 1`` (grouped-query attention) costs ``m`` MAC commands per column slice.
A MAC command feeds each multiplier lane one element per bank
(``multipliers_per_bank`` x ``element_bits / b_bits`` elements, narrower
operands packed). One result read per (instance, output group, query row)
moves the bank-side partial sums of all banks out as whole bursts. Input
vectors (``m x k`` per instance) are written to the PIM buffers once per op.

This is ``pim.layout: dense``; NeuPIMs' own padded layout (``artefact``) is
:mod:`arch.pim.layout`, timed by :func:`row_timing`. What the dense layout
leaves out: row-set padding between instances (vectors pack densely across
instance boundaries), the bank-level accumulation of dot products longer
than a row (accumulated in place, read once) and any softmax in PIM.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from arch.contract import CapacityError
from arch.pim.command_timing import column_slot
from arch.pim.kernel import pim_gemv_kernel, pim_gemv_py, pim_rows_kernel, pim_rows_py
from arch.pim.spec import PimMemorySpec
from workloads.op import Op


class PimCapacityError(CapacityError):
    """An op's matrix does not fit in the PIM memory."""


class PimDtypeError(ValueError):
    """An op's matrix elements are wider than the PIM multipliers."""


@dataclass(frozen=True)
class GemvLayout:
    """How one channel's share of a GEMV op maps onto rows and commands."""

    row_sets: int
    macs_full: int
    macs_last: int
    readouts: int
    gwrite_bursts: int
    elements_per_mac: int  # per bank


@dataclass(frozen=True)
class GemvTiming:
    """The channel's PIM timing (DRAM cycles) and action counts for the energy model."""

    dram_cycles: int
    row_sets: int
    bank_activates: int
    mac_commands: int
    readouts: int
    refreshes: int
    multiplies: int       # multiplier operations (all banks)
    cell_bits: int        # bits read from the cells by MAC commands (all banks)
    readout_bits: int     # result bits moved to the host
    gwrite_bits: int      # input bits written from the host


def layout(op: Op, pim: PimMemorySpec) -> GemvLayout:
    """Rows and commands of ``op`` on one channel (module docstring)."""
    check_fits(op, pim)
    org = pim.dram_spec.organisation
    banks = org.banks_per_channel
    per_mac = pim.multipliers_per_bank * max(1, pim.element_bits // max(1, math.ceil(op.b_bits)))
    page_elements = int(org.page_bytes * 8 // op.b_bits)
    outputs_per_bank = -(-op.n // banks)
    elements_per_bank = op.count * outputs_per_bank * op.k
    row_sets = -(-elements_per_bank // page_elements)
    last_elements = elements_per_bank - (row_sets - 1) * page_elements
    bursts_per_readout = -(-math.ceil(banks * op.out_bits / 8) // org.burst_bytes)
    gwrite_bytes = math.ceil(op.count * op.m * op.k * op.a_bits / 8)
    return GemvLayout(
        row_sets=row_sets,
        macs_full=-(-page_elements // per_mac) * op.m,
        macs_last=-(-last_elements // per_mac) * op.m,
        readouts=op.count * outputs_per_bank * op.m * bursts_per_readout,
        gwrite_bursts=-(-gwrite_bytes // org.burst_bytes),
        elements_per_mac=per_mac,
    )


def check_fits(op: Op, pim: PimMemorySpec) -> None:
    """Raise if the op's matrix is wider than the multipliers or larger than the memory."""
    if op.b_bits > pim.element_bits:
        raise PimDtypeError(f"element_bits = {pim.element_bits}: op {op.name!r} has {op.b_bits:g}-bit "
                            f"matrix elements; expected at most {pim.element_bits}")
    capacity = pim.dram_spec.organisation.capacity_bytes
    if op.b_bytes > capacity:
        raise PimCapacityError(f"op {op.name!r}: its {op.b_operand.value} matrix ({op.b_bytes} bytes) does not "
                               f"fit in the PIM memory (dram {pim.dram!r}: {capacity} bytes)")


def timing_args(lay: GemvLayout, pim: PimMemorySpec, dual_bus: bool) -> tuple:
    """The kernel's arguments: the layout, then the device vector read from the DRAM spec's table."""
    return (lay.row_sets, lay.macs_full, lay.macs_last, lay.readouts, lay.gwrite_bursts, pim.kernel_device(dual_bus))


def gemv_timing(op: Op, pim: PimMemorySpec, dual_bus: bool = False, jit: bool = True) -> GemvTiming:
    """Timing and counts of ``op`` on one channel (the Numba kernel, or its twin)."""
    lay = layout(op, pim)
    run = pim_gemv_kernel if jit else pim_gemv_py
    cycles, activates, macs, reads, refreshes = (int(x) for x in run(*timing_args(lay, pim, dual_bus)))
    banks = pim.dram_spec.organisation.banks_per_channel
    burst_bits = pim.dram_spec.organisation.burst_bytes * 8
    return GemvTiming(
        dram_cycles=cycles, row_sets=lay.row_sets, bank_activates=activates, mac_commands=macs,
        readouts=reads, refreshes=refreshes, multiplies=op.macs,
        cell_bits=math.ceil(macs * banks * lay.elements_per_mac * op.b_bits),
        readout_bits=reads * burst_bits, gwrite_bits=lay.gwrite_bursts * burst_bits,
    )


def row_timing(rows, multiplies: int, pim: PimMemorySpec, dual_bus: bool, bursts_per_read: int,
               jit: bool = True) -> GemvTiming:
    """Timing and counts of a channel's row sets given one by one (``rows`` = MACs, result reads and
    channel cycles before each row set, :mod:`arch.pim.layout`)."""
    macs_of, reads_of, before_of = rows
    reads_of = reads_of * bursts_per_read  # each result read moves one partial sum per bank, in bursts
    run = pim_rows_kernel if jit else pim_rows_py
    cycles, activates, macs, reads, refreshes = (int(x) for x in run(macs_of, reads_of, before_of,
                                                                     pim.kernel_device(dual_bus)))
    org = pim.dram_spec.organisation
    gwrites = int(np.count_nonzero(np.asarray(before_of) > column_slot(pim.dram_spec)))
    return GemvTiming(
        dram_cycles=cycles, row_sets=len(macs_of), bank_activates=activates, mac_commands=macs,
        readouts=reads, refreshes=refreshes, multiplies=multiplies,
        cell_bits=macs * org.banks_per_channel * pim.multipliers_per_bank * pim.element_bits,
        readout_bits=reads * org.burst_bytes * 8, gwrite_bits=gwrites * org.page_bytes * 8,
    )
