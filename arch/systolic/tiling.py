"""DRAM traffic of one GEMM on one systolic core, given its scratchpad capacities.

What it models
--------------
A GEMM (m x k) @ (k x n) -> (m x n) runs on one core whose three scratchpads
(IFMAP for the input, FILTER for the weights, OFMAP for the outputs) are double
buffered: half of each holds the working tile while the other half is filled or
drained. The GEMM is cut into tiles of ``tile_m x tile_k`` inputs,
``tile_k x tile_n`` weights and ``tile_m x tile_n`` outputs, each fitting its half.

The loop nest over tiles keeps the reduction (k) innermost, so each output tile
is accumulated in the OFMAP scratchpad and written to DRAM exactly once (partial
sums are held at the output's bit width). Two orders of the outer loops are
considered:

* ``"n_outer"`` (for n-tiles, for m-tiles, for k-tiles) keeps a weight column
  block resident while the inputs stream past it -- the natural order of the
  weight-stationary dataflow.
* ``"m_outer"`` (for m-tiles, for n-tiles, for k-tiles) keeps an input row block
  resident while the weights stream -- natural for input- and output-stationary.

An operand is read from DRAM once if its tile is never evicted before its last
use, and once per iteration of the other outer loop otherwise:

* n_outer: weights read once if the whole reduction fits (``tiles_k == 1``),
  else once per m-tile; inputs read once if the whole input fits
  (``tiles_m == tiles_k == 1``), else once per n-tile.
* m_outer: the same with inputs and weights exchanged.

Tile choice: every (tile_m, tile_n) with each a power of two below the dimension
or the dimension itself, with tile_k the largest that fits both input and weight
halves, in both loop orders. The plan moving the fewest DRAM bytes wins; among
equals, the one with at least ``pipeline_tiles`` tiles if any has (finer tiles
overlap loads with compute better in a double-buffered pipeline, and here cost
no extra traffic), the fewest tiles beyond that (the largest tiles), then the
dataflow's natural order.
Because the candidate set does not depend on the capacities and the best plan is
a minimum over the candidates that fit, shrinking any scratchpad never lowers
the DRAM bytes, and when all three operands fit whole, the bytes are the
compulsory ones (each operand read once, the output written once).

How faithful
------------
The traffic is exact for this loop nest; real compilers also consider k-outer
orders (spilling partial sums), non-power-of-two tiles and cross-op reuse
(an output kept in SRAM for the next op), which this does not. It does not
change the array's compute cycles, which stay SCALE-Sim's fold-order timing
(:mod:`arch.systolic.kernel`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

LOOP_ORDERS = ("n_outer", "m_outer")
NATURAL_ORDER = {"ws": "n_outer", "os": "m_outer", "is": "m_outer"}


class TileDoesNotFitError(ValueError):
    """A scratchpad is too small to hold even one element of its operand."""


@dataclass(frozen=True)
class TilePlan:
    """A tiling of one GEMM instance and the DRAM traffic it causes."""

    tile_m: int
    tile_n: int
    tile_k: int
    loop_order: str
    tiles_m: int
    tiles_n: int
    tiles_k: int
    input_reads: int          # times the whole input is read from DRAM
    weight_reads: int         # times the whole weight matrix is read from DRAM
    input_read_bytes: int
    weight_read_bytes: int
    output_write_bytes: int
    compulsory_bytes: int     # each operand read once, output written once

    @property
    def tiles(self) -> int:
        return self.tiles_m * self.tiles_n * self.tiles_k

    @property
    def read_bytes(self) -> int:
        return self.input_read_bytes + self.weight_read_bytes

    @property
    def dram_bytes(self) -> int:
        return self.read_bytes + self.output_write_bytes


def bytes_of(elements: int, bits: float) -> int:
    """Bytes of ``elements`` values of ``bits`` each, rounded up to whole bytes."""
    return -(-int(round(elements * bits)) // 8)


def plan_gemm(m: int, n: int, k: int, input_bits: float, weight_bits: float, output_bits: float,
              ifmap_sram_bytes: int, filter_sram_bytes: int, ofmap_sram_bytes: int,
              dataflow: str = "ws", pipeline_tiles: int = 64) -> TilePlan:
    """The least-traffic tiling of (m x k) @ (k x n); see the module docstring.

    Capacities are whole double-buffered scratchpads in bytes (half holds the
    working tile). Raises :class:`TileDoesNotFitError` naming the scratchpad when
    no tile fits.
    """
    if dataflow not in NATURAL_ORDER:
        raise ValueError(f"dataflow must be one of {sorted(NATURAL_ORDER)}, got {dataflow!r}")
    _check_fits(input_bits, weight_bits, output_bits, ifmap_sram_bytes, filter_sram_bytes, ofmap_sram_bytes)
    return _plan(m, n, k, float(input_bits), float(weight_bits), float(output_bits),
                 ifmap_sram_bytes * 4, filter_sram_bytes * 4, ofmap_sram_bytes * 4,  # half, in bits
                 NATURAL_ORDER[dataflow], pipeline_tiles)


def _check_fits(input_bits, weight_bits, output_bits, ifmap_bytes, filter_bytes, ofmap_bytes) -> None:
    for name, capacity_bytes, bits in (("ifmap_sram_bytes", ifmap_bytes, input_bits),
                                       ("filter_sram_bytes", filter_bytes, weight_bits),
                                       ("ofmap_sram_bytes", ofmap_bytes, output_bits)):
        if capacity_bytes * 4 < bits:  # half the scratchpad, in bits
            raise TileDoesNotFitError(
                f"{name}: half of {capacity_bytes} bytes cannot hold one {bits:g}-bit element")


@lru_cache(maxsize=65536)
def _plan(m, n, k, input_bits, weight_bits, output_bits, ifmap_half_bits, filter_half_bits,
          ofmap_half_bits, natural_order, pipeline_tiles) -> TilePlan:
    operand_bytes = (bytes_of(m * k, input_bits), bytes_of(k * n, weight_bits), bytes_of(m * n, output_bits))
    input_bytes, weight_bytes = operand_bytes[0], operand_bytes[1]
    n_tiles = [(tile_n, -(-n // tile_n)) for tile_n in _candidates(n)]
    best, best_key = None, None
    for tile_m in _candidates(m):
        tiles_m, k_of_input = -(-m // tile_m), int(ifmap_half_bits // (tile_m * input_bits))
        for tile_n, tiles_n in n_tiles:  # tile_n grows: the output tile only grows, tile_k only shrinks
            if tile_m * tile_n * output_bits > ofmap_half_bits:
                break
            tile_k = min(k, k_of_input, int(filter_half_bits // (tile_n * weight_bits)))
            if tile_k < 1:
                break
            tiles_k = -(-k // tile_k)
            tiles = tiles_m * tiles_n * tiles_k
            for order in LOOP_ORDERS:  # _reads, unrolled
                if order == "n_outer":
                    input_reads = 1 if tiles_m == 1 and tiles_k == 1 else tiles_n
                    weight_reads = 1 if tiles_k == 1 else tiles_m
                else:
                    input_reads = 1 if tiles_k == 1 else tiles_n
                    weight_reads = 1 if tiles_n == 1 and tiles_k == 1 else tiles_m
                moved = input_reads * input_bytes + weight_reads * weight_bytes
                if best_key is not None and moved > best_key[0]:
                    continue
                key = (moved, -min(tiles, pipeline_tiles), tiles, order != natural_order)
                if best_key is None or key < best_key:
                    best, best_key = (tile_m, tile_n, tile_k, order, (tiles_m, tiles_n, tiles_k)), key
    if best is None:
        raise TileDoesNotFitError(
            f"no tile of a {m}x{n}x{k} GEMM fits the scratchpads (ifmap_sram_bytes, "
            f"filter_sram_bytes, ofmap_sram_bytes too small)")
    return _tile_plan(*best, operand_bytes)


def _candidates(dim: int) -> list[int]:
    """Powers of two below ``dim``, then ``dim`` itself."""
    sizes, size = [], 1
    while size < dim:
        sizes.append(size)
        size *= 2
    return sizes + [dim]


def _reads(order: str, tiles_m: int, tiles_n: int, tiles_k: int) -> tuple[int, int]:
    """(input reads, weight reads) of the whole operands under ``order``."""
    if order == "n_outer":
        return (1 if tiles_m == tiles_k == 1 else tiles_n), (1 if tiles_k == 1 else tiles_m)
    return (1 if tiles_k == 1 else tiles_n), (1 if tiles_n == tiles_k == 1 else tiles_m)


def _tile_plan(tile_m, tile_n, tile_k, order, tile_counts, operand_bytes) -> TilePlan:
    input_reads, weight_reads = _reads(order, *tile_counts)
    input_bytes, weight_bytes, output_bytes = operand_bytes
    return TilePlan(tile_m, tile_n, tile_k, order, *tile_counts, input_reads, weight_reads,
                    input_reads * input_bytes, weight_reads * weight_bytes, output_bytes,
                    input_bytes + weight_bytes + output_bytes)
