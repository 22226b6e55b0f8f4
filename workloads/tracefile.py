"""Workload trace files: a versioned JSON format for any workload, out and in.

:func:`export_workload` writes a :class:`~workloads.graph.Workload` (from the
analytic builders, or from any other tool) to a file; :func:`import_workload`
reads one back, validating every field and reporting every problem at once by
its place in the file (``ops[3].m: must be a positive integer, got -1``). A
round trip gives an equal workload. The format (``docs/workloads.md`` has the
full description)::

    {"format": "xpusim-trace", "version": 1,
     "name": "llama2-7b-decode-b8-s1024", "phase": "decode", "batch": 8,
     "tokens_per_step": 8, "repeat": 32, "metadata": {"model": "llama2-7b"},
     "ops": [{"name": "q_proj", "kind": "gemm", "m": 8, "n": 4096, "k": 4096, ...}],
     "edges": [["attn_norm", "q_proj"], ...]}

Import also reads the same structure from YAML (any suffix other than ``.json``),
with duplicate keys rejected in both.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

from workloads.errors import WorkloadError
from workloads.graph import Workload
from workloads.models import read_mapping
from workloads.op import Op, OpKind, Operand, Phase, SoftmaxScheme

FORMAT = "xpusim-trace"
VERSION = 1

_TOP_REQUIRED = ("format", "version", "ops")
_TOP_DEFAULTS = {"name": None, "phase": "any", "batch": 1, "tokens_per_step": 1, "repeat": 1,
                 "metadata": {}, "edges": []}
_OP_REQUIRED = ("name", "kind", "m", "n")
_OP_DEFAULTS = {"k": 1, "count": 1, "a_bits": 16, "b_bits": 16, "out_bits": 16,
                "b_operand": Operand.WEIGHT.value, "phase": Phase.ANY.value, "layer": -1,
                "extra_bytes": 0, "devices": 1, "passes": 1, "kv_splits": 1,
                "softmax_scheme": SoftmaxScheme.ONLINE.value}
_POSITIVE = ("m", "n", "k", "count", "devices", "passes", "kv_splits")
_BITS = ("a_bits", "b_bits", "out_bits")
_SCALARS = (str, int, float, bool, type(None))


class TraceFileError(WorkloadError):
    """A trace file that cannot be read as a workload; lists every problem."""


# -- out ------------------------------------------------------------------------------
def workload_to_dict(workload: Workload) -> dict[str, Any]:
    """The file's JSON structure for ``workload``."""
    metadata = dict(workload.meta)
    bad = [key for key, value in metadata.items() if not isinstance(value, _SCALARS)]
    if bad:
        raise ValueError(f"workload {workload.name!r}: metadata {bad} must be numbers, "
                         "strings, booleans or null to be written to a trace file")
    return {
        "format": FORMAT, "version": VERSION, "name": workload.name, "phase": workload.phase,
        "batch": workload.batch, "tokens_per_step": workload.tokens_per_step,
        "repeat": workload.repeat, "metadata": metadata,
        "ops": [_op_to_dict(op) for op in workload.ops],
        "edges": [[src, dst] for src, dst in workload.edges],
    }


def export_workload(workload: Workload, path: str | Path) -> Path:
    """Write ``workload`` as a version-1 JSON trace file; returns the path."""
    path = Path(path)
    text = json.dumps(workload_to_dict(workload), indent=1)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def _op_to_dict(op: Op) -> dict[str, Any]:
    data = op.to_dict()
    data["devices"] = op.devices
    return data


# -- in -------------------------------------------------------------------------------
def import_workload(path: str | Path) -> Workload:
    """Read and validate a trace file written by :func:`export_workload` or another tool."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"trace file not found: {path}")
    try:
        data = read_mapping(path)
    except ValueError as error:
        raise TraceFileError(str(error)) from None
    return workload_from_dict(data, source=str(path))


def workload_from_dict(data: Any, source: str = "<trace>") -> Workload:
    """Validate a trace file's structure and build its workload."""
    if not isinstance(data, dict):
        raise TraceFileError(f"{source}: expected a mapping, got {type(data).__name__}")
    _check_header(data, source)
    errors = _top_errors(data)
    ops: list[Op] = []
    raw_ops = data.get("ops")
    if not isinstance(raw_ops, list) or not raw_ops:
        errors.append(f"ops: expected a non-empty list of ops, got {raw_ops!r}")
        raw_ops = []
    for index, entry in enumerate(raw_ops):
        op_errors = _op_errors(index, entry)
        errors += op_errors
        if not op_errors:
            ops.append(_op_from_dict(entry))
    edges = data.get("edges", [])
    errors += _edge_errors(edges, [op.name for op in ops] if len(ops) == len(raw_ops) else None)
    if errors:
        raise TraceFileError(f"{source}: invalid trace file:\n  " + "\n  ".join(errors))
    fields = {**_TOP_DEFAULTS, **data}
    try:
        return Workload(
            name=fields["name"] or Path(source).stem, ops=tuple(ops),
            edges=tuple((src, dst) for src, dst in edges), repeat=fields["repeat"],
            phase=fields["phase"], batch=fields["batch"],
            tokens_per_step=fields["tokens_per_step"], meta=tuple(fields["metadata"].items()))
    except ValueError as error:
        raise TraceFileError(f"{source}: {error}") from None


def _check_header(data: dict, source: str) -> None:
    if data.get("format") != FORMAT:
        raise TraceFileError(f"{source}: format: expected {FORMAT!r}, got {data.get('format')!r}")
    version = data.get("version")
    if version != VERSION:
        raise TraceFileError(f"{source}: version: this xpusim reads trace version {VERSION}, "
                             f"the file is version {version!r}")


def _top_errors(data: dict) -> list[str]:
    allowed = (*_TOP_REQUIRED, *_TOP_DEFAULTS)
    errors = [f"{key}: unknown key{_did_you_mean(key, allowed)}" for key in data if key not in allowed]
    for key in ("batch", "tokens_per_step", "repeat"):
        if key in data and not _is_positive_int(data[key]):
            errors.append(f"{key}: must be a positive integer, got {data[key]!r}")
    for key in ("name", "phase"):
        if key in data and not isinstance(data[key], str):
            errors.append(f"{key}: must be a string, got {data[key]!r}")
    metadata = data.get("metadata", {})
    if not isinstance(metadata, dict):
        errors.append(f"metadata: must be a mapping, got {metadata!r}")
    else:
        errors += [f"metadata.{key}: must be a number, string, boolean or null, got {value!r}"
                   for key, value in metadata.items() if not isinstance(value, _SCALARS)]
    return errors


def _op_errors(index: int, entry: Any) -> list[str]:
    where = f"ops[{index}]"
    if not isinstance(entry, dict):
        return [f"{where}: expected a mapping, got {entry!r}"]
    allowed = (*_OP_REQUIRED, *_OP_DEFAULTS)
    errors = [f"{where}: missing key {key!r}" for key in _OP_REQUIRED if key not in entry]
    errors += [f"{where}.{key}: unknown key{_did_you_mean(key, allowed)}"
               for key in entry if key not in allowed]
    errors += [f"{where}.{key}: must be a positive integer, got {entry[key]!r}"
               for key in _POSITIVE if key in entry and not _is_positive_int(entry[key])]
    errors += [f"{where}.{key}: must be a number in (0, 64], got {entry[key]!r}"
               for key in _BITS if key in entry and not _is_bits(entry[key])]
    errors += _enum_errors(where, entry)
    if "name" in entry and (not isinstance(entry["name"], str) or not entry["name"]):
        errors.append(f"{where}.name: must be a non-empty string, got {entry['name']!r}")
    extra = entry.get("extra_bytes", 0)
    if not _is_int(extra) or extra < 0:
        errors.append(f"{where}.extra_bytes: must be an integer >= 0, got {extra!r}")
    if not _is_int(entry.get("layer", -1)):
        errors.append(f"{where}.layer: must be an integer, got {entry['layer']!r}")
    if not errors:
        try:
            _op_from_dict(entry)
        except ValueError as error:  # cross-field rules of Op itself
            errors.append(f"{where}: {error}")
    return errors


def _enum_errors(where: str, entry: dict) -> list[str]:
    errors = []
    for key, enum in (("kind", OpKind), ("b_operand", Operand), ("phase", Phase),
                      ("softmax_scheme", SoftmaxScheme)):
        values = [member.value for member in enum]
        if key in entry and entry[key] not in values:
            errors.append(f"{where}.{key}: must be one of {', '.join(values)}, got {entry[key]!r}")
    return errors


def _op_from_dict(entry: dict) -> Op:
    return Op.from_dict({**_OP_DEFAULTS, **entry})


def _edge_errors(edges: Any, names: list[str] | None) -> list[str]:
    if not isinstance(edges, list):
        return [f"edges: must be a list of [from, to] pairs, got {edges!r}"]
    known = set(names) if names is not None else None
    errors = []
    for index, edge in enumerate(edges):
        if not (isinstance(edge, list) and len(edge) == 2 and all(isinstance(e, str) for e in edge)):
            errors.append(f"edges[{index}]: must be a [from, to] pair of op names, got {edge!r}")
        elif known is not None:
            errors += [f"edges[{index}]: names unknown op {end!r}" for end in edge if end not in known]
    return errors


# -- checks ---------------------------------------------------------------------------
def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_positive_int(value: Any) -> bool:
    return _is_int(value) and value >= 1


def _is_bits(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 64


def _did_you_mean(key: Any, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(key), list(allowed), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
