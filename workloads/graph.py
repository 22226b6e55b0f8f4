"""A workload: ops with their dependencies, plus how often the graph repeats.

A :class:`Workload` stores its ops and edges as tuples (so it is frozen, hashable
and picklable for sweeps); its dependency order and cycle check are computed here
(Kahn's algorithm), and it exposes itself as a networkx ``DiGraph`` on demand
(networkx is imported only then).
Identical decoder layers are represented once: ``repeat`` says how many times the
graph runs back to back (32 for a Llama-2-7B step), and the simulator multiplies
one simulated layer by it instead of building 32 copies.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from workloads.errors import WorkloadError
from workloads.op import Op


@dataclass(frozen=True)
class Workload:
    """Ops (topologically ordered by construction) and the edges between them."""

    name: str
    ops: tuple[Op, ...]
    edges: tuple[tuple[str, str], ...] = ()
    repeat: int = 1
    phase: str = "any"
    batch: int = 1
    tokens_per_step: int = 1  # tokens produced (decode) or consumed (prefill) per run
    meta: tuple[tuple[str, object], ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.ops:
            raise WorkloadError(f"workload {self.name!r} has no ops")
        if self.repeat < 1:
            raise WorkloadError(f"workload {self.name!r}: repeat must be >= 1, got {self.repeat}")
        names = [op.name for op in self.ops]
        duplicates = sorted(n for n, times in Counter(names).items() if times > 1)
        if duplicates:
            raise WorkloadError(f"workload {self.name!r}: duplicate op names {duplicates}")
        known = set(names)
        for src, dst in self.edges:
            if src not in known or dst not in known:
                raise WorkloadError(f"workload {self.name!r}: edge {src!r} -> {dst!r} names an unknown op")
        if len(self.topological_order()) != len(self.ops):
            raise WorkloadError(f"workload {self.name!r}: dependencies form a cycle")

    def __hash__(self) -> int:
        return hash((self.name, self.ops, self.edges, self.repeat))

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        for derived in ("graph", "_adjacency", "_order"):
            state.pop(derived, None)  # rebuilt lazily after unpickling
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    @cached_property
    def graph(self):
        """The ops as a ``networkx.DiGraph`` (node attribute ``op``)."""
        import networkx as nx

        g = nx.DiGraph()
        for op in self.ops:
            g.add_node(op.name, op=op)
        g.add_edges_from(self.edges)
        return g

    def op(self, name: str) -> Op:
        return self._adjacency[2][name]

    def predecessors(self, name: str) -> list[str]:
        return sorted(self._adjacency[0][name])

    def successors(self, name: str) -> list[str]:
        return sorted(self._adjacency[1][name])

    @cached_property
    def _adjacency(self) -> tuple[dict[str, set[str]], dict[str, set[str]], dict[str, Op]]:
        preds: dict[str, set[str]] = {op.name: set() for op in self.ops}
        succs: dict[str, set[str]] = {op.name: set() for op in self.ops}
        for src, dst in self.edges:
            preds[dst].add(src)
            succs[src].add(dst)
        return preds, succs, {op.name: op for op in self.ops}

    def topological_order(self) -> list[str]:
        """Op names in dependency order, ties broken by the ops' order in ``ops`` (fewer names: a cycle)."""
        return list(self._order)

    @cached_property
    def _order(self) -> tuple[str, ...]:
        preds, succs, _ = self._adjacency
        position = {op.name: i for i, op in enumerate(self.ops)}
        waiting = {name: len(p) for name, p in preds.items()}
        ready = [(position[n], n) for n, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        order = []
        while ready:
            _, name = heapq.heappop(ready)
            order.append(name)
            for nxt in succs[name]:
                waiting[nxt] -= 1
                if waiting[nxt] == 0:
                    heapq.heappush(ready, (position[nxt], nxt))
        return tuple(order)

    @property
    def total_flops(self) -> int:
        return self.repeat * sum(op.flops for op in self.ops)

    @property
    def total_min_bytes(self) -> int:
        return self.repeat * sum(op.min_bytes for op in self.ops)

    @classmethod
    def chain(cls, name: str, ops: list[Op], **kwargs) -> "Workload":
        """Ops that run one after another, each depending on the previous."""
        edges = tuple((a.name, b.name) for a, b in zip(ops, ops[1:]))
        return cls(name=name, ops=tuple(ops), edges=edges, **kwargs)
