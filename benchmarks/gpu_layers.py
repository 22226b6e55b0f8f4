"""The GPU model on GPT-3 175B transformer layers at tensor parallelism 4 against measured A100 times.

The measured per-op times (``tests/data/a100_gpt3_layer_measured.csv``, from
LLMCompass's Figure 5i/5k real-hardware files) are of one GPT-3 175B layer on
one of 4 tensor-parallel A100s, fp16, batch 8: prefill of 2048 tokens and
decode of one token against 3072 cached positions. xpusim builds the same layer
(``build_decoder_layer(gpt3-175b, phase, 8, seq_len, tp=4)``) and times each op
with the ``a100-80gb`` preset's ``Gpu.op_seconds``.

Each measured op except the all-reduces is one eagerly launched, individually
timed PyTorch call, so the modelled value of a row is the GPU time of its ops
plus one harness overhead per call of the op's kind: the GEMMs' from
``benchmarks/gpu_calibration.py``, softmax's, layer norm's and GELU's from
``benchmarks/gpu_ops_calibration.py`` -- each fitted on its own micro-benchmark,
never on these layers. ``Q_K_V`` is three calls (q, k and v projections).
The source subtracted a 1-element layer-norm call from its LayerNorm rows; the
decode row (48 us) is what the layer-norm sweep's eager calls of that size take
(about 52 us), so the subtracted call evidently cost little, and the model adds
the layer-norm harness as for the other rows. The all-reduces are the model's
alone (NCCL-style measurements have no per-call harness). xpusim's residual adds
(``attn_residual``, ``ffn_residual``) have no measured counterpart and are left
out of the totals.

The data, the row mapping and the modelled times live in
:mod:`simulator.reproduce.a100_data`; the claims (each row and each layer total with
its tolerance and verdict) in :mod:`simulator.reproduce.a100` (``xpusim reproduce a100``).

Usage: ``python benchmarks/gpu_layers.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arch import registry  # noqa: E402
from arch.gpu.model import Gpu  # noqa: E402
from simulator.reproduce.a100_data import (LAYER_BATCH as BATCH, LAYER_MODEL as MODEL, LAYER_ROWS as ROWS,  # noqa: E402,F401
                                           LAYER_SEQ_LEN as SEQ_LEN, LAYER_TP as TP, PRESET, RowResult, layer_error,
                                           layer_rows, measured_layers as measured)
from workloads.layers import build_decoder_layer  # noqa: E402
from workloads.models import load_model  # noqa: E402


def report(gpu: Gpu, phase: str) -> float:
    rows = layer_rows(gpu, phase)
    print(f"\n{MODEL} layer, tp {TP}, batch {BATCH}, {phase} (seq_len {SEQ_LEN[phase]}), preset {PRESET!r}")
    print(f"{'op':>14} {'measured ms':>12} {'model ms':>10} {'error %':>8}")
    for r in rows:
        print(f"{r.row:>14} {r.measured_s * 1e3:>12.4f} {r.model_s * 1e3:>10.4f} {r.error * 100:>+8.1f}")
    error = layer_error(rows)
    print(f"{'layer':>14} {sum(r.measured_s for r in rows) * 1e3:>12.4f} "
          f"{sum(r.model_s for r in rows) * 1e3:>10.4f} {error * 100:>+8.1f}")
    choice = [gpu.allreduce_choice(op) for op in build_decoder_layer(load_model(MODEL), phase, BATCH, SEQ_LEN[phase],
                                                                      tp=TP).ops if op.name == "attn_allreduce"][0]
    print(f"all-reduce: {choice.algorithm.value}/{choice.protocol.value}")
    return error


def main() -> None:
    gpu = registry.build(registry.preset_spec(PRESET))
    errors = {phase: report(gpu, phase) for phase in SEQ_LEN}
    print("\nlayer errors: " + ", ".join(f"{phase} {100 * e:+.1f} %" for phase, e in errors.items())
          + " (LLMCompass reports 4.1 % on the same layers)")


if __name__ == "__main__":
    main()
