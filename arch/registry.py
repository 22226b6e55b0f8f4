"""Registry of accelerator kinds and presets.

A kind is registered by one line in ``KINDS`` (the YAML ``kind:`` value mapped to
``"module:Class"``, imported on first use). Presets are the YAML files under
``arch/<family>/presets/`` of each registered family; a preset's name is its file stem and its content is a
spec mapping with a ``kind:`` key. Lookups of unknown kinds or presets raise
:class:`UnknownNameError` with "did you mean" suggestions.
"""

from __future__ import annotations

import copy
import difflib
import importlib
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from arch.contract import Accelerator
from workloads.yamlio import load_yaml_file

KINDS: dict[str, str] = {
    "systolic": "arch.systolic.model:SystolicArray",
    "neupims": "arch.pim.system:NeupimsSystem",
    "duplex": "arch.logicpim.model:DuplexSystem",
    "gpu": "arch.gpu.model:Gpu",
    "wafer": "arch.wafer.model:WaferMesh",
    "lut": "arch.lut.model:LutSystem",
    "lut-gemm": "arch.lut.lutgemm:LutGemmGpu",
    "cpu": "arch.cpu.model:CpuHost",
}

_ARCH_ROOT = Path(__file__).resolve().parent


class UnknownNameError(KeyError):
    """An unknown kind or preset; the message carries suggestions."""

    def __init__(self, what: str, name: str, known: list[str]) -> None:
        self.what, self.name, self.known = what, name, known
        super().__init__(unknown_message(what, name, known))

    def __str__(self) -> str:
        return unknown_message(self.what, self.name, self.known)


def unknown_message(what: str, name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown {what} {name!r}{hint} (known: {', '.join(sorted(known))})"


def kinds() -> list[str]:
    return sorted({*KINDS, *_EXTRA_KINDS})


def model_class(kind: str) -> type[Accelerator]:
    if kind in _EXTRA_KINDS:
        return _EXTRA_KINDS[kind]
    if kind not in KINDS:
        raise UnknownNameError("accelerator kind", kind, kinds())
    module_name, _, class_name = KINDS[kind].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


_EXTRA_KINDS: dict[str, type[Accelerator]] = {}


@contextmanager
def registered(cls: type[Accelerator]):
    """``cls`` registered under its ``kind`` while the block runs (a family outside ``arch/``, e.g. a test's)."""
    if cls.kind in KINDS or cls.kind in _EXTRA_KINDS:
        raise ValueError(f"accelerator kind {cls.kind!r} is registered already")
    _EXTRA_KINDS[cls.kind] = cls
    try:
        yield cls
    finally:
        del _EXTRA_KINDS[cls.kind]


@lru_cache(maxsize=None)
def _preset_paths() -> dict[str, Path]:
    """Preset files of the registered families: ``arch/<family>/presets/*.yaml``."""
    families = sorted({target.split(":")[0].split(".")[1] for target in KINDS.values()})
    paths = sorted(p for family in families for p in (_ARCH_ROOT / family / "presets").glob("*.yaml"))
    return {p.stem: p for p in paths}


def presets() -> list[str]:
    return sorted(_preset_paths())


def preset_path(name: str) -> Path:
    paths = _preset_paths()
    if name not in paths:
        raise UnknownNameError("preset", name, presets())
    return paths[name]


def preset_spec(name: str) -> dict[str, Any]:
    """The raw mapping of a preset (a fresh copy each call; the file is read once per process)."""
    return copy.deepcopy(_preset_data(preset_path(name)))


@lru_cache(maxsize=None)
def _preset_data(path: Path) -> dict[str, Any]:
    data = load_yaml_file(path)
    if not isinstance(data, dict) or "kind" not in data:
        raise ValueError(f"preset {path.stem!r} ({path}) must be a mapping with a 'kind' key")
    return data


def build(spec: Mapping[str, Any]) -> Accelerator:
    """Validate a spec mapping (with ``kind``) and construct its model."""
    kind = spec.get("kind")
    if kind is None:
        raise ValueError("an accelerator spec needs a 'kind' key")
    cls = model_class(kind)
    return cls(cls.spec_type.model_validate(dict(spec)))
