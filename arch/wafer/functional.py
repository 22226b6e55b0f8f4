"""Numerical execution of the mesh schedules on a small PE grid, for checking the cost kernels.

:func:`run_meshgemm` executes MeshGEMM (WaferLLM §5, [WL-v3] Algorithm 1) on a
``p x p`` grid of PEs, each holding numpy tiles: the logical Cannon ring of
every mesh line is embedded by interleaving (:func:`interleave`), W is skewed
on the host, X is aligned on device by shortest-direction shifts, and ``p``
compute steps alternate with shifts of X along x and W along y. Every message
is a tile sent from one PE to another; the run records the words each PE sends
and the physical hops each message travels, and returns the product.
:func:`run_ktree_allreduce` executes the K-tree all-reduce of
:mod:`arch.wafer.kernel` on a line of PEs with real partial sums. Tests compare
the results with numpy references and the recorded traffic with the kernels'.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arch.wafer.kernel import _ktree_levels


def interleave(p: int) -> list[int]:
    """Physical position on a line of each logical ring position: evens ascending, then odds descending."""
    evens = list(range(0, p, 2))
    odds = list(range(1, p, 2))[::-1]
    return evens + odds


@dataclass
class MeshRun:
    """The result of a numerical run: the output and the traffic it took."""

    result: np.ndarray
    words_sent: np.ndarray        # per PE (physical y, x)
    word_hops: int                # sum over messages of words x physical hops
    max_message_hops: int         # the longest hop distance of any message


class _Mesh:
    def __init__(self, p: int) -> None:
        self.p = p
        self.sent = np.zeros((p, p), dtype=np.int64)
        self.word_hops = 0
        self.max_hops = 0

    def send(self, src: tuple[int, int], dst: tuple[int, int], words: int) -> None:
        hops = abs(src[0] - dst[0]) + abs(src[1] - dst[1])
        self.sent[src] += words
        self.word_hops += words * hops
        self.max_hops = max(self.max_hops, hops)


def run_meshgemm(x: np.ndarray, w: np.ndarray, p: int) -> MeshRun:
    """``x @ w`` by MeshGEMM on a ``p x p`` grid; dimensions must be multiples of ``p``."""
    m, k = x.shape
    k2, n = w.shape
    if k != k2 or m % p or k % p or n % p:
        raise ValueError(f"shapes {x.shape} @ {w.shape} must agree and be multiples of p = {p}")
    mt, kt, nt = m // p, k // p, n // p
    phys = interleave(p)
    mesh = _Mesh(p)
    # logical PE (r, q) sits at physical (y, x) = (phys[r], phys[q])
    a = {(r, q): x[r * mt:(r + 1) * mt, q * kt:(q + 1) * kt].copy() for r in range(p) for q in range(p)}
    # W skewed on the host: logical (r, q) starts with block W[(r + q) % p, q]
    b = {(r, q): w[((r + q) % p) * kt:((r + q) % p + 1) * kt, q * nt:(q + 1) * nt].copy()
         for r in range(p) for q in range(p)}
    at = lambda r, q: (phys[r], phys[q])  # noqa: E731
    # on-device alignment: row r needs A[r, (q + r) % p], reached by min(r, p - r) shifts
    for r in range(p):
        shifts, step = (r, 1) if r <= p - r else (p - r, -1)
        for _ in range(shifts):
            new = {}
            for q in range(p):
                src = (q + step) % p  # shift left (step 1) takes from the right neighbour
                mesh.send(at(r, src), at(r, q), a[(r, src)].size)
                new[q] = a[(r, src)]
            for q in range(p):
                a[(r, q)] = new[q]
    c = {(r, q): np.zeros((mt, nt), dtype=np.result_type(x, w)) for r in range(p) for q in range(p)}
    for t in range(p):
        for key in c:
            c[key] += a[key] @ b[key]
        if t == p - 1:
            break
        new_a, new_b = {}, {}
        for r in range(p):
            for q in range(p):
                src_a, src_b = (r, (q + 1) % p), ((r + 1) % p, q)
                mesh.send(at(*src_a), at(r, q), a[src_a].size)
                mesh.send(at(*src_b), at(r, q), b[src_b].size)
                new_a[(r, q)], new_b[(r, q)] = a[src_a], b[src_b]
        a, b = new_a, new_b
    out = np.block([[c[(r, q)] for q in range(p)] for r in range(p)])
    return MeshRun(out, mesh.sent, mesh.word_hops, mesh.max_hops)


def run_ktree_allreduce(values: np.ndarray, k_phases: int = 2, top_groups: int = 0) -> MeshRun:
    """All-reduce of ``values[i]`` (one vector per PE of a line) by the K-tree schedule.

    Level ``j`` chain-reduces each group of ``g_j`` PEs (spaced ``s_j`` apart) from
    both ends to its middle member; the root then broadcasts the sum back along
    the line (one multicast: each link carries it once, sent once by the root).
    """
    p = values.shape[0]
    words = int(values[0].size)
    mesh = _Mesh(1 if p < 1 else p)
    partial = {i: values[i].astype(np.float64).copy() for i in range(p)}
    members = list(range(p))
    span = 1
    for g in _ktree_levels(p, k_phases, top_groups):
        roots = []
        for start in range(0, len(members), g):
            group = members[start:start + g]
            mid = g // 2  # the root of a full group; chains run from both ends towards it
            root = group[min(mid, len(group) - 1)]
            left = group[:group.index(root)]
            right = group[group.index(root) + 1:][::-1]
            for chain in (left, right):
                for here, there in zip(chain, chain[1:] + [root]):
                    partial[there] = partial[there] + partial[here]
                    mesh.send((0, here), (0, there), words)
            roots.append(root)
        members = roots
        span *= g
    root = members[0]
    total = partial[root]
    out = np.stack([total] * p)
    # the broadcast: a multicast from the root to both ends, one word-hop per link
    if p > 1:
        mesh.sent[0, root] += words
        mesh.word_hops += (p - 1) * words
        mesh.max_hops = max(mesh.max_hops, max(root, p - 1 - root))
    return MeshRun(out, mesh.sent, mesh.word_hops, mesh.max_hops)
