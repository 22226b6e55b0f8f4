"""Print how long building a decode-step workload takes (target: well under 100 ms).

Times :func:`workloads.layers.build_decoder_layer` for Llama-2-70B decode at batch
256 with 1024 tokens in the KV cache: one decoder layer's ops and edges, validated
as a DAG, repeated 80 times. Also times loading the preset from its YAML file
(uncached) and from the in-process cache.

Usage: ``python benchmarks/workload_build_speed.py [--repeats N]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

from workloads import models
from workloads.layers import build_decoder_layer

MODEL, BATCH, SEQ_LEN = "llama2-70b", 256, 1024
TARGET_MS = 100.0


def _time_ms(function, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()

    models._load_preset.cache_clear()
    cold_load_ms = _time_ms(lambda: models.load_model(MODEL), 1)[0]
    config = models.load_model(MODEL)
    build = lambda: build_decoder_layer(config, "decode", batch=BATCH, seq_len=SEQ_LEN)  # noqa: E731
    first_ms = _time_ms(build, 1)[0]
    times = _time_ms(build, args.repeats)
    workload = build()

    print(f"{MODEL} decode, batch {BATCH}, seq_len {SEQ_LEN}: {len(workload.ops)} ops, "
          f"{len(workload.edges)} edges, repeat {workload.repeat}, "
          f"{workload.total_flops / 1e12:.2f} TFLOP per step")
    print(f"load preset (YAML, uncached): {cold_load_ms:.3f} ms")
    print(f"build: first {first_ms:.3f} ms, median {statistics.median(times):.3f} ms, "
          f"max {max(times):.3f} ms over {args.repeats} runs (target < {TARGET_MS:.0f} ms)")


if __name__ == "__main__":
    main()
