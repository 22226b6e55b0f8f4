"""Reading DRAM specs from YAML: the bundled presets or any file.

Duplicate keys are errors (``workloads.yamlio``); an unknown preset name gets a
"did you mean"; a bad value raises pydantic's ``ValidationError`` naming the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from arch.dram.spec import DramSpec
from arch.tech.errors import hint_clause
from workloads.yamlio import load_yaml_file

PRESET_DIR = Path(__file__).with_name("presets")


def list_presets() -> list[str]:
    """Names of the bundled presets (file names without ``.yaml``)."""
    return sorted(path.stem for path in PRESET_DIR.glob("*.yaml"))


def load_preset(name: str) -> DramSpec:
    """The bundled preset called ``name``."""
    if name not in list_presets():
        raise ValueError(f"unknown DRAM preset {name!r}{hint_clause(name, list_presets())} "
                         f"(known: {', '.join(list_presets())})")
    return spec_from_yaml(PRESET_DIR / f"{name}.yaml")


def spec_from_yaml(path: str | Path) -> DramSpec:
    return spec_from_mapping(load_yaml_file(path))


def spec_from_mapping(data: Mapping[str, Any]) -> DramSpec:
    if not isinstance(data, Mapping):
        raise ValueError(f"a DRAM spec must be a mapping, got {type(data).__name__}")
    return DramSpec.model_validate(dict(data))
