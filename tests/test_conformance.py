"""The conformance suite every registered accelerator kind and preset must pass.

For each preset: its spec round-trips through YAML; a bad value raises an error
naming the field; energy equals counts x the component table; zero work costs
zero dynamic energy; area is positive and the sum of its parts; simulated cycles
are never below the roofline; more work never costs less; results are
deterministic; and every Numba kernel equals its pure-Python twin.
"""

import dataclasses
import math

import pytest
import yaml
from pydantic import ValidationError

from arch import registry
from mappers.schedule import map_workload
from simulator.engine import simulate
from workloads.graph import Workload
from workloads.op import Op, OpKind, Operand

PRESETS = registry.presets()

BITS8 = {"a_bits": 8, "b_bits": 8, "out_bits": 8}  # every datapath in the library takes 8-bit operands
SAMPLE_OPS = (
    Op("gemv", OpKind.GEMM, 1, 4096, 4096, **BITS8),
    Op("odd", OpKind.GEMM, 77, 300, 129, **BITS8),
    Op("attn", OpKind.GEMM, 4, 130, 128, count=64, b_operand=Operand.KV, **BITS8),
    Op("softmax", OpKind.SOFTMAX, 32, 1024, **BITS8),
    Op("residual", OpKind.ADD, 8, 4096, **BITS8),
)


def model(preset):
    return registry.build(registry.preset_spec(preset))


def simulated_cycles(accel, ops):
    workload = Workload(name="w", ops=tuple(ops))
    return max(e.end for e in simulate(map_workload(workload, accel)))


def supported(accel):
    return [op for op in SAMPLE_OPS if accel.supports(op)]


def test_there_are_kinds_and_presets():
    assert "systolic" in registry.kinds() and len(PRESETS) >= 5


@pytest.mark.parametrize("preset", PRESETS)
def test_spec_round_trips_through_yaml(preset):
    accel = model(preset)
    text = yaml.safe_dump(accel.spec.model_dump(mode="json"))
    again = registry.build(yaml.safe_load(text))
    assert again.spec == accel.spec and hash(again.spec) == hash(accel.spec)


@pytest.mark.parametrize("preset", PRESETS)
def test_bad_value_names_the_field(preset):
    raw = registry.preset_spec(preset)
    field = next(name for name, value in raw.items() if isinstance(value, int) and not isinstance(value, bool) and value > 0)
    raw[field] = -1
    with pytest.raises(ValidationError) as info:
        registry.build(raw)
    assert info.value.errors()[0]["loc"] == (field,)


@pytest.mark.parametrize("preset", PRESETS)
def test_energy_equals_counts_times_table(preset):
    accel = model(preset)
    table = accel.component_table()
    for op in supported(accel):
        counts = accel.op_cost(op).action_counts
        expected = sum(n * table[key.rpartition(".")[0]].energy_pj_per_action[key.rpartition(".")[2]]
                       for key, n in counts.items())
        assert accel.energy(counts).total_pj == pytest.approx(expected, rel=1e-12)
        assert expected > 0


@pytest.mark.parametrize("preset", PRESETS)
def test_zero_work_costs_zero_dynamic_energy(preset):
    accel = model(preset)
    assert accel.energy({}).total_pj == 0
    zero = {key: 0 for key in accel.op_cost(SAMPLE_OPS[0]).action_counts}
    assert accel.energy(zero).total_pj == 0


@pytest.mark.parametrize("preset", PRESETS)
def test_area_is_positive_and_the_sum_of_parts(preset):
    accel = model(preset)
    parts = accel.area_mm2()
    assert sum(parts.values()) > 0
    assert sum(parts.values()) == pytest.approx(sum(c.count * c.area_um2_each * 1e-6 for c in accel.components()))


@pytest.mark.parametrize("preset", PRESETS)
def test_cycles_never_below_roofline(preset):
    accel = model(preset)
    for op in supported(accel):
        assert simulated_cycles(accel, [op]) >= accel.roofline_cycles(op) > 0, op.name


@pytest.mark.parametrize("preset", PRESETS)
def test_more_work_never_costs_less(preset):
    accel = model(preset)
    for op in supported(accel):
        bigger = [dataclasses.replace(op, m=op.m * 2), dataclasses.replace(op, n=op.n + 1),
                  dataclasses.replace(op, count=op.count + 1)]
        if op.kind is OpKind.GEMM:
            bigger.append(dataclasses.replace(op, k=op.k + 7))
        base = simulated_cycles(accel, [op])
        base_energy = accel.energy(accel.op_cost(op).action_counts).total_pj
        for more in bigger:
            assert simulated_cycles(accel, [more]) >= base, more
            assert accel.energy(accel.op_cost(more).action_counts).total_pj >= base_energy, more


@pytest.mark.parametrize("preset", PRESETS)
def test_results_are_deterministic(preset):
    ops = supported(model(preset))
    assert simulated_cycles(model(preset), ops) == simulated_cycles(model(preset), ops)


@pytest.mark.parametrize("kind", registry.kinds())
def test_every_kernel_equals_its_python_twin(kind):
    cls = registry.model_class(kind)
    twins = cls.kernel_twins()
    assert twins, f"{kind} declares no cycle kernel"
    for name, jitted, twin, examples in twins:
        assert examples, name
        for args in examples:
            assert tuple(jitted(*args)) == tuple(twin(*args)), (name, args)


def test_roofline_is_a_real_bound_for_a_big_gemm():
    accel = model("tpuv4-like")
    op = Op("big", OpKind.GEMM, 2048, 4096, 4096)
    ideal = math.ceil(op.macs / (128 * 128 * 4))
    assert accel.roofline_cycles(op) == ideal


def _at_node(raw: dict, node_nm: int) -> dict:
    """``raw`` with its node set: its own ``tech_node_nm``, or that of the sub-spec holding one (an NPU, an xPU)."""
    if "tech_node_nm" in raw:
        return {**raw, "tech_node_nm": node_nm}
    nested = [k for k, v in raw.items() if isinstance(v, dict) and "tech_node_nm" in v]
    if not nested:
        pytest.skip("this kind has no technology node (e.g. a GPU's published die)")
    return {**raw, nested[0]: {**raw[nested[0]], "tech_node_nm": node_nm}}


@pytest.mark.parametrize("preset", PRESETS)
def test_a_smaller_node_lowers_energy_and_area(preset):
    accel = model(preset)
    old, new = (registry.build(_at_node(accel.spec.model_dump(), nm)) for nm in (45, 7))
    op = supported(accel)[0]
    counts = old.op_cost(op).action_counts
    assert new.energy(counts).total_pj < old.energy(counts).total_pj
    assert sum(new.area_mm2().values()) < sum(old.area_mm2().values())
    assert new.leakage_w() < old.leakage_w()
