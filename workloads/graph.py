"""A workload: ops with their dependencies, plus how often the graph repeats.

A :class:`Workload` stores its ops and edges as tuples (so it is frozen, hashable
and picklable for sweeps) and exposes them as a networkx ``DiGraph`` on demand.
Identical decoder layers are represented once: ``repeat`` says how many times the
graph runs back to back (32 for a Llama-2-7B step), and the simulator multiplies
one simulated layer by it instead of building 32 copies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx

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
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise WorkloadError(f"workload {self.name!r}: duplicate op names {duplicates}")
        known = set(names)
        for src, dst in self.edges:
            if src not in known or dst not in known:
                raise WorkloadError(f"workload {self.name!r}: edge {src!r} -> {dst!r} names an unknown op")
        if not nx.is_directed_acyclic_graph(self.graph):
            raise WorkloadError(f"workload {self.name!r}: dependencies form a cycle")

    def __hash__(self) -> int:
        return hash((self.name, self.ops, self.edges, self.repeat))

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("graph", None)  # rebuilt lazily after unpickling
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    @cached_property
    def graph(self) -> nx.DiGraph:
        g = nx.DiGraph()
        for op in self.ops:
            g.add_node(op.name, op=op)
        g.add_edges_from(self.edges)
        return g

    def op(self, name: str) -> Op:
        return self.graph.nodes[name]["op"]

    def predecessors(self, name: str) -> list[str]:
        return sorted(self.graph.predecessors(name))

    def topological_order(self) -> list[str]:
        """Op names in dependency order, ties broken by the ops' order in ``ops``."""
        position = {op.name: i for i, op in enumerate(self.ops)}
        return list(nx.lexicographical_topological_sort(self.graph, key=position.__getitem__))

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
