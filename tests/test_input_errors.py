"""Bad experiment files give one clear message naming the key, never a traceback."""

import pytest

from simulator.errors import InputError
from simulator.experiment import parse_text
from tests.conftest import SMALL_EXPERIMENT


def problems(text):
    with pytest.raises(InputError) as info:
        parse_text(text)
    return [str(p) for p in info.value.problems]


def with_line(old, new):
    assert old in SMALL_EXPERIMENT
    return SMALL_EXPERIMENT.replace(old, new)


def test_the_small_experiment_is_valid():
    experiment = parse_text(SMALL_EXPERIMENT)
    assert [s.name for s in experiment.systems] == ["small", "big"]
    assert experiment.systems[1].spec.rows == 64


def test_malformed_yaml_names_the_line():
    [message] = problems("name: x\nworkload: [unclosed\n")
    assert "malformed YAML" in message and "line" in message


def test_duplicate_key_is_an_error_with_both_lines():
    [message] = problems("name: x\nname: y\n")
    assert "duplicate key 'name' at line 2" in message and "first defined at line 1" in message


def test_unknown_key_suggests_the_close_one():
    [message] = problems(with_line("seed: 0", "sead: 0"))
    assert message.startswith("sead: unknown key; did you mean 'seed'")  # 'search' may follow


def test_unknown_nested_key_has_dotted_path_and_suggestion():
    [message] = problems(with_line("baseline: small", "basline: small"))
    assert message.startswith("report.basline: unknown key; did you mean 'baseline'?")


def test_unknown_preset_suggests():
    [message] = problems(with_line("arch: scalesim-default\n  - name: big", "arch: scalesim-defualt\n  - name: big"))
    assert message.startswith("systems.small.arch: unknown preset 'scalesim-defualt'; did you mean 'scalesim-default'?")


def test_unknown_kind_suggests():
    text = with_line("arch: scalesim-default\n  - name: big", "arch: {kind: systolc, rows: 4}\n  - name: big")
    [message] = problems(text)
    assert "systems.small.arch.kind: unknown accelerator kind 'systolc'; did you mean 'systolic'?" in message


def test_wrong_type_names_key_and_value():
    [message] = problems(with_line("seed: 0", "seed: zero"))
    assert message.startswith("seed:") and "'zero'" in message and "integer" in message


@pytest.mark.parametrize("value", ["0", "-3"])
def test_non_positive_dimension_is_rejected(value):
    [message] = problems(with_line("M: 64, N: 64", f"M: {value}, N: 64"))
    assert message.startswith("workload.ops[0].M:") and "greater than 0" in message


def test_bad_override_names_the_set_key():
    [message] = problems(with_line("set: {rows: 64, cols: 64}", "set: {rows: 0, cols: 64}"))
    assert message.startswith("systems.big.set.rows:") and "greater than 0" in message


def test_unknown_override_key_suggests():
    [message] = problems(with_line("set: {rows: 64, cols: 64}", "set: {rowz: 64}"))
    assert message.startswith("systems.big.set.rowz: unknown key; did you mean 'rows'?")


def test_unknown_dataflow_lists_the_choices():
    [message] = problems(with_line("set: {rows: 64, cols: 64}", "set: {dataflow: rs}"))
    assert message.startswith("systems.big.set.dataflow:") and "'ws', 'os' or 'is'" in message


def test_unknown_dataflow_suggests_the_close_one():
    [message] = problems(with_line("set: {rows: 64, cols: 64}", "set: {dataflow: wss}"))
    assert message.startswith("systems.big.set.dataflow: unknown dataflow 'wss'; did you mean 'ws'?")


def test_a_scratchpad_below_one_array_row_names_the_key():
    # 64 int8 words per array row need a 128-byte scratchpad (two buffers of 64 bytes)
    [message] = problems(with_line("set: {rows: 64, cols: 64}", "set: {rows: 64, cols: 64, filter_sram_bytes: 100}"))
    assert message.startswith("systems.big.set.filter_sram_bytes:")
    assert "one array row of 64 int8 words" in message and "at least 128 bytes" in message and "100" in message


def test_empty_systems_list():
    text = SMALL_EXPERIMENT[: SMALL_EXPERIMENT.index("systems:")] + "systems: []\n"
    [message] = problems(text)
    assert message.startswith("systems:") and "at least 1" in message


def test_duplicate_system_names_and_bad_baseline_are_all_reported():
    text = with_line("name: big", "name: small").replace("baseline: small", "baseline: smal")
    found = problems(text)
    assert "systems: system name 'small' is used more than once" in found
    assert any(p.startswith("report.baseline:") for p in found)


def test_model_and_ops_together_is_an_error():
    [message] = problems(with_line("workload:\n", "workload:\n  model: llama2-7b\n"))
    assert message.startswith("workload:") and "exactly one of 'model'" in message


def test_several_problems_are_collected_at_once():
    text = with_line("seed: 0", "sead: 0").replace("M: 64, N: 64", "M: -1, N: 64")
    assert len(problems(text)) == 2


# -- the same through the CLI: message and exit code, no traceback ------------

def test_cli_missing_file(cli, tmp_path):
    code, out, err = cli("run", tmp_path / "nope.yaml")
    assert code == 2 and "file not found" in err and "Traceback" not in err + out


def test_cli_bad_file_prints_the_problem(cli, write):
    code, out, err = cli("validate", write(with_line("seed: 0", "sead: 0")))
    assert code == 2 and "did you mean 'seed'" in err and "Traceback" not in err + out


def test_cli_validate_ok(cli, write):
    code, out, err = cli("validate", write(SMALL_EXPERIMENT))
    assert code == 0 and "ok:" in err


# -- the tech: block ------------------------------------------------------------

def test_tech_override_for_an_unknown_component_suggests():
    [message] = problems(SMALL_EXPERIMENT + "tech:\n  overrides: {mac.fp61.mac_pj: 0.1}\n")
    assert message.startswith("tech.overrides:") and "mac.fp16" in message


def test_negative_tech_energy_is_rejected():
    [message] = problems(SMALL_EXPERIMENT + "tech:\n  overrides: {mac.int8.mac_pj: -1}\n")
    assert message.startswith("tech.overrides:") and "-1" in message


def test_unknown_tech_key_suggests():
    [message] = problems(SMALL_EXPERIMENT + "tech:\n  overides: {}\n")
    assert message.startswith("tech.overides: unknown key; did you mean 'overrides'?")


def test_unknown_node_lists_the_nodes():
    [message] = problems(with_line("set: {rows: 64, cols: 64}", "set: {tech_node_nm: 3}"))
    assert message.startswith("systems.big.set.tech_node_nm:") and "45, 28, 16, 7 or 5" in message


def test_a_set_override_reaches_into_a_named_sub_preset(tmp_path):
    # npu: neupims-npu names a preset inside the neupims system; npu.cores overrides one of its fields.
    from simulator.experiment import load_experiment
    path = tmp_path / "e.yaml"
    path.write_text("name: e\nworkload: {model: llama2-7b, phase: decode, batch: 4, seq_len: 64}\n"
                    "systems:\n  - name: pim\n    arch: neupims\n    set: {npu.cores: 2}\n")
    system = load_experiment(path).systems[0]
    assert system.spec.npu.cores == 2 and system.spec.npu.rows == 128  # the rest of the preset kept


def test_a_misspelt_sub_preset_is_reported_with_its_key_alongside_other_problems(tmp_path):
    from simulator.errors import InputError
    from simulator.experiment import load_experiment
    path = tmp_path / "e.yaml"
    path.write_text("name: e\nworkload: {model: gpt3-7b, phase: decode, batch: 8, seq_len: 128}\nsystems:\n"
                    "  - {name: a, arch: {kind: neupims, npu: neupims-npo, pim: neupims-hbm3}}\n"
                    "  - {name: b, arch: a100-80gb, set: {hbm_bandwidth_bytes_per_s: -1}}\n")
    with pytest.raises(InputError) as caught:
        load_experiment(path)
    paths = [p.path for p in caught.value.problems]
    assert paths == ["systems.a.arch.npu", "systems.a.arch.pim", "systems.b.set.hbm_bandwidth_bytes_per_s"]
    assert "did you mean 'neupims-npu'" in str(caught.value) and "did you mean 'neupims-hbm2'" in str(caught.value)
