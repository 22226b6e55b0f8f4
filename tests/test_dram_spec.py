"""DRAM specs: presets, derived figures, the constraint table, and clear errors for bad input."""

import pytest
import yaml
from pydantic import ValidationError

from arch.dram import (
    COMMAND_SCOPE,
    CONSTRAINT_RULES,
    Command,
    ConstraintRule,
    DramSpec,
    Level,
    Standard,
    TimingTableError,
    build_constraint_table,
    list_presets,
    load_preset,
    spec_from_yaml,
)
from arch.dram.commands import HOST_COMMANDS
from arch.dram.constraints import evaluate_latency, parameter_names, rule
from workloads.yamlio import YamlError

ACT, PRE, RD, WR, REF = Command.ACT, Command.PRE, Command.RD, Command.WR, Command.REF


@pytest.fixture(scope="module")
def hbm2():
    return load_preset("hbm2-neupims")


def spec_data(spec: DramSpec) -> dict:
    return spec.model_dump(mode="json")


def test_presets_are_listed_and_load():
    assert list_presets() == ["hbm2-neupims", "hbm3-6400"]
    assert {load_preset(name).name for name in list_presets()} == set(list_presets())


def test_hbm2_reconciles_32_banks_per_channel(hbm2):
    org = hbm2.organisation
    assert (org.channels, org.banks_per_channel) == (32, 32)  # NeuPIMs memory row
    assert (org.ranks_per_channel, org.bankgroups_per_rank, org.banks_per_bankgroup) == (2, 4, 4)
    assert org.page_bytes == 1024 and org.burst_bytes == 64
    assert org.capacity_bytes == 32 * 1024**3  # DRAMsim3 channel_size 1024 MB x 32


def test_derived_peak_bandwidth(hbm2):
    assert hbm2.organisation.peak_bandwidth_bytes_per_s == 32 * 128 / 8 * 2 * 1e9
    assert hbm2.organisation.tck_ns == 1.0
    hbm3 = load_preset("hbm3-6400").organisation
    assert hbm3.peak_bandwidth_bytes_per_s == pytest.approx(819.2e9)  # 1024 pins x 6.4 Gb/s
    assert hbm3.tck_ns == pytest.approx(0.625)
    assert hbm3.burst_cycles == 2


def test_table_holds_the_named_latencies(hbm2):
    t = hbm2.timing_cycles
    assert hbm2.latency_cycles(Level.BANK, ACT, RD) == t["tRCDRD"] == 14
    assert hbm2.latency_cycles(Level.BANK, PRE, ACT) == t["tRP"]
    assert hbm2.latency_cycles(Level.BANK, ACT, ACT) == t["tRAS"] + t["tRP"]
    assert hbm2.latency_cycles(Level.BANK, WR, PRE) == t["CWL"] + t["BL"] + t["tWR"]
    assert hbm2.latency_cycles(Level.CHANNEL, RD, WR) == t["CL"] + t["BL"] + t["tRTRS"] - t["CWL"]
    assert hbm2.latency_cycles(Level.BANK, RD, ACT) is None
    faw = [c for c in hbm2.constraints if c.window > 1]
    assert [(c.level, c.preceding, c.following, c.latency_cycles, c.window) for c in faw] == [
        (Level.RANK, ACT, ACT, 30, 4)]
    sibling = [c for c in hbm2.constraints if c.sibling]
    assert [(c.level, c.preceding, c.following, c.latency_cycles) for c in sibling] == [
        (Level.RANK, RD, RD, t["BL"] + t["tRTRS"])]


def test_compiled_arrays_match_the_table(hbm2):
    compiled = hbm2.compiled
    for c in hbm2.constraints:
        if c.preceding not in HOST_COMMANDS or c.following not in HOST_COMMANDS:
            continue  # PIM commands: the checker's, not the scheduler's
        if c.window == 1:
            array = compiled.sibling_latency if c.sibling else compiled.latency
            assert array[c.level, c.preceding, c.following] >= c.latency_cycles
    assert compiled.latency[Level.BANK, ACT, RD] == 14
    assert compiled.latency[Level.BANK, RD, ACT] < 0
    assert list(compiled.command_scope) == [COMMAND_SCOPE[c] for c in HOST_COMMANDS]


@pytest.mark.parametrize("name", ["hbm2-neupims", "hbm3-6400"])
def test_spec_round_trips_through_yaml(name, tmp_path):
    spec = load_preset(name)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec_data(spec)), encoding="utf-8")
    again = spec_from_yaml(path)
    assert again == spec
    assert again.constraints == spec.constraints


def test_with_changes_revalidates(hbm2):
    small = hbm2.with_changes(organisation={"channels": 2}, timing_cycles={"tREFI": 400})
    assert small.organisation.channels == 2 and small.timing_cycles["tREFI"] == 400
    assert small.timing_cycles["tRP"] == 14
    with pytest.raises(ValidationError, match="channels"):
        hbm2.with_changes(organisation={"channels": 0})


def error_text(hbm2, **sections) -> str:
    with pytest.raises(ValidationError) as info:
        hbm2.with_changes(**sections)
    return str(info.value)


@pytest.mark.parametrize("field", ["channels", "bankgroups_per_rank", "rows_per_bank", "burst_bytes"])
def test_zero_counts_name_the_field(hbm2, field):
    text = error_text(hbm2, organisation={field: 0})
    assert field in text and "greater than 0" in text


def test_negative_timing_names_the_parameter(hbm2):
    assert "timing_cycles.tRP = -1: must be >= 0 cycles" in error_text(hbm2, timing_cycles={"tRP": -1})


def test_missing_timing_names_the_parameter_and_its_constraints(hbm2):
    data = spec_data(hbm2)
    del data["timing_cycles"]["tFAW"], data["timing_cycles"]["CL"]
    with pytest.raises(ValidationError) as info:
        DramSpec.model_validate(data)
    text = str(info.value)
    assert "timing_cycles.tFAW: missing" in text and "rank ACT -> ACT = tFAW, window 4" in text
    assert "timing_cycles.CL: missing" in text


def test_unknown_timing_suggests_the_name(hbm2):
    text = error_text(hbm2, timing_cycles={"tRCDRDD": 14})
    assert "timing_cycles.tRCDRDD: unknown parameter" in text and "did you mean 'tRCDRD'" in text


def test_negative_derived_latency_names_the_constraint(hbm2):
    text = error_text(hbm2, timing_cycles={"CL": 1, "CWL": 8})
    assert "channel RD/RD_RES -> WR/WR_GB = CL + BL + tRTRS - CWL" in text and "negative" in text


def test_burst_length_must_match_the_bus(hbm2):
    assert "timing_cycles.BL = 4" in error_text(hbm2, timing_cycles={"BL": 4})
    assert "burst_bytes (48)" in error_text(hbm2, organisation={"burst_bytes": 48})


def test_address_mapping_must_name_every_field_once(hbm2):
    text = error_text(hbm2, address_mapping=["row", "row", "bank", "column", "bankgroup", "channel"])
    assert "missing ['rank', 'pseudo_channel']" in text and "repeated ['row']" in text


def test_unknown_keys_and_presets_are_errors(hbm2):
    data = spec_data(hbm2)
    data["organisation"]["chanels"] = 3
    with pytest.raises(ValidationError, match="chanels"):
        DramSpec.model_validate(data)
    with pytest.raises(ValueError, match="did you mean 'hbm2-neupims'"):
        load_preset("hbm2-neupim")


def test_duplicate_yaml_keys_are_errors(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("name: a\nname: b\n", encoding="utf-8")
    with pytest.raises(YamlError, match="duplicate key 'name'"):
        spec_from_yaml(path)


def test_latency_expressions():
    assert parameter_names("CWL + BL + tWR") == ("CWL", "BL", "tWR")
    assert evaluate_latency("CL + BL - CWL + 2", {"CL": 14, "BL": 2, "CWL": 4}) == 14
    for bad in ["", "CL +", "CL BL", "CL * 2"]:
        with pytest.raises(TimingTableError):
            evaluate_latency(bad, {"CL": 14, "BL": 2})


def test_rules_reject_impossible_levels():
    with pytest.raises(TimingTableError, match="REF addresses a rank"):
        rule(Level.BANK, PRE, REF, "tRP")
    with pytest.raises(TimingTableError, match="sibling"):
        rule(Level.CHANNEL, RD, RD, "BL", sibling=True)
    with pytest.raises(TimingTableError, match="window"):
        ConstraintRule(Level.RANK, (ACT,), (ACT,), "tFAW", window=0)


def test_build_table_collects_every_missing_parameter():
    with pytest.raises(TimingTableError) as info:
        build_constraint_table(CONSTRAINT_RULES[Standard.HBM3], {"tRP": 1})
    assert "timing_cycles.tRCDRD: missing" in str(info.value)
    assert "timing_cycles.tFAW: missing" in str(info.value)
