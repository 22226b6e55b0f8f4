"""Strict YAML reading shared by every layer: duplicate keys are errors.

PyYAML silently keeps the last of two equal keys; a simulator whose results
depend on which one won must not. :func:`load_yaml` raises
:class:`YamlError` with the line and column of the duplicate, and wraps PyYAML's
own syntax errors in the same type so callers handle one error class.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class YamlError(ValueError):
    """Malformed YAML or a duplicate key, with the file and position."""


class _StrictLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            mark = key_node.start_mark
            raise YamlError(
                f"duplicate key {key!r} at line {mark.line + 1}, column {mark.column + 1} "
                f"(first defined at line {seen[key].start_mark.line + 1})"
            )
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(text: str, source: str = "<string>") -> Any:
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - SafeLoader subclass
    except YamlError as err:
        raise YamlError(f"{source}: {err}") from None
    except yaml.YAMLError as err:
        raise YamlError(f"{source}: malformed YAML: {_describe(err)}") from None


def load_yaml_file(path: str | Path) -> Any:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise YamlError(f"{path}: file not found") from None
    except OSError as err:
        raise YamlError(f"{path}: cannot read file ({err.strerror})") from None
    return load_yaml(text, str(path))


def _describe(err: yaml.YAMLError) -> str:
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err)
    if mark is not None:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return problem
