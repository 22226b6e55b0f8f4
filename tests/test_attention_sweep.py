"""A sweep over workload.attention for the quickstart systems: each system costs a variant or refuses it by name."""

from pathlib import Path

import pytest

from simulator.sweep import expand, run_points
from workloads.yamlio import load_yaml_file

QUICKSTART = Path(__file__).resolve().parents[1] / "experiments" / "quickstart.yaml"
VARIANTS = ["unfused", "flash2", "flashdecoding", "flashdecoding++"]


@pytest.fixture(scope="module")
def swept():
    raw = dict(load_yaml_file(QUICKSTART))
    raw["workload"] = {**raw["workload"], "batch": 4, "seq_len": 2048}  # small: the test stays quick
    raw["sweep"] = {"grid": {"workload.attention": VARIANTS}}
    points = expand(raw, str(QUICKSTART), QUICKSTART.parent)
    return raw, points, run_points(points)


def test_every_system_costs_or_refuses_every_variant(swept):
    raw, points, results = swept
    names = {system["name"] for system in raw["systems"]}
    assert [dict(p.values)["workload.attention"] for p in points] == VARIANTS
    for point, result in zip(points, results):
        costed = {s.name for s in result.systems}
        refused = {f.system: f.message for f in result.failures}
        assert costed | set(refused) == names and not costed & set(refused)
        for message in refused.values():  # a refusal names the fused op it cannot run
            assert "no unit runs attention ops" in message, message


def test_unfused_runs_everywhere_and_the_gpu_runs_every_variant(swept):
    _, points, results = swept
    by_variant = {dict(p.values)["workload.attention"]: r for p, r in zip(points, results)}
    assert not by_variant["unfused"].failures
    for variant in VARIANTS:
        assert "a100" in {s.name for s in by_variant[variant].systems}, variant


def test_fused_variants_on_the_gpu_run_the_fused_op_and_save_its_bytes(swept):
    _, points, results = swept
    a100 = {dict(p.values)["workload.attention"]: next(s for s in r.systems if s.name == "a100")
            for p, r in zip(points, results)}
    ops = {variant: {op.name for op in system.ops} for variant, system in a100.items()}
    assert {"attn_score", "softmax", "attn_context"} <= ops["unfused"] and "attention" not in ops["unfused"]
    assert "attention" in ops["flash2"] and "attn_score" not in ops["flash2"]
    assert "attn_reduce" in ops["flashdecoding"]  # batch 4 x 32 heads < 0.8 x 216 block slots: split
    assert a100["flashdecoding"].cycles < a100["unfused"].cycles


def test_a_refused_fused_op_names_the_workload_option():
    from arch import registry
    from mappers.placement import UnsupportedOpError, choose_unit
    from workloads.op import Op, OpKind
    accel = registry.build(registry.preset_spec("tpuv4-like"))
    op = Op("attention", OpKind.ATTENTION, 1, 1024, 128)
    with pytest.raises(UnsupportedOpError, match=r"comes from workload.attention \(flash2"):
        choose_unit(accel, op, accel.mapping_options(None, "decode", 1))
