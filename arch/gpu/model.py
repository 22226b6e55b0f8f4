"""GPU baseline model (A100 / H100 class): roofline with a physical efficiency curve.

Per op, on the GPU's single in-order stream (one kernel at a time):

    time = max(compute time, DRAM stream time) + launch_overhead_s

* **GEMM compute time** comes from :mod:`arch.gpu.kernel`: output tiles over SM
  waves (wave quantisation and tile padding), a per-tile fixed cost in k-steps
  (small-``k`` penalty) and a ceiling on the tensor cores' issue rate. A
  GEMM's output store (at the write ceiling) is hidden only under the
  steady-state part of its main loop, the k-steps beyond the pipeline's
  prologue (``PROLOGUE_K``, from CUTLASS's default SM80 configuration); what is
  left adds to its compute time. A GEMM whose whole ``k`` fits in the prologue
  (attention scores ``Q K^T``, k = head dimension) hides none. The tile shape is the one of ``gemm_tiles`` that finishes first (as a cuBLAS
  heuristic picks a kernel). The peak rate is the tensor-core peak of the op's
  datatype: the widest operand's width picks the class (8-bit: int8/fp8,
  16-bit: fp16/bf16, 32-bit: fp32); weight-only quantised GEMMs (W4A16) run at
  16 bits.
* **DRAM stream time**: reads at ``memory_efficiency_max`` of the HBM bandwidth,
  writes at ``write_efficiency_max`` (HBM writes stream slower than reads; both
  fitted, docs/gpu.md).
* **Element-wise ops** are CUDA-core kernels whose bytes dominate. Pure streams
  (activations, adds, multiplies, RoPE, split-KV reductions) read and write at
  the read and write ceilings above. Reduction kernels -- softmax and
  normalisation -- reach a lower rate, fitted per kind
  (``softmax_efficiency_max``, ``norm_efficiency_max``) on all their bytes.
* **All-reduce** (tensor parallelism): :mod:`arch.gpu.collective`, NCCL's cost
  model (ring or tree, LL / LL128 / Simple, the fastest) with a fitted link
  efficiency and latency. Unsupported when the spec has no NVLink
  (``nvlink_bandwidth_bytes_per_s: 0``).
* **DRAM bytes** are the compulsory ones (each operand read once, the output
  written once): L2 is assumed to catch every re-read of a tile's operands.

How the engine sees it: an op is one step on unit ``gpu``: it moves its bytes
over memory ``hbm`` (or ``nvlink``) at that memory's rate (the read rate), and
runs ``compute_cycles``. A GPU kernel overlaps its DRAM stream with its math, so
``compute_cycles`` is what the op takes beyond the engine's stream, plus the
launch: ``max(time - engine stream, 0) + launch``. The simulated time is then
exactly ``time + launch``. (A consequence: the reported split of an op into
compute and stall cycles is this one, not the SMs' busy time.)

The cycle formula is a Numba kernel with a Python twin (``kernel_twins``); the
rest is closed-form arithmetic in plain functions. Energy: :mod:`arch.gpu.energy`
(a power x time model). Memory capacity: :meth:`Gpu.check_workload`.
"""

from __future__ import annotations

import math
from functools import lru_cache
from arch.contract import (Accelerator, Component, MappingOptions, Memory, MemoryKind, OpCost, Unit,
                           check_capacity, over)
from arch.gpu.attention import attention_cost, attention_roofline_cycles
from arch.gpu.collective import CollectiveTime, allreduce_time
from arch.gpu.energy import gpu_components
from arch.gpu.kernel import gemm_tile_kernel, gemm_tile_kernel_py
from arch.gpu.spec import GpuSpec
from arch.tiered_kernel import TieredKernel
from workloads.op import VECTOR_FLOPS_PER_ELEMENT, Op, OpKind

VECTOR_KINDS = frozenset(VECTOR_FLOPS_PER_ELEMENT)
# CUTLASS's default SM80 fp16 tensor-op GEMM: 64-deep k-blocks in a 3-stage pipeline
# (NVIDIA/cutlass include/cutlass/gemm/device/default_gemm_configuration.h,
# DefaultGemmConfiguration<OpClassTensorOp, Sm80, ...>: ThreadblockShape 128x256x64, kStages = 3).
# The prologue loads stages - 1 k-blocks before the first MMA; only the main-loop steps beyond
# that depth run in steady state, and only they can hide the tiles' output stores. A GEMM with k
# at most that deep (attention scores Q K^T, k = head dimension) hides none of its store.
PIPELINE_K_BLOCK, PIPELINE_STAGES = 64, 3
PROLOGUE_K = (PIPELINE_STAGES - 1) * PIPELINE_K_BLOCK
# Reduction kernels with a fitted stream ceiling of their own (GpuSpec.kernel_efficiency);
# every other vector kind is a pure stream at the read and write ceilings.
REDUCTION_KERNELS = {OpKind.SOFTMAX: "softmax", OpKind.NORM: "norm"}


class UnsupportedDtypeError(ValueError):
    pass


class Gpu(Accelerator):
    kind = "gpu"
    spec_type = GpuSpec
    node_key = None  # a published die: no technology node to scale
    spec: GpuSpec

    def units(self) -> tuple[Unit, ...]:
        kinds = {OpKind.GEMM, OpKind.ATTENTION, *VECTOR_KINDS}
        if self.spec.nvlink_bandwidth_bytes_per_s > 0:
            kinds.add(OpKind.ALLREDUCE)
        return (Unit("gpu", frozenset(kinds), 1, self.peak_macs_per_cycle()),)

    def memories(self) -> tuple[Memory, ...]:
        hbm = Memory("hbm", self.spec.stream_bytes_per_cycle, 1, 0, self.spec.hbm_capacity_bytes, MemoryKind.DRAM)
        if self.spec.nvlink_bandwidth_bytes_per_s > 0:
            return (hbm, Memory("nvlink", self.spec.nvlink_bytes_per_cycle, kind=MemoryKind.LINK))
        return (hbm,)

    def components(self) -> tuple[Component, ...]:
        return gpu_components(self.spec, self.tech_library())

    def peak_macs_per_cycle(self, op: Op | None = None) -> int:
        if op is not None and op.kind in (OpKind.GEMM, OpKind.ATTENTION):
            return round(self.spec.macs_per_sm_cycle(self.math_dtype(op)) * self.spec.sm_count)
        dtype = self.spec.math_dtype(16) or self.spec.math_dtype(32)
        return round(self.spec.macs_per_sm_cycle(dtype) * self.spec.sm_count)

    @classmethod
    def kernel_twins(cls):
        shapes = ((1, 4096, 4096, 1), (77, 300, 129, 1), (4, 130, 128, 64), (12288, 12288, 64, 1))
        examples = tuple((m, n, k, c, tm, tn, sms, rate, eff, k0)
                         for m, n, k, c in shapes for tm, tn in ((128, 128), (256, 128))
                         for sms, rate, eff, k0 in ((108, 1024.4, 0.9, 32), (132, 1024.0, 1.0, 0)))
        return (("gemm_tile_kernel", gemm_tile_kernel, gemm_tile_kernel_py, examples),)

    def notes(self) -> tuple[str, ...]:
        return (
            "GPU: an op's compute_cycles (ops.csv) are what its time takes beyond the engine's stream of its "
            "bytes at the read ceiling -- the math not hidden under the stream, the slower write and "
            "softmax/norm streams, an all-reduce's latency -- plus the kernel launch overhead; its stall "
            "cycles are that stream. A memory-bound GEMV's compute cycles are about its launch overhead.",
            "GPU: one kernel at a time; time = max(compute, DRAM stream) + launch overhead, "
            "efficiency parameters fitted to measured A100 fp16 GEMMs, element-wise kernels and NCCL "
            "all-reduces (docs/gpu.md); the launch overhead per kernel and the idle power are assumptions.",
            "GPU: softmax and norm kernels stream at their own fitted ceilings whatever their row width "
            "(measured rates vary with it, docs/gpu.md); batched P V GEMMs use the plain tile model and are "
            "optimistic on the A100 (no batched-GEMM term); the all-reduce is NCCL's "
            "ring/tree cost model on one NVLink node, without its small-message channel reduction "
            "(optimistic at 16 KB - 4 MB).",
            "GPU: DRAM traffic is compulsory only (perfect L2 reuse); no split-K; kernel fusion only for attention "
            "(FlashAttention-2 / FlashDecoding / FlashDecoding++ kernels, arch/gpu/attention.py; a kernel with "
            "fewer thread blocks than SMs streams at that fraction of the HBM rate, an assumption).",
            "GPU energy: board-power model (idle + HBM per bit + SM busy cycles), not per transistor; "
            "area is the whole published die.",
        )

    # -- costs ----------------------------------------------------------------
    def unit_peak_macs_per_cycle(self, unit: Unit, op: Op) -> float:
        """The tensor-core peak of the op's datatype (8-bit GEMMs run at the int8/fp8 rate)."""
        return float(self.peak_macs_per_cycle(op)) if op.kind in (OpKind.GEMM, OpKind.ATTENTION) \
            else unit.macs_per_cycle

    def unit_cost(self, op: Op, unit: str, options: MappingOptions) -> OpCost:
        if op.kind is OpKind.GEMM:
            return _gemm_cost(self.spec, op, self.math_dtype(op))
        if op.kind is OpKind.ALLREDUCE:
            return _allreduce_cost(self.spec, op)
        if op.kind is OpKind.ATTENTION:  # fused attention kernels: arch/gpu/attention.py
            return attention_cost(self.spec, op, self.math_dtype(op))
        return _vector_cost(self.spec, op)

    def math_dtype(self, op: Op) -> str:
        bits = max(op.a_bits, op.b_bits)
        dtype = self.spec.math_dtype(bits)
        if dtype is None:
            raise UnsupportedDtypeError(
                f"peak_*_flops_per_s: op {op.name!r} has {bits:g}-bit operands and this GPU has no "
                f"tensor-core peak for a datatype of that width (set peak_fp32_flops_per_s or "
                f"narrower operands)")
        return dtype

    def roofline_cycles(self, op: Op) -> int:
        spec = self.spec
        if op.kind is OpKind.ALLREDUCE:
            return math.ceil(_ring_bytes(op) / spec.nvlink_bytes_per_cycle) if _ring_bytes(op) else 0
        if op.kind is OpKind.ATTENTION:
            return attention_roofline_cycles(spec, op, self.math_dtype(op))
        if op.kind is OpKind.GEMM:
            compute = op.flops / (spec.peak_flops_per_s(self.math_dtype(op)) / spec.clock_hz)
        else:
            compute = op.flops / (spec.vector_flops_per_s / spec.clock_hz)
        memory = op.min_bytes / (spec.hbm_bandwidth_bytes_per_s / spec.clock_hz)
        return math.ceil(max(compute, memory))

    def op_seconds(self, op: Op) -> float:
        """The op's time alone on this GPU: max(compute, stream) + launch, in seconds."""
        cost = self.op_cost(op)
        memory = self.spec.nvlink_bytes_per_cycle if cost.memories == ("nvlink",) else self.spec.stream_bytes_per_cycle
        stream = _cycles(cost.read_bytes, memory) + _cycles(cost.write_bytes, memory)
        return (cost.compute_cycles + stream) / self.spec.clock_hz

    def allreduce_choice(self, op: Op) -> CollectiveTime:
        """The all-reduce algorithm and protocol NCCL's model picks for ``op``, and its time."""
        return _allreduce_choice(self.spec, op.comm_bytes, op.devices)

    # -- capacity -------------------------------------------------------------
    def check_workload(self, workload, options=None) -> None:
        """Raise :class:`CapacityError` if the weights and KV cache do not fit in HBM."""
        check_capacity(workload, self.spec.hbm_capacity_bytes, "hbm_capacity_bytes", "this GPU")


def gemm_compute_cycles(spec: GpuSpec, op: Op, dtype: str) -> int:
    """Tensor-core cycles of a GEMM with the fastest tile shape of ``spec.gemm_tiles``."""
    return _gemm_compute_cycles(spec, op.m, op.n, op.k, op.count, dtype)


# The tile kernel's twin takes a median 1.2 us a call (at most 0.5 ms) against the jitted 0.56 us on the
# Llama-2-70B steps' GEMMs, while the first jitted call of a process costs about a second even with a warm
# Numba cache (measured side by side): the twin for a process's first 0.1 s of calls (arch.tiered_kernel).
_TILE_KERNEL = TieredKernel(gemm_tile_kernel, gemm_tile_kernel_py, twin_calls=100_000, twin_budget_s=0.1)


@lru_cache(maxsize=65536)
def _gemm_compute_cycles(spec: GpuSpec, m: int, n: int, k: int, count: int, dtype: str) -> int:
    rate = spec.macs_per_sm_cycle(dtype)
    return min(int(_TILE_KERNEL(m, n, k, count, tm, tn, spec.sm_count, rate, spec.gemm_efficiency_max,
                                spec.tile_overhead_k)[0]) for tm, tn in spec.gemm_tiles)


def _cycles(nbytes: int, bytes_per_cycle: float) -> int:
    return math.ceil(nbytes / bytes_per_cycle) if nbytes > 0 else 0


def stream_cycles(spec: GpuSpec, read_bytes: int, write_bytes: int) -> int:
    """Cycles of a pure DRAM stream: reads at the read ceiling, writes at the write ceiling."""
    return _cycles(read_bytes, spec.stream_bytes_per_cycle) + _cycles(write_bytes, spec.write_bytes_per_cycle)


def _overlapped(spec: GpuSpec, time: int, read_bytes: int, write_bytes: int, bytes_per_cycle: float) -> int:
    """compute_cycles handed to the engine so that its load + compute + store is ``time`` + launch,
    where the engine moves the bytes at ``bytes_per_cycle`` (see the module docstring)."""
    engine = _cycles(read_bytes, bytes_per_cycle) + _cycles(write_bytes, bytes_per_cycle)
    return max(time - engine, 0) + spec.launch_cycles


def gemm_tile_cycles(spec: GpuSpec, op: Op, dtype: str) -> int:
    """The GEMM's tile-model cycles, or, if longer, the cycles of its first ``PROLOGUE_K`` k-steps
    plus its output store at the write ceiling: only the steady-state main loop beyond the
    prologue hides the store. Non-decreasing in every dimension."""
    compute = gemm_compute_cycles(spec, op, dtype)
    prologue = _gemm_compute_cycles(spec, op.m, op.n, min(op.k, PROLOGUE_K), op.count, dtype)
    return max(compute, prologue + _cycles(op.out_bytes, spec.write_bytes_per_cycle))


def _gemm_cost(spec: GpuSpec, op: Op, dtype: str) -> OpCost:
    compute = gemm_tile_cycles(spec, op, dtype)
    read_bytes, write_bytes = op.a_bytes + op.b_bytes, op.out_bytes
    busy = math.ceil(op.macs / spec.macs_per_sm_cycle(dtype))
    time = max(compute, stream_cycles(spec, read_bytes, write_bytes))
    return OpCost(unit="gpu", traffic=over("hbm", read_bytes, write_bytes),
                  compute_cycles=_overlapped(spec, time, read_bytes, write_bytes, spec.stream_bytes_per_cycle),
                  actions=_dram_actions(busy, read_bytes, write_bytes))


def vector_stream_cycles(spec: GpuSpec, op: Op) -> int:
    """DRAM cycles of an element-wise op: a reduction kernel at its own ceiling, a pure stream at the
    read and write ceilings."""
    read_bytes, write_bytes = op.a_bytes + op.b_bytes, op.out_bytes
    kernel = REDUCTION_KERNELS.get(op.kind)
    if kernel is None:
        return stream_cycles(spec, read_bytes, write_bytes)
    rate = spec.hbm_bandwidth_bytes_per_s * spec.kernel_efficiency(kernel) / spec.clock_hz
    return _cycles(read_bytes + write_bytes, rate)


def _vector_cost(spec: GpuSpec, op: Op) -> OpCost:
    flops_per_cycle = spec.vector_flops_per_s / spec.clock_hz
    compute = math.ceil(op.flops / flops_per_cycle)
    read_bytes, write_bytes = op.a_bytes + op.b_bytes, op.out_bytes
    busy = math.ceil(op.flops / (flops_per_cycle / spec.sm_count))
    time = max(compute, vector_stream_cycles(spec, op))
    return OpCost(unit="gpu", traffic=over("hbm", read_bytes, write_bytes),
                  compute_cycles=_overlapped(spec, time, read_bytes, write_bytes, spec.stream_bytes_per_cycle),
                  actions=_dram_actions(busy, read_bytes, write_bytes))


def _dram_actions(busy_sm_cycles: int, read_bytes: int, write_bytes: int) -> tuple:
    return (("sm.busy_cycle", busy_sm_cycles), ("hbm.read_bit", 8 * read_bytes),
            ("hbm.write_bit", 8 * write_bytes))


def _ring_bytes(op: Op) -> int:
    """Bytes each device sends in a ring all-reduce: 2 (p - 1) / p of its tensor."""
    return -(-2 * (op.devices - 1) * op.comm_bytes // op.devices)


@lru_cache(maxsize=4096)
def _allreduce_choice(spec: GpuSpec, nbytes: int, devices: int) -> CollectiveTime:
    return allreduce_time(nbytes, devices, spec.nvlink_bandwidth_bytes_per_s / 2, spec.nvlink_efficiency_max,
                          spec.collective_latency_s)


def _allreduce_cost(spec: GpuSpec, op: Op) -> OpCost:
    """The NCCL-model time on the engine: the ring's bytes over ``nvlink`` (the link's traffic and
    energy), the rest of the chosen algorithm's time as compute cycles, plus the launch."""
    sent = _ring_bytes(op)
    time = math.ceil(_allreduce_choice(spec, op.comm_bytes, op.devices).seconds * spec.clock_hz)
    return OpCost(unit="gpu", traffic=over("nvlink", sent, 0),
                  compute_cycles=_overlapped(spec, time, sent, 0, spec.nvlink_bytes_per_cycle),
                  actions=(("nvlink.transfer_bit", 8 * sent),))
