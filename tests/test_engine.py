"""Exact timelines of small hand-checked schedules in the SimPy engine."""

import pytest
import simpy

from arch.contract import Memory, MemoryKind, OpCost, Traffic, Unit, over
from mappers.schedule import Schedule, ScheduleError, Task
from simulator import engine as engine_module
from simulator.engine import Engine, clear_simulation_cache, simulate, split_evenly
from workloads.op import Op, OpKind

ALL = frozenset(OpKind)


def task(name, unit="pe", instance=0, cycles=10, read=0, write=0, steps=1, deps=()):
    op = Op(name, OpKind.GEMM, 1, 1, 1)
    cost = OpCost(unit=unit, compute_cycles=cycles, traffic=over("dram", read, write), steps=steps)
    return Task(name, op, unit, instance, cost, tuple(deps))


def schedule(tasks, units=(Unit("pe", ALL),), memories=(Memory("dram", bytes_per_cycle=10),)):
    return Schedule(tuple(tasks), tuple(units), tuple(memories), clock_hz=1e9)


def log(events):
    return [(e.task, e.unit, e.start, e.end) for e in events]


def test_two_ops_compete_for_one_unit_run_in_order():
    events = simulate(schedule([task("a", cycles=10), task("b", cycles=5)]))
    assert log(events) == [("a", "pe[0]", 0, 10), ("b", "pe[0]", 10, 15)]


def test_two_units_overlap():
    units = (Unit("pe", ALL), Unit("vec", ALL))
    events = simulate(schedule([task("a", cycles=10), task("b", unit="vec", cycles=4)], units=units))
    assert log(events) == [("a", "pe[0]", 0, 10), ("b", "vec[0]", 0, 4)]


def test_two_instances_of_one_unit_overlap():
    units = (Unit("pe", ALL, count=2),)
    events = simulate(schedule([task("a", cycles=10), task("b", instance=1, cycles=7)], units=units))
    assert log(events) == [("a", "pe[0]", 0, 10), ("b", "pe[1]", 0, 7)]


def test_dependency_chain_waits_even_on_a_free_unit():
    units = (Unit("pe", ALL), Unit("vec", ALL))
    tasks = [task("a", cycles=10), task("b", unit="vec", cycles=3, deps=["a"]),
             task("c", cycles=2, deps=["b"])]
    assert log(simulate(schedule(tasks, units=units))) == [
        ("a", "pe[0]", 0, 10), ("b", "vec[0]", 10, 13), ("c", "pe[0]", 13, 15)]


def test_load_then_compute_then_write_single_step():
    # 100 bytes at 10 B/cycle = 10 cycles load, 5 compute, 50 bytes = 5 cycles write.
    events = simulate(schedule([task("a", cycles=5, read=100, write=50)]))
    assert log(events) == [("a", "pe[0]", 0, 20)]
    assert events[0].stall_cycles == 15 and events[0].memory_cycles == 15


def test_double_buffering_overlaps_loads_with_compute():
    # 4 tiles: load 10 each, compute 10 each. Loads of tile i+1 overlap compute of i:
    # load 0..10, compute 10..20, 20..30, 30..40, 40..50.
    events = simulate(schedule([task("a", cycles=40, read=400, steps=4)]))
    assert log(events) == [("a", "pe[0]", 0, 50)]
    assert events[0].stall_cycles == 10


def test_shared_bandwidth_is_contended_not_divided():
    # Two independent tasks on two units each load 100 bytes (10 cycles alone).
    # One memory: the second transfer waits for the first.
    units = (Unit("pe", ALL, count=2),)
    tasks = [task("a", cycles=1, read=100), task("b", instance=1, cycles=1, read=100)]
    assert log(simulate(schedule(tasks, units=units))) == [("a", "pe[0]", 0, 11), ("b", "pe[1]", 0, 21)]


def test_two_memories_do_not_contend():
    units = (Unit("pe", ALL, count=2),)
    memories = (Memory("dram", bytes_per_cycle=10), Memory("hbm", bytes_per_cycle=10))
    b = task("b", instance=1, cycles=1, read=100)
    b = Task(b.name, b.op, b.unit, 1, OpCost("pe", 1, traffic=over("hbm", 100)), ())
    tasks = [task("a", cycles=1, read=100), b]
    assert log(simulate(schedule(tasks, units=units, memories=memories))) == [
        ("a", "pe[0]", 0, 11), ("b", "pe[1]", 0, 11)]


def test_memory_channels_multiply_bandwidth():
    memories = (Memory("dram", bytes_per_cycle=10, channels=4),)
    events = simulate(schedule([task("a", cycles=1, read=400)], memories=memories))
    assert log(events) == [("a", "pe[0]", 0, 11)]


def test_latency_is_paid_per_transfer():
    memories = (Memory("dram", bytes_per_cycle=10, latency_cycles=7),)
    events = simulate(schedule([task("a", cycles=1, read=100)], memories=memories))
    assert log(events) == [("a", "pe[0]", 0, 18)]


def test_latency_overlaps_the_next_tile_transfer():
    # 100 bytes in 2 tiles at 10 B/cycle, latency 7: loads 0-5 and 5-10 back to back, arriving
    # at 12 and 17; compute 1 cycle each: 12-13 and 17-18. (Paying latency back to back would end at 25.)
    memories = (Memory("dram", bytes_per_cycle=10, latency_cycles=7),)
    events = simulate(schedule([task("a", cycles=2, read=100, steps=2)], memories=memories))
    assert log(events) == [("a", "pe[0]", 0, 18)]
    assert events[0].memory_cycles == 10


def _contended_schedule():
    units = (Unit("pe", ALL, count=2),)
    tasks = [task(f"t{i}", instance=i % 2, cycles=3 + i, read=50 * i, steps=1 + i % 3) for i in range(12)]
    return schedule(tasks, units=units)


def _fresh_timeline():
    clear_simulation_cache()  # a cache hit would compare a result with itself
    return simulate(_contended_schedule())


def test_same_schedule_same_timeline():
    assert _fresh_timeline() == _fresh_timeline()


def test_the_determinism_check_catches_a_nondeterministic_engine(monkeypatch):
    # Mutation check: an engine whose transfers take a time that changes from run to run must fail it.
    runs = iter(range(100))
    real = Memory.transfer_cycles
    monkeypatch.setattr(Memory, "transfer_cycles", lambda self, n: real(self, n) + next(runs) % 2 if n > 0 else 0)
    assert _fresh_timeline() != _fresh_timeline()


# -- traffic over several memories ------------------------------------------------------
TWO_MEMORIES = (Memory("dram", 10), Memory("noc", 20, kind=MemoryKind.NETWORK))


def test_one_task_moves_its_bytes_over_two_memories_at_once():
    # 100 B over dram (10 cycles) and 400 B over noc (20 cycles) in one step, concurrently: 20, then 5 compute.
    op = Op("a", OpKind.GEMM, 1, 1, 1)
    cost = OpCost("pe", 5, traffic=(Traffic("dram", 100), Traffic("noc", 400)))
    events = simulate(schedule([Task("a", op, "pe", 0, cost, ())], memories=TWO_MEMORIES))
    assert log(events) == [("a", "pe[0]", 0, 25)] and events[0].memory_cycles == 30


def test_concurrent_tasks_contend_for_the_network():
    units = (Unit("pe", ALL, count=2),)
    ops = [Op(n, OpKind.GEMM, 1, 1, 1) for n in "ab"]
    tasks = [Task(o.name, o, "pe", i, OpCost("pe", 1, traffic=over("noc", 200)), ()) for i, o in enumerate(ops)]
    assert log(simulate(schedule(tasks, units=units, memories=TWO_MEMORIES))) == [
        ("a", "pe[0]", 0, 11), ("b", "pe[1]", 0, 21)]


# -- names are checked where the schedule is built ----------------------------------------
@pytest.mark.parametrize("bad, message", [
    (dict(unit="pee"), "unit 'pee' is not declared (units: pe)"),
    (dict(instance=3), "instance 3 of unit 'pe' does not exist (it has 1)"),
    (dict(memory="drma"), "its traffic names memory 'drma', which is not declared (memories: dram)"),
    (dict(holds=("hbm",)), "it holds memory 'hbm', which is not declared (memories: dram)"),
    (dict(deps=("b",)), "depends on 'b', which is not an op of the schedule"),
])
def test_a_misspelt_name_is_an_error_naming_it(bad, message):
    op = Op("a", OpKind.GEMM, 1, 1, 1)
    unit = bad.get("unit", "pe")
    cost = OpCost(unit, 5, traffic=over(bad.get("memory", "dram"), 100), holds=bad.get("holds", ()))
    with pytest.raises(ScheduleError) as info:
        schedule([Task("a", op, unit, bad.get("instance", 0), cost, bad.get("deps", ()))])
    assert message in str(info.value) and "task 'a'" in str(info.value)


def test_a_dependency_cycle_is_reported_with_its_tasks():
    tasks = [task("a", deps=["c"]), task("b", deps=["a"]), task("c", deps=["b"]), task("d")]
    with pytest.raises(ScheduleError, match=r"cycle: a -> b -> c -> a \(tasks a, b, c\)"):
        schedule(tasks)


def test_a_deadlock_names_the_tasks_that_never_ran(monkeypatch):
    # A unit whose claim is never granted: the run ends with both tasks pending.
    sched = schedule([task("a"), task("b", deps=["a"])])
    engine = Engine(sched)
    engine.units["pe[0]"] = simpy.Resource(engine.env, capacity=1)
    engine.units["pe[0]"].request()  # taken forever
    with pytest.raises(engine_module.EngineError, match="2 task\\(s\\) never finished \\(deadlock\\): a, b"):
        engine.run()


def test_an_exception_in_a_task_reaches_the_caller():
    class Boom(Exception):
        pass

    sched = schedule([task("a")])
    engine = Engine(sched)

    def failing(_task):
        raise Boom("the cost model failed")
        yield  # pragma: no cover

    engine._task = failing
    with pytest.raises(Boom, match="the cost model failed"):
        engine.run()


def test_split_evenly_keeps_the_total():
    assert split_evenly(10, 4) == [3, 3, 2, 2]
    assert sum(split_evenly(12345, 64)) == 12345


# -- holds: a task that owns a memory for its whole duration (PIM in blocked mode) --
def holding(name, unit="pim", instance=0, cycles=100, read=0, holds=("dram",)):
    op = Op(name, OpKind.GEMM, 1, 1, 1)
    return Task(name, op, unit, instance, OpCost(unit, cycles, traffic=over("dram", read), holds=holds), ())


PIM_AND_PE = (Unit("pim", ALL, count=2), Unit("pe", ALL))


def test_a_holding_task_delays_a_load_by_exactly_its_duration():
    # p holds the memory 0..100; n's 10-cycle load waits for it: 100..110, compute 1.
    tasks = [holding("p"), task("n", cycles=1, read=100)]
    assert log(simulate(schedule(tasks, units=PIM_AND_PE))) == [("n", "pe[0]", 0, 111), ("p", "pim[0]", 0, 100)]


def test_without_the_hold_the_load_overlaps():
    tasks = [holding("p", holds=()), task("n", cycles=1, read=100)]
    assert log(simulate(schedule(tasks, units=PIM_AND_PE))) == [("n", "pe[0]", 0, 11), ("p", "pim[0]", 0, 100)]


def test_tasks_holding_one_memory_overlap_each_other():
    # Two holders share the claim (0..100 and 0..50); the load waits for the last.
    tasks = [holding("p0"), holding("p1", instance=1, cycles=50), task("n", cycles=1, read=100)]
    assert log(simulate(schedule(tasks, units=PIM_AND_PE))) == [
        ("n", "pe[0]", 0, 111), ("p0", "pim[0]", 0, 100), ("p1", "pim[1]", 0, 50)]


def test_a_holder_moves_its_own_bytes_over_the_held_memory():
    # 100 bytes at 10 B/cycle = 10 cycles load, then 100 compute: no self-deadlock.
    assert log(simulate(schedule([holding("p", read=100)], units=PIM_AND_PE))) == [("p", "pim[0]", 0, 110)]


def test_a_released_memory_serves_the_next_holder_after_waiting_loads():
    # p0 holds 0..100; n loads 100..110; p1 (after p0 on the same instance) holds 110..160.
    p1 = holding("p1", cycles=50)
    p1 = Task(p1.name, p1.op, p1.unit, 0, p1.cost, ("p0",))
    tasks = [holding("p0"), task("n", cycles=1, read=100), p1]
    assert log(simulate(schedule(tasks, units=PIM_AND_PE))) == [
        ("n", "pe[0]", 0, 111), ("p0", "pim[0]", 0, 100), ("p1", "pim[0]", 100, 160)]


def test_an_identical_schedule_is_simulated_once_and_a_different_one_again():
    from simulator.engine import simulation_cache_info
    before = simulation_cache_info()
    first = simulate(schedule([task("x", cycles=13, read=40, steps=2)]))
    again = simulate(schedule([task("x", cycles=13, read=40, steps=2)]))  # equal value, new objects
    other = simulate(schedule([task("x", cycles=14, read=40, steps=2)]))
    after = simulation_cache_info()
    assert again is first and log(other) != log(first)
    assert (after.hits - before.hits, after.misses - before.misses) == (1, 2)
