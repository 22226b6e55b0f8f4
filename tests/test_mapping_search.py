"""Per-op mapping search: never worse than the default mapping on any op of the quickstart, strictly
better on some, its choices in ops.csv and the report beside the fixed mapping."""

import dataclasses

import pytest

from arch import registry
from mappers.mapping_search import best_options, candidates, clear_search_cache, score
from simulator.engine import simulate
from simulator.errors import InputError
from simulator.experiment import load_experiment, parse_text
from simulator.run import run_experiment

QUICKSTART = load_experiment("experiments/quickstart.yaml")


def _layer():
    from simulator.workload_spec import build_workload
    return build_workload(QUICKSTART.spec.workload)


@pytest.mark.parametrize("system", QUICKSTART.systems, ids=lambda s: s.name)
def test_the_search_is_never_worse_than_the_default_on_any_op(system):
    clear_search_cache()
    accel = registry.model_class(system.kind)(system.spec, system.tech)
    layer = _layer()
    options = accel.mapping_options({"search": "cycles"}, layer.phase, layer.batch)
    better = 0
    for op in layer.ops:
        chosen = best_options(op, accel, options, simulate)
        default = candidates(op, accel, options)[0]
        assert default.search is None and default.split_cores == options.split_cores
        got, base = (score(o, op, accel, simulate, options.search) for o in (chosen, default))
        assert got <= base, op.name
        better += got < base
    if system.kind == "systolic":  # several cores, splits and dataflows to choose from
        assert better >= 1


def test_searched_steps_report_their_choices_and_the_fixed_mapping():
    text = """
name: searched
workload: {model: llama2-7b, phase: decode, batch: 32, seq_len: 1024}
systems:
  - {name: npu, arch: tpuv4-like, mapping: {search: cycles}}
  - {name: npu-edp, arch: neupims-npu, mapping: {search: edp}}
"""
    result = run_experiment(parse_text(text))
    for system in result.systems:
        search = system.mapping_search
        assert search["cycles"] == system.cycles and search["cycles"] <= search["fixed_mapping_cycles"]
        assert all(op.mapping.startswith("parts=") for op in system.ops)
    assert any("dataflow=" in op.mapping for op in result.system("npu").ops)


def test_a_bad_objective_is_a_path_precise_error():
    text = "name: x\nworkload: {model: llama2-7b}\nsystems:\n  - {name: npu, arch: tpuv4-like, mapping: {search: cycle}}\n"
    with pytest.raises(InputError, match="systems.npu.mapping.search"):
        parse_text(text)


def test_the_choice_is_cached_per_op_shape():
    clear_search_cache()
    accel = registry.build(registry.preset_spec("tpuv4-like"))
    op = _layer().ops[1]
    options = accel.mapping_options({"search": "energy"}, "decode", 32)
    first = best_options(op, accel, options, simulate)
    calls = []
    again = best_options(dataclasses.replace(op, name="renamed", layer=7), accel, options,
                         lambda s: calls.append(s) or simulate(s))
    assert again == first and calls == []


def test_a_sweep_can_vary_a_mapping_option():
    from pathlib import Path

    import yaml

    from simulator.sweep import expand, run_points
    text = ("name: swm\nworkload: {model: llama2-7b, phase: decode, batch: 8, seq_len: 512}\n"
            "systems:\n  - {name: npu, arch: tpuv4-like}\n"
            "sweep:\n  grid: {systems.npu.mapping.split_cores: [1, 4]}\n")
    points = expand(yaml.safe_load(text), "<sweep>", Path("."))
    one, four = (r.system("npu").cycles for r in run_points(points))
    assert four < one  # four cores beat one on the same decode step
