"""Splitting one op across the instances of a unit (multi-core GEMMs, vector ops over vector units).

A GEMM is cut into ``parts`` sub-ops that run on different instances at once,
along one dimension:

* ``"count"``: batched instances (``count > 1``, e.g. attention heads) are dealt
  out whole -- the only dimension offered for batched ops;
* ``"n"``: the output features (each part reads all of the input and its own
  slice of the weights) -- the default;
* ``"m"``: the tokens (each part reads all of the weights), for when ``n`` is
  small.

:func:`best_split` picks the number of parts (1 up to the instances) and, for an
unbatched op, ``n`` or ``m`` by an estimate: the slowest part's stall-free
compute cycles or all parts' bytes over the shared memory's bandwidth,
whichever is larger; ties go to the lower slowest-part compute (a memory-bound
op whose split adds no traffic, e.g. attention heads, is spread so that no part
is near compute-bound and the engine's contention has slack), then to fewer
parts, then to ``n``. So a compute-bound GEMM is spread over the cores, and a
memory-bound one stays whole unless a split does not add to the estimate (a
split along ``n`` or ``m`` adds traffic: each part reads the shared operand).
The engine then simulates the contention; the estimate only chooses.

The choice depends only on the op's shape, the instance count, the shared
bandwidth, the dimensions offered and the costs, so :func:`best_split_choice`
remembers it per (system, options, shape, instances, bandwidth, dimensions) when
the caller names the system and options (``memo_key``); mapping the same shapes
again (another layer, another sweep point) does not search again.

Parts are as even as integers allow (larger first) and never empty, so a small
op gets fewer parts than asked for. A part is an :class:`Op` named
``"<op>#<i>"``. The operand every part needs is read by each part separately:
no multicast, on-chip sharing or core-to-core network between cores is modelled.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Hashable

from arch.contract import OpCost
from workloads.op import Op

SPLIT_DIMS = ("count", "n", "m")


def split_dims(op: Op) -> tuple[str, ...]:
    """The dimensions :func:`best_split` may cut ``op`` along, preferred first.

    A vector op (softmax, norm, activation, ...) is cut only along its rows
    (``m``) or its batched instances: a row's reduction stays on one unit.
    """
    if not op.kind.is_matmul:
        return ("count",) if op.count > 1 else ("m",)
    return ("count",) if op.count > 1 else ("n", "m")


def best_split(op: Op, instances: int, cost_of: Callable[[Op], OpCost], bytes_per_cycle: float,
               dims: tuple[str, ...] | None = None) -> tuple[Op, ...]:
    """The split of ``op`` over at most ``instances`` parts with the lowest estimate (module docstring).

    Every part count from 1 to ``instances`` is considered, each estimated from
    the at most three distinct part shapes an even split has (costed once each
    through ``cost_of``), so the search is linear in ``instances``.
    """
    parts, dim = best_split_choice(op, instances, cost_of, bytes_per_cycle, dims)
    return (op,) if dim is None else split_op(op, parts, dim)


_MEMO: dict[Hashable, tuple[int, str | None]] = {}
_MEMO_MAX_ENTRIES = 65536  # bounded: cleared when full (an entry is a few hundred bytes)


def best_split_choice(op: Op, instances: int, cost_of: Callable[[Op], OpCost], bytes_per_cycle: float,
                      dims: tuple[str, ...] | None = None,
                      memo_key: Hashable | None = None) -> tuple[int, str | None]:
    """(parts, dimension) of :func:`best_split`'s choice; (1, None) keeps the op whole.

    ``memo_key`` names what ``cost_of`` depends on (the system's model, spec,
    technology and mapping options); with it the choice is remembered per op
    shape (name and layer ignored), instance count, bandwidth and dimensions.
    """
    if memo_key is None:
        return _search(op, instances, cost_of, bytes_per_cycle, dims)
    key = (memo_key, dataclasses.replace(op, name="", layer=-1), instances, bytes_per_cycle, dims)
    choice = _MEMO.get(key)
    if choice is None:
        if len(_MEMO) >= _MEMO_MAX_ENTRIES:
            _MEMO.clear()
        choice = _MEMO[key] = _search(op, instances, cost_of, bytes_per_cycle, dims)
    return choice


def clear_split_memo() -> None:
    """Forget every remembered split choice."""
    _MEMO.clear()


def _search(op: Op, instances: int, cost_of: Callable[[Op], OpCost], bytes_per_cycle: float,
            dims: tuple[str, ...] | None) -> tuple[int, str | None]:
    best_key, best = _estimate(((op, 1),), cost_of, bytes_per_cycle), (1, None)
    for dim in dims or split_dims(op):
        for parts in range(2, instances + 1):
            shapes = part_shapes(op, parts, dim)
            if shapes is None:
                break  # fewer sizes than parts: every larger count splits the same way
            key = _estimate(shapes, cost_of, bytes_per_cycle)
            if key < best_key:
                best_key, best = key, (parts, dim)
    return best


def _estimate(shapes, cost_of, bytes_per_cycle: float) -> tuple[float, int, int]:
    """(estimate, slowest part's compute cycles, parts) of parts given as (shape, multiplicity): lower is better."""
    costs = [(cost_of(shape), n) for shape, n in shapes]
    moved_bytes = sum((c.read_bytes + c.write_bytes) * n for c, n in costs)
    slowest = max(c.compute_cycles for c, _ in costs)
    return max(slowest, moved_bytes / bytes_per_cycle), slowest, sum(n for _, n in shapes)


def part_shapes(op: Op, parts: int, dim: str) -> tuple[tuple[Op, int], ...] | None:
    """The distinct parts of ``split_op(op, parts, dim)`` with their multiplicities (unnamed);
    None when the dimension has fewer than ``parts`` units (the split would give fewer parts)."""
    total = getattr(op, dim)
    if parts > total:
        return None
    base, extra = divmod(total, parts)
    sizes = [(base + 1, extra), (base, parts - extra)]
    weight_side = op.kind.is_matmul and dim == "m"
    shapes = []
    first = True
    for size, n in sizes:
        if n == 0:
            continue
        share = op.extra_bytes if weight_side else op.extra_bytes * size // total
        if first and not weight_side:  # the first part carries the rounding remainder of the extra bytes
            remainder = op.extra_bytes - sum(op.extra_bytes * sz // total * k for sz, k in sizes)
            shapes.append((dataclasses.replace(op, extra_bytes=share + remainder, **{dim: size}), 1))
            n -= 1
        first = False
        if n:
            shapes.append((dataclasses.replace(op, extra_bytes=share, **{dim: size}), n))
    return tuple(shapes)


def split_op(op: Op, parts: int, dim: str) -> tuple[Op, ...]:
    """``op`` cut into at most ``parts`` sub-ops along ``dim``.

    See the module docstring for how many parts a dimension allows.

    One part returns the op itself, unrenamed.
    """
    if dim not in SPLIT_DIMS:
        raise ValueError(f"split dimension must be one of {SPLIT_DIMS}, got {dim!r}")
    total = getattr(op, dim)
    sizes = _even_sizes(total, parts)
    if len(sizes) == 1:
        return (op,)
    weight_side = op.kind.is_matmul and dim == "m"  # a GEMM's extra bytes (scales) go with the weights
    extras = [op.extra_bytes] * len(sizes) if weight_side else _extra_bytes(op.extra_bytes, sizes, total)
    return tuple(dataclasses.replace(op, name=f"{op.name}#{i}", extra_bytes=extra, **{dim: size})
                 for i, (size, extra) in enumerate(zip(sizes, extras)))


def _extra_bytes(extra_bytes: int, sizes: list[int], total: int) -> list[int]:
    """Weight-side extra bytes (e.g. quantisation scales) in proportion to each part's slice."""
    shares = [extra_bytes * size // total for size in sizes]
    shares[0] += extra_bytes - sum(shares)
    return shares


def _even_sizes(total: int, parts: int) -> list[int]:
    parts = max(1, min(parts, total))
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]
