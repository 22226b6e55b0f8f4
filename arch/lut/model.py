"""LUT tensor-core systems (``kind: lut``): LUT arrays in SMs (or NPU cores), vector units, HBM.

What it models
--------------
* **GEMMs with low-bit weights** (B operand = weights of at most
  ``max_weight_bits`` bits, activations of at most ``max_activation_bits``) run
  on the LUT tensor cores, all of them as one aggregate unit ``lut_tc``: cycles
  and action counts from the LUT mpGEMM kernel (:mod:`arch.lut.kernel`) with
  the spec's array shape, bit-serial planes = ``ceil(b_bits)`` (BitNet b1.58
  runs as W_INT2, as in the paper), symmetrised tables and table entry bits as
  configured. Peak per op: ``units x S x M x N x K / W_BIT`` MACs per cycle.
* **The table precompute** is costed with the GEMM under the mapping option
  ``precompute`` (:class:`~arch.lut.options.Precompute`): fused, the GEMM reads
  tables (``2^(K-1) x entry_bits`` per K activations) instead of activations and
  the extra bytes the previous op writes are charged here, as that op's extra
  write time (an element-wise op streams, so they are not hidden under the GEMM);
  its adds are vector energy overlapped with that op; separate, a kernel of its own first reads the
  activations, builds the tables on the vector units and writes them to HBM
  (time ``max(adds / vector rate, its bytes / bandwidth) + launch``). With
  ``precompute_in_array`` the arrays build their own tables (conventional
  design): one build per table per N tile of the array, no table traffic.
* **Other ops** (element-wise, and GEMMs whose B operand is the KV cache,
  another activation or wider than ``max_weight_bits``) run on the vector units
  (``vector``) at ``vector_flops_per_cycle_per_sm``.
* **On a GPU host** (``gemm_tiles`` set) a LUT GEMM's thread-block tiles run in
  waves over the SMs, each at the SM's LUT tensor-core rate derated by the host's
  issue-efficiency ceiling plus a fixed per-tile overhead (:mod:`arch.lut.waves`,
  the host GPU model's rule with the LUT array as the instruction); the fastest
  listed tile is used. Without ``gemm_tiles`` (a standalone NPU) the passes are
  spread evenly over all arrays.
* Time of an op alone: ``max(compute, DRAM stream) + launch`` (the GPU model's
  rule); DRAM traffic is compulsory (perfect on-chip reuse).

How faithful / not modelled
---------------------------
Register and shared-memory capacity and bandwidth inside the SM (the paper's
LUT rows assume "Double Register Modeling", 2-8x registers, uncosted); warp
scheduling, split-K, L2; no multi-device collectives. Energy and area:
:mod:`arch.lut.energy` (synthesis factors per part and one power density fitted on
the paper's Table 2).
"""

from __future__ import annotations

import math

from arch.contract import (Accelerator, Component, MappingOptions, Memory, MemoryKind, OpCost, Unit,
                           check_capacity, over)
from arch.lut.energy import lut_components
from arch.lut.kernel import KERNEL_EXAMPLES, LUT_MPGEMM, LutCounts, lut_mpgemm_kernel, lut_mpgemm_kernel_py
from arch.lut.options import LutMappingOptions, Precompute
from arch.lut.spec import LutSpec
from arch.lut.waves import LUT_WAVES, WAVE_EXAMPLES, lut_wave_kernel, lut_wave_kernel_py
from workloads.op import VECTOR_FLOPS_PER_ELEMENT, Op, OpKind, Operand

VECTOR_KINDS = frozenset(VECTOR_FLOPS_PER_ELEMENT)
LUT_UNIT, VECTOR_UNIT = "lut_tc", "vector"
INT_B_BIT_SERIAL_MAX_BITS = 8  # an int8 KV cache as 8 bit planes (the array's bit counter is the only limit)


class LutSystem(Accelerator):
    kind = "lut"
    spec_type = LutSpec
    spec: LutSpec
    mapping_options_type = LutMappingOptions

    # -- description ------------------------------------------------------------
    def units(self) -> tuple[Unit, ...]:
        spec = self.spec
        return (Unit(LUT_UNIT, frozenset({OpKind.GEMM}), 1, spec.units * spec.tc_macs_per_cycle(1)),
                Unit(VECTOR_UNIT, frozenset({OpKind.GEMM, *VECTOR_KINDS}), 1, spec.vector_flops_per_cycle / 2))

    def memories(self) -> tuple[Memory, ...]:
        return (Memory("hbm", self.spec.stream_bytes_per_cycle, 1, 0, self.spec.hbm_capacity_bytes, MemoryKind.DRAM),)

    def components(self) -> tuple[Component, ...]:
        return lut_components(self.spec, self.tech_library())

    def unit_supports(self, unit: Unit, op: Op) -> bool:
        if unit.name == LUT_UNIT:
            return self.lut_runs(op)
        return op.kind in unit.op_kinds and not self.lut_runs(op)

    def lut_runs(self, op: Op) -> bool:
        """Whether the LUT arrays run ``op``: a GEMM on low-bit weights (offline-reinterpreted), or on
        an integer KV cache or activation B operand with ``int_b_bit_serial`` (one bit plane per cycle,
        as for weights)."""
        spec = self.spec
        if op.kind is not OpKind.GEMM or op.a_bits > spec.max_activation_bits:
            return False
        if op.b_operand is Operand.WEIGHT:
            return op.b_bits <= spec.max_weight_bits
        return spec.int_b_bit_serial and op.b_bits <= INT_B_BIT_SERIAL_MAX_BITS

    def unit_peak_macs_per_cycle(self, unit: Unit, op: Op) -> float:
        """LUT tensor cores: ``units x S x M x N x K / W_BIT`` (bit-serial); vector units: FLOPs / 2."""
        if unit.name == LUT_UNIT:
            return self.spec.units * self.spec.tc_macs_per_cycle(weight_planes(op))
        return unit.macs_per_cycle

    @classmethod
    def kernel_twins(cls):
        # table_build_adds (called by the kernel) is checked against its twin in tests/test_lut_kernel.py
        return (("lut_mpgemm_kernel", lut_mpgemm_kernel, lut_mpgemm_kernel_py, KERNEL_EXAMPLES),
                ("lut_wave_kernel", lut_wave_kernel, lut_wave_kernel_py, WAVE_EXAMPLES))

    @classmethod
    def conformance_ops(cls) -> tuple[Op, ...]:
        lut = {"a_bits": 8, "out_bits": 16}
        return (Op("gemv_w2", OpKind.GEMM, 1, 4096, 4096, b_bits=2, **lut),
                Op("odd_w1", OpKind.GEMM, 77, 300, 129, b_bits=1, **lut),
                Op("prefill_w4", OpKind.GEMM, 512, 1024, 2048, b_bits=4, a_bits=16),
                Op("attn", OpKind.GEMM, 4, 130, 128, count=64, b_operand=Operand.KV, a_bits=8, b_bits=8),
                Op("softmax", OpKind.SOFTMAX, 32, 1024),
                Op("residual", OpKind.ADD, 8, 4096))

    def notes(self) -> tuple[str, ...]:
        return (
            "LUT: all LUT tensor cores are one aggregate unit; on a GPU host (gemm_tiles set) a GEMM's "
            "thread-block tiles run in waves over the SMs, otherwise passes are spread evenly over the "
            "arrays; DRAM traffic is compulsory (perfect on-chip reuse); "
            "register/shared-memory capacity is not a constraint (the paper's LUT GPUs assume Double "
            "Register Modeling).",
            "LUT: GEMMs on weights wider than max_weight_bits, and on the KV cache or activations unless "
            "int_b_bit_serial (integers of at most 8 bits), run on the vector units; the table precompute "
            "is part of each LUT GEMM's cost (mapping option precompute), not an op of its own.",
            "LUT energy/area: cell-count array model (fan-out-of-4 broadcast buffers counted) with "
            "synthesis factors and one power density fitted on the paper's Table 2 (28 nm): a common "
            "factor on the LUT Tensor Core row, the negation circuit's and the in-array precompute's on "
            "the steps that remove them; other wiring is inside the factors; the host's own area is "
            "host_area_mm2.",
        )

    def check_workload(self, workload, options=None) -> tuple[str, ...]:
        if self.spec.hbm_capacity_bytes:
            check_capacity(workload, self.spec.hbm_capacity_bytes, "hbm_capacity_bytes", "this LUT system")
        return ()

    # -- costs ------------------------------------------------------------------
    def unit_cost(self, op: Op, unit: str, options: MappingOptions) -> OpCost:
        precompute = getattr(options, "precompute", Precompute.FUSED)
        if unit == LUT_UNIT:
            return lut_gemm_cost(self.spec, op, Precompute(precompute))
        return vector_cost(self.spec, op)

    def roofline_cycles(self, op: Op) -> int:
        spec = self.spec
        peak_bytes = spec.hbm_bandwidth_bytes_per_s / spec.clock_hz
        if self.lut_runs(op):
            compute = op.macs / (spec.units * spec.tc_macs_per_cycle(weight_planes(op)))
            memory = (op.b_bytes + op.out_bytes) / peak_bytes
        else:
            compute = op.flops / spec.vector_flops_per_cycle
            memory = op.min_bytes / peak_bytes
        return max(1, math.ceil(max(compute, memory)))


def weight_planes(op: Op) -> int:
    """Bit-serial planes of the op's weights: ceil(b_bits) (ternary 1.58-bit runs as 2 planes)."""
    return max(1, math.ceil(op.b_bits - 1e-9))


def lut_kernel_counts(spec: LutSpec, op: Op, precompute: Precompute) -> LutCounts:
    """The LUT mpGEMM kernel's outputs for ``op`` on ``spec`` (see :mod:`arch.lut.kernel`)."""
    in_array = spec.precompute_in_array
    share_n = spec.columns if in_array else 0
    rate = spec.vector_flops_per_cycle if (precompute is Precompute.SEPARATE and not in_array) else 0.0
    return LutCounts(*(int(x) for x in LUT_MPGEMM(
        op.m, op.n, op.k, op.count, weight_planes(op), spec.array_k, spec.symmetric_tables,
        spec.lut_entry_bits, share_n, spec.array_m, spec.columns, spec.units, rate)))


def array_cycles(spec: LutSpec, op: Op, counts: LutCounts) -> int:
    """Cycles the LUT tensor cores take for ``op``: on a GPU host (``gemm_tiles`` set) the fastest
    thread-block tile's waves over the SMs (:mod:`arch.lut.waves`), else ``counts``' even spread."""
    if not spec.gemm_tiles:
        return counts.array_cycles
    return min(int(LUT_WAVES(op.m, op.n, op.k, op.count, weight_planes(op), spec.array_k, spec.array_m,
                                   spec.columns, tile_m, tile_n, spec.sm_count, spec.tensor_cores_per_sm,
                                   spec.gemm_efficiency, spec.tile_overhead_k)[0])
               for tile_m, tile_n in spec.gemm_tiles)


def _cycles(nbytes: int, bytes_per_cycle: float) -> int:
    return math.ceil(nbytes / bytes_per_cycle) if nbytes > 0 else 0


def lut_gemm_cost(spec: LutSpec, op: Op, precompute: Precompute) -> OpCost:
    """A LUT GEMM and its table precompute (module docstring): time max(arrays, stream) + launch,
    plus a separate precompute kernel's own max(adds, stream) + launch."""
    counts = lut_kernel_counts(spec, op, precompute)
    bw = spec.stream_bytes_per_cycle
    table_bytes = -(-counts.table_write_bits // 8)
    in_array = spec.precompute_in_array
    gemm_reads, gemm_writes = op.b_bytes + (op.a_bytes if in_array else table_bytes), op.out_bytes
    pre_reads = pre_writes = pre_cycles = 0
    if not in_array and precompute is Precompute.SEPARATE:
        pre_reads, pre_writes = op.a_bytes, table_bytes
        pre_stream = _cycles(pre_reads, bw) + _cycles(pre_writes, bw)
        pre_cycles = max(counts.precompute_cycles, pre_stream) + spec.launch_cycles
    elif not in_array:  # fused: the preceding op writes tables instead of activations; the excess is charged here
        pre_writes = max(0, table_bytes - op.a_bytes)
        # that op streams (element-wise): its extra writes take their own time, not hidden under this GEMM
        pre_cycles = _cycles(pre_writes, spec.bytes_per_cycle(spec.write_efficiency))
    gemm_stream = _cycles(gemm_reads, bw) + _cycles(gemm_writes, bw)
    target = max(array_cycles(spec, op, counts), gemm_stream) + spec.launch_cycles + pre_cycles
    reads, writes = gemm_reads + pre_reads, gemm_writes + pre_writes
    stream = _cycles(reads, bw) + _cycles(writes, bw)
    actions = [("lut_mux.lookup", counts.lookups), ("lut_accumulator.accumulate", counts.accumulates),
               ("lut_table.entry_read", counts.table_entry_reads), ("lut_weights.bit_read", counts.weight_bit_reads),
               ("smem.access_byte", reads + writes), ("hbm.read_bit", 8 * reads), ("hbm.write_bit", 8 * writes),
               ("lut_precompute.add" if in_array else "vector.add", counts.precompute_adds)]
    if spec.symmetric_tables and not spec.offline_weight_flip:
        actions.append(("lut_negation.lookup", counts.lookups))
    return OpCost(unit=LUT_UNIT, compute_cycles=max(target - stream, 0), traffic=over("hbm", reads, writes),
                  actions=tuple(actions))


def vector_cost(spec: LutSpec, op: Op) -> OpCost:
    """Element-wise ops and wide or activation-B GEMMs on the vector units.

    Streams as the host GPU model streams them (arch/gpu/model.py): softmax and
    norm kernels at their own ceilings on all their bytes, other ops' reads and
    writes at the read and write ceilings.
    """
    compute = math.ceil(op.flops / spec.vector_flops_per_cycle)
    reads, writes = op.a_bytes + op.b_bytes, op.out_bytes
    reduction = {OpKind.SOFTMAX: spec.softmax_efficiency, OpKind.NORM: spec.norm_efficiency}
    if op.kind in reduction:
        stream = _cycles(reads + writes, spec.bytes_per_cycle(reduction[op.kind]))
    else:
        stream = _cycles(reads, spec.stream_bytes_per_cycle) + _cycles(writes, spec.bytes_per_cycle(spec.write_efficiency))
    return OpCost(unit=VECTOR_UNIT, compute_cycles=max(compute - stream, 0) + spec.launch_cycles,
                  traffic=over("hbm", reads, writes),
                  actions=(("vector.flop", op.flops), ("smem.access_byte", reads + writes),
                           ("hbm.read_bit", 8 * reads), ("hbm.write_bit", 8 * writes)))
