"""User overrides, name errors with suggestions, and the plain-data export."""

import json

import pytest

from arch.tech import InvalidValueError, TechLibrary, UnknownNameError


def test_flat_override_sets_the_value_at_the_node_unscaled():
    lib = TechLibrary(7, {"mac.fp16.energy_pj": 0.2})
    assert lib.energy_pj("mac.fp16", "mac") == 0.2
    assert lib.overrides == {"mac.fp16.mac_pj": 0.2}


def test_nested_and_mixed_overrides():
    lib = TechLibrary(45, {"register": {"read_pj": 0.1}, "mac.int8": {"area_um2": 500},
                           "noc": {"hop": {"length_mm": 2.0}}})
    assert lib.energy_pj("register", "read") == 0.1
    assert lib.energy_pj("register", "write") == 0.144
    assert lib.area_um2("mac.int8") == 500
    assert lib.param("noc.hop.length_mm") == 2.0


def test_overriding_a_part_reaches_what_is_built_from_it():
    lib = TechLibrary(45, {"mult.fp16.mult_pj": 2.0})
    assert lib.energy_pj("mac.fp16", "mac") == pytest.approx(2.0 + 0.9)
    assert lib.energy_pj("fma.fp16", "fma") == pytest.approx(2.0 + 0.4)
    assert lib.energy_pj("mult.bf16", "mult") == pytest.approx(2.0 * (8 / 11) ** 2)


def test_overriding_a_derived_component_leaves_its_parts():
    lib = TechLibrary(45, {"mac.fp16.mac_pj": 1.0, "mac.fp16.area_um2": 2912})
    assert lib.energy_pj("mult.fp16", "mult") == 1.1
    ref = TechLibrary(45)
    assert lib.leakage_w("mac.fp16") == pytest.approx(ref.leakage_w("mac.fp16") / 2)


def test_leakage_density_and_node_factor_overrides():
    lib = TechLibrary(45, {"logic.leakage_w_per_um2": 1e-8})
    assert lib.leakage_w("add.int8") == pytest.approx(36e-8)
    lib = TechLibrary(7, {"node.energy_factor": 0.5})
    assert lib.energy_pj("mult.fp16", "mult") == pytest.approx(0.55)
    assert lib.area_um2("mult.fp16") == pytest.approx(1640 * 0.059)


def test_sram_fit_overrides():
    base = TechLibrary(45).sram(65536, 64)
    lib = TechLibrary(45, {"sram.fit.write_to_read_ratio": 1.0,
                           "sram.fit.max_capacity_bytes": 2**23})
    cost = lib.sram(4 * 2**20, 64)
    assert cost.write_pj == cost.read_pj and cost.warnings == ()
    assert lib.sram(65536, 64).read_pj == base.read_pj


@pytest.mark.parametrize(("overrides", "suggestion"), [
    ({"mac.fp61.energy_pj": 0.2}, "mac.fp16.energy_pj"),
    ({"mac.fp16.energy": 0.2}, "mac.fp16.energy_pj"),
    ({"regster": {"read_pj": 0.1}}, "register.read_pj"),
    ({"sram.fit.read_coef_bank": 1e-4}, "sram.fit.read_coeff_bank"),
    ({"node.energy_factr": 0.5}, "node.energy_factor"),
])
def test_unknown_keys_suggest_the_nearest(overrides, suggestion):
    with pytest.raises(UnknownNameError, match=rf"did you mean .*'{suggestion}'"):
        TechLibrary(45, overrides)


def test_multi_action_energy_alias_names_the_actions():
    with pytest.raises(UnknownNameError, match="register.read_pj or register.write_pj"):
        TechLibrary(45, {"register.energy_pj": 0.1})


@pytest.mark.parametrize(("overrides", "key"), [
    ({"mac.fp16.energy_pj": -0.2}, "mac.fp16.energy_pj"),
    ({"sram": {"fit": {"read_coeff_bank": -1e-4}}}, "sram.fit.read_coeff_bank"),
    ({"add.int8.area_um2": "big"}, "add.int8.area_um2"),
    ({"add.int8.area_um2": True}, "add.int8.area_um2"),
    ({"add.int8.area_um2": float("inf")}, "add.int8.area_um2"),
    ({"node.area_factor": 0}, "node.area_factor"),
])
def test_bad_values_name_the_key(overrides, key):
    with pytest.raises(InvalidValueError, match=key.replace(".", r"\.")):
        TechLibrary(45, overrides)


def test_a_value_given_twice_is_an_error():
    with pytest.raises(InvalidValueError, match="given twice"):
        TechLibrary(45, {"mac.fp16.energy_pj": 0.2, "mac": {"fp16": {"energy_pj": 0.3}}})
    with pytest.raises(InvalidValueError, match="already given"):
        TechLibrary(45, {"mac.fp16.energy_pj": 0.2, "mac.fp16.mac_pj": 0.3})


def test_inverted_sram_range_is_an_error():
    with pytest.raises(InvalidValueError, match="min_capacity_bytes"):
        TechLibrary(45, {"sram.fit.min_capacity_bytes": 2**30})


def test_query_errors_suggest_names():
    lib = TechLibrary(45)
    with pytest.raises(UnknownNameError, match="did you mean 'mac.fp16'"):
        lib.energy_pj("mac.fp61", "mac")
    with pytest.raises(UnknownNameError, match="action 'compute' of 'mac.fp16'"):
        lib.energy_pj("mac.fp16", "compute")
    with pytest.raises(UnknownNameError, match="did you mean 'bank_pim'"):
        lib.dram_path_pj_per_bit("bank")
    with pytest.raises(UnknownNameError, match="did you mean 'noc.hop.length_mm'"):
        lib.param("noc.hop.length")
    with pytest.raises(InvalidValueError, match="name one"):
        lib.energy_pj("register")


def test_from_config_reads_a_tech_block_and_suggests_keys():
    lib = TechLibrary.from_config({"node_nm": 7, "allow_extrapolation": True,
                                   "overrides": {"mac.fp16.energy_pj": 0.2}})
    assert (lib.node_nm, lib.allow_extrapolation) == (7, True)
    assert lib.energy_pj("mac.fp16") == 0.2
    assert TechLibrary.from_config(None).node_nm == 45
    with pytest.raises(UnknownNameError, match="did you mean 'node_nm'"):
        TechLibrary.from_config({"node": 7})
    with pytest.raises(InvalidValueError, match="allow_extrapolation"):
        TechLibrary.from_config({"allow_extrapolation": "yes"})
    with pytest.raises(InvalidValueError, match="tech block must be a mapping"):
        TechLibrary.from_config([7])
    with pytest.raises(InvalidValueError, match="tech overrides must be a mapping"):
        TechLibrary.from_config({"overrides": ["mac.fp16.energy_pj"]})


def test_to_dict_is_plain_json_and_rebuilds_the_same_library():
    lib = TechLibrary(16, {"mac.fp16.energy_pj": 0.2, "node.leakage_factor": 0.3})
    data = lib.to_dict()
    assert json.loads(json.dumps(data)) == data
    again = TechLibrary(data["node_nm"], data["overrides"], data["allow_extrapolation"])
    assert again.to_dict() == data
    assert data["components"]["mac.fp16"]["energy_pj"] == {"mac": 0.2}
    assert data["node"]["leakage_factor"] == 0.3
    assert data["dram_paths_pj_per_bit"]["host"] == pytest.approx(3.59)


def test_every_listed_key_is_accepted():
    lib = TechLibrary(45)
    keys = lib.keys()
    assert "mac.fp16.mac_pj" in keys and "node.energy_factor" in keys
    safe = {k: 1.0 for k in keys if not k.startswith(("sram.fit.min", "sram.fit.max"))}
    assert len(TechLibrary(45, safe).overrides) == len(safe)


def test_libraries_pickle_compare_and_do_not_leak_internal_state():
    import pickle

    lib = TechLibrary(7, {"mac.fp16.energy_pj": 0.2}, allow_extrapolation=True)
    again = pickle.loads(pickle.dumps(lib))
    assert again == lib and hash(again) == hash(lib) and again.to_dict() == lib.to_dict()
    assert lib != TechLibrary(7)
    lib.component("mac.fp16").actions_pj["mac"] = 99.0
    lib.overrides["mac.fp16.mac_pj"] = 99.0
    assert lib.energy_pj("mac.fp16") == 0.2 and lib == again
