"""The LUT mpGEMM cost kernel: cycles and action counts of one low-bit-weight GEMM.

What it models
--------------
A GEMM ``count x (m x k) @ (k x n)`` whose B operand (the weights) has
``w_bits``-bit integer values, computed by table lookup (LUT Tensor Core, ISCA'25
§3; T-MAC; LUT-GEMM; mechanism in ``../shared/LUT_AND_WAFER.md`` §1.1.1):

* **bit-serial planes**: the weights are split into ``w_bits`` one-bit planes;
  every plane reuses the same table and its partial sum is shifted by the plane
  index and added, so lookups and adds scale linearly with ``w_bits``;
* **one table per group of ``g`` activations** of one row: ``2^g`` entries, or
  ``2^(g-1)`` when the table is **symmetrised** (weights reinterpreted as +-1,
  the sign taken from one weight bit). Building a table costs adds:
  ``2^g - g - 1`` for a full table (every multi-activation subset sum is one add
  from a smaller one), ``(g - 1) + (2^(g-1) - 1)`` for a symmetrised one (the
  first entry takes ``g - 1`` adds, each further entry differs from a previous
  one in one sign, one add of a doubled activation, in Gray-code order);
* **table sharing across N**: a table built once serves ``table_share_n``
  output columns; 0 means it is built once for all ``n`` (the precompute is its
  own operator, LUT Tensor Core's DFG transform). A naive design that builds
  tables next to each LUT unit has ``table_share_n`` = the unit's N;
* **table entry bits**: tables are stored and moved with ``entry_bits`` per
  entry (8 after table quantisation, §3.1.3);
* **the array**: an ``array_m x array_n x g`` LUT array (M tables, N weight
  groups, M x N MUX units) does ``array_m x array_n`` lookups and adds per
  cycle, one weight bit plane per cycle, so a pass over one group of ``g`` of
  one tile takes ``w_bits`` cycles; ``units`` arrays run in parallel and the
  passes are spread evenly over them (no wave quantisation below one pass each;
  a GPU host's thread-block tiles and waves are :mod:`arch.lut.waves`);
* **precompute time**: the table-building adds run on a vector unit at
  ``precompute_adds_per_cycle`` (0: not costed here, e.g. fused into the
  previous operator).

Returned, in this order: ``(array_cycles, passes, lookups, accumulates,
precompute_adds, table_entries_written, table_entry_reads, weight_bit_reads,
precompute_cycles, table_write_bits, table_read_bits)``; the last two are the
table traffic at ``entry_bits`` per entry. ``table_entry_reads`` counts table entries broadcast into
an array (M tables per pass, re-read for every N tile); ``weight_bit_reads``
counts weight bits fed to the arrays (re-fed for every M tile).

How faithful
------------
Exact counting for the arithmetic of the mechanism; timing is the stall-free
issue rate of the arrays (one pass per ``w_bits`` cycles, passes spread over the
arrays). Not modelled: register-file and shared-memory bandwidth inside the SM,
pipeline fill of a pass, warp scheduling; the memory side is the model's
(:mod:`arch.lut.model`). The jitted kernel and its pure-Python twin return the
same integers (checked by the conformance suite).
"""

from __future__ import annotations

from typing import NamedTuple

from numba import njit

from arch.tiered_kernel import ColdAwareKernel


class LutCounts(NamedTuple):
    """The kernel's outputs by name (module docstring)."""

    array_cycles: int
    passes: int
    lookups: int
    accumulates: int
    precompute_adds: int
    table_entries_written: int
    table_entry_reads: int
    weight_bit_reads: int
    precompute_cycles: int
    table_write_bits: int
    table_read_bits: int


@njit(cache=True)
def table_build_adds(g, symmetric):
    """Adds that build one table of ``g`` activations (module docstring)."""
    if symmetric:
        return (g - 1) + ((1 << (g - 1)) - 1)
    return (1 << g) - g - 1


@njit(cache=True)
def lut_mpgemm_kernel(m, n, k, count, w_bits, g, symmetric, entry_bits, table_share_n,
                      array_m, array_n, units, precompute_adds_per_cycle):
    """Cycles and action counts of one LUT mpGEMM; see the module docstring."""
    groups = (k + g - 1) // g
    entries = (1 << (g - 1)) if symmetric else (1 << g)
    m_tiles = (m + array_m - 1) // array_m
    n_tiles = (n + array_n - 1) // array_n
    passes = count * m_tiles * n_tiles * groups
    array_cycles = (passes * w_bits + units - 1) // units
    lookups = count * m * n * groups * w_bits
    builds_per_table = 1 if table_share_n <= 0 else (n + table_share_n - 1) // table_share_n
    tables = count * m * groups * builds_per_table
    precompute_adds = tables * table_build_adds(g, symmetric)
    table_entries_written = tables * entries
    table_entry_reads = passes * array_m * entries
    weight_bit_reads = count * m_tiles * n * groups * g * w_bits
    precompute_cycles = 0
    if precompute_adds_per_cycle > 0:
        precompute_cycles = int(-(-precompute_adds // precompute_adds_per_cycle))
    return (array_cycles, passes, lookups, lookups, precompute_adds, table_entries_written,
            table_entry_reads, weight_bit_reads, precompute_cycles,
            table_entries_written * entry_bits, table_entry_reads * entry_bits)


def table_build_adds_py(g, symmetric):
    """Pure-Python twin of :func:`table_build_adds`."""
    if symmetric:
        return (g - 1) + (2 ** (g - 1) - 1)
    return 2 ** g - g - 1


def lut_mpgemm_kernel_py(m, n, k, count, w_bits, g, symmetric, entry_bits, table_share_n,
                         array_m, array_n, units, precompute_adds_per_cycle):
    """Pure-Python twin of :func:`lut_mpgemm_kernel`."""
    groups = -(-k // g)
    entries = 2 ** (g - 1) if symmetric else 2 ** g
    m_tiles, n_tiles = -(-m // array_m), -(-n // array_n)
    passes = count * m_tiles * n_tiles * groups
    array_cycles = -(-(passes * w_bits) // units)
    lookups = count * m * n * groups * w_bits
    builds_per_table = 1 if table_share_n <= 0 else -(-n // table_share_n)
    tables = count * m * groups * builds_per_table
    precompute_adds = tables * table_build_adds_py(g, symmetric)
    precompute_cycles = 0
    if precompute_adds_per_cycle > 0:
        precompute_cycles = int(-(-precompute_adds // precompute_adds_per_cycle))
    written, reads = tables * entries, passes * array_m * entries
    return (array_cycles, passes, lookups, lookups, precompute_adds, written, reads,
            count * m_tiles * n * groups * g * w_bits, precompute_cycles,
            written * entry_bits, reads * entry_bits)


# (m, n, k, count, w_bits, g, symmetric, entry_bits, table_share_n, array_m, array_n,
#  units, precompute_adds_per_cycle): decode GEMV, an odd prefill shape, attention-like
# batched shapes, the naive unshared precompute of §3.1.1 (n = 12288, N = 4).
KERNEL_EXAMPLES = (
    (1, 4096, 4096, 1, 2, 4, True, 8, 0, 2, 256, 432, 64.0),
    (77, 300, 129, 1, 4, 4, True, 16, 0, 2, 64, 1, 0.0),
    (4, 130, 128, 64, 1, 4, False, 8, 64, 2, 64, 4, 16.0),
    (4096, 12288, 12288, 1, 1, 4, False, 16, 4, 1, 4, 1, 0.0),
    (2048, 27648, 5120, 1, 2, 5, True, 8, 0, 2, 512, 432, 1024.0),
    (3, 7, 5, 2, 3, 3, True, 10, 2, 2, 64, 3, 7.5),
)


# The run path's entry: the twin (closed-form arithmetic, as fast as the kernel) until the process has spent
# a compile's worth of time in it, or the kernel at once when Numba's cache holds it (arch.tiered_kernel).
LUT_MPGEMM = ColdAwareKernel(lut_mpgemm_kernel, lut_mpgemm_kernel_py)
