"""Mapping time against the number of unit instances (contract v2: no worse than linear-log).

Maps one Llama-2-7B decode layer (batch 64, 1024 tokens of KV cache) onto the
``tpuv4-like`` systolic preset with its core count set to 16, 256, 1,024 and
4,096, so every GEMM and vector op may be split over that many instances, and
times ``map_workload`` (the placement, the split search over every part count,
the costs of the distinct part shapes and the list scheduler). The cost caches
of the systolic kernel are warmed by one untimed run per size. Printed: tasks,
seconds, seconds per task, and the growth exponent between successive sizes
(1 = linear; linear-log stays close to 1).

Usage: ``python benchmarks/mapping_scale.py``
"""

from __future__ import annotations

import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from arch import registry  # noqa: E402
from mappers.schedule import map_workload  # noqa: E402
from workloads.layers import build_decoder_layer  # noqa: E402
from workloads.models import load_model  # noqa: E402

SIZES = (16, 256, 1024, 4096)


def main() -> None:
    layer = build_decoder_layer(load_model("llama2-7b"), "decode", batch=64, seq_len=1024)
    print(f"{'instances':>9} {'tasks':>8} {'map s':>8} {'us/task':>8} {'exponent':>8}")
    previous = None
    for cores in SIZES:
        accel = registry.build({**registry.preset_spec("tpuv4-like"), "cores": cores})
        map_workload(layer, accel)  # warm the kernel caches
        start = time.perf_counter()
        schedule = map_workload(layer, accel)
        seconds = time.perf_counter() - start
        exponent = "" if previous is None else f"{math.log(seconds / previous[1]) / math.log(cores / previous[0]):.2f}"
        print(f"{cores:>9} {len(schedule.tasks):>8} {seconds:>8.3f} {1e6 * seconds / len(schedule.tasks):>8.1f} "
              f"{exponent:>8}")
        previous = (cores, seconds)


if __name__ == "__main__":
    main()
