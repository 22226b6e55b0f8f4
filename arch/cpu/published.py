"""Published T-MAC and llama.cpp token rates the CPU model is checked against (not used by the model).

``TMAC_PROFILING``: ``microsoft/T-MAC`` ``docs/profiling_data.md`` (HEAD 7042f8f), token
generation in tokens/s with ``NUM_THREADS`` threads, llama.cpp (CPU) against T-MAC (CPU).
Llama-2-7B W2 / W4 are T-MAC's 2-bit and 4-bit models against llama.cpp's Q2_K and Q4_0;
BitNet-3B runs as 2-bit weights in T-MAC and as Q2_K in llama.cpp
(``../shared/LUT_AND_WAFER.md`` §1.2). ``TMAC_EARLY_THREADS``: the same README at
commit 5b1c357 (an earlier llama.cpp and T-MAC version, pitfall L15), Llama-2-7B W4 on
M2-Ultra at 1/2/4/8 threads.
"""

from __future__ import annotations

from typing import NamedTuple


class TokenRow(NamedTuple):
    model: str          # "bitnet-3b", "llama2-7b-w2", "llama2-7b-w4"
    device: str         # preset name
    threads: int
    llama_cpp: float    # tokens/s
    tmac: float         # tokens/s


DEVICES = ("m2-ultra", "jetson-agx-orin", "raspberry-pi-5", "surface-book-3")

_TABLE = {  # device: {model: ((threads, llama.cpp, T-MAC), ...)}
    "m2-ultra": {"bitnet-3b": ((1, 6.49, 22.08), (4, 22.09, 54.46)),
                 "llama2-7b-w2": ((1, 3.82, 16.68), (8, 22.06, 51.01)),
                 "llama2-7b-w4": ((1, 5.65, 8.97), (8, 31.57, 35.65))},
    "jetson-agx-orin": {"bitnet-3b": ((1, 1.62, 8.18), (12, 12.34, 26.02)),
                        "llama2-7b-w2": ((1, 0.79, 4.36), (12, 7.08, 15.62)),
                        "llama2-7b-w4": ((1, 1.04, 2.46), (12, 7.42, 8.09))},
    "raspberry-pi-5": {"bitnet-3b": ((1, 1.37, 8.03), (2, 2.71, 11.09)),
                       "llama2-7b-w2": ((1, 0.66, 4.40), (2, 1.31, 5.92)),
                       "llama2-7b-w4": ((1, 0.85, 2.42), (2, 1.63, 3.35))},
    "surface-book-3": {"bitnet-3b": ((1, 5.65, 12.65), (4, 14.85, 28.60)),
                       "llama2-7b-w2": ((1, 2.70, 6.77), (4, 7.50, 16.82)),
                       "llama2-7b-w4": ((1, 2.50, 3.74), (4, 6.52, 9.34))},
}

TMAC_PROFILING: tuple[TokenRow, ...] = tuple(
    TokenRow(model, device, threads, llama, tmac)
    for device, models in _TABLE.items() for model, rows in models.items() for threads, llama, tmac in rows)

# The rows the achievable-bandwidth curve of each device preset is fitted on
# (arch/cpu/calibration.py): T-MAC's 4-bit Llama-2-7B at 1 thread and at the most threads.
FIT_MODEL = "llama2-7b-w4"

# README at 5b1c357: Llama-2-7B W4 on M2-Ultra, threads -> (T-MAC, llama.cpp) tokens/s.
TMAC_EARLY_THREADS = {1: (7.01, 5.63), 2: (13.16, 10.23), 4: (23.42, 19.73), 8: (35.12, 31.75)}


def row(device: str, model: str, threads: int) -> TokenRow:
    for r in TMAC_PROFILING:
        if (r.device, r.model, r.threads) == (device, model, threads):
            return r
    raise KeyError(f"no published row for {device} {model} {threads} threads")


def thread_counts(device: str) -> tuple[int, ...]:
    return tuple(sorted({r.threads for r in TMAC_PROFILING if r.device == device}))

# README "Compared to CUDA GPU": Jetson AGX Orin, Llama-2-7B W2, 12 threads for the CPU:
# framework -> (tokens/s, power W, energy J/token) as published.
ORIN_POWER = {"llama.cpp (CPU)": (7.08, 15.0, 2.12), "llama.cpp (GPU)": (20.03, 30.8, 1.54),
              "T-MAC (CPU)": (15.62, 10.4, 0.66)}
# T-MAC EuroSys'25 abstract (../shared/PAPERS.md): BitNet b1.58 3B on M2-Ultra, one core.
PAPER_BITNET_M2_1T = 30.0
