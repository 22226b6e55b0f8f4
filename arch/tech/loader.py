"""Reading the library's YAML data files with the project's strict loader.

The data files live next to this module (``components.yaml``, ``sram.yaml``,
``nodes.yaml``) and are read once per process with :func:`workloads.yamlio.load_yaml`,
so a duplicate key is an error here as everywhere in xpusim's YAML.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from workloads.yamlio import load_yaml


@cache
def load_data(filename: str) -> Any:
    """Parse one of the package's data files (cached; treat the result as read-only)."""
    text = resources.files("arch.tech").joinpath(filename).read_text(encoding="utf-8")
    return load_yaml(text, f"arch/tech/{filename}")
