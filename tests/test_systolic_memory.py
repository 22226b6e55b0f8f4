"""SRAM capacity, DRAM traffic and stalls of GEMMs on the systolic NPU.

Property tests over random shapes (small example counts keep the file fast) and
two memory-bound decode checks simulated through the mapper and the engine.
"""

import pytest
from hypothesis import given, settings, strategies as st

from arch.systolic.model import SystolicArray
from arch.systolic.spec import SystolicSpec
from arch.systolic.tiling import TileDoesNotFitError, plan_gemm
from mappers.schedule import map_workload
from simulator.engine import simulate
from workloads.graph import Workload
from workloads.op import Op, OpKind

dims = st.integers(1, 3000)
sram_bytes = st.integers(64, 1 << 22)
bits = st.sampled_from([4, 8, 16])
dataflows = st.sampled_from(["ws", "os", "is"])
FEW = settings(max_examples=60, deadline=None)


def spec(rows=128, cols=128, dataflow="ws", bandwidth_bytes_per_s=64e9, sram=(16 << 20, 16 << 20, 4 << 20),
         cores=1, latency_cycles=0):
    return SystolicSpec(rows=rows, cols=cols, dataflow=dataflow, cores=cores, clock_hz=1e9, pe_dtype="fp16",
                        ifmap_sram_bytes=sram[0], filter_sram_bytes=sram[1], ofmap_sram_bytes=sram[2],
                        dram_bandwidth_bytes_per_s=bandwidth_bytes_per_s, dram_latency_cycles=latency_cycles)


def simulate_ops(system_spec, ops):
    events = simulate(map_workload(Workload(name="w", ops=tuple(ops)), SystolicArray(system_spec)))
    return max(e.end for e in events), events


def plan(m, n, k, b, sram, dataflow="ws"):
    return plan_gemm(m, n, k, b, b, b, *sram, dataflow=dataflow)


@FEW
@given(m=dims, n=dims, k=dims, b=bits, sram=st.tuples(sram_bytes, sram_bytes, sram_bytes),
       which=st.integers(0, 2), dataflow=dataflows)
def test_halving_an_sram_never_lowers_dram_bytes(m, n, k, b, sram, which, dataflow):
    halved = tuple(size // 2 if i == which else size for i, size in enumerate(sram))
    assert plan(m, n, k, b, halved, dataflow).dram_bytes >= plan(m, n, k, b, sram, dataflow).dram_bytes


@FEW
@given(m=dims, n=dims, k=dims, b=bits, sram=st.tuples(sram_bytes, sram_bytes, sram_bytes))
def test_dram_bytes_at_least_compulsory_and_tiles_fit(m, n, k, b, sram):
    p = plan(m, n, k, b, sram)
    assert p.dram_bytes >= p.compulsory_bytes
    assert p.tile_m * p.tile_k * b <= sram[0] * 4 and p.tile_k * p.tile_n * b <= sram[1] * 4
    assert p.tile_m * p.tile_n * b <= sram[2] * 4
    assert p.tiles_m * p.tile_m >= m and p.tiles_n * p.tile_n >= n and p.tiles_k * p.tile_k >= k


@FEW
@given(m=st.integers(1, 500), n=st.integers(1, 500), k=st.integers(1, 500), b=bits, dataflow=dataflows)
def test_when_everything_fits_dram_bytes_are_compulsory(m, n, k, b, dataflow):
    # each half (size / 2) holds its whole operand
    sram = tuple(-(-elements * b // 8) * 2 for elements in (m * k, k * n, m * n))
    p = plan(m, n, k, b, sram, dataflow)
    assert p.dram_bytes == p.compulsory_bytes
    assert (p.input_reads, p.weight_reads) == (1, 1)


def test_weights_are_reread_once_per_m_tile_when_inputs_cannot_stay():
    # 64 KB halves: a 2048x4096 fp16 input cannot stay resident, nor can the weights.
    p = plan(2048, 4096, 4096, 16, (64 << 10,) * 3)
    assert p.dram_bytes > p.compulsory_bytes
    assert p.weight_reads in (1, p.tiles_m) and p.input_reads in (1, p.tiles_n)


def test_an_sram_too_small_for_one_element_names_the_key():
    with pytest.raises(TileDoesNotFitError, match="filter_sram_bytes"):
        plan_gemm(8, 8, 8, 16, 16, 16, 1024, 1, 1024)


@settings(max_examples=15, deadline=None)
@given(m=st.integers(1, 600), n=st.integers(1, 2000), k=st.integers(1, 2000),
       sram_kib=st.sampled_from([16, 64, 1024]), bandwidth=st.sampled_from([8e9, 32e9, 256e9]),
       latency=st.sampled_from([0, 30]))
def test_doubling_dram_bandwidth_never_adds_stall_cycles(m, n, k, sram_kib, bandwidth, latency):
    op = Op("g", OpKind.GEMM, m, n, k)
    sram = (sram_kib << 10,) * 3
    _, slow = simulate_ops(spec(32, 32, bandwidth_bytes_per_s=bandwidth, sram=sram, latency_cycles=latency), [op])
    _, fast = simulate_ops(spec(32, 32, bandwidth_bytes_per_s=2 * bandwidth, sram=sram,
                                latency_cycles=latency), [op])
    assert fast[0].stall_cycles <= slow[0].stall_cycles


def test_decode_gemv_on_a_128x128_ws_array_is_memory_bound():
    # 64 GB/s at 1 GHz. The array's SCALE-Sim timing charges every 128x128 weight
    # fold 2*128+128-2 cycles of load, skew and drain even for one token (392,191
    # cycles here), so from about 86 B/cycle of DRAM bandwidth upwards the GEMV is
    # bound by that weight intake, not by DRAM.
    op = Op("gemv", OpKind.GEMM, 1, 4096, 4096)
    system = spec()
    cost = SystolicArray(system).op_cost(op)
    memory_cycles = (cost.read_bytes + cost.write_bytes) / system.dram_bytes_per_cycle
    cycles, _ = simulate_ops(system, [op])
    assert cost.read_bytes + cost.write_bytes == op.min_bytes
    assert memory_cycles > cost.compute_cycles
    assert memory_cycles <= cycles <= 1.03 * memory_cycles


def test_decode_gemv_cycles_grow_linearly_with_bytes_moved():
    system = spec()
    bytes_and_cycles = []
    for n in (4096, 8192, 16384):
        op = Op("gemv", OpKind.GEMM, 1, n, 4096)
        cost = SystolicArray(system).op_cost(op)
        bytes_and_cycles.append((cost.read_bytes + cost.write_bytes, simulate_ops(system, [op])[0]))
    (bytes0, cycles0), *rest = bytes_and_cycles
    for nbytes, cycles in rest:
        assert cycles / cycles0 == pytest.approx(nbytes / bytes0, rel=0.03)


def test_a_smaller_sram_moves_more_bytes_and_stalls_more():
    op = Op("ffn", OpKind.GEMM, 512, 4096, 4096)
    big = SystolicArray(spec(sram=(16 << 20,) * 3)).op_cost(op)
    small = SystolicArray(spec(sram=(64 << 10,) * 3)).op_cost(op)
    assert small.read_bytes > big.read_bytes == op.a_bytes + op.b_bytes
    assert simulate_ops(spec(sram=(64 << 10,) * 3), [op])[0] > simulate_ops(spec(sram=(16 << 20,) * 3), [op])[0]


def test_a_step_larger_than_the_dram_runs_with_a_warning_naming_the_key():
    from arch import registry
    from workloads.layers import build_decoder_layer
    from workloads.models import load_model
    accel = registry.build(registry.preset_spec("neupims-npu"))  # 32 GiB of HBM
    fits = build_decoder_layer(load_model("llama2-7b"), "decode", batch=8, seq_len=1024)
    too_big = build_decoder_layer(load_model("llama2-70b"), "decode", batch=8, seq_len=1024)  # ~140 GB
    assert accel.check_workload(fits) == ()
    (warning,) = accel.check_workload(too_big)
    assert warning.startswith("dram_capacity_bytes: the workload's weights + KV cache need 1")
    assert "34.36 GB" in warning and "results assume" in warning
