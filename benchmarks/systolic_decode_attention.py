"""Decode attention on the systolic presets: the fraction of HBM bandwidth it reaches, instances separate vs streamed.

Usage: ``python benchmarks/systolic_decode_attention.py``

One Llama-2-7B decode layer (batch 32, 1024 cached tokens, 16-bit operands: the
quickstart's workload) on each pipelined systolic preset, run twice through the
engine: ``instance_timing: separate`` (each request-head GEMM pays its own fill
and drain) and ``streamed`` (one fill and drain per batch of instances on a
core). Per attention GEMM (``attn_score``, ``attn_context``) it prints

* ``HBM``: the achieved fraction of the HBM bandwidth, the op's DRAM bytes over
  (its span from the first part's start to the last part's end x bytes per
  cycle), computed from the simulated timeline;
* ``array``: the same fraction if the HBM were never the limit, the op's bytes
  over bandwidth divided by the slowest part's stall-free compute cycles
  (the array's weight shift-in and fill/drain bound, from the cost model);
* ``span``: the op's simulated cycles.

The streamed fraction can exceed neither 1 nor the ``array`` ceiling: a
weight-stationary array takes a new rows x cols tile at most every ``rows``
cycles (one row shifts in per cycle), and a partial last fold (1025 positions
on 128 columns) costs a whole tile. The lead re-measures nothing here: every
figure is cycles, not wall time.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator.experiment import parse_text  # noqa: E402
from simulator.run import run_experiment  # noqa: E402

PRESETS = ("tpuv4-like", "tpu7x-like", "neupims-npu")
ATTENTION_OPS = ("attn_score", "attn_context")
EXPERIMENT = """\
name: decode-attention
seed: 0
workload: {{model: llama2-7b, phase: decode, batch: {batch}, seq_len: {seq_len},
           weight_bits: 16, act_bits: 16, kv_bits: 16}}
systems:
  - {{name: separate, arch: {preset}, set: {{instance_timing: separate}}}}
  - {{name: streamed, arch: {preset}, set: {{instance_timing: streamed}}}}
"""


def attention_fractions(system) -> dict[str, dict[str, float]]:
    """Per attention op of one system's result: achieved HBM fraction, array-bound ceiling, span cycles."""
    bytes_per_cycle = system.memories["dram"]["bandwidth_bytes_per_s"] / system.clock_hz
    out = {}
    for name in ATTENTION_OPS:
        parts = [op for op in system.ops if op.name.split("#")[0] == name]
        span = max(op.end_cycle for op in parts) - min(op.start_cycle for op in parts)
        moved = sum(op.read_bytes + op.write_bytes for op in parts)
        memory_cycles = moved / bytes_per_cycle
        out[name] = {"hbm": memory_cycles / span, "array": min(1.0, memory_cycles / max(op.compute_cycles for op in parts)),
                     "span": span}
    return out


def measure(preset: str, batch: int = 32, seq_len: int = 1024) -> dict[str, dict[str, dict[str, float]]]:
    """{instance_timing: {op: fractions}} for ``preset``."""
    result = run_experiment(parse_text(EXPERIMENT.format(preset=preset, batch=batch, seq_len=seq_len)))
    if result.failures:
        raise RuntimeError(result.failures[0].message)
    return {system.name: attention_fractions(system) for system in result.systems}


def main() -> int:
    print("Llama-2-7B decode layer, batch 32, 1024 cached tokens: attention GEMMs' share of HBM bandwidth")
    print(f"{'preset':<13}{'op':<14}{'separate HBM':>13}{'array':>7}{'span':>10}"
          f"{'streamed HBM':>14}{'array':>7}{'span':>10}{'speed-up':>10}")
    for preset in PRESETS:
        runs = measure(preset)
        for name in ATTENTION_OPS:
            old, new = runs["separate"][name], runs["streamed"][name]
            print(f"{preset:<13}{name:<14}{old['hbm']:>12.1%}{old['array']:>8.1%}{old['span']:>10.0f}"
                  f"{new['hbm']:>13.1%}{new['array']:>8.1%}{new['span']:>10.0f}{old['span'] / new['span']:>9.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
