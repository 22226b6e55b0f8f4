"""Closed-form cycle kernels of a wafer-scale mesh: distributed GEMMs, all-reduces, GEMVs, vector ops.

What it models
--------------
A square region of ``p x p`` processing elements (PEs) of a 2-D mesh (Cerebras
WSE-2/3), each with its own SRAM, a router with one link to each neighbour that
carries ``e`` fp16 words per cycle, ``c`` fp16 MACs per cycle, and the PLMR
latencies of WaferLLM (He et al., OSDI'25, §3.1): ``alpha`` cycles per
hardware-forwarded hop and ``beta`` cycles per software routing stage (a core
that receives, adds or re-addresses, and forwards). Every PE of the region runs
the same program, so one op's cost is closed form in ``p`` -- no per-PE events.
All counts are fp16 *words* (16 bits); dimensions are padded up to a multiple of
``p`` (the kernels require divisibility, WaferLLM ``run_sim.sh``), and the
padded MACs are the ones counted.

GEMM (``mesh_gemm_kernel``), ``C[m x n] = A[m x k] B[k x n]``, tiles
``Mt = ceil(m/p)``, ``Kt = ceil(k/p)``, ``Nt = ceil(n/p)`` per PE; one local step
costs ``T_comp = Kt Nt (ceil(Mt/c) + o_call)`` (an ``fmach`` over an ``Mt``-long
vector per (k, n) pair plus a fixed per-call overhead, [WL-code] ``meshgemm.csl``):

* ``MESHGEMM`` (WaferLLM §5, Algorithm 1): Cannon's logical ring embedded on each
  mesh line by interleaving (logical neighbours <= 2 physical hops); the W skew
  is applied on the host (not timed, pitfall W11), X is aligned on device in
  ``p // 2`` rounds of two-hop shifts; then ``p`` compute steps, the first
  ``p - 1`` overlapped with two-hop shifts of X (along x) and W (along y):
  ``T = T_align + (p-1) (max(T_comp, T_shift) + sync) + T_comp + sync``,
  ``T_shift = 2 alpha + ceil(max(Mt Kt, Kt Nt) / e)``. 12 routing colours
  ([WL-code] ``MeshGEMM/WSE-2/src/layout.csl``).
* ``CANNON``: the same schedule on the plain ring, whose wrap-around message
  crosses the whole line: ``T_shift = alpha (p-1) + ceil(tile / e)``, on each
  step's critical path: ``T_step = T_comp + T_shift + sync``.
* ``SUMMA`` (Cerebras' default): in step ``s`` column ``s`` broadcasts X along
  the rows and row ``s`` broadcasts W along the columns; every PE needs a route
  from each of the ``p`` sources of its line. With ``colors`` routing colours a
  line is cut into ``ceil(p / colors)`` hardware-multicast segments joined by
  software relays: ``T_bcast = alpha (p-1) + beta r + ceil(tile / e)``,
  ``r = ceil(p / colors) - 1``, and ``T = p (T_bcast + T_comp + sync)``.
  (Modelling choice for both baselines: [WL] §5.1 gives their per-step critical
  paths, ``O(alpha N)`` and ``O((alpha + beta) N)``, as latency each step pays;
  only MeshGEMM's released kernel is known to overlap its shifts with compute.)
* ``ALLGATHER``: each PE gathers its row's X tiles and its column's W tiles
  (``p`` paths, relayed as SUMMA), then computes all ``p`` steps locally;
  ``O(1/p)`` memory per PE.

All-reduce along one mesh line of ``p`` PEs, ``payload`` words per PE
(``mesh_allreduce_kernel``, WaferLLM §6):

* ``KTREE`` with ``K`` phases: level ``j`` groups ``g_j`` PEs spaced ``s_j =
  g_1 ... g_{j-1}`` apart and chain-reduces from both ends of each group to its
  middle (``g_j // 2`` stages of ``s_j alpha + beta``), then the root broadcasts
  back along the line: ``T = sum_j [(g_j//2)(s_j alpha + beta) + ceil(payload/e)]
  + d alpha + ceil(payload/e)``, ``d`` the root's distance to the far end.
  ``top_groups`` fixes the top level's group count (WaferLLM's ``group_num``);
  with ``p = 360`` and 18 groups that is ``10 + 9 = 19`` stages, ``sqrt(360)``.
* ``PIPELINE`` (Cerebras' demo): one chain from an end: ``(p-1)(alpha + beta)``
  then a broadcast back over ``p-1`` hops.
* ``RING``: reduce-scatter and all-gather on the interleaved ring,
  ``2 (p-1)`` steps of ``2 alpha + beta + ceil(ceil(payload/p)/e)``.

GEMV (``mesh_gemv_kernel``, MeshGEMV, on a ``px x py`` region): local ``m Kt``
``fmach`` calls over ``Nt`` outputs, then an all-reduce of ``m Nt`` words along
each reduction line of ``px`` PEs, all ``py`` lines at once. Vector ops (``mesh_vector_kernel``): ``ceil(rows/p)
ceil(cols/p)`` elements per PE times the function's operations per element at
``c`` per cycle, plus one call overhead per pass, plus ``reductions`` small
all-reduces of ``ceil(rows/p)`` words (RMSNorm: 1, softmax: 2).

How faithful
------------
Latency-and-bandwidth closed forms of the released kernels' schedules, checked
against a numerical execution of the same schedules (:mod:`arch.wafer.functional`)
for the words each PE sends. Not captured: link contention between
concurrent collectives of one op (each line is its own resource), router
pipeline bubbles beyond ``alpha``, SRAM bank conflicts, and the overlap of an
op's all-reduce with the next op's local compute.
"""

from __future__ import annotations

import math

from numba import njit

from arch.tiered_kernel import ColdAwareKernel, plain_python

MESHGEMM, SUMMA, CANNON, ALLGATHER = 0, 1, 2, 3
GEMM_ALGORITHMS = {"meshgemm": MESHGEMM, "summa": SUMMA, "cannon": CANNON, "allgather": ALLGATHER}
KTREE, PIPELINE, RING = 0, 1, 2
ALLREDUCE_ALGORITHMS = {"ktree": KTREE, "pipeline": PIPELINE, "ring": RING}
MESHGEMM_COLORS = 12   # 3 per interleaved pattern x {X, Y, X-align, X-align-reverse} ([WL-code] layout.csl)
CANNON_COLORS = 4      # X and W rings, each a send and a wrap-around route (assumption: O(1) paths)
MESHGEMV_COLORS = 10   # 4 step colours, 2 broadcast, 4 phase-2 reduce ([WL-code] MeshGEMV layout.csl)


@njit(cache=True)
def _cdiv(a, b):
    return -(-a // b)


@njit(cache=True)
def _up(cycles):
    """Whole cycles: latencies may be fractional (alpha, beta), an op ends on a cycle boundary."""
    return int(math.ceil(cycles))


@njit(cache=True)
def _ceil_root(x, k):
    """The smallest integer g >= 1 with g ** k >= x."""
    g = 1
    while g ** k < x:
        g += 1
    return g


@njit(cache=True)
def _align_shifts(p):
    """Real X shifts of the on-device alignment summed over the ``p`` rows: row r shifts min(r, p - r)."""
    total = 0
    for r in range(p):
        total += min(r, p - r)
    return total


@njit(cache=True)
def _relays(p, colors):
    """Software relays on a line whose PEs need routes from ``p`` sources with ``colors`` colours."""
    if colors <= 0:
        return p - 1
    return max(0, _cdiv(p, colors) - 1)


@njit(cache=True)
def mesh_gemm_kernel(algo, m, k, n, p, alpha, beta, e, c, o_call, sync, colors):
    """(cycles, exposed comm cycles, MACs, SRAM reads, SRAM writes, word-hops, words sent,
    words sent by the busiest PE, colours needed, relays, peak words per PE) of one GEMM
    on a ``p x p`` region (module docstring). ``alpha``, ``beta`` >= 0 may be fractional; the other
    arguments are ints >= 0, ``p, e, c >= 1``."""
    alpha, beta = float(alpha), float(beta)
    mt, kt, nt = _cdiv(m, p), _cdiv(k, p), _cdiv(n, p)
    ta, tb, tc = mt * kt, kt * nt, mt * nt
    t_comp = kt * nt * (_cdiv(mt, c) + o_call)
    macs = p * p * p * mt * kt * nt
    ring_hops = 2 * p - 2  # link crossings of one shift of a whole ring (interleaved or plain)
    relays = 0
    if algo == MESHGEMM or algo == CANNON:
        if algo == MESHGEMM:
            hop_latency = 2 * alpha if p > 2 else alpha
            colors_needed = MESHGEMM_COLORS
        else:
            hop_latency = alpha * (p - 1)
            colors_needed = CANNON_COLORS
        t_shift = hop_latency + _cdiv(max(ta, tb), e) if p > 1 else 0
        t_align = (p // 2) * (hop_latency + _cdiv(ta, e)) if p > 1 else 0
        if algo == MESHGEMM:  # shifts overlap the step's compute (the released kernel's async sends)
            step = max(t_comp, t_shift) + sync
            exposed = t_align + (p - 1) * max(0, t_shift - t_comp)
        else:  # the wrap-around shift's latency is on each step's critical path ([WL] §5.1)
            step = t_comp + t_shift + sync
            exposed = t_align + (p - 1) * t_shift
        cycles = t_align + (p - 1) * step + t_comp + sync
        align = _align_shifts(p)
        sent = align * p * ta + (p - 1) * p * p * (ta + tb)
        busiest = (p // 2) * ta + (p - 1) * (ta + tb)
        hops = align * ring_hops * ta + (p - 1) * p * ring_hops * (ta + tb)
        peak = 2 * ta + 2 * tb + tc
    elif algo == SUMMA:
        relays = _relays(p, colors)
        colors_needed = p
        t_bcast = alpha * (p - 1) + beta * relays + _cdiv(max(ta, tb), e) if p > 1 else 0
        cycles = p * (t_bcast + t_comp + sync)
        exposed = p * t_bcast
        sent = p * p * (1 + relays) * (ta + tb) if p > 1 else 0
        busiest = p * (ta + tb) if p > 1 else 0
        hops = p * p * (p - 1) * (ta + tb)
        peak = 3 * ta + 3 * tb + tc
    else:  # ALLGATHER
        relays = _relays(p, colors)
        colors_needed = p
        t_gather = alpha * (p - 1) + beta * relays + (p - 1) * _cdiv(max(ta, tb), e) if p > 1 else 0
        cycles = t_gather + p * t_comp + sync
        exposed = t_gather
        sent = p * p * (1 + relays) * (ta + tb) if p > 1 else 0
        busiest = (ta + tb) * (1 + relays) if p > 1 else 0
        hops = p * p * (p - 1) * (ta + tb)
        peak = p * ta + p * tb + tc
    received = sent
    reads = 2 * macs + sent
    writes = macs + received
    return (_up(cycles), _up(exposed), macs, reads, writes, hops, sent, busiest, colors_needed, relays, peak)


@njit(cache=True)
def _ktree_levels(p, k_phases, top_groups):
    """Group sizes of the K-tree levels, lowest first, as a tuple of K ints (product >= p)."""
    k_phases = max(1, k_phases)
    if k_phases == 1:
        top = p
    elif top_groups > 0:
        top = min(top_groups, p)
    else:
        top = _ceil_root(p, k_phases)
    sizes = [0] * k_phases
    sizes[k_phases - 1] = top
    remaining = _cdiv(p, top)
    for j in range(k_phases - 1):
        left = k_phases - 1 - j
        g = _ceil_root(remaining, left) if left > 1 else remaining
        sizes[j] = g
        remaining = _cdiv(remaining, g)
    return sizes


@njit(cache=True)
def mesh_allreduce_kernel(algo, p, payload, k_phases, top_groups, alpha, beta, e):
    """(cycles, word-hops, words added, routing stages, paths at the root) of one all-reduce of
    ``payload`` words per PE along a line of ``p`` PEs (module docstring)."""
    if p <= 1 or payload <= 0:
        return 0, 0, 0, 0, 0
    alpha, beta = float(alpha), float(beta)
    stream = _cdiv(payload, e)
    if algo == KTREE:
        sizes = _ktree_levels(p, k_phases, top_groups)
        cycles = 0.0
        hops = 0
        adds = 0
        stages = 0
        span = 1
        root = 0
        for j in range(len(sizes)):
            g = sizes[j]
            half = g // 2
            groups = _cdiv(p, g * span)
            cycles += half * (span * alpha + beta) + stream
            hops += groups * (g - 1) * span * payload
            adds += groups * (g - 1) * payload
            stages += half
            root += half * span
            span *= g
        far = max(root, p - 1 - root)
        cycles += far * alpha + stream
        hops += (p - 1) * payload
        return _up(cycles), hops, adds, stages, len(sizes) + 1
    if algo == PIPELINE:
        cycles = (p - 1) * (alpha + beta) + stream + (p - 1) * alpha + stream
        return _up(cycles), 2 * (p - 1) * payload, (p - 1) * payload, p - 1, 2
    chunk = _cdiv(payload, p)  # RING
    steps = 2 * (p - 1)
    cycles = steps * (2 * alpha + beta + _cdiv(chunk, e))
    return _up(cycles), steps * (2 * p - 2) * chunk, (p - 1) * p * chunk, steps, 2


@njit(cache=True)
def mesh_gemv_kernel(algo, m, k, n, px, py, k_phases, top_groups, alpha, beta, e, c, o_call):
    """(cycles, comm cycles, MACs, SRAM reads, SRAM writes, word-hops, routing stages, paths at the
    root) of ``[m x k] @ [k x n]`` with small ``m`` on a ``px x py`` region: ``k`` split over the
    ``px`` PEs of each reduction line, ``n`` over the ``py`` lines; local GEMV, then an all-reduce of
    ``m ceil(n/py)`` words along each line, all lines at once."""
    kt, nt = _cdiv(k, px), _cdiv(n, py)
    local = m * kt * (_cdiv(nt, c) + o_call)
    comm, hops, adds, stages, paths = mesh_allreduce_kernel(algo, px, m * nt, k_phases, top_groups,
                                                            alpha, beta, e)
    macs = px * py * m * kt * nt
    line_hops = py * hops
    sent = py * hops  # every word-hop is one send by the PE at its tail
    reads = 2 * macs + sent + py * adds
    writes = macs + sent
    return local + comm, comm, macs, reads, writes, line_hops, stages, paths


@njit(cache=True)
def mesh_vector_kernel(algo, rows, cols, p, ops_per_element, reductions, k_phases, top_groups,
                       alpha, beta, e, c, o_call):
    """(cycles, comm cycles, lane operations, SRAM reads, SRAM writes, word-hops) of an element-wise
    or row-reduction op over ``rows x cols`` elements: columns along one mesh axis, rows along the
    other (replicated when fewer than ``p``), ``reductions`` small all-reduces of one partial per row."""
    local = _cdiv(rows, p) * _cdiv(cols, p)
    lane_ops = p * p * local * ops_per_element
    cycles = _cdiv(local * ops_per_element, c) + o_call * ops_per_element
    comm = 0
    hops = 0
    adds = 0
    for _ in range(reductions):
        t, h, a, s, q = mesh_allreduce_kernel(algo, p, _cdiv(rows, p), k_phases, top_groups,
                                              alpha, beta, e)
        comm += t
        hops += p * h
        adds += p * a
    reads = 2 * lane_ops + hops + adds
    writes = lane_ops + hops
    return cycles + comm, comm, lane_ops, reads, writes, hops


# The plain-Python twins: the same function bodies, and the helpers they call, run by the interpreter.
mesh_gemm_kernel_py = plain_python(mesh_gemm_kernel)
mesh_allreduce_kernel_py = plain_python(mesh_allreduce_kernel)
mesh_gemv_kernel_py = plain_python(mesh_gemv_kernel)
mesh_vector_kernel_py = plain_python(mesh_vector_kernel)

# What the cost model calls: the twins while compiling the kernels would cost more than they do (an empty
# Numba cache: compiling these took 0.3-0.9 s each on a 2-core machine, their twins take microseconds to a
# few milliseconds a call), else the kernels (arch.tiered_kernel.ColdAwareKernel).
MESH_GEMM = ColdAwareKernel(mesh_gemm_kernel, mesh_gemm_kernel_py)
MESH_GEMV = ColdAwareKernel(mesh_gemv_kernel, mesh_gemv_kernel_py)
MESH_VECTOR = ColdAwareKernel(mesh_vector_kernel, mesh_vector_kernel_py)
