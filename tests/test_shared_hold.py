"""SharedHold on its own: holders share one claim; others wait for the last holder to leave."""

import pytest
import simpy

from simulator.shared_hold import SharedHold


def test_holders_overlap_and_a_request_waits_for_the_last_one():
    env = simpy.Environment()
    memory = simpy.Resource(env, capacity=1)
    hold = SharedHold(memory)
    log = []

    def holder(name, start, duration):
        yield env.timeout(start)
        yield hold.join()
        log.append((name, "in", env.now))
        yield env.timeout(duration)
        hold.leave()
        log.append((name, "out", env.now))

    def transfer():
        yield env.timeout(1)
        with memory.request() as claim:
            yield claim
            log.append(("load", "in", env.now))

    env.process(holder("p0", 0, 10))
    env.process(holder("p1", 2, 3))
    env.process(transfer())
    env.run()
    assert log == [("p0", "in", 0), ("p1", "in", 2), ("p1", "out", 5), ("p0", "out", 10), ("load", "in", 10)]


def test_a_holder_queues_behind_a_transfer_that_came_first():
    env = simpy.Environment()
    memory = simpy.Resource(env, capacity=1)
    hold = SharedHold(memory)
    times = []

    def transfer():
        with memory.request() as claim:
            yield claim
            yield env.timeout(4)

    def holder():
        yield hold.join()
        times.append(env.now)
        hold.leave()

    env.process(transfer())
    env.process(holder())
    env.run()
    assert times == [4] and hold.claim is None and memory.count == 0


def test_leaving_without_joining_is_an_error():
    with pytest.raises(RuntimeError, match="without a matching join"):
        SharedHold(simpy.Resource(simpy.Environment())).leave()
