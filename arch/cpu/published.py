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

# The rows each device preset is fitted on (arch/cpu/calibration.py): T-MAC's 4-bit
# Llama-2-7B at 1 thread and at the most threads (bandwidth), and its 2-bit Llama-2-7B at
# the most threads (with the 4-bit row there: bandwidth and per-op synchronisation).
FIT_MODEL = "llama2-7b-w4"
SYNC_FIT_MODEL = "llama2-7b-w2"

# README at 5b1c357: Llama-2-7B W4 on M2-Ultra, threads -> (T-MAC, llama.cpp) tokens/s.
TMAC_EARLY_THREADS = {1: (7.01, 5.63), 2: (13.16, 10.23), 4: (23.42, 19.73), 8: (35.12, 31.75)}


def row(device: str, model: str, threads: int) -> TokenRow:
    for r in TMAC_PROFILING:
        if (r.device, r.model, r.threads) == (device, model, threads):
            return r
    raise KeyError(f"no published row for {device} {model} {threads} threads")


def thread_counts(device: str, model: str | None = None) -> tuple[int, ...]:
    """Thread counts of ``device``'s published rows (of ``model`` if given), ascending."""
    return tuple(sorted({r.threads for r in TMAC_PROFILING
                         if r.device == device and (model is None or r.model == model)}))


def is_fitted(r: TokenRow) -> bool:
    """Whether a row's T-MAC rate is one the device preset was fitted on (``FIT_MODEL``, ``SYNC_FIT_MODEL``)."""
    most = thread_counts(r.device, r.model)[-1]
    return r.model == FIT_MODEL or (r.model == SYNC_FIT_MODEL and r.threads == most)


def is_llama_cpp_fitted(r: TokenRow) -> bool:
    """Whether a row's llama.cpp rate is one the preset's issue efficiency was fitted on (Llama-2-7B, 1 thread)."""
    return r.threads == 1 and r.model in (FIT_MODEL, SYNC_FIT_MODEL)

# README "Compared to CUDA GPU": Jetson AGX Orin, Llama-2-7B W2, 12 threads for the CPU:
# framework -> (tokens/s, power W, energy J/token) as published.
ORIN_POWER = {"llama.cpp (CPU)": (7.08, 15.0, 2.12), "llama.cpp (GPU)": (20.03, 30.8, 1.54),
              "T-MAC (CPU)": (15.62, 10.4, 0.66)}
# T-MAC EuroSys'25 abstract (../shared/PAPERS.md): BitNet b1.58 3B on M2-Ultra, one core.
PAPER_BITNET_M2_1T = 30.0

# T-MAC's thread curves behind its README figure "e2e_threads" (microsoft/T-MAC @7042f8f,
# assets/e2e_threads.zip: one CSV per device, model and framework, mean tokens/s at 1, 2, ...
# threads). An earlier run than docs/profiling_data.md (its absolute rates differ by 10-25 %),
# so only the shape, tokens/s at t threads over tokens/s at one, is compared (not a claim).
# (device, model, "tmac" | "llama.cpp") -> tokens/s at 1, 2, 3, ... threads.
TMAC_E2E_THREADS = {
    ("jetson-agx-orin", "bitnet-3b", "llama.cpp"): (1.25, 2.45, 3.32, 4.31, 5.24, 6.26, 6.85, 7.36, 8.65, 9.93, 9.76, 10.6),
    ("jetson-agx-orin", "bitnet-3b", "tmac"): (6.49, 11.81, 14.65, 16.97, 19.36, 20.65, 20.25, 22.02, 21.89, 23.08, 22.82,
                                              22.77),
    ("jetson-agx-orin", "llama2-7b-w2", "llama.cpp"): (0.63, 1.25, 1.78, 2.32, 2.85, 3.31, 3.8, 4.23, 4.61, 5, 5.51, 5.73),
    ("jetson-agx-orin", "llama2-7b-w2", "tmac"): (3.45, 6.51, 8.57, 9.75, 10.17, 11.26, 10.9, 12.91, 13.8, 13.19, 13.14,
                                                 13),
    ("jetson-agx-orin", "llama2-7b-w4", "llama.cpp"): (0.61, 1.21, 1.74, 2.27, 2.8, 3.33, 3.69, 4.14, 4.55, 5.21, 5.45,
                                                      5.55),
    ("jetson-agx-orin", "llama2-7b-w4", "tmac"): (2.02, 3.9, 5.14, 5.73, 6.65, 7.88, 8.14, 8.67, 9.09, 8.77, 9.2, 9.52),
    ("m2-ultra", "bitnet-3b", "llama.cpp"): (6.03, 11.81, 17.14, 20.94, 25.32, 29.24, 32.74, 36.46, 38.68, 41.25, 43.67,
                                            45.71, 46.45, 48.23, 49.74, 47.35),
    ("m2-ultra", "bitnet-3b", "tmac"): (22.2, 37.35, 47.56, 53.95, 59.57, 60.45, 66.73, 66.14, 63.03, 67.28, 68.14, 63.58,
                                       62.79, 64.05, 64.02, 54.79),
    ("m2-ultra", "llama2-7b-w2", "llama.cpp"): (3.14, 6.07, 8.63, 11, 13.86, 16.15, 18.23, 20.1, 21.84, 23.99, 25.7,
                                               27.93, 28.54, 29.86, 31.11, 29.45),
    ("m2-ultra", "llama2-7b-w2", "tmac"): (12.31, 21.54, 28.04, 34.41, 37.71, 39.32, 41.03, 44.85, 43.32, 45, 44.3,
                                          43.94, 42.65, 41.93, 40.41, 37.9),
    ("m2-ultra", "llama2-7b-w4", "llama.cpp"): (5.11, 10, 14.71, 18.51, 21.9, 25.02, 28.08, 31.23, 32.46, 34.17, 34.79,
                                               35.58, 33.99, 32.79, 24.85, 34.53),
    ("m2-ultra", "llama2-7b-w4", "tmac"): (7.22, 13.12, 16.81, 22.79, 23.8, 27.17, 27.33, 31.8, 31.66, 32.64, 33.32,
                                          32.38, 31.41, 30.97, 28.96, 31.7),
}
