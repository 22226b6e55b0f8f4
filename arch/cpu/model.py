"""CPU hosts (``kind: cpu``): LUT (T-MAC) or dequantisation (llama.cpp) low-bit GEMMs on SIMD cores.

What it models
--------------
All ``threads`` cores are one aggregate unit ``cpu``; an op's work is spread
evenly over the threads. Its time alone is ``max(compute, DRAM stream) +
sync`` with the stream at the achievable bandwidth of that many threads
(:meth:`arch.cpu.spec.CpuSpec.bandwidth_bytes_per_s`) and ``sync = op_sync_s x
(1 - 1/threads)`` the per-op thread synchronisation (:mod:`arch.cpu.spec`):
token generation is bandwidth-bound on most of these hosts once a few threads
run, and synchronisation-bound on the M2-Ultra's many fast cores.

* **Low-bit weight GEMMs, ``gemm_kernel: lut``** (T-MAC; at most
  ``lut_max_weight_bits``): the LUT mpGEMM kernel of :mod:`arch.lut.kernel`
  with one activation row per pass (``array_m = 1``), ``simd_bits / 8`` output
  rows per lookup instruction (``array_n``: 16 lanes of ``tbl``/``pshufb`` per
  128 bits), groups of ``lut_group_activations`` activations, full 16-entry
  int8 tables built once per activation row for all outputs, one pass per bit
  plane; the threads are the kernel's ``units``. Compute cycles = lookup
  instructions per thread x ``lut_simd_ops_per_lookup_vector`` / ``simd_pipes``,
  plus the table precompute's adds on fp16 SIMD lanes of one thread (the
  tables are built by thread 0 before the lookups start).
* **``gemm_kernel: dequant``** (llama.cpp), and low-bit GEMMs wider than the LUT
  kernel runs: ``dequant_simd_ops_per_weight`` instructions per weight and
  activation row (its ``vec_dot`` unpacks each weight block once per row),
  issued at ``dequant_issue_efficiency`` of the full rate (fitted per device on
  llama.cpp's one-thread Llama-2-7B rows, :mod:`arch.cpu.calibration`).
* **Everything else** (fp16 weight GEMMs, the attention GEMMs on the KV cache,
  element-wise ops) on fp32 SIMD lanes: an FMA per two FLOPs of a GEMM, one
  instruction per lane-FLOP otherwise.
* DRAM traffic is compulsory (tables and partial sums stay in the caches).

How faithful / not modelled
---------------------------
Instruction counts from the kernels' inner loops at full issue rate (the
dequantisation kernel's at a fitted fraction of it): no dependency chains,
load-port limits, frequency changes with thread count, power or thermal
state, cache misses beyond the DRAM stream, or OS noise; one thread per core
(no SMT), threads perfectly balanced (T-MAC's split of an op into whole weight
tiles per thread is not modelled). The bandwidth curve is a
two-parameter saturation and the per-op synchronisation one number, both
calibrated per device on T-MAC's rows (the preset names its data,
:mod:`arch.cpu.calibration`); the synchronisation is the same for both
kernels (they run in the same graph executor).
Energy counts SIMD datapath lanes (the technology library's int8 add per
lane-instruction) and LPDDR4 accesses only: no core front-end, caches or
uncore, so it is far below a CPU's package power. Area is the SIMD lanes'
int8 adders of every core only (a lower bound, not a die area), leakage
the library's logic leakage density over that area.
"""

from __future__ import annotations

import math

from arch.contract import (Accelerator, Component, MappingOptions, Memory, MemoryKind, OpCost, Unit,
                           check_capacity, over)
from arch.cpu.options import CpuGemmKernel, CpuMappingOptions
from arch.cpu.spec import CpuSpec
from arch.lut.kernel import KERNEL_EXAMPLES, LUT_MPGEMM, LutCounts, lut_mpgemm_kernel, lut_mpgemm_kernel_py
from workloads.op import VECTOR_FLOPS_PER_ELEMENT, Op, OpKind, Operand

CPU_UNIT, DRAM = "cpu", "dram"
FP16_PER_FP32_LANE = 2       # fp16 table building uses twice the fp32 lanes
DRAM_ACCESS_BITS = 64        # the technology library's LPDDR4 entry is per 64-bit access
SIMD_LANE_OP = "add.int8"    # datapath energy of one byte lane of one SIMD instruction


class CpuHost(Accelerator):
    kind = "cpu"
    spec_type = CpuSpec
    spec: CpuSpec
    mapping_options_type = CpuMappingOptions

    # -- description ------------------------------------------------------------
    def units(self) -> tuple[Unit, ...]:
        spec = self.spec
        kinds = frozenset({OpKind.GEMM, OpKind.ATTENTION, *VECTOR_FLOPS_PER_ELEMENT})
        slots = spec.threads * spec.simd_pipes
        best = max(slots * spec.fp32_lanes, slots / min(ops for _, ops in spec.dequant_simd_ops_per_weight),
                   lut_peak_macs_per_cycle(spec, 1))  # the system's peak: the fastest kernel on its narrowest weights
        return (Unit(CPU_UNIT, kinds, 1, best),)

    def memories(self) -> tuple[Memory, ...]:
        return (Memory(DRAM, self.spec.stream_bytes_per_cycle, 1, 0, self.spec.dram_capacity_bytes, MemoryKind.DRAM),)

    def components(self) -> tuple[Component, ...]:
        lib = self.tech_library()
        access = lib.energy_pj("dram.lpddr4", "read") / DRAM_ACCESS_BITS
        lane = lib.energy_pj(SIMD_LANE_OP, "add")
        lanes_area = lib.area_um2(SIMD_LANE_OP) * self.spec.lookup_lanes * self.spec.simd_pipes
        leakage = lanes_area * lib.param("logic.leakage_w_per_um2")
        return (Component("simd", self.spec.cores, lanes_area, {"instruction": lane * self.spec.lookup_lanes}, leakage),
                Component("dram", 1, 0.0, {"read_bit": access, "write_bit": access}, 0.0, "dram"))

    def unit_supports(self, unit: Unit, op: Op) -> bool:
        return op.kind in unit.op_kinds

    def lut_runs(self, op: Op) -> bool:
        """Whether the LUT kernel can run ``op``: a GEMM on weights of at most ``lut_max_weight_bits``."""
        return (op.kind is OpKind.GEMM and op.b_operand is Operand.WEIGHT
                and op.b_bits <= self.spec.lut_max_weight_bits)

    def dequant_runs(self, op: Op) -> bool:
        """A GEMM on quantised weights (below 16 bits), run by a dequantisation kernel."""
        return op.kind is OpKind.GEMM and op.b_operand is Operand.WEIGHT and op.b_bits < 16

    def unit_peak_macs_per_cycle(self, unit: Unit, op: Op) -> float:
        """The fastest kernel's peak on ``op`` (LUT: lanes x g / (instructions x planes) per issue slot)."""
        spec = self.spec
        slots = spec.threads * spec.simd_pipes
        peaks = [slots * spec.fp32_lanes]  # fp32 FMAs
        if self.dequant_runs(op):
            peaks.append(slots / spec.dequant_ops_per_weight(op.b_bits))
        if self.lut_runs(op):
            peaks.append(lut_peak_macs_per_cycle(spec, weight_planes(op)))
        return max(peaks)

    def mapping_space(self, op: Op, unit: str) -> tuple[dict, ...]:
        if self.lut_runs(op):
            return tuple({"gemm_kernel": kernel} for kernel in CpuGemmKernel)
        return ({},)

    @classmethod
    def kernel_twins(cls):
        return (("lut_mpgemm_kernel", lut_mpgemm_kernel, lut_mpgemm_kernel_py, KERNEL_EXAMPLES),)

    @classmethod
    def conformance_ops(cls) -> tuple[Op, ...]:
        return (Op("gemv_w2", OpKind.GEMM, 1, 4096, 4096, b_bits=2, extra_bytes=4096 * 32 * 4),
                Op("gemv_w4", OpKind.GEMM, 1, 11008, 4096, b_bits=4),
                Op("odd_w1", OpKind.GEMM, 3, 300, 129, b_bits=1),
                Op("prefill_w4", OpKind.GEMM, 64, 1024, 2048, b_bits=4),
                Op("lm_head_q6", OpKind.GEMM, 1, 32000, 4096, b_bits=6),
                Op("attn_qk", OpKind.GEMM, 1, 64, 128, count=32, b_operand=Operand.KV),
                Op("softmax", OpKind.SOFTMAX, 32, 64),
                Op("residual", OpKind.ADD, 1, 4096))

    def notes(self) -> tuple[str, ...]:
        return (
            "CPU: instruction counts of the kernels' inner loops at full SIMD issue, threads perfectly "
            "balanced, one per core; no dependency chains, load-port limits, clock changes with thread "
            "count, power or temperature (llama.cpp's multi-thread rows on the Orin and the Surface Book 3 "
            "miss for that), or OS noise.",
            "CPU: achievable DRAM bandwidth min(threads x per-thread, CPU complex) is calibrated per device "
            "(each preset names the measured rows it was fitted on); DRAM traffic is compulsory.",
            "CPU: llama.cpp's dequantisation listings run at a fitted fraction of full issue per block format "
            f"{dict(self.spec.dequant_issue_efficiency) or 'none (full issue)'}; dependency chains and port "
            "limits are not counted one by one.",
            f"CPU: per-op thread synchronisation op_sync_s x (1 - 1/threads) = "
            f"{self.spec.op_sync_s * (1 - 1 / self.spec.threads) * 1e6:.3g} us per op at {self.spec.threads} "
            "thread(s), calibrated per device, the same for both kernels (an assumed Amdahl form).",
            "CPU energy: SIMD datapath lanes and LPDDR4 accesses only (no front-end, caches or uncore).",
        )

    def check_workload(self, workload, options: MappingOptions | None = None) -> tuple[str, ...]:
        if self.spec.dram_capacity_bytes:
            check_capacity(workload, self.spec.dram_capacity_bytes, "dram_capacity_bytes", "this CPU host")
        return ()

    # -- costs ------------------------------------------------------------------
    def unit_cost(self, op: Op, unit: str, options: MappingOptions) -> OpCost:
        kernel = CpuGemmKernel(getattr(options, "gemm_kernel", CpuGemmKernel.LUT))
        spec = self.spec
        if kernel is CpuGemmKernel.LUT and self.lut_runs(op):
            cycles, instructions = lut_cycles(spec, op)
        elif self.dequant_runs(op):
            instructions = math.ceil(op.count * op.m * op.n * op.k * spec.dequant_ops_per_weight(op.b_bits))
            cycles = math.ceil(instructions / (spec.simd_pipes * spec.threads * spec.dequant_efficiency(op.b_bits)))
        else:
            per_instruction = 2 * spec.fp32_lanes if op.kind.is_matmul or op.kind is OpKind.ATTENTION \
                else spec.fp32_lanes
            instructions = math.ceil(op.flops / per_instruction)
            cycles = math.ceil(instructions / (spec.simd_pipes * spec.threads))
        reads, writes = op.a_bytes + op.b_bytes, op.out_bytes
        bw = spec.stream_bytes_per_cycle
        stream = _cycles(reads, bw) + _cycles(writes, bw)
        return OpCost(unit=CPU_UNIT, compute_cycles=max(cycles - stream, 0) + spec.sync_cycles,
                      traffic=over(DRAM, reads, writes),
                      actions=(("simd.instruction", instructions), ("dram.read_bit", 8 * reads),
                               ("dram.write_bit", 8 * writes)))

    def roofline_cycles(self, op: Op) -> int:
        spec = self.spec
        peak_bytes = spec.dram_bandwidth_bytes_per_s / spec.clock_hz
        unit = self.units()[0]
        if op.macs:
            compute = op.macs / self.unit_peak_macs_per_cycle(unit, op)
        else:
            compute = op.flops / (spec.threads * spec.simd_pipes * spec.fp32_lanes)
        return max(1, math.ceil(max(compute, op.min_bytes / peak_bytes)))


def weight_planes(op: Op) -> int:
    """Bit planes of the op's weights: ceil(b_bits) (ternary 1.58-bit weights run as 2 planes)."""
    return max(1, math.ceil(op.b_bits - 1e-9))


def lut_peak_macs_per_cycle(spec: CpuSpec, planes: int) -> float:
    """The LUT kernel's MACs per cycle on ``planes``-bit weights: lanes x g per lookup vector's instructions."""
    return (spec.threads * spec.simd_pipes * spec.lookup_lanes * spec.lut_group_activations
            / (spec.lut_simd_ops_per_lookup_vector * planes))


def lut_counts(spec: CpuSpec, op: Op) -> LutCounts:
    """The LUT mpGEMM kernel's counts for ``op`` on ``spec`` (module docstring)."""
    # The tables are built by one thread: T-MAC's mul_mat INIT phase returns on every thread but
    # thread 0 (kaleid-liner/llama.cpp @70c312d, ggml.c, ggml_compute_forward_mul_mat's T-MAC branch).
    table_adds_per_cycle = spec.fp32_lanes * FP16_PER_FP32_LANE * spec.simd_pipes
    return LutCounts(*(int(x) for x in LUT_MPGEMM(
        op.m, op.n, op.k, op.count, weight_planes(op), spec.lut_group_activations, False, spec.lut_entry_bits,
        0, 1, spec.lookup_lanes, spec.threads, float(table_adds_per_cycle))))


def lut_cycles(spec: CpuSpec, op: Op) -> tuple[int, int]:
    """(compute cycles per thread, SIMD instructions in all) of the LUT kernel on ``op``."""
    counts = lut_counts(spec, op)
    lookup_instructions = counts.passes * weight_planes(op)
    per_thread = math.ceil(counts.array_cycles * spec.lut_simd_ops_per_lookup_vector / spec.simd_pipes)
    lanes16 = spec.fp32_lanes * FP16_PER_FP32_LANE
    instructions = math.ceil(lookup_instructions * spec.lut_simd_ops_per_lookup_vector
                             + counts.precompute_adds / lanes16)
    return per_thread + counts.precompute_cycles, instructions


def _cycles(nbytes: int, bytes_per_cycle: float) -> int:
    return math.ceil(nbytes / bytes_per_cycle) if nbytes > 0 else 0
