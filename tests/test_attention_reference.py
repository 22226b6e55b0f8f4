"""Softmax and attention reference kernels (Numba CUDA, the CUDA simulator here) against float64 NumPy.

Each algorithm is checked on ordinary inputs and on inputs whose scores overflow
a naive float32 ``exp`` (scores of several hundred): the max-free algorithms
(two-pass, unified max) must still be right, the first by its exponent pair,
the second by falling back. Shapes are small: the simulator runs every thread
in Python.
"""

import numpy as np
import pytest

from simulator.reference import attention as ref


def _qkv(seed, heads=2, rows=3, kv=21, d=8, scale=1.0):
    rng = np.random.default_rng(seed)
    q = (rng.standard_normal((heads, rows, d)) * scale).astype(np.float32)
    k, v = (rng.standard_normal((heads, kv, d)).astype(np.float32) for _ in range(2))
    return q, k, v


def _error(got, want):
    return float(np.abs(np.asarray(got, np.float64) - want).max())


# Scores of several hundred: exp overflows float32 (ln FLT_MAX = 88.7) without a max shift.
HUGE_ROWS = np.array([[300.0, 310.0, 290.0, -50.0, 305.0, 0.0, 309.5],
                      [-400.0, -390.0, -420.0, -395.0, -401.0, -399.0, -398.0],
                      [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]], np.float32)


def test_huge_rows_really_overflow_a_naive_exp():
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(HUGE_ROWS) / np.exp(HUGE_ROWS).sum(axis=1, keepdims=True)
    assert not np.isfinite(naive[0]).all() and not np.isfinite(naive[1]).all()


@pytest.mark.parametrize("softmax", [ref.softmax_three_pass, ref.softmax_two_pass, ref.softmax_online])
def test_softmax_algorithms_equal_float64_including_overflowing_rows(softmax):
    rng = np.random.default_rng(4)
    x = np.vstack([rng.standard_normal((3, 7)) * 30, HUGE_ROWS]).astype(np.float32)
    want = ref.softmax_float64(x)
    got = softmax(x)
    assert np.isfinite(got).all()
    assert _error(got, want) <= ref.tolerance(want, x.shape[1])
    assert np.allclose(got.sum(axis=1), 1.0, atol=ref.tolerance(want, x.shape[1]))


def test_two_pass_exponent_pair_keeps_terms_a_plain_float32_sum_would_lose():
    # exp(-100) is below float32's smallest normal (1.2e-38 = e^-87.3); the pair keeps it exactly.
    x = np.array([[-100.0, -100.0 - np.log(3.0)]], np.float32)
    assert np.allclose(ref.softmax_two_pass(x), [[0.75, 0.25]], rtol=1e-6)


def test_flash2_tiled_attention_equals_float64_with_partial_tiles():
    q, k, v = _qkv(seed=5, rows=5, kv=19)  # 5 rows: two row blocks of BR = 4; 19 = 2 full tiles + 3
    want = ref.attention_float64(q, k, v)
    assert _error(ref.flash2_attention(q, k, v), want) <= ref.tolerance(want, k.shape[1])


def test_flash2_survives_scores_that_overflow_a_naive_exp():
    q, k, v = _qkv(seed=6, rows=2, kv=12, scale=60.0)  # scores in the hundreds
    scores = np.einsum("hrd,hkd->hrk", q, k) / np.sqrt(q.shape[2])
    assert np.abs(scores).max() > 88.8
    want = ref.attention_float64(q, k, v)
    assert _error(ref.flash2_attention(q, k, v), want) <= ref.tolerance(want, k.shape[1])


@pytest.mark.parametrize("splits", [1, 3, 4])
def test_flashdecoding_split_kv_and_reduction_equal_float64(splits):
    q, k, v = _qkv(seed=7, rows=2, kv=23, scale=40.0)
    want = ref.attention_float64(q, k, v)
    assert _error(ref.flashdecoding_attention(q, k, v, splits), want) <= ref.tolerance(want, k.shape[1])


def test_unified_max_variant_needs_no_fallback_on_ordinary_scores():
    q, k, v = _qkv(seed=8, rows=2, kv=23)
    want = ref.attention_float64(q, k, v)
    result = ref.flashdecoding_pp_attention(q, k, v, splits=3, phi=0.0)
    assert result.overflow_heads == ()
    assert _error(result.output, want) <= ref.tolerance(want, k.shape[1])


def test_unified_max_overflow_falls_back_and_is_then_exact():
    q, k, v = _qkv(seed=9, rows=2, kv=23)
    q[1] *= 80.0  # head 1's scores reach hundreds: exp(s - phi) would overflow float32
    want = ref.attention_float64(q, k, v)
    result = ref.flashdecoding_pp_attention(q, k, v, splits=3, phi=0.0)
    assert result.overflow_heads == (1,)
    assert _error(result.output, want) <= ref.tolerance(want, k.shape[1])


def test_without_the_fallback_the_flagged_head_would_be_wrong():
    q, k, v = _qkv(seed=9, rows=2, kv=23)
    q[1] *= 80.0
    want = ref.attention_float64(q, k, v)
    result = ref.flashdecoding_pp_attention(q, k, v, splits=3, phi=0.0, fallback=False)
    assert result.overflow_heads == (1,)
    assert _error(result.output[0], want[0]) <= ref.tolerance(want, k.shape[1])
    assert not np.isfinite(result.output[1]).all() or _error(result.output[1], want[1]) > 0.1


def test_bad_arguments_name_what_was_expected():
    q, k, v = _qkv(seed=1)
    with pytest.raises(ValueError, match="splits must be a positive integer"):
        ref.flashdecoding_attention(q, k, v, 0)
    with pytest.raises(ValueError, match="bound must be in"):
        ref.flashdecoding_pp_attention(q, k, v, 2, phi=0.0, bound=200.0)
    with pytest.raises(ValueError, match="expected q"):
        ref.flash2_attention(q, k[:, :, :4], v)


@pytest.mark.parametrize("attention,splits", [("flash2", None), ("flashdecoding", 3), ("flashdecoding++", 3)])
def test_a_workloads_fused_op_computes_attention_with_its_shapes(attention, splits):
    from workloads.layers import build_decoder_layer
    from workloads.models import load_model
    config = load_model({"name": "tiny", "hidden_size": 32, "num_layers": 1, "num_heads": 4, "num_kv_heads": 2,
                         "ffn_size": 64, "activation": "swiglu", "norm": "rmsnorm", "vocab_size": 100,
                         "position": "rope", "max_positions": 64})
    workload = build_decoder_layer(config, "decode", 1, 20, attention=attention, kv_splits=splits)
    op = next(o for o in workload.ops if o.name == "attention")
    assert (op.count, op.m, op.n, op.k, op.kv_splits) == (2, 2, 8, 21, splits or 1)
    got, want = ref.run_fused_op(op)
    assert _error(got, want) <= ref.tolerance(want, op.k)
