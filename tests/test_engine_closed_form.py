"""The one-task closed form equals the SimPy engine: every event time, on random costs and golden GEMMs."""

import json
import random
from pathlib import Path

import pytest

from arch import registry
from arch.contract import Memory, OpCost, Traffic, Unit
from mappers.schedule import Schedule, Task, map_workload
from simulator.engine import Engine, clear_simulation_cache, simulate
from simulator.engine_closed_form import closed_form_timeline
from workloads.graph import Workload
from workloads.op import Op, OpKind

ALL = frozenset(OpKind)
GOLDEN = Path(__file__).parent / "data" / "scalesim_golden.json"


def _random_schedule(rng: random.Random) -> Schedule:
    memories = tuple(Memory(f"m{i}", bytes_per_cycle=rng.choice((1, 4, 10, 64)), channels=rng.choice((1, 2)),
                            latency_cycles=rng.choice((0, 0, 1, 3, 17))) for i in range(rng.randint(1, 3)))
    used = rng.sample(memories, rng.randint(0, len(memories)))
    traffic = tuple(Traffic(m.name, rng.choice((0, rng.randint(1, 400))), rng.choice((0, rng.randint(1, 400))),
                            rng.choice((1.0, 1.0, 0.5, 0.37))) for m in used)
    holds = tuple(t.memory for t in traffic if rng.random() < 0.2)
    cost = OpCost("pe", rng.choice((0, rng.randint(1, 60), rng.randint(1, 600))), traffic=traffic,
                  steps=rng.randint(1, 12), holds=holds)
    task = Task("a", Op("a", OpKind.GEMM, 1, 1, 1), "pe", 0, cost, ())
    return Schedule((task,), (Unit("pe", ALL),), memories, 1e9)


@pytest.mark.parametrize("buffers", [1, 2, 3])
def test_the_closed_form_equals_simpy_on_random_costs(buffers):
    rng = random.Random(buffers)
    answered = 0
    for _ in range(1500):
        schedule = _random_schedule(rng)
        fast = closed_form_timeline(schedule, buffers)
        if fast is not None:
            answered += 1
            assert fast == Engine(schedule, buffers).run(), schedule.tasks[0].cost
    assert answered > 1200  # ties sent back to SimPy are the exception


def test_the_closed_form_equals_simpy_where_ties_are_common():
    # one byte per cycle and a few cycles per tile: reads, writes and computes often end in one cycle
    rng = random.Random(7)
    answered = 0
    for _ in range(3000):
        memories = tuple(Memory(f"m{i}", bytes_per_cycle=1, latency_cycles=rng.choice((0, 0, 1, 2)))
                         for i in range(rng.randint(1, 2)))
        traffic = tuple(Traffic(m.name, rng.randint(0, 12), rng.randint(0, 12)) for m in memories)
        holds = tuple(t.memory for t in traffic if rng.random() < 0.1)
        steps = rng.randint(1, 8)
        cost = OpCost("pe", rng.randint(0, 3 * steps), traffic=traffic, steps=steps, holds=holds)
        schedule = Schedule((Task("a", Op("a", OpKind.GEMM, 1, 1, 1), "pe", 0, cost, ()),), (Unit("pe", ALL),),
                            memories, 1e9)
        buffers = rng.choice((1, 2, 3))
        fast = closed_form_timeline(schedule, buffers)
        if fast is not None:
            answered += 1
            assert fast == Engine(schedule, buffers).run(), (cost, memories, buffers)
    assert answered > 2400


def test_a_read_and_a_write_tied_on_one_memory_are_ordered_as_simpy_orders_them():
    # compute-bound tiles: the loader waits for a buffer, freed as the same tile's write is made
    memories = (Memory("dram", bytes_per_cycle=10),)
    cost = OpCost("pe", 400, traffic=(Traffic("dram", 200, 200),), steps=8)
    schedule = Schedule((Task("a", Op("a", OpKind.GEMM, 1, 1, 1), "pe", 0, cost, ()),), (Unit("pe", ALL),),
                        memories, 1e9)
    fast = closed_form_timeline(schedule)
    assert fast is not None and fast == Engine(schedule).run()


def test_tasks_that_may_overlap_go_to_simpy():
    memories = (Memory("dram", bytes_per_cycle=10),)
    op = Op("a", OpKind.GEMM, 1, 1, 1)
    cost = OpCost("pe", 5, traffic=(Traffic("dram", 10, 10),))
    side_by_side = Schedule((Task("a", op, "pe", 0, cost, ()), Task("b", op, "pe", 1, cost, ())),
                            (Unit("pe", ALL, count=2),), memories, 1e9)
    parts = Schedule((Task("a#0", op, "pe", 0, cost, (), "a"), Task("a#1", op, "pe", 1, cost, (), "a")),
                     (Unit("pe", ALL, count=2),), memories, 1e9)
    assert closed_form_timeline(side_by_side) is None and closed_form_timeline(parts) is None


def test_a_chain_of_tasks_equals_simpy_on_random_costs():
    rng = random.Random(11)
    answered = 0
    for _ in range(400):
        schedules = [_random_schedule(rng) for _ in range(rng.randint(2, 5))]
        memories = schedules[0].memories
        tasks = []
        for i, one in enumerate(schedules):
            cost = one.tasks[0].cost
            traffic = tuple(t for t in cost.traffic if t.memory in {m.name for m in memories})
            cost = OpCost("pe", cost.compute_cycles, traffic=traffic, steps=cost.steps,
                          holds=tuple(h for h in cost.holds if h in {t.memory for t in traffic}))
            tasks.append(Task(f"t{i}", Op(f"t{i}", OpKind.GEMM, 1, 1, 1), "pe", rng.randint(0, 1), cost,
                              (f"t{i - 1}",) if i else ()))
        schedule = Schedule(tuple(tasks), (Unit("pe", ALL, count=2),), memories, 1e9)
        fast = closed_form_timeline(schedule)
        if fast is not None:
            answered += 1
            assert fast == Engine(schedule).run()
    assert answered > 300


def _golden_schedules():
    sram = 1 << 20  # SCALE-Sim's 1024 kB SRAMs of the golden runs
    for case in json.loads(GOLDEN.read_text())["cases"]:
        spec = registry.preset_spec("tpuv4-like")
        spec.update(rows=case["rows"], cols=case["cols"], dataflow=case["dataflow"], cores=1,
                    ifmap_sram_bytes=sram, filter_sram_bytes=sram, ofmap_sram_bytes=sram)
        op = Op("gemm", OpKind.GEMM, case["m"], case["n"], case["k"])
        yield map_workload(Workload(name="one", ops=(op,)), registry.build(spec))


def test_every_golden_gemm_takes_the_closed_form_and_matches_simpy():
    for schedule in _golden_schedules():
        fast = closed_form_timeline(schedule)
        assert fast is not None and fast == Engine(schedule).run()
        clear_simulation_cache()
        assert simulate(schedule) == fast and simulate(schedule, closed_form=False) == fast


def test_the_pipeline_kernel_equals_its_twin():
    from simulator.engine_pipeline_kernel import pipeline_kernel, pipeline_kernel_py, twin_examples

    for example in twin_examples():
        assert tuple(int(x) for x in pipeline_kernel(*example)) == tuple(int(x) for x in pipeline_kernel_py(*example))
