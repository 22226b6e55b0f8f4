"""Functional model of a GEMM on one systolic core: the values it computes and the DRAM reads it makes.

The timing model (:mod:`arch.systolic.kernel`, :mod:`arch.systolic.tiling`)
counts cycles and bytes without computing anything. This module executes the
same schedule on real numbers, so that a reference implementation (the Numba
CUDA kernels of :mod:`simulator.reference`) can check that the schedule computes
the right result and that its byte accounting is what the schedule really reads:

* the loop nest of a :class:`~arch.systolic.tiling.TilePlan` (its tile sizes and
  loop order, reduction innermost), with each scratchpad half holding one tile:
  an operand tile is read from DRAM when it is not the tile already resident;
* inside a tile, the array's folds for the dataflow: ``ws`` keeps a
  rows x cols block of weights (k x n) stationary and streams the tile's input
  rows; ``os`` keeps a rows x cols block of outputs (m x n) and reduces the whole
  tile depth; ``is`` keeps a rows x cols block of inputs (k x m) stationary and
  streams the weight columns;
* operands are rounded to the PE data type on entry and partial sums are held in
  float32, as fp16/bf16 arrays with fp32 accumulators do (int8 arrays: int32).

Not modelled: the cycle-by-cycle movement of values between PEs (the order of
additions inside one fold is numpy's), and sub-byte packing of operands.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arch.systolic.tiling import TilePlan

_ACCUMULATOR = {"int8": np.int32, "fp8": np.float32, "fp16": np.float32, "bf16": np.float32, "fp32": np.float32}


@dataclass(frozen=True)
class FunctionalRun:
    """The output and the DRAM reads (in elements) the schedule made."""

    output: np.ndarray
    input_elements_read: int
    weight_elements_read: int


def to_pe_dtype(values: np.ndarray, pe_dtype: str) -> np.ndarray:
    """Values as the PE holds them: rounded to fp16 / bf16 / int8, then widened for arithmetic."""
    if pe_dtype == "fp16":
        return values.astype(np.float16).astype(np.float32)
    if pe_dtype == "bf16":
        bits = values.astype(np.float32).view(np.uint32)
        rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000  # round to nearest even
        return rounded.astype(np.uint32).view(np.float32)
    if pe_dtype == "int8":
        return np.clip(np.rint(values), -128, 127).astype(np.int32)
    return values.astype(np.float32)


def execute_plan(inputs: np.ndarray, weights: np.ndarray, plan: TilePlan, rows: int, cols: int,
                 dataflow: str, pe_dtype: str = "fp16") -> FunctionalRun:
    """Run ``inputs @ weights`` (m x k times k x n) the way ``plan`` and the array schedule it."""
    m, k = inputs.shape
    n = weights.shape[1]
    a, w = to_pe_dtype(inputs, pe_dtype), to_pe_dtype(weights, pe_dtype)
    out = np.zeros((m, n), dtype=_ACCUMULATOR[pe_dtype])
    resident = {"input": None, "weight": None}
    read = {"input": 0, "weight": 0}
    for mi, ni, ki in _tile_order(plan):
        ms, ns, ks = _span(mi, plan.tile_m, m), _span(ni, plan.tile_n, n), _span(ki, plan.tile_k, k)
        _load(resident, read, "input", (mi, ki), (ms.stop - ms.start) * (ks.stop - ks.start))
        _load(resident, read, "weight", (ki, ni), (ks.stop - ks.start) * (ns.stop - ns.start))
        out[ms, ns] += _array_folds(a[ms, ks], w[ks, ns], rows, cols, dataflow, out.dtype)
    return FunctionalRun(out, read["input"], read["weight"])


def _tile_order(plan: TilePlan):
    """(m, n, k) tile indices in the plan's loop order, the reduction innermost."""
    for outer in range(plan.tiles_n if plan.loop_order == "n_outer" else plan.tiles_m):
        for inner in range(plan.tiles_m if plan.loop_order == "n_outer" else plan.tiles_n):
            mi, ni = (inner, outer) if plan.loop_order == "n_outer" else (outer, inner)
            for ki in range(plan.tiles_k):
                yield mi, ni, ki


def _span(index: int, size: int, limit: int) -> slice:
    return slice(index * size, min((index + 1) * size, limit))


def _load(resident: dict, read: dict, operand: str, tile: tuple[int, int], elements: int) -> None:
    if resident[operand] != tile:
        resident[operand] = tile
        read[operand] += elements


def _array_folds(a: np.ndarray, w: np.ndarray, rows: int, cols: int, dataflow: str, dtype) -> np.ndarray:
    """One tile on the array, fold by fold; each fold's partial sums are added to the accumulators."""
    m, k = a.shape
    n = w.shape[1]
    acc = np.zeros((m, n), dtype=dtype)
    if dataflow == "ws":      # weights (k x n) stationary: folds over k by rows, n by cols
        for k0 in range(0, k, rows):
            for n0 in range(0, n, cols):
                acc[:, n0:n0 + cols] += a[:, k0:k0 + rows] @ w[k0:k0 + rows, n0:n0 + cols]
    elif dataflow == "os":    # outputs (m x n) stationary: each PE reduces the whole depth
        for m0 in range(0, m, rows):
            for n0 in range(0, n, cols):
                acc[m0:m0 + rows, n0:n0 + cols] += a[m0:m0 + rows, :] @ w[:, n0:n0 + cols]
    elif dataflow == "is":    # inputs (k x m) stationary: folds over k by rows, m by cols
        for k0 in range(0, k, rows):
            for m0 in range(0, m, cols):
                acc[m0:m0 + cols, :] += a[m0:m0 + cols, k0:k0 + rows] @ w[k0:k0 + rows, :]
    else:
        raise ValueError(f"dataflow must be one of 'ws', 'os', 'is', got {dataflow!r}")
    return acc
