"""The jitted event kernel gives the SimPy engine's timeline, event for event, on contended schedules."""

import random

import pytest

import simulator.run
from arch.contract import Memory, OpCost, Traffic, Unit
from mappers.schedule import Schedule, Task
from simulator import api
from simulator.engine import Engine, EngineError, clear_simulation_cache, simulate
from simulator.engine_events import event_timeline
from simulator.run import clear_run_memos
from workloads.op import Op, OpKind

ALL = frozenset(OpKind)


def _cost(rng: random.Random, memories, unit: str, tie_prone: bool, hold_rate: float) -> OpCost:
    used = rng.sample(memories, rng.randint(0, len(memories)))
    top = 12 if tie_prone else 400
    traffic = tuple(Traffic(m.name, rng.choice((0, rng.randint(1, top))), rng.choice((0, rng.randint(1, top))),
                            1.0 if tie_prone else rng.choice((1.0, 1.0, 0.5, 0.37))) for m in used)
    holds = tuple(t.memory for t in traffic if rng.random() < hold_rate)
    steps = rng.randint(1, 8 if tie_prone else 12)
    compute = rng.randint(0, 3 * steps) if tie_prone else rng.choice((0, rng.randint(1, 60), rng.randint(1, 600)))
    return OpCost(unit, compute, traffic=traffic, steps=steps, holds=holds)


def _random_schedule(rng: random.Random, tie_prone: bool = False, hold_rate: float = 0.0) -> Schedule:
    """Ops on two kinds of unit with several instances, split into parts, with dependencies, sharing memories."""
    bytes_per_cycle = (1,) if tie_prone else (1, 4, 10, 64)
    memories = tuple(Memory(f"m{i}", bytes_per_cycle=rng.choice(bytes_per_cycle), channels=rng.choice((1, 2)),
                            latency_cycles=rng.choice((0, 0, 1, 3, 17) if not tie_prone else (0, 0, 1, 2)))
                     for i in range(rng.randint(1, 3)))
    units = (Unit("pe", ALL, count=rng.randint(1, 3)), Unit("vec", ALL, count=rng.randint(1, 2)))
    tasks, groups = [], []
    for g in range(rng.randint(2, 7)):
        deps = tuple(sorted(rng.sample(groups, rng.randint(0, min(2, len(groups))))))
        unit = rng.choice(units)
        parts = rng.randint(1, unit.count + 1)
        name = f"op{g}"
        for part in range(parts):
            task_name = name if parts == 1 else f"{name}#{part}"
            tasks.append(Task(task_name, Op(name, OpKind.GEMM, 1, 1, 1), unit.name, rng.randrange(unit.count),
                              _cost(rng, memories, unit.name, tie_prone, hold_rate), deps, name))
        groups.append(name)
    return Schedule(tuple(tasks), units, memories, 1e9)


@pytest.mark.parametrize("buffers", [1, 2, 3])
def test_the_event_kernel_equals_simpy_on_random_contended_schedules(buffers):
    rng = random.Random(100 + buffers)
    for _ in range(400):
        schedule = _random_schedule(rng)
        assert event_timeline(schedule, buffers) == Engine(schedule, buffers).run(), schedule


def test_the_event_kernel_equals_simpy_where_ties_are_common():
    # one byte per cycle and a few cycles per tile: requests on one memory often meet in one cycle
    rng = random.Random(5)
    for _ in range(1500):
        schedule = _random_schedule(rng, tie_prone=True)
        buffers = rng.choice((1, 2, 3))
        assert event_timeline(schedule, buffers) == Engine(schedule, buffers).run(), schedule


def test_the_event_kernel_equals_simpy_with_held_memories():
    # random holds can deadlock (a holder's transfer waits on a memory another holder keeps): then the
    # kernel must give no timeline either, and SimPy names the tasks
    rng = random.Random(9)
    held = deadlocked = 0
    for _ in range(800):
        schedule = _random_schedule(rng, tie_prone=rng.random() < 0.5, hold_rate=0.3)
        held += any(t.cost.holds for t in schedule.tasks)
        try:
            timeline = Engine(schedule).run()
        except EngineError:
            deadlocked += 1
            assert event_timeline(schedule) is None
            continue
        assert event_timeline(schedule) == timeline, schedule
    assert held > 400 and deadlocked < 200


def test_a_deadlock_is_left_to_simpy():
    # a task waiting on a group that is never done cannot finish: the kernel says so and returns no timeline
    cost = OpCost("pe", 5, traffic=(Traffic("dram", 10, 10),))
    op = Op("a", OpKind.GEMM, 1, 1, 1)
    schedule = Schedule((Task("a", op, "pe", 0, cost, ()), Task("b", op, "pe", 0, cost, ())),
                        (Unit("pe", ALL),), (Memory("dram", bytes_per_cycle=10),), 1e9)
    object.__setattr__(schedule.tasks[0], "deps", ("b",))
    object.__setattr__(schedule.tasks[1], "deps", ("a",))
    assert event_timeline(schedule) is None


@pytest.mark.parametrize("preset", ["tpuv4-like", "neupims", "npu-pim-naive", "duplex", "a100-80gb", "lut-npu",
                                    "wse2"])
def test_the_event_kernel_equals_simpy_on_every_schedule_of_a_decode_step(preset, monkeypatch):
    schedules = []

    def capture(schedule, *args, **kwargs):
        schedules.append(schedule)
        return simulate(schedule, *args, **kwargs)

    monkeypatch.setattr(simulator.run, "simulate", capture)
    clear_run_memos()
    api.run({"name": "events", "capacity": "warn", "systems": [{"name": "s", "arch": preset}],
             "workload": {"model": "llama2-7b", "phase": "decode", "batch": 16, "seq_len": 512}})
    assert schedules
    for schedule in schedules:
        timeline = Engine(schedule).run()
        assert event_timeline(schedule) == timeline
        clear_simulation_cache()
        assert simulate(schedule) == timeline
