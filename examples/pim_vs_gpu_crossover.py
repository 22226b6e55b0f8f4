"""At which batch does a PIM system overtake a GPU on LLM decode? A sweep over batch sizes.

NeuPIMs (an NPU with dual-row-buffer HBM-PIM) against an A100 on one decode step of
a model, tokens/s at each batch; the crossover is the first batch at which PIM is at
least as fast, among batches where both systems run and the step's weights and KV
cache fit their memories (a run with a capacity warning is left out). The figures
are the simulator's models: see each system's notes in ``xpusim run`` reports.

    python examples/pim_vs_gpu_crossover.py --batches 1 4 16 32 64 96 --workers 2
"""

from __future__ import annotations

import argparse
from typing import Any, Sequence

from simulator import api as xs


def crossover(table: "Any", pim: str, gpu: str) -> int | None:
    """The first batch (rows of ``table``, in order) where ``pim``'s tokens/s reach ``gpu``'s."""
    faster = table[table[pim] >= table[gpu]]
    return int(faster.index[0]) if len(faster) else None


def _ran_and_fits(rows: "Any") -> "Any":
    """Rows of systems that ran without a warning (such as weights + KV cache exceeding the memory)."""
    keep = rows["system"].notna()
    for column in ("error", "warnings", "capacity"):
        if column in rows:
            keep &= rows[column].isna()
    return keep & (rows["fits"] != False) if "fits" in rows else keep  # noqa: E712 (a column, not a bool)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="llama2-7b")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 4, 16, 32, 64, 96])
    parser.add_argument("--seq-len", type=int, default=1024, help="KV length of every request")
    parser.add_argument("--bits", type=int, default=8, help="weight and KV-cache bits (8 lets batch 96 fit 32 GiB)")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    experiment = xs.load(
        name="pim-vs-gpu",
        workload={"model": args.model, "phase": "decode", "batch": args.batches[0], "seq_len": args.seq_len,
                  "weight_bits": args.bits, "kv_bits": args.bits},
        systems=[{"name": "neupims", "arch": "neupims"}, {"name": "a100", "arch": "a100-80gb"}],
    )
    rows = xs.sweep(experiment, {"workload.batch": args.batches}, workers=args.workers).to_pandas()
    table = rows[_ran_and_fits(rows)].pivot(index="workload.batch", columns="system", values="tokens_per_s").dropna()
    table["pim/gpu"] = table["neupims"] / table["a100"]
    batch = crossover(table, "neupims", "a100")
    print(f"{args.model} decode, {args.seq_len} tokens of KV, {args.bits}-bit weights and KV: tokens/s")
    print(table.round(3).to_string())
    left_out = sorted(set(args.batches) - set(table.index))
    if left_out:
        print(f"left out (a system does not fit or could not run): batches {left_out}")
    print(f"crossover: NeuPIMs reaches the A100 at batch {batch}" if batch is not None
          else "no crossover in this range of batches")
    return {"table": table, "crossover": batch, "left_out": left_out}


if __name__ == "__main__":
    main()
