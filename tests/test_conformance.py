"""Every registered kind and preset passes the conformance checker (simulator/conformance.py),
and the checker bites: deliberately broken models fail the check that targets their defect."""

import dataclasses
import math

import pytest

from arch import registry
from arch.contract import Component, MappingOptions, OpCost, Unit, over
from arch.systolic.model import SystolicArray
from simulator import conformance
from simulator.conformance import CHECK_NAMES, ConformanceError, check_accelerator, exemption
from workloads.op import Op, OpKind

PRESETS = registry.presets()


def model(preset):
    return registry.build(registry.preset_spec(preset))


def test_there_are_kinds_and_presets():
    assert {"systolic", "neupims", "duplex", "gpu"} <= set(registry.kinds()) and len(PRESETS) >= 5


@pytest.mark.parametrize("check", CHECK_NAMES)
@pytest.mark.parametrize("preset", PRESETS)
def test_preset_passes(preset, check):
    accel = model(preset)
    reason = exemption(accel, check)
    if reason:
        pytest.skip(reason)
    dict(conformance.CHECKS)[check](accel)


def test_check_accelerator_runs_every_applicable_check():
    assert check_accelerator(model("tpuv4-like")) == CHECK_NAMES
    assert "smaller_node_is_cheaper" not in check_accelerator(model("a100-80gb"))


def test_roofline_is_a_real_bound_for_a_big_gemm():
    op = Op("big", OpKind.GEMM, 2048, 4096, 4096)
    assert model("tpuv4-like").roofline_cycles(op) == math.ceil(op.macs / (128 * 128 * 4))


# -- mutation checks: each broken model fails its check ------------------------------------
class _Broken(SystolicArray):
    """A systolic array with one defect, chosen by the subclass."""


def _tpu():
    return model("tpuv4-like")


def _broken(cls):
    accel = _tpu()
    return cls(accel.spec, accel.tech)


class CheapEnergy(_Broken):
    def components(self):  # the table says one thing ...
        return tuple(dataclasses.replace(c, energy_pj_per_action={k: 0.0 for k in c.energy_pj_per_action})
                     for c in super().components())


class FastRoofline(_Broken):
    def roofline_cycles(self, op):  # a "bound" above what the engine achieves
        return 10 * super().roofline_cycles(op) + 10**6


class Misspelt(_Broken):
    def unit_cost(self, op, unit, options):
        cost = super().unit_cost(op, unit, options)
        return dataclasses.replace(cost, traffic=over("drma", cost.read_bytes, cost.write_bytes))


class LowPeak(_Broken):
    def unit_peak_macs_per_cycle(self, unit, op):
        return unit.macs_per_cycle / 1000


class ShrinkingWork(_Broken):
    def unit_cost(self, op, unit, options):
        cost = super().unit_cost(op, unit, options)
        return dataclasses.replace(cost, compute_cycles=max(1, cost.compute_cycles * 1000 // max(1, op.m * op.n)))


class Flaky(_Broken):
    built = [0]  # each new model is a little slower than the last: not a function of its inputs

    def __init__(self, spec, tech=None):
        super().__init__(spec, tech)
        Flaky.built[0] += 1
        self.drift = Flaky.built[0]

    def unit_cost(self, op, unit, options):
        cost = super().unit_cost(op, unit, options)
        return dataclasses.replace(cost, compute_cycles=cost.compute_cycles + self.drift)


@pytest.mark.parametrize("cls, check", [
    (CheapEnergy, "energy_is_counts_times_table"), (FastRoofline, "cycles_not_below_roofline"),
    (Misspelt, "declared_names"), (LowPeak, "peak_bounds_utilisation"),
    (ShrinkingWork, "more_work_never_costs_less"), (Flaky, "deterministic"),
])
def test_the_checker_bites(cls, check):
    with pytest.raises(ConformanceError):
        dict(conformance.CHECKS)[check](_broken(cls))


def test_an_exemption_is_reported_not_silently_passed():
    class Exempt(_Broken):
        conformance_exemptions = {"deterministic": "test model"}
    assert exemption(_broken(Exempt), "deterministic") == "test model"
    assert "deterministic" not in check_accelerator(_broken(Exempt))
