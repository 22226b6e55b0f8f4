"""The contract's value types: energy categories, traffic per memory, composition, mapper options."""

import pytest
from pydantic import ValidationError

from arch import registry
from arch.compose import Hosted, merged_components
from arch.contract import (Bound, Component, EnergyCategory, MappingOptions, Memory, MemoryKind, OpCost,
                           PlacementRule, Traffic, over)
from workloads.op import Op, OpKind


def test_an_unknown_energy_category_names_the_component_and_the_known_ones():
    with pytest.raises(ValueError, match="component 'table': energy category 'lut' is not one of compute, sram, "
                                         "dram, network, other"):
        Component("table", 1, 1.0, {"read": 1.0}, category="lut")
    assert Component("buf", 1, 1.0, {}, category="sram").category is EnergyCategory.SRAM


def test_traffic_totals_and_memory_kinds():
    cost = OpCost("mesh", 10, traffic=(Traffic("noc", 100, 20), Traffic("dram", 5)))
    assert (cost.read_bytes, cost.write_bytes, cost.memories) == (105, 20, ("noc", "dram"))
    assert cost.traffic_over("sram") == Traffic("sram")
    assert MemoryKind.NETWORK.bound is Bound.NETWORK and MemoryKind.LINK.bound is Bound.NETWORK
    assert MemoryKind.DRAM.bound is Bound.MEMORY
    assert Memory("m", 10, channels=4).transfer_cycles(401) == 11
    with pytest.raises(ValueError, match="listed twice"):
        OpCost("u", 1, traffic=over("dram", 1) + over("dram", 2))


def test_hosted_renames_units_memories_components_and_actions_by_one_rule():
    npu = registry.build(registry.preset_spec("tpuv4-like"))
    hosted = Hosted(npu, "xpu", (("dram", "hbm"),))
    assert [u.name for u in hosted.units()] == ["xpu_array", "xpu_vector", "xpu_link"]
    assert {c.name for c in hosted.components()} == {f"xpu.{c.name}" for c in npu.components()}
    cost = hosted.cost(Op("g", OpKind.GEMM, 8, 256, 256), "xpu_array")
    assert cost.unit == "xpu_array" and cost.memories == ("hbm",)
    assert {k.rpartition(".")[0] for k, _ in cost.actions} <= {c.name for c in hosted.components()}
    kept = Hosted(npu)
    assert [u.name for u in kept.units()] == [u.name for u in npu.units()]
    with pytest.raises(ValueError, match="component 'pe' is defined twice"):
        merged_components(npu.components(), npu.components())


def test_duplex_rereads_no_preset_file_per_model():
    first, second = registry.preset_spec("duplex"), registry.preset_spec("duplex")
    first["placement_threshold_flops_per_byte"] = -1.0  # a caller's change does not leak into the cache
    assert second["placement_threshold_flops_per_byte"] != -1.0
    assert registry.preset_spec("duplex") == second


def test_mapping_options_are_typed_and_overlay_the_system_defaults():
    options = MappingOptions.model_validate({"split_cores": 2})
    merged = options.with_defaults({"placement": "intensity", "placement_threshold_flops_per_byte": 32.0,
                                    "split_cores": 8})
    assert merged.split_cores == 2 and merged.placement is PlacementRule.INTENSITY
    with pytest.raises(ValidationError, match="split_core"):
        MappingOptions.model_validate({"split_core": 1})
