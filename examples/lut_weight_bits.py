"""LUT tensor cores against dequantise-then-GEMM as the weights narrow: a weight-bit sweep.

Runs one decode step of a model on an A100 with LUT tensor cores (the LUT Tensor
Core paper's A100-LUT-4X preset) and on the stock A100 model (which moves the
low-bit weights and computes at the activations' width) for each weight width,
and prints tokens/s, energy per token and the LUT system's speed-up. A bit-serial
LUT core's peak doubles each time the weight width halves, so its lead grows as
the weights narrow.

    python examples/lut_weight_bits.py --bits 1 2 3 4 --batch 256
"""

from __future__ import annotations

import argparse
from typing import Any, Sequence

from simulator import api as xs


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="llama2-7b")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--bits", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--lut", default="a100-lut-4x")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    experiment = xs.load(name="lut-weight-bits",
                         workload={"model": args.model, "phase": "decode", "batch": args.batch, "seq_len": 1024,
                                   "weight_bits": args.bits[0], "act_bits": 8, "kv_bits": 8},
                         systems=[{"name": "lut", "arch": args.lut}, {"name": "dequant", "arch": "a100-80gb"}])
    frame = xs.sweep(experiment, {"workload.weight_bits": args.bits}, workers=args.workers).to_pandas()
    table = frame.pivot_table(index="workload.weight_bits", columns="system", values="tokens_per_s")
    table["lut/dequant"] = table["lut"] / table["dequant"]
    energy = frame.pivot_table(index="workload.weight_bits", columns="system", values="energy_per_token_j")
    table["lut mJ/token"] = energy["lut"] * 1e3
    table["dequant mJ/token"] = energy["dequant"] * 1e3
    print(f"{args.model} decode, batch {args.batch}, int8 activations: tokens/s by weight bits")
    print(table.to_string(float_format=lambda v: f"{v:.3g}"))
    return {"frame": frame, "table": table}


if __name__ == "__main__":
    main()
