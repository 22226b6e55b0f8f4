"""A traffic's bandwidth efficiency in the engine: b bytes take b / (bytes_per_cycle x efficiency) cycles."""

import pytest

from arch.contract import Memory, OpCost, Traffic, Unit
from mappers.schedule import Schedule, Task
from simulator.engine import clear_simulation_cache, simulate
from workloads.op import Op, OpKind

ALL = frozenset(OpKind)


def _run(efficiency, read=100, write=0, steps=1, cycles=5, latency=0):
    op = Op("a", OpKind.GEMM, 1, 1, 1)
    cost = OpCost("pe", cycles, traffic=(Traffic("dram", read, write, efficiency),), steps=steps)
    memories = (Memory("dram", bytes_per_cycle=10, latency_cycles=latency),)
    clear_simulation_cache()
    (event,) = simulate(Schedule((Task("a", op, "pe", 0, cost, ()),), (Unit("pe", ALL),), memories, 1e9))
    return event


def test_half_efficiency_doubles_the_transfer():
    # 100 B at 10 B/cycle x 0.5 = 20 cycles, then 5 compute; 50 B written at 0.5 = 10 cycles.
    event = _run(0.5, write=50)
    assert (event.start, event.end, event.memory_cycles) == (0, 35, 30)


def test_full_efficiency_is_the_peak():
    event = _run(1.0, write=50)
    assert (event.end, event.memory_cycles) == (20, 15)


def test_efficiency_rounds_each_tile_up():
    # 2 tiles of 50 B at 10 x 0.3 = 3 B/cycle: ceil(16.67) = 17 cycles each; loads 0-17, 17-34;
    # computes 1 cycle each at 17-18 and 34-35.
    event = _run(0.3, steps=2, cycles=2)
    assert (event.end, event.memory_cycles) == (35, 34)


@pytest.mark.parametrize("bad", [0.0, -0.5, 1.5])
def test_efficiency_outside_zero_one_is_an_error(bad):
    with pytest.raises(ValueError, match="efficiency must be in \\(0, 1\\]"):
        Traffic("dram", 10, efficiency=bad)
