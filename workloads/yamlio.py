"""Strict, bounded YAML reading shared by every layer.

PyYAML silently keeps the last of two equal keys; a simulator whose results
depend on which one won must not, so a key given twice in one mapping is a
:class:`YamlError` with both lines. A merge key (``<<: *defaults``) is YAML's own
way of overriding, so keys written next to it replace the merged ones, as the
YAML merge-key specification says.

Hostile input is bounded before any value is built: a file over
:data:`MAX_FILE_BYTES`, a binary or non-UTF-8 file, a document whose aliases
expand to more than :data:`MAX_NODES` nodes (the "billion laughs" alias bomb:
the composed node graph is small, its expansion exponential), and nesting deeper
than :data:`MAX_DEPTH` are all errors that name the limit. Node counting walks the
composed graph once, memoised per node, so a bomb is refused in linear time.
PyYAML's syntax errors are wrapped in the same :class:`YamlError`, so callers
handle one error class. The document is parsed with libyaml's C parser
(``yaml.CSafeLoader``) where PyYAML was built with it (several times faster than
the pure-Python parser), else with the pure-Python one; both give the same values.
A syntax error is described by the pure-Python parser (it names more: the
undefined alias, the token found), so messages do not depend on libyaml.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from workloads.input_files import InputFileError, read_input_bytes

# Limits on one YAML document. An experiment file is a few hundred nodes and a few KB;
# the largest shipped data file (arch/tech/components.yaml) is under 50 KB.
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_NODES = 200_000  # nodes after alias expansion
MAX_DEPTH = 64  # nested mappings / sequences

_MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlError(ValueError):
    """Malformed, oversized or binary YAML, or a duplicate key, with the file and position."""


class _StrictPyLoader(yaml.SafeLoader):
    """The pure-Python parser, whose syntax errors say more than libyaml's."""


class _StrictCLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's C parser when PyYAML has it
    pass


_LOADERS = (_StrictCLoader, _StrictPyLoader) if hasattr(yaml, "CSafeLoader") else (_StrictPyLoader,)


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG:
            continue  # merged keys may be overridden by the keys written here
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, Hashable):
            mark = key_node.start_mark
            raise YamlError(f"a {type(key).__name__} used as a mapping key at line {mark.line + 1}, column "
                            f"{mark.column + 1}: keys must be plain values (names, numbers)")
        if key in seen:
            mark = key_node.start_mark
            raise YamlError(
                f"duplicate key {_short_key(key)} at line {mark.line + 1}, column {mark.column + 1} "
                f"(first defined at line {seen[key].start_mark.line + 1})"
            )
        seen[key] = key_node
    loader.flatten_mapping(node)  # merged keys first, then this mapping's own: the own ones win
    return loader.construct_mapping(node, deep=deep)


for _loader in _LOADERS:
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(text: str, source: str = "<string>") -> Any:
    """Parse one YAML document with duplicate keys rejected and its size and depth bounded."""
    if len(text) > MAX_FILE_BYTES:
        raise YamlError(f"{source}: {len(text)} characters is over the {MAX_FILE_BYTES}-byte limit for a YAML file")
    if "\x00" in text:
        raise YamlError(f"{source}: holds a NUL character: this is a binary file, not YAML text")
    if len(_LOADERS) > 1:
        try:
            return _parse(_StrictCLoader, text, source)
        except yaml.YAMLError:
            pass  # parsed again below, to fail with the pure-Python parser's message
    return _parse(_StrictPyLoader, text, source)


def _parse(loader_type: type, text: str, source: str) -> Any:
    try:
        loader = loader_type(text)  # the reader refuses control characters here
    except yaml.reader.ReaderError as err:
        line, column = text.count("\n", 0, err.position) + 1, err.position - text.rfind("\n", 0, err.position)
        raise YamlError(f"{source}: not YAML text: character {err.character:#06x} at line {line}, column {column} "
                        f"is not allowed in YAML (a control character; remove it)") from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        check_node_limits(node)
        return loader.construct_document(node)
    except YamlError as err:
        raise YamlError(f"{source}: {err}") from None
    except RecursionError:
        raise YamlError(f"{source}: nesting is too deep (at most {MAX_DEPTH} levels)") from None
    except (ValueError, OverflowError) as err:  # a scalar its tag cannot hold: 2026-13-45, an int of 5,000 digits
        raise YamlError(f"{source}: {_unreadable(loader_type, node, err)}") from None
    except yaml.YAMLError as err:
        if loader_type is not _StrictPyLoader:
            raise
        raise YamlError(f"{source}: malformed YAML: {_describe(err)}") from None
    finally:
        loader.dispose()


def _unreadable(loader_type: type, root: yaml.Node, err: Exception) -> str:
    """Where and why a scalar cannot be built as its resolved type (``err`` the constructor's error)."""
    found = _first_unreadable(loader_type, root, ())
    reason = (str(err).split(";")[0] or type(err).__name__).splitlines()[0]
    if found is None:
        return f"a value cannot be read as the type YAML gives it: {reason}"
    path, node = found
    mark, kind = node.start_mark, node.tag.rsplit(":", 1)[-1]
    where = ".".join(str(part) for part in path) or "the document"
    return (f"{where} at line {mark.line + 1}, column {mark.column + 1}: {_short_key(node.value)} is read as "
            f"a YAML {kind} and cannot be one ({reason}); quote it to keep it as text")


def _first_unreadable(loader_type: type, node: yaml.Node, path: tuple) -> tuple[tuple, yaml.ScalarNode] | None:
    if isinstance(node, yaml.ScalarNode):
        constructor = loader_type.yaml_constructors.get(node.tag)
        probe = loader_type("")
        try:
            if constructor is not None:
                constructor(probe, node)
        except (ValueError, OverflowError):
            return path, node
        finally:
            probe.dispose()
        return None
    pairs = (node.value if isinstance(node, yaml.MappingNode) else
             [(None, child) for child in node.value] if isinstance(node, yaml.SequenceNode) else [])
    for index, (key, child) in enumerate(pairs):
        label = key.value if isinstance(key, yaml.ScalarNode) else index
        hit = _first_unreadable(loader_type, child, path + (label,))
        if hit is not None:
            return hit
    return None


def load_yaml_file(path: str | Path) -> Any:
    """Read and parse ``path`` (UTF-8 text, at most :data:`MAX_FILE_BYTES`)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise YamlError(f"{path}: is a folder, not a YAML file")
        if size > MAX_FILE_BYTES:
            raise YamlError(f"{path}: {size} bytes is over the {MAX_FILE_BYTES}-byte limit for a YAML file")
        data = read_input_bytes(path, MAX_FILE_BYTES, "YAML file")  # a device or pipe is refused unread
    except FileNotFoundError:
        raise YamlError(f"{path}: file not found") from None
    except InputFileError as err:
        raise YamlError(str(err)) from None
    except OSError as err:
        raise YamlError(f"{path}: cannot read file ({err.strerror})") from None
    return load_yaml(decode_text(data, str(path)), str(path))


def decode_text(data: bytes, source: str) -> str:
    """``data`` as UTF-8 text; a binary or otherwise encoded file is a :class:`YamlError` naming the byte."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise YamlError(f"{source}: UTF-16 text (it starts with a UTF-16 byte-order mark); save the file as UTF-8")
    if b"\x00" in data[:8192]:
        raise YamlError(f"{source}: holds NUL bytes: this is a binary file, not YAML text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise YamlError(f"{source}: not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); "
                        "save the file as UTF-8") from None


def check_node_limits(root: yaml.Node) -> None:
    """Raise :class:`YamlError` if ``root`` expands to over :data:`MAX_NODES` nodes or :data:`MAX_DEPTH` levels.

    A depth-first walk with sizes and depths memoised per node object, so an
    alias (a second reference to one node) costs one lookup, however large its
    expansion.
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path = {id(root)}
    stack = [(root, iter(_children(root)))]
    while stack:
        node, pending = stack[-1]
        child = next(pending, None)
        if child is not None:
            if id(child) in on_path:
                raise YamlError(f"the alias at line {child.start_mark.line + 1} refers to a node that holds it")
            if id(child) not in size:
                if len(stack) >= MAX_DEPTH:
                    raise YamlError(f"nesting is deeper than {MAX_DEPTH} levels (line {child.start_mark.line + 1})")
                on_path.add(id(child))
                stack.append((child, iter(_children(child))))
            continue
        stack.pop()
        on_path.discard(id(node))
        children = _children(node)
        size[id(node)] = 1 + sum(size[id(c)] for c in children)
        depth[id(node)] = 1 + max((depth[id(c)] for c in children), default=0)
        if size[id(node)] > MAX_NODES:
            raise YamlError(f"the document expands to more than {MAX_NODES} nodes (aliases counted at every "
                            f"use, line {node.start_mark.line + 1}); write the data out or use fewer aliases")
        if depth[id(node)] > MAX_DEPTH:
            raise YamlError(f"nesting is deeper than {MAX_DEPTH} levels (line {node.start_mark.line + 1})")


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _short_key(key: Any) -> str:
    text = repr(key) if isinstance(key, (str, int, float, bool)) or key is None else f"<{type(key).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(err: yaml.YAMLError) -> str:
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err)
    if mark is not None:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return problem
