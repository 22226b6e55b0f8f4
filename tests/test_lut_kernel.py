"""The LUT mpGEMM cost kernel: jitted = twin, and the counts its mechanism implies."""

import pytest

from arch.lut.kernel import (KERNEL_EXAMPLES, lut_mpgemm_kernel, lut_mpgemm_kernel_py, table_build_adds,
                             table_build_adds_py)

FIELDS = ("cycles", "passes", "lookups", "accumulates", "precompute_adds", "entries_written", "entry_reads",
          "weight_bit_reads", "precompute_cycles", "table_write_bits", "table_read_bits")


def run(m=64, n=256, k=128, count=1, w_bits=2, g=4, symmetric=True, entry_bits=8, share_n=0,
        array_m=2, array_n=64, units=1, rate=0.0):
    out = lut_mpgemm_kernel_py(m, n, k, count, w_bits, g, symmetric, entry_bits, share_n, array_m, array_n,
                               units, rate)
    return dict(zip(FIELDS, out))


@pytest.mark.parametrize("args", KERNEL_EXAMPLES)
def test_jitted_kernel_equals_twin(args):
    assert tuple(lut_mpgemm_kernel(*args)) == lut_mpgemm_kernel_py(*args)


@pytest.mark.parametrize("g", range(1, 9))
def test_table_build_adds_twin_and_values(g):
    for symmetric in (True, False):
        assert table_build_adds(g, symmetric) == table_build_adds_py(g, symmetric)
    # full table: every subset of >= 2 activations is one add from a smaller one
    assert table_build_adds_py(g, False) == 2 ** g - g - 1
    assert table_build_adds_py(4, True) == 3 + 7


def test_lookups_replace_macs_by_group_and_plane():
    # M x N x (K/g) x W_BIT lookups instead of M x N x K MACs (LUT_AND_WAFER.md §1.1.1 item 5)
    r = run(m=8, n=128, k=64, w_bits=3)
    assert r["lookups"] == 8 * 128 * (64 // 4) * 3 == r["accumulates"]


def test_cost_is_linear_in_weight_bits():
    one = run(m=32, n=512, k=256, w_bits=1)
    for bits in (2, 3, 4):
        r = run(m=32, n=512, k=256, w_bits=bits)
        assert r["cycles"] == bits * one["cycles"] and r["lookups"] == bits * one["lookups"]
        assert r["entries_written"] == one["entries_written"]  # one table serves every bit plane


def test_symmetrisation_halves_table_entries_and_reads():
    full, half = run(symmetric=False), run(symmetric=True)
    assert full["entries_written"] == 2 * half["entries_written"]
    assert full["entry_reads"] == 2 * half["entry_reads"]
    assert full["lookups"] == half["lookups"]


def test_entry_bits_scale_table_traffic():
    r8, r16 = run(entry_bits=8), run(entry_bits=16)
    assert r16["table_write_bits"] == 2 * r8["table_write_bits"] == 16 * r8["entries_written"]


def test_unshared_precompute_rebuilds_each_table_per_n_tile():
    # [LTC] §3.1.1: OPT-175B [4096,12288] x [12288,12288] with array N = 4: each table is
    # recomputed 12288 / 4 = 3072 times by naive per-unit precompute
    naive = run(m=1, n=12288, k=4, w_bits=1, share_n=4, array_m=1, array_n=4)
    shared = run(m=1, n=12288, k=4, w_bits=1, share_n=0, array_m=1, array_n=4)
    assert naive["precompute_adds"] == 3072 * shared["precompute_adds"]


def test_array_cycles_one_plane_per_cycle_spread_over_units():
    # M2N64K4: a pass over one 4-group of a 2 x 64 tile takes W_BIT cycles
    r = run(m=2, n=64, k=4, w_bits=2)
    assert r["passes"] == 1 and r["cycles"] == 2
    assert run(m=4, n=128, k=8, units=4, w_bits=2)["cycles"] == 2 * 8 // 4
    # a decode GEMV fills half the M side: same cycles as M = 2 (pitfall L8)
    assert run(m=1, n=4096, k=4096)["cycles"] == run(m=2, n=4096, k=4096)["cycles"]


def test_precompute_cycles_at_the_vector_rate():
    r = run(m=4, n=64, k=16, rate=8.0)
    assert r["precompute_cycles"] == -(-r["precompute_adds"] // 8)
    assert run(m=4, n=64, k=16, rate=0.0)["precompute_cycles"] == 0


def test_more_work_never_counts_less():
    base = run()
    for change in ({"m": 65}, {"n": 257}, {"k": 129}, {"count": 2}, {"w_bits": 3}):
        bigger = run(**change)
        assert all(bigger[f] >= base[f] for f in FIELDS), change
