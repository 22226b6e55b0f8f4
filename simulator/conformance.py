"""The conformance checker every accelerator model must pass (after scikit-learn's ``check_estimator``).

:func:`checks` lists the named checks for one model; :func:`check_accelerator`
runs them all and raises :class:`ConformanceError` naming the first that fails.
Each check runs the model's own sample ops (``conformance_ops``: its datatypes)
through the public path -- the mapper and the SimPy engine -- so a family is
checked as users run it:

* ``spec_round_trip``: the spec survives YAML (dump, load, validate) unchanged;
* ``bad_value_named``: a negative value of a positive integer field is an error at that field;
* ``energy_is_counts_times_table`` and ``zero_work_zero_energy``;
* ``area_is_sum_of_parts``;
* ``declared_names``: every cost's unit, memories, holds and action components are declared;
* ``cycles_not_below_roofline`` and ``cycles_not_below_any_resource``: the simulated
  cycles of an op alone are at least its roofline and at least the time of its
  slowest resource (compute, or any memory's bytes over its bandwidth);
* ``bound_is_slowest_resource``: the reported bound is the resource with the most cycles;
* ``peak_bounds_utilisation``: no op retires more MACs per cycle than its unit's
  per-op peak (bit-serial peaks included);
* ``more_work_never_costs_less``: cycles and energy grow with m, n, count and k;
* ``deterministic``: two fresh simulations give the same timeline (the cache is cleared);
* ``kernels_equal_twins``: every Numba kernel equals its Python twin on its examples;
* ``smaller_node_is_cheaper``: at 7 nm energy, area and leakage are below 45 nm.

A family that cannot satisfy a check says so in ``conformance_exemptions``
(check name -> reason); the check is then reported as exempt, never silently passed.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import yaml
from pydantic import ValidationError

from arch import registry
from arch.contract import Accelerator
from mappers.placement import choose_unit
from mappers.schedule import ScheduleError, map_workload
from simulator.engine import clear_simulation_cache, simulate
from simulator.run import bound_of
from workloads.graph import Workload
from workloads.op import Op, OpKind


class ConformanceError(AssertionError):
    """A model failed a conformance check; the message names the check and the evidence."""


def supported_ops(accel: Accelerator) -> list[Op]:
    ops = [op for op in accel.conformance_ops() if accel.supports(op)]
    if not ops:
        raise ConformanceError(f"{accel.kind}: none of its conformance ops is supported (checks would be vacuous)")
    return ops


def mapped_cost(accel: Accelerator, op: Op):
    """``op``'s cost on the unit the mapper places it on, under the system's default options."""
    options = accel.mapping_options(None, "decode", 1)
    return accel.op_cost(op, choose_unit(accel, op, options), options)


def unit_costs(accel: Accelerator, op: Op):
    """``op``'s cost on every unit that can run it."""
    return [accel.op_cost(op, unit) for unit in accel.candidate_units(op)]


def run_alone(accel: Accelerator, op: Op):
    """The schedule and timeline of ``op`` alone on ``accel``."""
    schedule = map_workload(Workload(name="w", ops=(op,)), accel)
    return schedule, simulate(schedule)


def simulated_cycles(accel: Accelerator, ops) -> int:
    return max(e.end for e in simulate(map_workload(Workload(name="w", ops=tuple(ops)), accel)))


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ConformanceError(message)


# -- the checks -----------------------------------------------------------------------
def spec_round_trip(accel: Accelerator) -> None:
    text = yaml.safe_dump(accel.spec.model_dump(mode="json"))
    again = registry.build(yaml.safe_load(text))
    _expect(again.spec == accel.spec and hash(again.spec) == hash(accel.spec), "spec changed through YAML")


def bad_value_named(accel: Accelerator) -> None:
    raw = accel.spec.model_dump(mode="json")
    field = next((k for k, v in raw.items() if isinstance(v, int) and not isinstance(v, bool) and v > 0), None)
    _expect(field is not None, "the spec has no positive integer field to corrupt")
    raw[field] = -1
    try:
        registry.build(raw)
    except ValidationError as err:
        _expect(err.errors()[0]["loc"] == (field,), f"{field} = -1 reported at {err.errors()[0]['loc']}")
        return
    raise ConformanceError(f"{field} = -1 was accepted")


def energy_is_counts_times_table(accel: Accelerator) -> None:
    table = accel.component_table()
    for op, cost in ((op, cost) for op in supported_ops(accel) for cost in unit_costs(accel, op)):
        counts = cost.action_counts
        expected = sum(n * table[k.rpartition(".")[0]].energy_pj_per_action[k.rpartition(".")[2]]
                       for k, n in counts.items())
        got = accel.energy(counts).total_pj
        _expect(abs(got - expected) <= 1e-9 * max(1.0, abs(expected)),
                f"{op.name} on {cost.unit}: {got} pJ != table {expected}")
        _expect(expected > 0, f"{op.name} on {cost.unit}: costs no energy")


def zero_work_zero_energy(accel: Accelerator) -> None:
    _expect(accel.energy({}).total_pj == 0, "no actions cost energy")
    zero = {key: 0 for key in accel.op_cost(supported_ops(accel)[0]).action_counts}
    _expect(accel.energy(zero).total_pj == 0, "zero counts cost energy")


def area_is_sum_of_parts(accel: Accelerator) -> None:
    parts = accel.area_mm2()
    total = sum(c.count * c.area_um2_each * 1e-6 for c in accel.components())
    _expect(sum(parts.values()) > 0, "area is zero")
    _expect(abs(sum(parts.values()) - total) <= 1e-9 * total, "area is not the sum of its components")


def declared_names(accel: Accelerator) -> None:
    units = {u.name for u in accel.units()}
    memories = {m.name for m in accel.memories()}
    table = accel.component_table()
    for op in supported_ops(accel):
        for unit in accel.candidate_units(op):
            _expect(unit in units or not accel.supports(op), f"{op.name}: candidate unit {unit!r} is not declared")
        try:
            schedule, _ = run_alone(accel, op)  # the schedule checks units, instances, memories and holds
        except ScheduleError as err:
            raise ConformanceError(f"{op.name}: {err}") from None
        for task in schedule.tasks:
            for key in task.cost.action_counts:
                component, _, action = key.rpartition(".")
                _expect(component in table and action in table[component].energy_pj_per_action,
                        f"{task.name}: action {key!r} names no component entry")
        _expect(memories >= set(schedule.tasks[0].cost.memories), f"{op.name}: undeclared memory")


def cycles_not_below_roofline(accel: Accelerator) -> None:
    for op in supported_ops(accel):
        cycles, roof = simulated_cycles(accel, [op]), accel.roofline_cycles(op)
        _expect(cycles >= roof > 0, f"{op.name}: simulated {cycles} cycles, roofline {roof}")


def _resource_cycles(task, memories) -> dict[str, int]:
    times = {"compute": task.cost.compute_cycles}
    for traffic in task.cost.traffic:
        times[traffic.memory] = memories[traffic.memory].transfer_cycles(traffic.total_bytes, traffic.efficiency)
    return times


def cycles_not_below_any_resource(accel: Accelerator) -> None:
    memories = {m.name: m for m in accel.memories()}
    for op in supported_ops(accel):
        schedule, timeline = run_alone(accel, op)
        events = {e.task: e for e in timeline}
        for task in schedule.tasks:
            slowest = max(_resource_cycles(task, memories).values())
            _expect(events[task.name].total_cycles >= slowest,
                    f"{task.name}: {events[task.name].total_cycles} cycles < its slowest resource's {slowest}")


def bound_is_slowest_resource(accel: Accelerator) -> None:
    memories = {m.name: m for m in accel.memories()}
    units = {u.name: u for u in accel.units()}
    for op in supported_ops(accel):
        schedule, _ = run_alone(accel, op)
        for task in schedule.tasks:
            times = _resource_cycles(task, memories)
            slowest = max(times, key=lambda k: (times[k], k == "compute"))
            expected = units[task.unit].bound if slowest == "compute" else memories[slowest].kind.bound
            _expect(bound_of(task, schedule) == expected, f"{task.name}: bound {bound_of(task, schedule)} but the "
                    f"slowest resource is {slowest} ({times})")


def peak_bounds_utilisation(accel: Accelerator) -> None:
    for op in supported_ops(accel):
        schedule, timeline = run_alone(accel, op)
        events = {e.task: e for e in timeline}
        for task in schedule.tasks:
            if task.peak_macs_per_cycle and task.op.macs:
                rate = task.op.macs / max(1, events[task.name].total_cycles)
                _expect(rate <= task.peak_macs_per_cycle * (1 + 1e-9),
                        f"{task.name}: {rate:.1f} MACs/cycle above its unit's peak {task.peak_macs_per_cycle}")


def more_work_never_costs_less(accel: Accelerator) -> None:
    for op in supported_ops(accel):
        bigger = [dataclasses.replace(op, m=op.m * 2), dataclasses.replace(op, n=op.n + 1),
                  dataclasses.replace(op, count=op.count + 1)]
        if op.kind is OpKind.GEMM:
            bigger.append(dataclasses.replace(op, k=op.k + 7))
        base = simulated_cycles(accel, [op])
        base_energy = accel.energy(mapped_cost(accel, op).action_counts).total_pj
        for more in bigger:
            _expect(simulated_cycles(accel, [more]) >= base, f"{more} is faster than {op}")
            _expect(accel.energy(mapped_cost(accel, more).action_counts).total_pj >= base_energy,
                    f"{more} costs less energy than {op}")


def deterministic(accel: Accelerator) -> None:
    ops = supported_ops(accel)
    runs = []
    for _ in range(2):
        clear_simulation_cache()  # a cached second run would compare a result with itself
        fresh = type(accel)(accel.spec, accel.tech)
        runs.append(simulate(map_workload(Workload(name="w", ops=tuple(ops)), fresh)))
    _expect(runs[0] == runs[1], "two simulations of the same ops differ")


def kernels_equal_twins(accel: Accelerator) -> None:
    twins = type(accel).kernel_twins()
    _expect(bool(twins), f"{accel.kind} declares no cycle kernel")
    for name, jitted, twin, examples in twins:
        _expect(bool(examples), f"{name}: no examples")
        for args in examples:
            _expect(_values(jitted(*args)) == _values(twin(*args)), f"{name}{args}: kernel != twin")


def _values(result) -> tuple:
    """A kernel's result (a scalar or a tuple/array of them) as a tuple of Python numbers."""
    items = tuple(result) if hasattr(result, "__iter__") else (result,)
    return tuple(x.item() if hasattr(x, "item") else x for x in items)


def smaller_node_is_cheaper(accel: Accelerator) -> None:
    old, new = (registry.build(_at_node(accel, nm)) for nm in (45, 7))
    counts = mapped_cost(old, supported_ops(accel)[0]).action_counts
    _expect(new.energy(counts).total_pj < old.energy(counts).total_pj, "7 nm energy not below 45 nm")
    _expect(sum(new.area_mm2().values()) < sum(old.area_mm2().values()), "7 nm area not below 45 nm")
    _expect(new.leakage_w() < old.leakage_w(), "7 nm leakage not below 45 nm")


def _at_node(accel: Accelerator, node_nm: int) -> dict:
    raw = accel.spec.model_dump(mode="json")
    *parents, last = accel.node_key.split(".")
    node = raw
    for part in parents:
        node = node[part]
    node[last] = node_nm
    return raw


CHECKS: tuple[tuple[str, Callable[[Accelerator], None]], ...] = tuple((f.__name__, f) for f in (
    spec_round_trip, bad_value_named, energy_is_counts_times_table, zero_work_zero_energy, area_is_sum_of_parts,
    declared_names, cycles_not_below_roofline, cycles_not_below_any_resource, bound_is_slowest_resource,
    peak_bounds_utilisation, more_work_never_costs_less, deterministic, kernels_equal_twins,
    smaller_node_is_cheaper))
CHECK_NAMES = tuple(name for name, _ in CHECKS)


def exemption(accel: Accelerator, name: str) -> str | None:
    """Why ``name`` does not apply to ``accel`` (its declared exemption, or no node to scale), or None."""
    if name == "smaller_node_is_cheaper" and accel.node_key is None:
        return f"{accel.kind} has no technology node (node_key is None)"
    return dict(type(accel).conformance_exemptions).get(name)


def checks(accel: Accelerator) -> tuple[tuple[str, Callable[[], None]], ...]:
    """The checks that apply to ``accel`` as (name, zero-argument callable)."""
    return tuple((name, (lambda f=f: f(accel))) for name, f in CHECKS if exemption(accel, name) is None)


def check_accelerator(accel: Accelerator) -> tuple[str, ...]:
    """Run every applicable check; raise :class:`ConformanceError` naming the first failure.

    Returns the names of the checks that ran.
    """
    ran = []
    for name, check in checks(accel):
        try:
            check()
        except ConformanceError as err:
            raise ConformanceError(f"{accel.kind}: {name}: {err}") from None
        ran.append(name)
    return tuple(ran)
