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

Usage: ``python benchmarks/gpu_layers.py``.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the benchmarks package, run as a script

from arch import registry  # noqa: E402
from arch.gpu.model import Gpu  # noqa: E402
from benchmarks.gpu_calibration import HARNESS_OVERHEAD_S as GEMM_HARNESS_S  # noqa: E402
from benchmarks.gpu_ops_calibration import HARNESS_OVERHEAD_S as VECTOR_HARNESS_S  # noqa: E402
from workloads.layers import build_decoder_layer  # noqa: E402
from workloads.models import load_model  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "a100_gpt3_layer_measured.csv"
PRESET = "a100-80gb"
MODEL, TP, BATCH = "gpt3-175b", 4, 8
SEQ_LEN = {"prefill": 2048, "decode": 2048 + 1024}  # decode: 3072 cached positions, the new one makes 3073
# measured row -> (xpusim ops of the layer, harness overhead per call in seconds)
ROWS: dict[str, tuple[tuple[str, ...], float]] = {
    "Q_K_V": (("q_proj", "k_proj", "v_proj"), GEMM_HARNESS_S),
    "Q_mul_K": (("attn_score",), GEMM_HARNESS_S),
    "A_mul_V": (("attn_context",), GEMM_HARNESS_S),
    "Wo_proj": (("o_proj",), GEMM_HARNESS_S),
    "W1_proj": (("ffn_up",), GEMM_HARNESS_S),
    "W2_proj": (("ffn_down",), GEMM_HARNESS_S),
    "Softmax": (("softmax",), VECTOR_HARNESS_S["softmax"]),
    "LayerNorm_MHA": (("attn_norm",), VECTOR_HARNESS_S["layernorm"]),
    "LayerNorm_FFN": (("ffn_norm",), VECTOR_HARNESS_S["layernorm"]),
    "GeLU": (("ffn_act",), VECTOR_HARNESS_S["gelu"]),
    "AllReduce_MHA": (("attn_allreduce",), 0.0),
    "AllReduce_FFN": (("ffn_allreduce",), 0.0),
}


@dataclass(frozen=True)
class RowResult:
    row: str
    measured_s: float
    model_s: float

    @property
    def error(self) -> float:
        return (self.model_s - self.measured_s) / self.measured_s


def measured(path: Path = DATA) -> dict[str, dict[str, float]]:
    """phase -> measured row -> seconds."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    table: dict[str, dict[str, float]] = {}
    for r in csv.DictReader(lines):
        table.setdefault(r["phase"], {})[r["op"]] = float(r["seconds"])
    return table


def layer_rows(gpu: Gpu, phase: str, table: dict[str, dict[str, float]] | None = None) -> list[RowResult]:
    """Measured and modelled seconds of every measured row of one phase."""
    table = table or measured()
    workload = build_decoder_layer(load_model(MODEL), phase, BATCH, SEQ_LEN[phase], tp=TP)
    ops = {op.name: op for op in workload.ops}
    results = []
    for row, (names, harness_s) in ROWS.items():
        model = sum(gpu.op_seconds(ops[name]) + harness_s for name in names)
        results.append(RowResult(row, table[phase][row], model))
    return results


def layer_error(rows: list[RowResult]) -> float:
    """Relative error of the layer total (model - measured) / measured."""
    model, meas = sum(r.model_s for r in rows), sum(r.measured_s for r in rows)
    return (model - meas) / meas


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
