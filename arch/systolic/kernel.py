"""Stall-free compute cycles and SRAM access counts of one GEMM on a systolic array.

What it models
--------------
A GEMM (m x k) @ (k x n) -> (m x n) on one `rows x cols` systolic array with the
output-stationary ("os"), weight-stationary ("ws") or input-stationary ("is")
dataflow, exactly as SCALE-Sim 3.0.0 times it when memory never stalls: the
result equals SCALE-Sim's "Total Cycles" minus "Stall Cycles" (COMPUTE_REPORT),
and its SRAM read/write counts equal the "SRAM ... Reads/Writes" columns of
DETAILED_ACCESS_REPORT. `tests/data/scalesim_golden.json` holds the checked cases.

How SCALE-Sim arrives at these numbers (file references are to the scalesim 3.0.0
package)
-----------------------------------------------------------------------------------
GEMM operands (topology_utils.py, `load_arrays_gemm`; compute/operand_matrix.py):
the input (ifmap) is m x k, the filter k x n, the output (ofmap) m x n.

Each dataflow maps two GEMM dimensions onto space and streams the third in time
(the `Sr`, `Sc`, `T` of each compute class's `set_params`):

=========  =====================  =====================  =====================
dataflow   S_row (array rows)     S_col (array columns)  T (streamed in time)
=========  =====================  =====================  =====================
os         m                      n                      k
ws         k                      n                      m
is         k                      m                      n
=========  =====================  =====================  =====================

  row_folds = ceil(S_row / rows),  col_folds = ceil(S_col / cols),
  folds     = row_folds * col_folds (every fold pads to a full rows x cols tile).

Every fold contributes the same number of lines (one line = one cycle) to the
demand matrices, whatever the tile's occupancy:

* os (compute/systolic_compute_os.py, `create_ifmap_demand_mat`): T operand lines,
  then `arr_col - 1` null lines for the outputs to drain, then `skew_matrix` adds
  `arr_row - 1` lines of pipeline fill:  T + rows + cols - 2.
* ws (compute/systolic_compute_ws.py, `create_ifmap_demand_mat`): `arr_row` null
  lines while the weights load, T input lines, `arr_col - 1` drain lines, and
  `arr_row - 1` lines of skew:  T + 2*rows + cols - 2.
* is (compute/systolic_compute_is.py, `create_filter_demand_mat`): the same shape
  with the inputs stationary and the filter streamed:  T + 2*rows + cols - 2.

The memory model (memory/double_buffered_scratchpad_mem.py,
`service_memory_requests`) walks the demand lines one per cycle and reports
`total_cycles = max(ofmap serviced cycle)`, the 0-based index of the last line
plus any stalls. Hence, stall-free:

  compute_cycles = folds * (T + fill_drain_cycles) - 1,
  fill_drain_cycles = rows + cols - 2 (os),  2*rows + cols - 2 (ws, is).

The "- 1" is SCALE-Sim's convention (the index of the last cycle, not a count),
kept so the numbers match. It is absorbed by fill and drain on every array except
a single PE (1 x 1) with os, where fill_drain_cycles is 0: there the result is one
cycle below the MAC count, 0 for a single MAC (SCALE-Sim then divides by zero in
its utilisation), and `SystolicGemmCost.utilisation` can exceed 1 as SCALE-Sim's
"Overall Util %" exceeds 100.

SRAM access counts (the `*_reads` / `*_writes` counters of the same compute
classes, reported by single_layer_sim.py) count operand words fetched or written,
null padding excluded, with one extra term for os noted below. The stationary
operand is touched once per tile; each streamed operand is re-read (or, for the
output, re-written as a partial sum) once per fold of the other spatial dimension:

  stationary      = S_row * S_col
  row_streamed    = col_folds * S_row * T   (enters along the rows)
  column_streamed = row_folds * S_col * T   (enters or leaves along the columns)

  os: ifmap = row_streamed, filter = column_streamed,
      ofmap = stationary + folds * (rows + cols)
  ws: ifmap = row_streamed, filter = stationary, ofmap = column_streamed
  is: ifmap = stationary, filter = row_streamed, ofmap = column_streamed

The `folds * (rows + cols)` term of os reproduces `create_ofmap_demand_mat`, which
adds the padded tile's height plus width to `ofmap_writes` for every fold.

Pipelined fold timing (``fold_timing_code = 1``, not SCALE-Sim)
--------------------------------------------------------------
Real weight-stationary arrays hold two weight registers per PE: the next tile's
weights shift in while the current tile computes, and the switch travels with
the input wavefront (TPUv1: Jouppi et al., "In-Datacenter Performance Analysis
of a Tensor Processing Unit", ISCA 2017, Section 2: weights are double-buffered
so that shifting in the next tile hides behind the current one). Successive
folds then stream back to back; a fold only waits when its stationary tile
takes longer to exchange than the previous fold's stream:

  compute_cycles = (folds - 1) * max(T, exchange_cycles) + T + fill_drain_cycles - 1,
  exchange_cycles = rows (ws: weights, is: inputs shift in one row a cycle),
                    cols - 1 (os: finished outputs shift out).

One fill and drain is paid per op, and the first tile's load is part of it.
Since exchange_cycles <= fill_drain_cycles, this never exceeds the SCALE-Sim
timing, and a single fold (folds = 1) takes exactly SCALE-Sim's cycles. SRAM
access counts do not depend on the fold timing.

Instances (``instances``, ``instance_timing_code``, not SCALE-Sim)
------------------------------------------------------------------
An op of ``instances`` independent GEMMs of one shape (decode attention: one
per request and KV head) runs them one after another on the array. With
``instance_timing_code = 0`` ("separate") each instance is timed on its own and
pays its own fill and drain:

  compute_cycles = instances * cycles_of_one_instance.

With ``instance_timing_code = 1`` ("streamed") and pipelined folds, the next
instance's first stationary tile shifts in while the current instance's last
fold streams, exactly as between two folds of one GEMM, so the instances' folds
form one chain with one fill and drain per batch of instances (ONNXim's WS core
issues each tile's weight preload ``core_height`` cycles after the previous
instruction, whichever GEMM it belongs to: PSAL-POSTECH/ONNXim
src/SystolicWS.cc):

  compute_cycles = (instances * folds - 1) * max(T, exchange_cycles)
                   + T + fill_drain_cycles - 1.

Under SCALE-Sim fold timing every fold pays its fill and drain anyway, so
there the two instance timings are equal (separate). SRAM access counts are
those of one instance times ``instances`` in every mode.

What it does not capture
------------------------
Memory stalls (SRAM/DRAM bandwidth), SRAM capacity and double-buffer prefetch
(SCALE-Sim's "Total Cycles (incl. prefetch)"), sparsity, multiple cores or arrays,
and the mapping of a layer onto tiles beyond SCALE-Sim's fixed fold order. Those
are modelled elsewhere (the shared SRAM/DRAM sub-models, the mappers, the SimPy
engine).
"""

from __future__ import annotations

import dataclasses
import numbers

from numba import njit

DATAFLOW_CODE = {"os": 0, "ws": 1, "is": 2}
FOLD_TIMING_CODE = {"scalesim": 0, "pipelined": 1}
INSTANCE_TIMING_CODE = {"separate": 0, "streamed": 1}


@njit(cache=True)
def gemm_kernel(m, n, k, rows, cols, dataflow_code, fold_timing_code=0, instances=1, instance_timing_code=0):
    """Return (compute_cycles, row_folds, col_folds, ifmap_sram_reads,
    filter_sram_reads, ofmap_sram_writes) for ``instances`` GEMMs of one shape,
    run one after another on one systolic array (folds are those of one instance).

    Arguments are positive ints, already validated; `dataflow_code` is a value of
    DATAFLOW_CODE, `fold_timing_code` one of FOLD_TIMING_CODE (0 = SCALE-Sim,
    1 = pipelined), `instance_timing_code` one of INSTANCE_TIMING_CODE
    (0 = separate, 1 = streamed). See the module docstring for the derivation.
    """
    if dataflow_code == 0:  # os
        s_row, s_col, t = m, n, k
        fill_drain_cycles = rows + cols - 2
        exchange_cycles = cols - 1  # the finished outputs shift out
    elif dataflow_code == 1:  # ws
        s_row, s_col, t = k, n, m
        fill_drain_cycles = 2 * rows + cols - 2
        exchange_cycles = rows  # the next weight tile shifts in, one row a cycle
    elif dataflow_code == 2:  # is
        s_row, s_col, t = k, m, n
        fill_drain_cycles = 2 * rows + cols - 2
        exchange_cycles = rows  # the next input tile shifts in
    else:
        raise ValueError("dataflow_code must be 0 (os), 1 (ws) or 2 (is)")
    row_folds = (s_row + rows - 1) // rows
    col_folds = (s_col + cols - 1) // cols
    folds = row_folds * col_folds
    if instance_timing_code != 0 and instance_timing_code != 1:
        raise ValueError("instance_timing_code must be 0 (separate) or 1 (streamed)")
    chains, chain_folds = instances, folds  # fold chains, each with one fill and drain
    if fold_timing_code == 1 and instance_timing_code == 1:
        chains, chain_folds = 1, instances * folds
    if fold_timing_code == 0:
        compute_cycles = chains * (chain_folds * (t + fill_drain_cycles) - 1)
    elif fold_timing_code == 1:
        compute_cycles = chains * ((chain_folds - 1) * max(t, exchange_cycles) + t + fill_drain_cycles - 1)
    else:
        raise ValueError("fold_timing_code must be 0 (scalesim) or 1 (pipelined)")

    stationary = s_row * s_col
    row_streamed = col_folds * s_row * t
    column_streamed = row_folds * s_col * t
    if dataflow_code == 0:
        reads_writes = (row_streamed, column_streamed, stationary + folds * (rows + cols))
    elif dataflow_code == 1:
        reads_writes = (row_streamed, stationary, column_streamed)
    else:
        reads_writes = (stationary, row_streamed, column_streamed)
    return (compute_cycles, row_folds, col_folds,
            instances * reads_writes[0], instances * reads_writes[1], instances * reads_writes[2])


# The plain-Python twin: the same function body, run by the interpreter.
gemm_kernel_py = gemm_kernel.py_func


@dataclasses.dataclass(frozen=True)
class SystolicGemmCost:
    """Stall-free cost of one GEMM on one systolic array (SCALE-Sim 3.0.0 semantics)."""

    compute_cycles: int
    row_folds: int
    col_folds: int
    ifmap_sram_reads: int
    filter_sram_reads: int
    ofmap_sram_writes: int
    macs: int
    pe_count: int

    @property
    def utilisation(self) -> float:
        """MACs over PE-cycles; SCALE-Sim's "Overall Util %" / 100 when stall-free.

        A zero-cycle result (one MAC on a 1 x 1 os array) counts as one cycle.
        """
        return self.macs / (max(self.compute_cycles, 1) * self.pe_count)


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _dataflow_code(dataflow) -> int:
    if not isinstance(dataflow, str) or dataflow not in DATAFLOW_CODE:
        raise ValueError(f"dataflow must be one of {sorted(DATAFLOW_CODE)}, got {dataflow!r}")
    return DATAFLOW_CODE[dataflow]


def gemm_compute(m: int, n: int, k: int, rows: int, cols: int, dataflow: str, fold_timing: str = "scalesim",
                 instances: int = 1, instance_timing: str = "separate") -> SystolicGemmCost:
    """Validate the arguments and return the stall-free cost of ``instances`` x (m x k) @ (k x n).

    m: rows of input and output (tokens); n: output features; k: reduction;
    rows, cols: array size in PEs; dataflow: "os", "ws" or "is"; fold_timing:
    "scalesim" or "pipelined"; instances: GEMMs of this shape run one after
    another; instance_timing: "separate" or "streamed" (module docstring).
    Raises ValueError naming the first bad argument.
    """
    dims = {name: _check_positive_int(name, value) for name, value in
            (("m", m), ("n", n), ("k", k), ("rows", rows), ("cols", cols), ("instances", instances))}
    code = _dataflow_code(dataflow)
    if fold_timing not in FOLD_TIMING_CODE:
        raise ValueError(f"fold_timing must be one of {sorted(FOLD_TIMING_CODE)}, got {fold_timing!r}")
    if instance_timing not in INSTANCE_TIMING_CODE:
        raise ValueError(f"instance_timing must be one of {sorted(INSTANCE_TIMING_CODE)}, got {instance_timing!r}")
    counts = gemm_kernel(dims["m"], dims["n"], dims["k"], dims["rows"], dims["cols"], code,
                         FOLD_TIMING_CODE[fold_timing], dims["instances"], INSTANCE_TIMING_CODE[instance_timing])
    return SystolicGemmCost(*counts, macs=dims["instances"] * dims["m"] * dims["n"] * dims["k"],
                            pe_count=dims["rows"] * dims["cols"])
