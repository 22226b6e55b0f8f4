"""The achievable-bandwidth fit of the CPU presets, recomputed from its data.

Each device preset's ``bandwidth_1t_bytes_per_s`` and ``bandwidth_all_bytes_per_s``
are **fitted on T-MAC's 4-bit Llama-2-7B rows** of that device (``arch/cpu/published.py``,
``FIT_MODEL``), at 1 thread and at the most threads: the bytes one token moves
(:func:`arch.cpu.decode.token_bytes`) times the measured tokens/s -- the least
bandwidth consistent with the measured run. Every other row (T-MAC 2-bit and BitNet,
all llama.cpp rows, the ratios) checks the model; the fitted rows do not.
"""

from __future__ import annotations

from arch.cpu.decode import MODELS, token_bytes
from arch.cpu.published import FIT_MODEL, row, thread_counts


def fitted_bandwidth(device: str) -> tuple[float, float]:
    """(one thread, most threads) achievable read bandwidth in bytes/s for ``device``."""
    model, (layers, head), _ = MODELS[FIT_MODEL]
    nbytes = token_bytes(model, layers, head)
    counts = thread_counts(device)
    return (nbytes * row(device, FIT_MODEL, counts[0]).tmac, nbytes * row(device, FIT_MODEL, counts[-1]).tmac)
