"""The run path's memos are keyed by what their results depend on.

Each memo is checked by its key: a changed spec field, technology setting,
mapping option or workload gives a different entry whose value equals what an
uncached computation gives; a workload that reads a file is read again on every
run; every memo stays within its bound. The tile-plan search (the costliest part
of mapping a new GEMM) prunes candidates and still equals trying them all, and the
run path's kernels answer a process's first calls by their twins, equal to them.
"""

from __future__ import annotations

import dataclasses
import random
import types

import numpy as np
import pytest

from arch import registry
from arch.contract import TechSettings
from arch import tiered_kernel
from arch.systolic import tiling
from arch.tiered_kernel import TieredKernel
from mappers import schedule
from mappers.subbatch import map_step
from simulator import api as xs
from simulator import run as run_module
from simulator import system_cache
from simulator.engine import simulate
from workloads.op import Op, OpKind

GEMM = Op("gemm", OpKind.GEMM, m=64, n=96, k=80)


def experiment(rows: int = 16, m: int = 64, **mapping) -> xs.Experiment:
    system = {"name": "npu", "arch": "tpuv4-like", "set": {"rows": rows, "cols": 16, "cores": 2}}
    if mapping:
        system["mapping"] = mapping
    return xs.load(name="one-gemm", workload={"ops": [{"name": "gemm", "M": m, "K": 80, "N": 96}]},
                   systems=[system])


def system_of(exp: xs.Experiment):
    return exp.resolved.systems[0]


def uncached_model(system):
    return registry.model_class(system.kind)(system.spec, system.tech)


def test_one_model_per_spec_and_a_changed_field_or_tech_setting_builds_another():
    base, taller = system_of(experiment(rows=16)), system_of(experiment(rows=32))
    model = system_cache.accelerator(base.kind, base.spec, base.tech)
    assert system_cache.accelerator(base.kind, base.spec.model_copy(), base.tech) is model  # equal spec, same key
    other = system_cache.accelerator(taller.kind, taller.spec, taller.tech)
    assert other is not model and other.spec.rows == 32
    tech = TechSettings.from_mapping({"mac.int8.mac_pj": 3.0})
    assert system_cache.accelerator(base.kind, base.spec, tech) is not model


def test_summary_tables_follow_the_spec_and_equal_the_uncached_model_s():
    for rows in (16, 64):
        system = system_of(experiment(rows=rows))
        tables = system_cache.system_tables(system_cache.accelerator(system.kind, system.spec, system.tech))
        fresh = uncached_model(system)
        assert dict(tables.area_mm2_by_component) == fresh.area_mm2()
        assert tables.leakage_w == fresh.leakage_w()
        assert tables.peak_macs_per_cycle == fresh.peak_macs_per_cycle() == 2 * rows * 16
        assert (tables.notes, tables.warnings) == (fresh.notes(), fresh.warnings())
    small, big = (system_cache.system_tables(system_cache.accelerator(s.kind, s.spec, s.tech))
                  for s in (system_of(experiment(rows=16)), system_of(experiment(rows=64))))
    assert big.area_mm2_by_component["pe"] == 4 * small.area_mm2_by_component["pe"]  # 4x the PEs


def test_a_run_s_area_is_a_copy_the_caller_may_change():
    exp = experiment()
    first = xs.run(exp).systems[0]
    first.area_mm2_by_component["pe"] = -1.0
    system = system_of(exp)
    tables = system_cache.system_tables(system_cache.accelerator(system.kind, system.spec, system.tech))
    assert tables.area_mm2_by_component["pe"] > 0
    assert xs.run(exp).systems[0].area_mm2_by_component["pe"] == tables.area_mm2_by_component["pe"]


def test_op_costs_are_remembered_per_spec_and_options_and_equal_the_model_s():
    schedule.clear_cost_memo()
    costs = {}
    for rows in (16, 32):
        for dataflow in ("ws", "os"):
            system = system_of(experiment(rows=rows))
            accel = system_cache.accelerator(system.kind, system.spec, system.tech)
            options = accel.mapping_options({"dataflow": dataflow}, "any", 1)
            remembered = schedule._shape_cached(accel, options)(GEMM)
            assert remembered == uncached_model(system).op_cost(GEMM, "array", options)
            renamed = dataclasses.replace(GEMM, name="other", layer=3)
            assert schedule._shape_cached(accel, options)(renamed) is remembered  # name and layer ignored
            costs[rows, dataflow] = remembered
    assert len(set(c.compute_cycles for c in costs.values())) == 4  # every key its own cycles
    assert len(schedule._COST_MEMO) == 4


def test_a_mapped_step_is_remembered_per_workload_and_options():
    run_module.clear_run_memos()
    results = {}
    for m in (64, 128):
        for split_cores in (1, 2):
            exp = experiment(m=m, split_cores=split_cores)
            result = xs.run(exp).systems[0]
            system = system_of(exp)
            accel = uncached_model(system)
            workload = run_module.build_workload(exp.resolved.spec.workload)
            options = accel.mapping_options(dict(system.mapping), workload.phase, workload.batch)
            step, plan = map_step(workload, accel, options, evaluate=simulate)
            assert result.cycles == max(e.end for e in simulate(plan)) * step.repeat
            assert len(result.ops) == len(plan.tasks) == split_cores
            results[m, split_cores] = result.cycles
    assert results[128, 1] > results[64, 1] and results[64, 2] < results[64, 1]
    assert len(run_module._MAPPED) == 4


def test_a_workload_read_from_a_file_is_read_again_on_every_run(tmp_path):
    model = tmp_path / "tiny.yaml"
    fields = ("hidden_size: 128\nnum_layers: 2\nnum_heads: 2\nffn_size: 256\nactivation: relu\n"
              "norm: layernorm\nvocab_size: 10\nposition: alibi\nmax_positions: 64\n")
    model.write_text(fields)
    exp = xs.load(name="tiny", workload={"model": str(model), "phase": "decode", "batch": 2, "seq_len": 8},
                  systems=[{"name": "npu", "arch": "tpuv4-like"}])
    assert xs.run(exp).ok
    model.write_text(fields.replace("hidden_size: 128", "hidden_size: many"))
    with pytest.raises(xs.InputError, match="workload.model"):
        xs.run(exp)


def test_every_memo_stays_within_its_bound():
    system = system_of(experiment())
    for rows in range(1, system_cache.MAX_SYSTEMS + 10):
        system_cache.accelerator(system.kind, system.spec.model_copy(update={"rows": rows}), system.tech)
    assert system_cache.cached_systems() == system_cache.MAX_SYSTEMS
    exp = experiment()
    for _ in range(3):
        xs.run(exp)
    assert len(run_module._MAPPED) <= run_module._MEMO_MAX and len(run_module._WORKLOADS) <= run_module._MEMO_MAX
    assert len(xs._VALIDATED) <= xs._VALIDATED_MAX


def exhaustive_plan(m, n, k, input_bits, weight_bits, output_bits, ifmap_half_bits, filter_half_bits,
                    ofmap_half_bits, natural_order, pipeline_tiles):
    """The tile choice of :mod:`arch.systolic.tiling` by its docstring's rule, every candidate tried."""
    operand_bytes = (tiling.bytes_of(m * k, input_bits), tiling.bytes_of(k * n, weight_bits),
                     tiling.bytes_of(m * n, output_bits))
    best, best_key = None, None
    for tile_m in tiling._candidates(m):
        for tile_n in tiling._candidates(n):
            if tile_m * tile_n * output_bits > ofmap_half_bits:
                continue
            tile_k = min(k, int(ifmap_half_bits // (tile_m * input_bits)),
                         int(filter_half_bits // (tile_n * weight_bits)))
            if tile_k < 1:
                continue
            counts = (-(-m // tile_m), -(-n // tile_n), -(-k // tile_k))
            tiles = counts[0] * counts[1] * counts[2]
            for order in tiling.LOOP_ORDERS:
                input_reads, weight_reads = tiling._reads(order, *counts)
                moved = input_reads * operand_bytes[0] + weight_reads * operand_bytes[1]
                key = (moved, -min(tiles, pipeline_tiles), tiles, order != natural_order)
                if best_key is None or key < best_key:
                    best, best_key = (tile_m, tile_n, tile_k, order, counts), key
    return None if best is None else tiling._tile_plan(*best, operand_bytes)


def test_the_tile_plan_search_equals_trying_every_candidate():
    rng = random.Random(7)
    for _ in range(3000):
        m, n, k = (rng.choice((1, rng.randint(1, 64), rng.randint(1, 5000))) for _ in range(3))
        bits = [rng.choice((4, 8, 16, 32, 2.5)) for _ in range(3)]
        halves = [rng.choice((64, 4096, rng.randint(8, 1 << 22), 1 << 23)) * 4.0 for _ in range(3)]
        args = (m, n, k, *map(float, bits), *halves, rng.choice(("n_outer", "m_outer")), rng.choice((1, 16, 64)))
        expected = exhaustive_plan(*args)
        if expected is None:
            with pytest.raises(tiling.TileDoesNotFitError):
                tiling._plan.__wrapped__(*args)
        else:
            assert tiling._plan.__wrapped__(*args) == expected, args


def test_a_tiered_kernel_answers_its_first_calls_by_the_twin_then_by_the_kernel():
    seen = []
    kernel = TieredKernel(lambda x: seen.append("kernel") or 2 * x, lambda x: seen.append("twin") or x + x, 2)
    assert [kernel(n) for n in (1, 2, 3, 4)] == [2, 4, 6, 8]
    expected = ["twin", "twin"] if not tiered_kernel._JIT_ALWAYS else ["kernel", "kernel"]
    assert seen == expected + ["kernel", "kernel"]
    spent = TieredKernel(lambda: "kernel", lambda: "twin", twin_calls=10, twin_budget_s=0.0)
    assert (spent(), spent.calls) == ("kernel", 0)  # a budget spent before the first call: jitted at once


def test_a_call_estimated_past_the_budget_goes_to_the_kernel_at_once(monkeypatch):
    monkeypatch.setattr(tiered_kernel, "_JIT_ALWAYS", False)
    seen = []
    kernel = TieredKernel(lambda x: seen.append("kernel") or x, lambda x: seen.append("twin") or x,
                          twin_calls=1 << 62, twin_budget_s=1.0, twin_estimate_s=lambda x: x)
    assert [kernel(x) for x in (0.25, 0.5, 2.0, 0.01)] == [0.25, 0.5, 2.0, 0.01]
    assert seen == ["twin", "twin", "kernel", "kernel"]  # 2.0 s would overrun the budget; then jitted


class _FakeDispatcher:
    """Just enough of a Numba dispatcher for compiled_on_disk: an on-disk cache index, empty or not."""

    def __init__(self, cached: bool):
        index = {"entry": 1} if cached else {}
        self._cache = types.SimpleNamespace(_cache_file=types.SimpleNamespace(_load_index=lambda: index))


@pytest.mark.parametrize("cached, expected", [(True, ["kernel", "kernel"]), (False, ["twin", "twin"])])
def test_a_cold_aware_kernel_uses_the_twin_only_while_the_kernel_would_compile(monkeypatch, cached, expected):
    monkeypatch.setattr(tiered_kernel, "_JIT_ALWAYS", False)
    seen = []
    kernel = tiered_kernel.ColdAwareKernel(lambda x: seen.append("kernel") or x, lambda x: seen.append("twin") or x,
                                           uncached_s=60.0, dispatcher=_FakeDispatcher(cached))
    assert [kernel(1), kernel(2)] == [1, 2]
    assert seen == expected
    assert not tiered_kernel.compiled_on_disk(object())  # no cache internals: counts as not compiled


def test_large_contended_schedules_skip_simpy(monkeypatch):
    """The engine's estimate sends a schedule SimPy would take past the budget straight to the event kernel,
    which gives SimPy's timeline; below the budget SimPy runs it first."""
    from simulator import engine

    calls = []
    monkeypatch.setattr(engine, "_kernel_timeline", lambda s: calls.append("kernel") or engine.Engine(s).run())
    monkeypatch.setattr(engine, "_simpy_timeline", lambda s: calls.append("simpy") or engine.Engine(s).run())
    contended = xs.load(name="contended", workload={"model": "llama2-7b", "phase": "decode", "batch": 8,
                                                    "seq_len": 256}, systems=[{"name": "s", "arch": "neupims"}])
    for per_tile_s, expected in ((1e-12, "simpy"), (1.0, "kernel")):
        monkeypatch.setattr(engine, "SIMPY_S_PER_TILE_TRANSFER", per_tile_s)
        monkeypatch.setattr(engine, "_EVENT_TIER", [])
        monkeypatch.setattr(tiered_kernel, "_JIT_ALWAYS", False)
        engine.clear_simulation_cache()
        run_module.clear_run_memos()
        calls.clear()
        xs.run(contended)
        assert calls and set(calls) == {expected}, (per_tile_s, calls)
    engine.clear_simulation_cache()


def test_the_run_path_s_tiered_kernels_equal_their_jitted_kernels():
    from arch.systolic.model import _GEMM_KERNEL
    from simulator.engine_closed_form import PIPELINE_KERNEL
    from simulator.engine_pipeline_kernel import twin_examples

    for m, n, k in ((1, 4096, 4096), (300, 200, 100), (7, 6, 5)):
        for dataflow in (0, 1, 2):
            args = (m, n, k, 32, 16, dataflow, 1, 3, 1)
            assert tuple(_GEMM_KERNEL.twin(*args)) == tuple(_GEMM_KERNEL.kernel(*args))
    for args in twin_examples():
        assert tuple(PIPELINE_KERNEL.twin(*args)) == tuple(PIPELINE_KERNEL.kernel(*args))
    from arch.gpu.model import _TILE_KERNEL

    for args in ((4096, 4096, 1, 1, 128, 128, 108, 1024.0, 0.9, 64), (77, 300, 129, 32, 64, 64, 132, 512.0, 0.8, 0)):
        assert tuple(_TILE_KERNEL.twin(*args)) == tuple(_TILE_KERNEL.kernel(*args))


def test_plain_python_runs_a_kernel_and_the_helpers_it_calls_without_compiling_them():
    from numba import njit

    @njit
    def helper(x):
        return x * 3

    globals()["_plain_helper"] = helper

    @njit
    def kernel(x):
        return _plain_helper(x) + 1  # noqa: F821 -- a module global, as a kernel's helper is

    plain = tiered_kernel.plain_python(kernel)
    assert plain(np.int64(4)) == 13
    assert not kernel.signatures and not helper.signatures  # neither was compiled
    assert kernel(np.int64(4)) == 13  # the jitted pair agrees
    assert tiered_kernel.plain_python(len) is len  # not a dispatcher: returned as is
