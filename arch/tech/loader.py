"""Reading the library's YAML data files, rejecting duplicate keys.

The data files live next to this module (``components.yaml``, ``sram.yaml``,
``nodes.yaml``) and are read once per process. A duplicate key in a mapping is an
error, as everywhere in xpusim's YAML.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping."""

    def construct_mapping(self, node, deep=False):
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml_text(text: str) -> Any:
    """Parse YAML text with duplicate keys rejected."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass


@cache
def load_data(filename: str) -> Any:
    """Parse one of the package's data files (cached; treat the result as read-only)."""
    text = resources.files("arch.tech").joinpath(filename).read_text(encoding="utf-8")
    return load_yaml_text(text)
