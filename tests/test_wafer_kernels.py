"""Wafer mesh cost kernels: K-tree bookkeeping, twins, algorithm ranking, the paper's energy identity."""

import pytest

from arch import registry
from arch.wafer import kernel as K
from arch.wafer.energy import paper_energy_ratio
from arch.wafer.model import WaferMesh
from arch.wafer.published import ENERGY_CELLS


def wse2_args():
    s = registry.build(registry.preset_spec("wse2")).spec
    return (s.hop_latency_cycles, s.relay_latency_cycles, s.link_words_per_cycle, s.fp16_macs_per_cycle_per_pe,
            s.call_overhead_cycles, s.step_sync_cycles, s.free_colors)


def test_ktree_stage_count_of_the_released_decode_config():
    # WaferLLM llama8B_4k_1_360: P = 360, group_num = 18 -> groups of 20, roots 10 and 190:
    # 10 + 9 = 19 stages = sqrt(360) x 2 / 2 (LUT_AND_WAFER.md W-V2); K + 1 = 3 paths at the root
    cycles, hops, adds, stages, paths = K.mesh_allreduce_kernel(K.KTREE, 360, 1, 2, 18, 1, 0, 2)
    assert stages == 19 and paths == 3
    # with alpha = 1, beta = 0 and one word: (10 x 1) + (9 x 20) + far end of 190 from the root + 3 streams
    assert cycles == 10 + 9 * 20 + 190 + 3


@pytest.mark.parametrize("p, k, stages", [(512, 3, 12), (400, 2, 20), (64, 1, 32), (256, 4, 8)])
def test_ktree_stages_are_k_times_half_the_root(p, k, stages):
    # a perfect K-th power: N^(1/K) x K / 2 routing stages ([WL] §6.1)
    assert K.mesh_allreduce_kernel(K.KTREE, p, 4, k, 0, 1, 10, 2)[3] == stages


def test_pipeline_allreduce_has_p_minus_one_stages_and_2n_hops():
    cycles, hops, adds, stages, paths = K.mesh_allreduce_kernel(K.PIPELINE, 100, 8, 2, 0, 1, 5, 2)
    assert stages == 99 and hops == 2 * 99 * 8 and cycles == 99 * 6 + 99 + 2 * 4


def test_kernels_equal_their_python_twins():
    for name, jitted, twin, examples in WaferMesh.kernel_twins():
        assert len(examples) > 20, name
        for args in examples:
            assert tuple(jitted(*args)) == tuple(twin(*args)), (name, args)


def test_meshgemm_critical_path_is_two_hops_and_cannon_pays_the_wrap():
    args = (1, 0, 2, 1, 0, 0, 18)
    one = K.mesh_gemm_kernel(K.MESHGEMM, 64, 64, 64, 64, *args)
    cannon = K.mesh_gemm_kernel(K.CANNON, 64, 64, 64, 64, *args)
    # 1 x 1 tiles: MeshGEMM's align 32 x (2 + 1), 63 steps of max(1, 2 + 1), last compute 1
    assert one[0] == 32 * 3 + 63 * 3 + 1
    # Cannon: the wrap-around message crosses 63 hops in every step
    assert cannon[0] == 32 * (63 + 1) + 63 * (1 + 63 + 1) + 1
    assert one[8] == K.MESHGEMM_COLORS and cannon[8] == K.CANNON_COLORS


def test_summa_relays_when_paths_exceed_the_colours():
    args = (1, 20, 2, 1, 0, 0)
    assert K.mesh_gemm_kernel(K.SUMMA, 720, 720, 720, 720, *args, 18)[9] == 39  # ceil(720 / 18) - 1
    assert K.mesh_gemm_kernel(K.SUMMA, 16, 16, 16, 16, *args, 18)[9] == 0


@pytest.mark.parametrize("n", [2048, 4096, 8192])
def test_meshgemm_beats_summa_and_cannon_at_large_regions(n):
    args = wse2_args()
    cycles = {a: K.mesh_gemm_kernel(code, n, n, n, 720, *args)[0] for a, code in K.GEMM_ALGORITHMS.items()}
    assert cycles["meshgemm"] < min(cycles["cannon"], cycles["summa"])
    # [WL] §7.2: MeshGEMM > 70% of peak near the limit, SUMMA / Cannon below 50% at 720 x 720 (8K)
    if n == 8192:
        efficiency = {a: n ** 3 / (c * 720 * 720) for a, c in cycles.items()}
        assert efficiency["summa"] < 0.5 and efficiency["cannon"] < 0.5 and efficiency["meshgemm"] > 0.6


def test_meshgemv_beats_the_pipeline_and_ring_allreduce():
    a = wse2_args()[:5]
    ktree, pipeline, ring = (K.mesh_gemv_kernel(code, 1, 16384, 16384, 720, 720, 2, 0, *a)[0]
                             for code in (K.KTREE, K.PIPELINE, K.RING))
    assert ktree * 4 < pipeline < ring  # [WL] §7.3: MeshGEMV 4-8x over Cerebras' GEMV


def test_more_region_pes_make_decode_gemvs_slower_but_prefill_gemms_faster():
    a = wse2_args()
    gemv = [K.mesh_gemv_kernel(K.KTREE, 1, 4096, 4096, p, p, 2, 0, *a[:5])[0] for p in (420, 540, 660)]
    gemm = [K.mesh_gemm_kernel(K.MESHGEMM, 4096, 4096, 14336, p, *a)[0] for p in (480, 600, 720)]
    assert gemv == sorted(gemv) and gemm == sorted(gemm, reverse=True)


def test_padding_counts_the_padded_macs():
    macs = K.mesh_gemm_kernel(K.MESHGEMM, 100, 100, 100, 8, 1, 0, 2, 1, 0, 0, 18)[2]
    assert macs == 104 ** 3  # 100 padded to 8 x 13




@pytest.mark.parametrize("gpus, t_gpu, t_wse, published", ENERGY_CELLS)
def test_the_papers_energy_ratios_are_constant_power_times_time(gpus, t_gpu, t_wse, published):
    # W-V1: within 1%, or half a unit of the published last digit
    assert paper_energy_ratio(gpus, t_gpu, t_wse) == pytest.approx(published, rel=0.01, abs=0.005)


def test_a_rectangular_gemv_reduces_along_its_x_lines_only():
    a = (1, 8, 2, 1, 0)
    wide = K.mesh_gemv_kernel(K.KTREE, 1, 16384, 16384, 750, 994, 2, 0, *a)
    alone = K.mesh_allreduce_kernel(K.KTREE, 750, 17, 2, 0, 1, 8, 2)  # ceil(16384 / 994) = 17 words per line
    assert wide[1] == alone[0]
    assert wide[0] == 22 * 17 + alone[0]  # ceil(16384 / 750) = 22 local calls over 17 outputs, then the reduction
    assert wide[2] == 750 * 994 * 22 * 17 and wide[5] == 994 * alone[1]
