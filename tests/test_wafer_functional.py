"""MeshGEMM's shift schedule and the K-tree all-reduce executed on numbers, against the cost kernels."""

import numpy as np
import pytest

from arch import registry
from arch.wafer import kernel as K
from arch.wafer.functional import interleave, run_ktree_allreduce, run_meshgemm
from arch.wafer.options import WaferMappingOptions
from workloads.op import Op, OpKind, Phase


def test_interleaving_puts_every_logical_neighbour_within_two_hops():
    for p in range(2, 40):
        phys = interleave(p)
        assert sorted(phys) == list(range(p))
        assert max(abs(phys[i] - phys[(i + 1) % p]) for i in range(p)) <= 2


@pytest.mark.parametrize("p, m, k, n", [(8, 16, 24, 32), (8, 8, 8, 8), (5, 10, 15, 5), (7, 14, 7, 21)])
def test_meshgemm_schedule_computes_the_product(p, m, k, n):
    rng = np.random.default_rng(p)
    x, w = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    run = run_meshgemm(x, w, p)
    np.testing.assert_allclose(run.result, x @ w, rtol=1e-12, atol=1e-12)
    assert run.max_message_hops <= 2


@pytest.mark.parametrize("p, m, k, n", [(8, 16, 24, 32), (6, 12, 6, 18), (9, 9, 18, 27)])
def test_words_each_pe_sends_match_the_cost_kernel(p, m, k, n):
    rng = np.random.default_rng(0)
    run = run_meshgemm(rng.standard_normal((m, k)), rng.standard_normal((k, n)), p)
    out = K.mesh_gemm_kernel(K.MESHGEMM, m, k, n, p, 1, 0, 2, 1, 0, 0, 18)
    word_hops, sent, busiest = out[5], out[6], out[7]
    assert run.words_sent.sum() == sent and run.words_sent.max() == busiest and run.word_hops == word_hops
    # per PE: its row's alignment shifts of its X tile plus p - 1 shifts of both tiles
    ta, tb = (m // p) * (k // p), (k // p) * (n // p)
    phys = interleave(p)
    for r in range(p):
        expected = min(r, p - r) * ta + (p - 1) * (ta + tb)
        assert (run.words_sent[phys[r], :] == expected).all()


def test_the_model_lists_the_executed_traffic_over_the_fabric():
    accel = registry.build(registry.preset_spec("wse2"))
    op = Op("g", OpKind.GEMM, 64, 64, 64, phase=Phase.PREFILL)
    cost = accel.op_cost(op, None, WaferMappingOptions(prefill_region_pe=8, gemv_max_rows=1))
    rng = np.random.default_rng(1)
    run = run_meshgemm(rng.standard_normal((64, 64)), rng.standard_normal((64, 64)), 8)
    assert cost.traffic_over("fabric").read_bytes == 2 * run.word_hops
    assert cost.action_counts["fabric.word_hop"] == run.word_hops
    assert cost.action_counts["pe.mac"] == 64 ** 3


@pytest.mark.parametrize("p, k_phases, groups", [(360, 2, 18), (64, 2, 8), (27, 3, 3), (16, 1, 0), (100, 2, 0)])
def test_ktree_allreduce_sums_and_moves_what_the_kernel_counts(p, k_phases, groups):
    values = np.random.default_rng(p).standard_normal((p, 5))
    run = run_ktree_allreduce(values, k_phases, groups)
    np.testing.assert_allclose(run.result, np.broadcast_to(values.sum(axis=0), (p, 5)), rtol=1e-12)
    cycles, hops, adds, stages, paths = K.mesh_allreduce_kernel(K.KTREE, p, 5, k_phases, groups, 1, 0, 2)
    assert run.word_hops == hops
