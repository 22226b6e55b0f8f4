"""LUT mpGEMM on numbers (Numba CUDA kernels, CUDA simulator without a GPU) against a dequantised GEMM."""

import numpy as np
import pytest

from arch.lut.kernel import lut_mpgemm_kernel_py
from simulator.reference import lut


def problem(m=3, k=12, n=10, w_bits=2, seed=0, integer=True):
    rng = np.random.default_rng(seed)
    acts = rng.integers(-128, 128, (m, k)).astype(np.float64) if integer else rng.standard_normal((m, k))
    codes = rng.integers(0, 2 ** w_bits, (k, n))
    scales, zeros = rng.uniform(0.5, 2.0, n), rng.integers(0, 2 ** w_bits, n) + 0.5
    return acts, codes, scales, zeros


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("w_bits", [1, 2, 4])
def test_exact_without_table_quantisation(symmetric, w_bits):
    acts, codes, s, z = problem(w_bits=w_bits)
    result = lut.lut_gemm(acts, codes, s, z, w_bits, symmetric=symmetric)
    assert np.array_equal(result.out, lut.reference_gemm(acts, codes, s, z)) or np.allclose(
        result.out, lut.reference_gemm(acts, codes, s, z), rtol=0, atol=1e-9)


def test_symmetric_table_halves_the_entries_and_mirrors():
    acts = np.array([[1.0, 2.0, 4.0, 8.0]])
    full, _ = lut.build_tables(acts, 4, symmetric=False)
    half, _ = lut.build_tables(acts, 4, symmetric=True)
    assert full.shape[-1] == 16 and half.shape[-1] == 8
    assert half[0, 0, 0b111] == 15.0 and half[0, 0, 0] == 8.0 - 7.0  # +a3 with the rest -1


def test_int8_tables_stay_within_the_stated_bound():
    acts, codes, s, z = problem(m=4, k=16, n=12, w_bits=2, integer=False, seed=3)
    result = lut.lut_gemm(acts, codes, s, z, 2, entry_bits=8)
    error = np.abs(result.out - lut.reference_gemm(acts, codes, s, z))
    assert np.all(error <= lut.quantisation_bound(result, s, 2) + 1e-12)
    assert error.max() > 0  # quantisation did change the result


def test_the_tile_plan_counts_what_the_cost_kernel_counts():
    m, k, n, w_bits, am, an = 5, 12, 20, 3, 2, 8
    acts, codes, s, z = problem(m=m, k=k, n=n, w_bits=w_bits)
    result = lut.lut_gemm(acts, codes, s, z, w_bits, array_m=am, array_n=an)
    counts = lut_mpgemm_kernel_py(m, n, k, 1, w_bits, 4, True, 8, 0, am, an, 1, 0.0)
    passes, entry_reads = counts[1], counts[6]
    # every thread of every pass looks up once per plane (padding threads included)
    assert result.lookups == passes * am * an * w_bits
    assert result.table_entry_reads == entry_reads
    assert np.allclose(result.out, lut.reference_gemm(acts, codes, s, z), rtol=0, atol=1e-9)


def test_the_check_catches_a_skipped_group_and_a_mirrored_zero_point(monkeypatch):
    acts, codes, s, z = problem()
    reference = lut.reference_gemm(acts, codes, s, z)
    mirrored = lut.lut_gemm(acts, codes, s, 2 ** 2 - 1 - z, 2, symmetric=True)
    assert not np.allclose(mirrored.out, reference)
    build = lut.build_tables

    def skip_last_group(*args, **kwargs):
        tables, scales = build(*args, **kwargs)
        tables[:, -1, :] = 0.0
        return tables, scales

    monkeypatch.setattr(lut, "build_tables", skip_last_group)
    assert not np.allclose(lut.lut_gemm(acts, codes, s, z, 2).out, reference)
