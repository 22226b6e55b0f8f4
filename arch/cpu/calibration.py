"""The achievable-bandwidth and synchronisation fit of the CPU presets, recomputed from its data.

Each device preset's ``bandwidth_1t_bytes_per_s``, ``bandwidth_all_bytes_per_s``
and ``op_sync_s`` are **fitted on three T-MAC rows** of that device
(``arch/cpu/published.py``, :func:`arch.cpu.published.is_fitted`): Llama-2-7B W4 at
1 thread, and Llama-2-7B W4 and W2 at the most threads.

* One thread (no synchronisation): the bytes one token moves
  (:func:`arch.cpu.decode.token_bytes`) times the measured tokens/s -- the least
  bandwidth consistent with the run.
* The most threads ``t``: the two rows run the same graph (same ops, so the same
  synchronisation ``n_ops x op_sync_s x (1 - 1/t)``) and move different bytes, so
  ``1/rate = bytes / bandwidth + synchronisation`` for both separates the two:
  ``1 / bandwidth = (1/rate_w4 - 1/rate_w2) / (bytes_w4 - bytes_w2)``. Where the
  synchronisation comes out negative (the W2 row is faster than its bytes at the
  W4 row's bandwidth allow, i.e. not stream-bound), it is zero and the bandwidth
  is the W4 row's bytes times its rate.

Every other row (T-MAC's 2-bit row at one thread and BitNet rows, all llama.cpp rows,
the W4 -> W2 ratios and BitNet's thread scaling) checks the model; the fitted rows do not.
"""

from __future__ import annotations

from typing import NamedTuple

from arch.cpu.decode import MODELS, token_bytes, token_ops
from arch.cpu.published import FIT_MODEL, SYNC_FIT_MODEL, row, thread_counts


class CpuFit(NamedTuple):
    bandwidth_1t_bytes_per_s: float
    bandwidth_all_bytes_per_s: float
    op_sync_s: float


def _tmac_bytes_and_ops(row_model: str) -> tuple[int, int]:
    model, (layers, head), _ = MODELS[row_model]
    return token_bytes(model, layers, head), sum(times for _, times in token_ops(model, layers, head))


def fitted(device: str) -> CpuFit:
    """The three fitted parameters of ``device`` (module docstring)."""
    bytes_w4, ops = _tmac_bytes_and_ops(FIT_MODEL)
    bytes_w2, ops_w2 = _tmac_bytes_and_ops(SYNC_FIT_MODEL)
    if ops != ops_w2:
        raise ValueError(f"{FIT_MODEL} and {SYNC_FIT_MODEL} must run the same graph ({ops} vs {ops_w2} ops)")
    one, most = thread_counts(device, FIT_MODEL)[0], thread_counts(device, FIT_MODEL)[-1]
    seconds_w4 = 1.0 / row(device, FIT_MODEL, most).tmac
    seconds_w2 = 1.0 / row(device, SYNC_FIT_MODEL, most).tmac
    bandwidth_all = (bytes_w4 - bytes_w2) / (seconds_w4 - seconds_w2)
    sync_per_token = seconds_w4 - bytes_w4 / bandwidth_all
    if sync_per_token <= 0:
        sync_per_token, bandwidth_all = 0.0, bytes_w4 / seconds_w4
    return CpuFit(bytes_w4 * row(device, FIT_MODEL, one).tmac, bandwidth_all,
                  sync_per_token / (ops * (1.0 - 1.0 / most)))
