"""SCALE-Sim configuration files as systolic systems (arch/systolic/scalesim_cfg.py)."""

import pytest

from arch import registry
from arch.systolic.scalesim_cfg import ScaleSimConfigError, spec_from_scalesim_cfg
from simulator import api as xs

# SCALE-Sim's default configuration as configs/scale.cfg of scalesim-project/scale-sim-v2 states it
SCALE_CFG = """[general]
run_name = default

[architecture_presets]
ArrayHeight:    32
ArrayWidth:     32
IfmapSramSzkB:   64
FilterSramSzkB:  64
OfmapSramSzkB:   64
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 10
Dataflow : os
MemoryBanks:   1

[run_presets]
InterfaceBandwidth: CALC
"""


def test_scales_default_configuration_is_the_scalesim_default_preset():
    spec = registry.build(spec_from_scalesim_cfg(SCALE_CFG)).spec
    preset = registry.build(registry.preset_spec("scalesim-default")).spec
    fields = ("rows", "cols", "cores", "dataflow", "clock_hz", "pe_dtype", "ifmap_sram_bytes", "filter_sram_bytes",
              "ofmap_sram_bytes", "dram_bandwidth_bytes_per_s", "vector_lanes", "fold_timing")
    assert {f: getattr(spec, f) for f in fields} == {f: getattr(preset, f) for f in fields}


def test_a_listed_bandwidth_takes_its_first_value_and_keys_ignore_case():
    text = SCALE_CFG.replace("Bandwidth : 10", "bandwidth : 20, 40").replace("Dataflow : os", "DATAFLOW : WS")
    spec = spec_from_scalesim_cfg(text)
    assert spec["dram_bandwidth_bytes_per_s"] == 20e9 and spec["dataflow"] == "ws"


@pytest.mark.parametrize("text,message", [
    ("rows = 4\n", "not a SCALE-Sim configuration"),
    ("[general]\nrun_name = x\n", r"no \[architecture_presets\] section"),
    (SCALE_CFG.replace("ArrayWidth:     32\n", ""), "ArrayWidth: required key is missing"),
    (SCALE_CFG.replace("ArrayHeight:    32", "ArrayHeight: 0"), "ArrayHeight: expected a whole number from 1 to 2..53, got '0'"),
    (SCALE_CFG.replace("Dataflow : os", "Dataflow : rs"), "Dataflow: expected one of os, ws, is, got 'rs'"),
    (SCALE_CFG.replace("Bandwidth : 10", "Bandwidth : fast"), "Bandwidth: expected a whole number"),
    (SCALE_CFG.replace("ArrayHeight:    32", "ArrayHeight: 3%"), "ArrayHeight: expected a whole number"),
    (SCALE_CFG.replace("ArrayHeight:    32", "ArrayHeight: \uff13\uff12"), "ArrayHeight: expected a whole number"),
    (SCALE_CFG.replace("ArrayHeight:    32", "ArrayHeight: " + "9" * 30), "ArrayHeight: expected a whole number"),
    (SCALE_CFG + "[architecture_presets]\n", "not a SCALE-Sim configuration"),
])
def test_a_bad_configuration_names_the_key(text, message):
    with pytest.raises(ScaleSimConfigError, match=message):
        spec_from_scalesim_cfg(text)


def test_an_experiment_runs_a_cfg_as_its_preset_twin_and_names_a_problem(tmp_path):
    (tmp_path / "scale.cfg").write_text(SCALE_CFG)
    (tmp_path / "bad.cfg").write_text(SCALE_CFG.replace("Dataflow : os", "Dataflow : rs"))
    workload = {"ops": [{"name": "g", "M": 200, "K": 150, "N": 130}], "act_bits": 8, "weight_bits": 8}
    exp = xs.load({"name": "c", "workload": workload, "systems": [{"name": "cfg", "arch": "scale.cfg"},
                                                                   {"name": "preset", "arch": "scalesim-default"}]},
                  base_dir=tmp_path)
    by_name = {s.name: s for s in xs.run(exp).result.systems}
    assert by_name["cfg"].cycles == by_name["preset"].cycles and by_name["cfg"].energy_j == by_name["preset"].energy_j
    with pytest.raises(xs.InputError) as caught:
        xs.load({"name": "c", "workload": workload, "systems": [{"name": "b", "arch": "bad.cfg"},
                                                                 {"name": "m", "arch": "missing.cfg"}]},
                base_dir=tmp_path)
    problems = {p.path: p.message for p in caught.value.problems}
    assert set(problems) == {"systems.b.arch", "systems.m.arch"}
    assert "Dataflow: expected one of os, ws, is" in problems["systems.b.arch"]
    assert "not found" in problems["systems.m.arch"]
