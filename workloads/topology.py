"""SCALE-Sim topology files read as a list of GEMM ops (``workload: {topology: FILE.csv}``).

A user's SCALE-Sim topologies run unchanged. The conventions are SCALE-Sim 3.0.0's
(``scalesim/topology_utils.py``, ``load_arrays_gemm``, ``load_arrays_conv``,
``get_transformed_mnk_dimensions``):

* the first line is a header (here: when its second cell is not a whole number, so a
  file without one loses no layer); cells are comma-separated, a trailing comma (and a
  ``#`` comment after it) allowed;
* a row holding a name alone (a section label) is skipped;
* any layer name is taken: characters an op name may not hold become ``_``, and a name
  given twice is numbered (``Attn-2``);
* a GEMM row is ``name, M, N, K`` -- M rows of the input and output, N output
  features, K the reduction -- and becomes that GEMM;
* a convolution row is ``name, IFMAP height, IFMAP width, filter height, filter width,
  channels, filters, stride`` (one stride for both directions). It is lowered as SCALE-Sim
  lowers it: a GEMM of ``M = ofmap_h x ofmap_w`` output pixels, ``K = filter_h x filter_w x
  channels`` (the filter window) and ``N = filters``, with ``ofmap = ceil((ifmap - filter +
  stride) / stride)`` in each direction;
* a layer whose name contains ``DP`` is depthwise: SCALE-Sim runs one convolution of one
  channel per channel, which here is one op with ``count`` = channels;
* operands are SCALE-Sim's one-byte words: an experiment's ``act_bits`` and ``weight_bits``
  default to 8 for a topology (``simulator/workload_spec.py``);
* an optional last cell ``N:M`` is SCALE-Sim's structured-sparsity ratio; only ``1:1``
  (dense) is accepted, as sparsity is not modelled.

What it does not capture: a convolution's input moves as its lowered matrix (M x K
elements, each window's pixels again), while SCALE-Sim's buffers fetch each address of
that matrix once; DRAM-bound convolutions therefore move more input bytes here than there.
The compute cycles of a layer are the GEMM's in both.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from workloads.errors import WorkloadError
from workloads.input_files import MAX_DATA_FILE_BYTES, MAX_WHOLE_NUMBER, read_input_bytes

GEMM_FIELDS = ("M", "N", "K")
CONV_FIELDS = ("IFMAP height", "IFMAP width", "filter height", "filter width", "channels", "filters", "stride")
DEPTHWISE_MARK = "DP"  # SCALE-Sim: a layer name containing it is a depthwise convolution


def read_topology(path: str | Path) -> list[dict[str, Any]]:
    """The GEMM ops of a SCALE-Sim topology file (module docstring), one per layer, in file order.

    Every malformed row is reported by line number in one :class:`WorkloadError`.
    """
    path = Path(path)
    try:
        text = read_input_bytes(path, MAX_DATA_FILE_BYTES, "topology file").decode("utf-8")
    except UnicodeDecodeError:
        raise WorkloadError(f"{path}: not UTF-8 text, not a SCALE-Sim topology file") from None
    ops, errors, first, seen = [], [], True, {}
    for line, raw in enumerate(text.splitlines(), start=1):
        cells = [cell.strip() for cell in raw.split(",")]
        while cells and (not cells[-1] or cells[-1].startswith("#")):  # a trailing comma, or a comment after it
            cells.pop()
        if not cells or cells[0].startswith("#"):
            continue
        if first:
            first = False
            if _is_header(cells):
                continue
        if len(cells) == 1 and "\t" not in raw:
            continue  # a name alone: a section label (as SCALE-Sim's MLPERF.csv has), no layer
        op, error = _layer(cells)
        if error:
            errors.append(f"line {line}: {error}" + ("; cells are separated by commas" if "\t" in raw else ""))
        else:
            ops.append({**op, "name": _op_name(op["name"], seen)})
    if errors:
        raise WorkloadError(f"{path}: malformed topology:\n  " + "\n  ".join(errors[:20]))
    if not ops:
        raise WorkloadError(f"{path}: lists no layers (a SCALE-Sim topology: a header, then one layer per line)")
    return ops


def _op_name(layer: str, seen: dict[str, int]) -> str:
    """The layer's name as an op name: characters other than letters, digits, ``_ . -`` become ``_``, and a
    name seen before gets ``-2``, ``-3`` ... (SCALE-Sim takes any name, and the same name twice)."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", layer) or "layer"
    name = name if name[0].isalnum() else f"L{name}"
    seen[name] = seen.get(name, 0) + 1
    return name if seen[name] == 1 else f"{name}-{seen[name]}"


def _is_header(cells: list[str]) -> bool:
    return len(cells) < 2 or not cells[1].isdigit()


def _layer(cells: list[str]) -> tuple[dict[str, Any] | None, str]:
    name, values = cells[0], cells[1:]
    if values and ":" in values[-1]:
        ratio = values.pop()
        if ratio.replace(" ", "") not in ("1:1",):
            return None, f"layer {name!r}: sparsity {ratio!r} is not modelled: give 1:1 or leave the cell out"
    if len(values) not in (len(GEMM_FIELDS), len(CONV_FIELDS)):
        return None, (f"layer {name!r}: expected {len(GEMM_FIELDS)} values ({', '.join(GEMM_FIELDS)}) for a GEMM "
                      f"or {len(CONV_FIELDS)} ({', '.join(CONV_FIELDS)}) for a convolution, got {len(values)}")
    fields = GEMM_FIELDS if len(values) == len(GEMM_FIELDS) else CONV_FIELDS
    bad = [f"{field} {value[:40]!r}" for field, value in zip(fields, values)
           if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_WHOLE_NUMBER]
    if bad:
        return None, f"layer {name!r}: expected whole numbers from 1 to 2**53, got {', '.join(bad)}"
    numbers = [int(value) for value in values]
    if fields is GEMM_FIELDS:
        m, n, k = numbers
        return {"name": name, "M": m, "N": n, "K": k, "count": 1}, ""
    return _convolution(name, *numbers)


def _convolution(name: str, ifmap_h: int, ifmap_w: int, filter_h: int, filter_w: int, channels: int,
                 filters: int, stride: int) -> tuple[dict[str, Any] | None, str]:
    if filter_h > ifmap_h or filter_w > ifmap_w:
        return None, (f"layer {name!r}: the {filter_h} x {filter_w} filter is larger than the {ifmap_h} x "
                      f"{ifmap_w} IFMAP")
    ofmap_h = math.ceil((ifmap_h - filter_h + stride) / stride)
    ofmap_w = math.ceil((ifmap_w - filter_w + stride) / stride)
    depthwise = DEPTHWISE_MARK in name
    window = filter_h * filter_w * (1 if depthwise else channels)
    count = channels if depthwise else 1
    return {"name": name, "M": ofmap_h * ofmap_w, "N": filters, "K": window, "count": count}, ""
