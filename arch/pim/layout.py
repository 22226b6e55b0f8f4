"""NeuPIMs' own KV layout on a PIM channel: the row sets, MACs and reads of whole requests.

``pim.layout: artefact`` times a channel's decode-attention GEMV as the NeuPIMs
artefact issues it (``casys-kaist/NeuPIMs``), request by request, instead of
packing the channel's share densely (``pim.layout: dense``, :mod:`arch.pim.gemv`).
Per request with ``L`` KV tokens, ``E`` = KV heads x head dimension ``d`` on the
device, ``P`` = elements per DRAM page, ``B`` banks per channel and ``c`` =
multipliers per bank (elements one COMP command covers):

* **K (score GEMV)**, ``src/tensor/PIMTensor.cc`` (KEY: ``ceil(E / P)`` rows per
  ``B`` tokens) and ``src/operations/NeuPIMSLogitSoftmax.cc``: ``ceil(E / P)``
  chunks, each one GWRITE of the query chunk, then ``ceil(L / B)`` tiles (one
  token per bank, so K is padded to 32-token tiles); a tile is one P_HEADER, one
  row set, and per head in it (``P / d`` heads per full chunk) ``ceil(d / c)``
  COMPs and one READRES. (A head dimension that does not divide ``P``, which the
  artefact never meets, is given ``floor(P / d)`` whole heads per row.)
* **V (context GEMV)**, ``PIMTensor.cc`` (VALUE: ``ceil(E / B)`` rows per ``P``
  tokens) and ``src/operations/NeuPIMSAttend.cc``: per head, ``ceil(L / P)``
  chunks, each one GWRITE of the scores' chunk, then ``ceil(d / B)`` tiles; a tile
  is one P_HEADER, one row set, ``ceil(tokens in chunk / c)`` COMPs and one
  READRES. So V is padded to ``P``-token rows per head: at GPT-3 7B on 4 devices a
  300-token request opens 20 + 32 = 52 row sets for 37.5 row sets of data.

Costs, each from the DRAM timing table of the PIM memory: a GWRITE takes
``(tCCD_S + tCCD_L) x 32`` cycles (NewtonSim's ``gwrite_delay``,
``extern/NewtonSim/src/configuration.cc``) after the row it reads is activated
(``tRCDRD``; the banks' precharge is waited for), as NewtonSim's
``ChannelState::EstimatePIMOperationLatency`` adds for a closed row; a P_HEADER
takes one column-command slot of the DRAM table
(:func:`arch.pim.command_timing.column_slot`: ``tCMD`` on HBM2, ``tCMD_COL`` on HBM3); a tile's activations, COMPs, READRES and
precharge are the row-set timing of :mod:`arch.pim.kernel`. With ``m`` query
rows per KV head (grouped-query attention) every COMP and READRES is issued
``m`` times.

Not captured: the artefact's rounding of a V tile's COMP count to a power of
two in the P_HEADER encoding (the COMPs issued are the exact count, as here);
GWRITEs overlapping the previous tile (dual buffers); softmax and the partial-sum
adds, which run on the NPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

import numpy as np

from arch.pim.command_timing import column_slot
from arch.pim.spec import PimMemorySpec

# extern/NewtonSim/src/configuration.cc: gwrite_delay = (tCCD_S + tCCD_L) * 32
GWRITE_COLUMN_COMMANDS = 32


class GemvSide(str, Enum):
    """Which decode-attention GEMV a PIM op is."""

    SCORE = "score"      # q x K^T: n = KV tokens, k = head dimension
    CONTEXT = "context"  # scores x V: k = KV tokens, n = head dimension


@dataclass(frozen=True)
class AttentionShape:
    """One request's attention GEMV on one device: heads, head dimension, query rows per head."""

    side: GemvSide
    kv_heads: int
    head_dim: int
    query_rows: int


def gwrite_cycles(pim: PimMemorySpec) -> int:
    """DRAM cycles of one GWRITE on a closed row (module docstring)."""
    tc = pim.dram_spec.timing_cycles
    return tc["tRCDRD"] + (tc.get("tCCD_S", tc["tCCD_L"]) + tc["tCCD_L"]) * GWRITE_COLUMN_COMMANDS


def header_cycles(pim: PimMemorySpec) -> int:
    return column_slot(pim.dram_spec)


def request_rows(shape: AttentionShape, kv_tokens: int, pim: PimMemorySpec) -> tuple[list[int], ...]:
    """(MACs, result reads, channel cycles before) per row set of one request (module docstring)."""
    org = pim.dram_spec.organisation
    page = org.page_bytes * 8 // pim.element_bits
    banks, lanes, m, d = org.banks_per_channel, pim.multipliers_per_bank, shape.query_rows, shape.head_dim
    gwrite, header = gwrite_cycles(pim), header_cycles(pim)
    macs, reads, before = [], [], []
    if shape.side is GemvSide.SCORE:
        heads_per_tile = max(1, page // d)
        chunks = -(-shape.kv_heads // heads_per_tile)  # = ceil(E / P) when d divides P, as in the artefact
        for chunk in range(chunks):
            heads = min(heads_per_tile, shape.kv_heads - chunk * heads_per_tile)
            for tile in range(-(-kv_tokens // banks)):
                macs.append(heads * -(-d // lanes) * m)
                reads.append(heads * m)
                before.append(header + (gwrite if tile == 0 else 0))
        return macs, reads, before
    chunks = -(-kv_tokens // page)
    for _head in range(shape.kv_heads):
        for chunk in range(chunks):
            tokens = min(page, kv_tokens - chunk * page)
            for tile in range(-(-d // banks)):
                macs.append(-(-tokens // lanes) * m)
                reads.append(m)
                before.append(header + (gwrite if tile == 0 else 0))
    return macs, reads, before


def channel_rows(shape: AttentionShape, kv_tokens: tuple[int, ...], pim: PimMemorySpec):
    """The row-set arrays of all of a channel's requests, one after another (int64 numpy arrays)."""
    if not len(kv_tokens):
        return tuple(np.zeros(0, dtype=np.int64) for _ in range(3))
    per_request = [_request_arrays(shape, int(length), pim) for length in kv_tokens]
    return tuple(np.concatenate([arrays[i] for arrays in per_request]) for i in range(3))


@lru_cache(maxsize=4096)
def _request_arrays(shape: AttentionShape, kv_tokens: int, pim: PimMemorySpec) -> tuple[np.ndarray, ...]:
    """:func:`request_rows` as read-only int64 arrays, once per (shape, KV length, memory): a batch's
    requests mostly share their lengths."""
    arrays = tuple(np.asarray(x, dtype=np.int64) for x in request_rows(shape, kv_tokens, pim))
    for array in arrays:
        array.setflags(write=False)
    return arrays


def padded_row_sets(shape: AttentionShape, kv_tokens: int, pim: PimMemorySpec) -> tuple[int, float]:
    """(row sets opened, row sets of data) of one request's K or V: the layout's padding."""
    org = pim.dram_spec.organisation
    rows = len(request_rows(shape, kv_tokens, pim)[0])
    data_bits = kv_tokens * shape.kv_heads * shape.head_dim * pim.element_bits
    return rows, data_bits / (org.page_bytes * 8 * org.banks_per_channel)


def data_cells_bits(shape: AttentionShape, kv_tokens: tuple[int, ...], pim: PimMemorySpec) -> int:
    """Bits read from the cells by the channel's COMPs (padding included: every lane of a COMP reads)."""
    macs = sum(int(x) for x in channel_rows(shape, kv_tokens, pim)[0])
    return macs * pim.banks_per_channel * pim.multipliers_per_bank * pim.element_bits


def readout_bursts(shape: AttentionShape, pim: PimMemorySpec) -> int:
    """Bursts one READRES moves: one partial sum per bank."""
    org = pim.dram_spec.organisation
    return max(1, math.ceil(org.banks_per_channel * pim.element_bits / 8 / org.burst_bytes))
