"""The NPU+PIM system (``kind: neupims``): a systolic NPU whose HBM computes GEMVs.

Composition: the NPU is an :class:`arch.systolic.model.SystolicArray` built from
the spec's ``npu`` with its DRAM bandwidth and capacity replaced by the PIM
HBM's (peak of the DRAM spec: channels x bus bytes x transfers x clock), so the
NPU reads the same memory the PIM computes in. Units: the NPU's arrays and
vector units, plus one ``pim`` unit per DRAM channel.

Placement: the ``pim`` unit (``near_memory``) can run decode attention (GEMMs
whose B operand is the KV cache, named ``attn_score`` / ``attn_context`` in
:mod:`workloads.layers`); the NPU can run every op. The mapper chooses: the
system's default rule ``kv_near_memory`` sends KV GEMVs to PIM, their instances
dealt over the channels, or each request placed whole on one channel by its KV
length (``channel_placement``, :mod:`mappers.pim_channels`, which costs each
channel through :meth:`NeupimsSystem.channel_cost`; the KV layout is
``pim.layout``, dense or NeuPIMs' own, :mod:`arch.pim.layout`), and
the rest to the NPU through the systolic model (composed by
:class:`arch.compose.Hosted`, names kept).

Single vs dual row buffers: with one row buffer (``pim.row_buffers: 1``, the
"blocked" mode of NeuPIMs' naive NPU+PIM) a PIM op holds the HBM for its whole
duration (``OpCost.holds``), so the NPU's transfers wait. With two, the NPU's
reads and the PIM's commands proceed together; the one shared resource kept is
the channel's command bus, which must carry both the host's RD commands and the
all-bank MACs (:func:`arch.pim.command_timing.shared_bus_spacing` widens the MAC spacing
if it cannot). Data-bus sharing by the PIM's input writes and result reads is
not contended in the engine (it is in the PIM timing, a few percent of it).
"""

from __future__ import annotations

import dataclasses
import math
from functools import cached_property
from typing import Any

import numpy as np

from arch.compose import Hosted, merged_components
from arch.contract import Accelerator, Component, MappingOptions, Memory, OpCost, PlacementRule, Unit
from arch.pim.energy import pim_components
from arch.pim.gemv import GemvTiming, check_fits, gemv_timing, layout, row_timing
from arch.pim.kernel import device_array, pim_gemv_kernel, pim_gemv_py, pim_rows_kernel, pim_rows_py
from arch.pim.layout import AttentionShape, GemvSide, channel_rows, readout_bursts
from arch.pim.options import NeupimsMappingOptions
from arch.pim.spec import NeupimsSpec
from arch.systolic.model import SystolicArray
from workloads.op import Op, OpKind, Operand

PIM_UNIT = "pim"


class NeupimsSystem(Accelerator):
    kind = "neupims"
    spec_type = NeupimsSpec
    node_key = "npu.tech_node_nm"
    mapping_options_type = NeupimsMappingOptions  # the NPU's per-op choices and request placement
    spec: NeupimsSpec

    @cached_property
    def npu(self) -> SystolicArray:
        org = self.spec.pim.dram_spec.organisation
        spec = self.spec.npu.model_copy(update={"dram_bandwidth_bytes_per_s": org.peak_bandwidth_bytes_per_s,
                                                "dram_capacity_bytes": org.capacity_bytes})
        return SystolicArray(spec, self.tech)

    @cached_property
    def hosted(self) -> Hosted:
        return Hosted(self.npu)  # the NPU keeps its names

    @property
    def dual_row_buffers(self) -> bool:
        return self.spec.pim.row_buffers == 2

    def units(self) -> tuple[Unit, ...]:
        pim = Unit(PIM_UNIT, frozenset({OpKind.GEMM}), self.spec.pim.channels, near_memory=True)
        return self.hosted.units() + (pim,)

    def unit_supports(self, unit: Unit, op: Op) -> bool:
        """PIM runs GEMVs over the KV cache (decode attention); the NPU runs the rest."""
        if unit.name == PIM_UNIT:
            return op.kind is OpKind.GEMM and op.b_operand == Operand.KV
        return super().unit_supports(unit, op)

    def candidate_units(self, op: Op) -> tuple[str, ...]:
        host = self.hosted.candidate_units(op)
        return host + ((PIM_UNIT,) if self.unit_supports(self._pim_unit, op) else ())

    @cached_property
    def _pim_unit(self) -> Unit:
        return self.units()[-1]

    def resolve_unit(self, op: Op, unit: str | None) -> str:
        if unit is None or unit == PIM_UNIT:
            return super().resolve_unit(op, unit)
        return unit if self.hosted.host_unit(unit) is not None else super().resolve_unit(op, unit)

    def memories(self) -> tuple[Memory, ...]:
        return self.npu.memories()

    def components(self) -> tuple[Component, ...]:
        return merged_components(self.hosted.components(), pim_components(self.spec.pim, self.tech_library()))

    def default_mapping(self, phase: str, batch: int) -> dict[str, Any]:
        """KV GEMVs to PIM; sub-batch interleaving of decode steps as the spec asks."""
        placement = {"placement": PlacementRule.KV_NEAR_MEMORY, "channel_placement": self.spec.channel_placement}
        if phase != "decode" or not self.spec.interleaves(batch):
            return placement
        choice = "faster" if self.spec.sub_batch_interleaving == "faster" else "fixed"
        return {**placement, "sub_batches": self.spec.sub_batches, "unroll_layers_max": self.spec.unroll_layers_max,
                "sub_batch_choice": choice}

    @classmethod
    def kernel_twins(cls):
        def device(ganged, ranks, refi):  # hbm2-neupims-like numbers, 4 x 4 banks per rank
            return device_array(ganged=ganged, ranks=ranks, bankgroups=4, banks_per_group=4, t_rcd=14, t_ras=34,
                                t_rp=14, t_rc=48 + 3 * ganged, t_rtp=6, t_rrd_s=4, t_rrd_l=6, t_faw=30, t_rfc=260,
                                t_refi=refi, mac_spacing=2, bl=2, cl=14, act_to_act=1, pre_to_pre=1 + ganged,
                                pre_to_act=1, act_to_col=1, col_to_pre=1, ref_to_ref=1)
        examples = tuple((rows, full, last, reads, 3, device(ganged, ranks, refi))
                         for rows, full, last, reads in ((1, 32, 32, 1), (7, 32, 5, 9), (40, 64, 64, 3))
                         for ganged in (0, 1) for ranks in (1, 2) for refi in (0, 400))
        rows = tuple((np.asarray(m, np.int64), np.asarray(r, np.int64), np.asarray(b, np.int64), ex[5])
                     for m, r, b in (([32, 32, 19], [4, 4, 1], [111, 1, 111]), ([8, 5], [0, 3], [0, 0]))
                     for ex in examples[:8])
        return (("pim_gemv_kernel", pim_gemv_kernel, pim_gemv_py, examples),
                ("pim_rows_kernel", pim_rows_kernel, pim_rows_py, rows))

    def check_workload(self, workload, options=None) -> tuple[str, ...]:
        """The NPU's capacity warning, against the PIM memory the NPU reads."""
        return self.npu.check_workload(workload)

    def notes(self) -> tuple[str, ...]:
        mode = "dual row buffers: NPU reads overlap PIM commands" if self.dual_row_buffers else \
            "single row buffer: a PIM op blocks the HBM for the NPU"
        return self.npu.notes() + (
            f"PIM ({mode}); decode attention GEMVs run on PIM, one request's KV per channel; "
            "PIM multipliers use logic-process energy and area (no DRAM-process penalty).",
            "PIM input writes and result reads are timed per channel but do not contend with NPU "
            "transfers in the engine.",
            self._layout_note(),
        )

    def _layout_note(self) -> str:
        layout = ("NeuPIMs' own layout (K in bank-wide token tiles, V in page rows per head, a GWRITE per "
                  "chunk and a header per tile)" if self.spec.pim.layout == "artefact"
                  else "a dense layout (a channel's share packed into rows, no padding between requests)")
        place = {"even": "dealt evenly over the channels at the batch's mean KV length",
                 "round_robin": "placed on channels round robin, each channel timed with its own requests' "
                                "KV lengths (decode steps built from workload.kv_lens)",
                 "clb": "placed on the least-loaded channel by NeuPIMs' latency estimate, each channel timed "
                        "with its own requests' KV lengths (decode steps built from workload.kv_lens)"}
        return f"PIM attention in {layout}; requests {place[self.spec.channel_placement]}."

    # -- costs ----------------------------------------------------------------
    def runs_on_pim(self, op: Op) -> bool:
        return self.unit_supports(self._pim_unit, op)

    def mapping_space(self, op: Op, unit: str) -> tuple[dict, ...]:
        return ({},) if unit == PIM_UNIT else self.npu.mapping_space(op, unit)

    def unit_cost(self, op: Op, unit: str, options: MappingOptions) -> OpCost:
        if unit != PIM_UNIT:
            return self.hosted.cost(op, unit, options)
        shape = self._artefact_shape(op, op.count)  # instances = heads of requests at the op's KV length
        if shape is None:
            return self._pim_cost(gemv_timing(op, self.spec.pim, dual_bus=self.dual_row_buffers))
        kv = op.n if shape.side is GemvSide.SCORE else op.k
        return self._artefact_cost(op, shape, (kv,))

    def channel_cost(self, op: Op, requests: int, kv_tokens: tuple[int, ...]) -> OpCost:
        """One channel's share of decode-attention op ``op`` (over ``requests`` requests): the
        requests with these KV lengths, in the spec's ``pim.layout``."""
        heads = op.count // max(1, requests)
        shape = self._artefact_shape(op, heads)
        if shape is not None:
            return self._artefact_cost(op, shape, kv_tokens)
        mean = -(-sum(kv_tokens) // max(1, len(kv_tokens)))
        dims = {"k": mean} if _side(op) is GemvSide.CONTEXT else {"n": mean}
        share = dataclasses.replace(op, count=heads * max(1, len(kv_tokens)), **dims)
        return self._pim_cost(gemv_timing(share, self.spec.pim, dual_bus=self.dual_row_buffers))

    def _artefact_shape(self, op: Op, heads: int) -> AttentionShape | None:
        """The op as NeuPIMs' layout stores it, or None (``pim.layout: dense``, or a head wider than a row)."""
        pim = self.spec.pim
        side = _side(op)
        head_dim = op.k if side is GemvSide.SCORE else op.n
        page = pim.dram_spec.organisation.page_bytes * 8 // pim.element_bits
        if pim.layout != "artefact" or head_dim > page:
            return None
        check_fits(op, pim)
        return AttentionShape(side, heads, head_dim, op.m)

    def _artefact_cost(self, op: Op, shape: AttentionShape, kv_tokens: tuple[int, ...]) -> OpCost:
        rows = channel_rows(shape, kv_tokens, self.spec.pim)
        macs = sum(int(t) for t in kv_tokens) * shape.kv_heads * shape.head_dim * shape.query_rows
        return self._pim_cost(row_timing(rows, macs, self.spec.pim, self.dual_row_buffers,
                                         readout_bursts(shape, self.spec.pim)))

    def _pim_cost(self, timing: GemvTiming) -> OpCost:
        actions = (("pim_mult.mac", timing.multiplies), ("pim_cells.read_bit", timing.cell_bits),
                   ("dram.read_bit", timing.readout_bits), ("dram.write_bit", timing.gwrite_bits))
        return OpCost(unit=PIM_UNIT, compute_cycles=self._npu_cycles(timing.dram_cycles), actions=actions,
                      holds=() if self.dual_row_buffers else ("dram",))

    def roofline_cycles(self, op: Op) -> int:
        if not self.runs_on_pim(op):
            return self.npu.roofline_cycles(op)
        # the lower of the two units' bounds: either may run a KV GEMV
        return min(self.npu.roofline_cycles(op), self._pim_roofline(op))

    def _pim_roofline(self, op: Op) -> int:
        pim = self.spec.pim
        per_mac = layout(op, pim).elements_per_mac
        commands = op.macs / (pim.channels * pim.banks_per_channel * per_mac)
        dram_cycles = max(1, (math.ceil(commands) - 1) * pim.mac_spacing() + 1)
        return max(1, math.floor(dram_cycles * self.clock_hz / pim.dram_spec.organisation.clock_hz))

    def _npu_cycles(self, dram_cycles: int) -> int:
        return math.ceil(dram_cycles * self.clock_hz / self.spec.pim.dram_spec.organisation.clock_hz)



def _side(op: Op) -> GemvSide:
    """Score (``n`` = KV tokens) or context (``k`` = KV tokens) GEMV, by the decode-attention op's name."""
    return GemvSide.CONTEXT if op.name.split("#")[0].endswith("attn_context") else GemvSide.SCORE
