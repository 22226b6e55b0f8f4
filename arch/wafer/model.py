"""Wafer-scale mesh model (Cerebras WSE-2/3 running WaferLLM's kernels): one aggregate unit.

The whole program rectangle is one unit, ``mesh``; an op runs on a square region
of it (its side a mapping option per phase) and its cost is closed form in the
region side (:mod:`arch.wafer.kernel`, laid out by :mod:`arch.wafer.opcost`),
so an 850,000-PE wafer costs one task per op -- never per-PE events. Its
fabric is a memory of kind network (the aggregate bandwidth of every PE's four
links) over which each op's word-hops are listed; host I/O is a memory of kind
host. Capacity: :meth:`WaferMesh.check_workload` refuses a step whose layer does
not fit a PE or whose pipeline regions do not fit the rectangle, naming what
does not fit (:mod:`arch.wafer.partition`).

Faithfulness, stated (also in :meth:`WaferMesh.notes`):

* an op's ``compute_cycles`` include its collectives' latency (a GEMV is mostly
  its all-reduce), so the reported bound is the unit's even when the fabric's
  latency dominates; the split is the kernels' ``comm_cycles``;
* each GEMV pays its own all-reduce: WaferLLM fuses the Q/K/V and gate/up
  all-reduces into one each, which this op-by-op model does not;
* at batch 1 the pipeline regions run one after another, so step time is the
  sum over layers; the hand-off of activations between regions is not costed;
* the phase-transition reshuffle (prefill to decode layout) is not costed per step
  (:func:`arch.wafer.partition.reshuffle_cycles` bounds it once per request);
* concatenated KV placement is skewed only by the ``kv_appended_tokens`` the mapping names;
* what code and task tables take of a PE's SRAM is the spec's ``reserved_sram_bytes_per_pe``, one
  figure for every kernel (the kernels' code sizes are not published), so a build that fails to link
  for its code alone is not refused.
"""

from __future__ import annotations

import math

from arch.contract import Accelerator, Component, Memory, MemoryKind, OpCost, Unit
from arch.wafer import kernel as K
from arch.wafer.energy import wafer_components
from arch.wafer.opcost import FABRIC, UNIT, mesh_cost, region_side
from arch.wafer.options import WaferMappingOptions
from arch.wafer.partition import check_fits, residency
from arch.wafer.spec import WaferSpec
from workloads.op import VECTOR_FLOPS_PER_ELEMENT, Op, OpKind, Operand, Phase

MESH_KINDS = frozenset({OpKind.GEMM} | set(VECTOR_FLOPS_PER_ELEMENT))
LINKS_PER_PE = 4
SRAM_BYTES_PER_CYCLE_PER_PE = 12  # two 32-bit operand fetches and one 32-bit write-back per cycle ([WL] §7)
MAX_BITS = 16  # the PEs compute in fp16; narrower operands are widened


class WaferMesh(Accelerator):
    kind = "wafer"
    spec_type = WaferSpec
    mapping_options_type = WaferMappingOptions
    spec: WaferSpec

    def units(self) -> tuple[Unit, ...]:
        return (Unit(UNIT, MESH_KINDS, 1, self.spec.pe_count * self.spec.fp16_macs_per_cycle_per_pe),)

    def unit_supports(self, unit: Unit, op: Op) -> bool:
        return op.kind in unit.op_kinds and max(op.a_bits, op.b_bits) <= MAX_BITS

    def memories(self) -> tuple[Memory, ...]:
        spec = self.spec
        fabric = spec.pe_count * LINKS_PER_PE * spec.link_bits / 8
        return (Memory(FABRIC, fabric, 1, math.ceil(spec.hop_latency_cycles), 0, MemoryKind.NETWORK),
                Memory("sram", spec.pe_count * SRAM_BYTES_PER_CYCLE_PER_PE, 1, 0, spec.sram_bytes, MemoryKind.SRAM),
                Memory("host", spec.host_link_bandwidth_bytes_per_s / spec.clock_hz, 1,
                       round(spec.host_link_latency_s * spec.clock_hz), 0, MemoryKind.HOST))

    def components(self) -> tuple[Component, ...]:
        return wafer_components(self.spec, self.tech_library())

    def unit_cost(self, op: Op, unit: str, options) -> OpCost:
        options = self._options(options)
        return mesh_cost(self.spec, op, options).op_cost(self.spec.op_overhead_cycles)

    def roofline_cycles(self, op: Op) -> int:
        rate = self.spec.pe_count * self.spec.fp16_macs_per_cycle_per_pe
        work = op.macs if op.kind is OpKind.GEMM else op.elements * VECTOR_FLOPS_PER_ELEMENT.get(op.kind, 0)
        return max(1, math.ceil(work / rate))

    def check_workload(self, workload, options: WaferMappingOptions | None = None) -> tuple[str, ...]:
        """Raise :class:`~arch.capacity.CapacityError` when a layer does not fit a PE's SRAM or the
        model's pipeline regions do not fit the program rectangle; warn when padding to the region side
        adds more than 1% of the step's MACs."""
        options = self._options(options)
        if "step_phase" not in options.model_fields_set:
            options = options.model_copy(update={"step_phase": str(workload.phase)})
        probe = next((op for op in workload.ops if op.kind is OpKind.GEMM), workload.ops[0])
        side = region_side(self.spec, probe, options)
        res = residency(self.spec, workload.ops, workload.repeat, side, options.kv_placement)
        check_fits(self.spec, res, f"workload {workload.name!r}")
        return self._padding_warnings(workload, options)

    def _padding_warnings(self, workload, options: WaferMappingOptions) -> tuple[str, ...]:
        """A warning when padding dimensions to multiples of the region side adds more than 1% of MACs."""
        padded = {op.name: (mesh_cost(self.spec, op, options).macs, op.macs, region_side(self.spec, op, options))
                  for op in workload.ops if op.kind is OpKind.GEMM}
        done, useful = sum(v[0] for v in padded.values()), sum(v[1] for v in padded.values())
        if not useful or done <= 1.01 * useful:
            return ()
        worst = sorted(padded.items(), key=lambda item: item[1][1] - item[1][0])[:3]
        listed = ", ".join(f"{name} +{d / u - 1:.0%} on {p} x {p}" for name, (d, u, p) in worst)
        return (f"padding: the step's GEMMs execute {done / useful - 1:.1%} more MACs than the workload's "
                f"because dimensions are padded to multiples of the region side ({listed}); the MAC and "
                "energy counts include them",)

    def phase_breakdown(self, workload, options: WaferMappingOptions | None = None) -> tuple[tuple, ...]:
        """(op, region side, cycles, communication cycles) per op of one layer: WaferLLM's per-phase
        compute / communication profile."""
        options = self._options(options)
        rows = []
        for op in workload.ops:
            cost = mesh_cost(self.spec, op, options)
            rows.append((op.name, cost.region_pe, cost.cycles + self.spec.op_overhead_cycles, cost.comm_cycles))
        return tuple(rows)

    def default_mapping(self, phase: str, batch: int) -> dict:
        """The step's phase, so that ops without one (serving iterations) take its region."""
        return {"step_phase": str(phase)}

    def step_cycles(self, workload, options: WaferMappingOptions | None = None) -> int:
        """Cycles of one step of ``workload`` run op after op on the mesh (what the engine does with one
        unit, less the fabric transfers it overlaps): the layer's op cycles times its repeat."""
        options = self._options(options)
        if "step_phase" not in options.model_fields_set:
            options = options.model_copy(update={"step_phase": str(workload.phase)})
        return workload.repeat * sum(self.unit_cost(op, UNIT, options).compute_cycles for op in workload.ops)

    def _options(self, options) -> WaferMappingOptions:
        if isinstance(options, WaferMappingOptions):
            return options
        if options is None:
            return WaferMappingOptions()
        given = options.model_dump(exclude_unset=True) if hasattr(options, "model_dump") else dict(options)
        return WaferMappingOptions.model_validate(given)

    @classmethod
    def kernel_twins(cls):
        gemms = tuple((a, m, k, n, p, al, b, 2, c, o, s, 18) for a in range(4)
                      for m, k, n in ((1, 1, 1), (77, 300, 129), (4096, 4096, 14336))
                      for p in (1, 2, 3, 8, 360, 720) for al, b, c, o, s in
                      ((1, 0, 1, 0, 0), (1, 17, 4, 3, 90), (0.5, 2.5, 1, 0, 7)))
        reduces = tuple((a, p, w, kp, g, al, b, 2) for a in range(3) for p in (1, 2, 7, 240, 360, 750)
                        for w in (0, 1, 31, 4096) for kp, g in ((1, 0), (2, 0), (2, 18), (3, 0))
                        for al, b in ((1, 0), (1, 40), (0.5, 7.25)))
        gemvs = tuple((a, m, k, n, px, py, 2, g, 1, 30, 2, c, o) for a in range(3) for m, k, n in
                      ((1, 4096, 4096), (4, 1024, 4097), (8, 16384, 16384))
                      for px, py in ((1, 1), (64, 64), (420, 420), (750, 994)) for g in (0, 20)
                      for c, o in ((1, 0), (2, 5)))
        vectors = tuple((a, r, n, p, f, red, 2, 0, 1, 30, 2, c, 4) for a in range(3) for r, n in
                        ((1, 4096), (32, 4097), (4096, 14336)) for p in (1, 360) for f in (1, 5)
                        for red in (0, 2) for c in (1, 4))
        return (("mesh_gemm_kernel", K.mesh_gemm_kernel, K.mesh_gemm_kernel_py, gemms),
                ("mesh_allreduce_kernel", K.mesh_allreduce_kernel, K.mesh_allreduce_kernel_py, reduces),
                ("mesh_gemv_kernel", K.mesh_gemv_kernel, K.mesh_gemv_kernel_py, gemvs),
                ("mesh_vector_kernel", K.mesh_vector_kernel, K.mesh_vector_kernel_py, vectors))

    @classmethod
    def conformance_ops(cls) -> tuple[Op, ...]:
        return (
            Op("gemv", OpKind.GEMM, 1, 4096, 4096, phase=Phase.DECODE),
            Op("gemm", OpKind.GEMM, 512, 4096, 4096, phase=Phase.PREFILL),
            Op("odd", OpKind.GEMM, 77, 300, 129, phase=Phase.PREFILL),
            Op("attn", OpKind.GEMM, 4, 4097, 128, count=8, b_operand=Operand.KV, phase=Phase.DECODE),
            Op("softmax", OpKind.SOFTMAX, 4, 4097, count=8, phase=Phase.DECODE),
            Op("norm", OpKind.NORM, 1, 4096, phase=Phase.DECODE),
            Op("residual", OpKind.ADD, 8, 4096),
        )

    def notes(self) -> tuple[str, ...]:
        s = self.spec
        return (
            f"Mesh latencies: alpha {s.hop_latency_cycles:g} cycle/hop, beta {s.relay_latency_cycles:g} cycles/relay, "
            f"{s.link_words_per_cycle} fp16 words/cycle/link, {s.fp16_macs_per_cycle_per_pe} MAC/cycle/PE, "
            f"call overhead {s.call_overhead_cycles}, GEMM step sync {s.step_sync_cycles}, op overhead "
            f"{s.op_overhead_cycles} cycles (calibrated; see the preset) at {s.clock_hz / 1e9:g} GHz.",
            "An op's cycles include its collectives' latency; GEMVs are all-reduce bound at large regions.",
            "Each GEMV pays its own all-reduce (WaferLLM fuses Q/K/V and gate/up; not modelled).",
            "Dimensions are padded to multiples of the region side; padded MACs and words are counted.",
            "Pipeline regions run one after another at batch 1; region hand-offs and the prefill-to-decode "
            "reshuffle are not costed.",
            "Link contention between concurrent collectives is not modelled (each mesh line is independent).",
            "Concatenated KV placement: the appended tokens' PEs set the attention time only when the mapping "
            "gives kv_appended_tokens; shift placement pays its one-hop shift every step.",
            f"Per-PE capacity counts weights, KV and working buffers; code and task tables are "
            f"{s.reserved_sram_bytes_per_pe} reserved bytes for every kernel (an assumption: no published size).",
        )
