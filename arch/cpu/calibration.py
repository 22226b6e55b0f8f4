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

Each preset's ``dequant_issue_efficiency`` (the fraction of full SIMD issue llama.cpp's
``vec_dot`` loops attain) is **fitted on llama.cpp's two one-thread Llama-2-7B rows** of
that device: the 2-bit fraction (Q2_K layers; also taken for the Q6_K LM head, the same
k-quant super-block structure -- ASSUMPTION) on the Q2_K row, then the 4-bit fraction
(Q4_0; also taken for Q8_0, the same 32-weight block structure -- ASSUMPTION) on the
Q4_0 row, each the fraction at which the modelled one-thread rate equals the measured one
(1 where the model at full issue is already slower).

Every other row (T-MAC's 2-bit row at one thread and BitNet rows, llama.cpp's BitNet rows
and multi-thread rows, the W4 -> W2 ratios, BitNet's and llama.cpp's thread scaling) checks
the model; the fitted rows do not.
"""

from __future__ import annotations

from typing import NamedTuple

from arch import registry
from arch.cpu.decode import MODELS, token_bytes, token_ops, tokens_per_s
from arch.cpu.options import CpuGemmKernel
from arch.cpu.published import FIT_MODEL, SYNC_FIT_MODEL, row, thread_counts

BISECTION_STEPS = 40   # halvings of the efficiency interval: far below the presets' 5 digits


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


def fitted_dequant_efficiency(device: str) -> dict[int, float]:
    """{weight bits: fraction of full issue} of llama.cpp's kernels on ``device`` (module docstring)."""
    q2 = _efficiency(device, SYNC_FIT_MODEL, {}, lambda e: {2: e, 6: e})
    q4 = _efficiency(device, FIT_MODEL, {2: q2, 6: q2}, lambda e: {4: e, 8: e})
    return {2: q2, 4: q4, 6: q2, 8: q4}


def _efficiency(device: str, row_model: str, known: dict[int, float], trial) -> float:
    spec = {**registry.preset_spec(device), "threads": 1}
    published = row(device, row_model, 1).llama_cpp

    def rate(efficiency: float) -> float:
        table = {**{2: 1.0, 4: 1.0, 6: 1.0, 8: 1.0}, **known, **trial(efficiency)}
        host = registry.build({**spec, "dequant_issue_efficiency": table})
        return tokens_per_s(host, row_model, CpuGemmKernel.DEQUANT)

    if rate(1.0) <= published:
        return 1.0
    low, high = 0.0, 1.0
    for _ in range(BISECTION_STEPS):
        mid = (low + high) / 2
        low, high = (mid, high) if rate(mid) < published else (low, mid)
    return (low + high) / 2
