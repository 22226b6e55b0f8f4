"""Measured A100 kernels and layers, and the GPU model's time for each (the A100 calibration's data side).

Data (vendored with their source paths in ``tests/data/``, all LLMCompass's real-hardware
files, ``PrincetonUniversity/LLMCompass: ae/figure5/``):

* ``a100_gemm_measured.csv``: 20 fp16 GEMMs (``ab/real_hardware/matmul_A100.csv``);
* ``a100_elementwise_measured.csv``: softmax, layer norm and GELU (``cf``, ``de``, ``g``);
* ``a100_allreduce_measured.csv``: fp16 all-reduce over 4 NVLink A100s (``h``);
* ``a100_gpt3_layer_measured.csv``: one GPT-3 175B layer at tp 4, batch 8, per op (``ijkl``).

Every measured GEMM or element-wise row is one eagerly launched, individually timed
PyTorch call, so the modelled value of a row is ``Gpu.op_seconds`` of the ``a100-80gb``
preset plus a fixed harness overhead per call of its kind (host dispatch, guards,
synchronisation): it belongs to the measurement, not to a GPU running a stream of
kernels, and is not part of the preset. LLMCompass adds a measured 21 us to its own
simulated numbers for the same reason (``ae/figure5/ab/test_matmul.py``). The harness
overheads are fitted with the efficiencies (``benchmarks/gpu_calibration.py --fit``,
``benchmarks/gpu_ops_calibration.py --fit``). The GPT-3 layer rows are never fitted on.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from arch.gpu.collective import allreduce_time
from arch.gpu.model import Gpu
from workloads.layers import build_decoder_layer
from workloads.models import load_model
from workloads.op import Op, OpKind

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
PRESET = "a100-80gb"
GEMM_HARNESS_OVERHEAD_S = 2.6e-5  # [FIT] benchmarks/gpu_calibration.py --fit, on the 20 GEMMs
# [FIT] benchmarks/gpu_ops_calibration.py --fit: one eager, individually timed call of each kind
VECTOR_HARNESS_OVERHEAD_S = {"softmax": 1.25e-05, "layernorm": 4.8e-05, "gelu": 4.5e-05}
OP_KINDS = {"softmax": OpKind.SOFTMAX, "layernorm": OpKind.NORM, "gelu": OpKind.ACTIVATION}
FITTED_FIELD = {"softmax": "softmax_efficiency_max", "layernorm": "norm_efficiency_max", "gelu": "write_efficiency_max"}
ALLREDUCE_DEVICES = 4
LAYER_MODEL, LAYER_TP, LAYER_BATCH = "gpt3-175b", 4, 8
LAYER_SEQ_LEN = {"prefill": 2048, "decode": 2048 + 1024}  # decode: 3072 cached positions, the new one makes 3073
# measured layer row -> (xpusim ops of the layer, harness overhead per call); Q_K_V is three calls
LAYER_ROWS: dict[str, tuple[tuple[str, ...], float]] = {
    "Q_K_V": (("q_proj", "k_proj", "v_proj"), GEMM_HARNESS_OVERHEAD_S),
    "Q_mul_K": (("attn_score",), GEMM_HARNESS_OVERHEAD_S),
    "A_mul_V": (("attn_context",), GEMM_HARNESS_OVERHEAD_S),
    "Wo_proj": (("o_proj",), GEMM_HARNESS_OVERHEAD_S),
    "W1_proj": (("ffn_up",), GEMM_HARNESS_OVERHEAD_S),
    "W2_proj": (("ffn_down",), GEMM_HARNESS_OVERHEAD_S),
    "Softmax": (("softmax",), VECTOR_HARNESS_OVERHEAD_S["softmax"]),
    "LayerNorm_MHA": (("attn_norm",), VECTOR_HARNESS_OVERHEAD_S["layernorm"]),
    "LayerNorm_FFN": (("ffn_norm",), VECTOR_HARNESS_OVERHEAD_S["layernorm"]),
    "GeLU": (("ffn_act",), VECTOR_HARNESS_OVERHEAD_S["gelu"]),
    "AllReduce_MHA": (("attn_allreduce",), 0.0),  # NCCL-style measurements: no per-call harness
    "AllReduce_FFN": (("ffn_allreduce",), 0.0),
}


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]


# -- GEMMs ---------------------------------------------------------------------------
def measured_points(path: Path = DATA / "a100_gemm_measured.csv") -> list[tuple[int, int, int, float]]:
    """(m, n, k, seconds) of every measured GEMM."""
    return [(int(r["m"]), int(r["n"]), int(r["k"]), float(r["latency_ms"]) * 1e-3)
            for r in csv.DictReader(_lines(path))]


def gemm(m: int, n: int, k: int) -> Op:
    return Op(f"gemm_{m}x{n}x{k}", OpKind.GEMM, m, n, k)


def modelled_seconds(gpu: Gpu, m: int, n: int, k: int, harness_s: float = GEMM_HARNESS_OVERHEAD_S) -> float:
    """The model's time for one measured GEMM call: the op on the GPU plus the harness overhead."""
    return gpu.op_seconds(gemm(m, n, k)) + harness_s


def errors(gpu: Gpu, points, harness_s: float = GEMM_HARNESS_OVERHEAD_S) -> list[float]:
    """Relative error (model - measured) / measured of each GEMM point."""
    return [(modelled_seconds(gpu, m, n, k, harness_s) - seconds) / seconds for m, n, k, seconds in points]


# -- element-wise kernels and all-reduce -----------------------------------------------
@dataclass(frozen=True)
class Row:
    op: str
    sweep: str
    m: int
    n: int
    seconds: float

    @property
    def elements(self) -> int:
        return self.m * self.n


def elementwise_rows(path: Path = DATA / "a100_elementwise_measured.csv") -> list[Row]:
    """Every measured element-wise call, its time from the source's G elements/s."""
    rows = []
    for r in csv.DictReader(_lines(path)):
        m, n = int(r["m"]), int(r["n"])
        rows.append(Row(r["op"], r["sweep"], m, n, m * n / (float(r["gelements_per_s"]) * 1e9)))
    return rows


def allreduce_rows(path: Path = DATA / "a100_allreduce_measured.csv") -> list[tuple[int, float]]:
    """(bytes per device, seconds) of every measured all-reduce."""
    return [(int(r["bytes"]), float(r["latency_us"]) * 1e-6) for r in csv.DictReader(_lines(path))]


def split(rows: list[Row], op: str) -> tuple[list[Row], list[Row]]:
    """(fit rows, check rows) of one kind: GELU even / odd rows; softmax and layer norm M-sweep / N-sweep."""
    mine = [r for r in rows if r.op == op]
    if op == "gelu":
        return mine[0::2], mine[1::2]
    return [r for r in mine if r.sweep == "m_sweep"], [r for r in mine if r.sweep == "n_sweep"]


def vector_op(row: Row) -> Op:
    return Op(f"{row.op}_{row.m}x{row.n}", OP_KINDS[row.op], row.m, row.n)


def allreduce_op(nbytes: int, devices: int = ALLREDUCE_DEVICES) -> Op:
    """An fp16 all-reduce of ``nbytes`` per device."""
    return Op(f"allreduce_{nbytes}", OpKind.ALLREDUCE, 1, max(1, nbytes // 2), devices=devices)


def modelled_call_seconds(gpu: Gpu, row: Row, harness_s: float | None = None) -> float:
    """One measured eager call: the op on the GPU plus the harness overhead of its kind."""
    return gpu.op_seconds(vector_op(row)) + (VECTOR_HARNESS_OVERHEAD_S[row.op] if harness_s is None else harness_s)


def relative_errors(model: list[float], measured: list[float]) -> list[float]:
    return [(m - s) / s for m, s in zip(model, measured)]


def mean_abs(errs: list[float]) -> float:
    return sum(map(abs, errs)) / len(errs)


def allreduce_model_seconds(gpu: Gpu, nbytes: int, efficiency: float | None = None,
                            latency_s: float | None = None) -> float:
    """The GPU model's all-reduce time (launch included), optionally with other fitted values."""
    if efficiency is None and latency_s is None:
        return gpu.op_seconds(allreduce_op(nbytes))
    spec = gpu.spec
    chosen = allreduce_time(nbytes, ALLREDUCE_DEVICES, spec.nvlink_bandwidth_bytes_per_s / 2,
                            spec.nvlink_efficiency_max if efficiency is None else efficiency,
                            spec.collective_latency_s if latency_s is None else latency_s)
    return chosen.seconds + spec.launch_overhead_s


# -- GPT-3 175B layers ----------------------------------------------------------------
@dataclass(frozen=True)
class RowResult:
    row: str
    measured_s: float
    model_s: float

    @property
    def error(self) -> float:
        return (self.model_s - self.measured_s) / self.measured_s


def measured_layers(path: Path = DATA / "a100_gpt3_layer_measured.csv") -> dict[str, dict[str, float]]:
    """phase -> measured row -> seconds."""
    table: dict[str, dict[str, float]] = {}
    for r in csv.DictReader(_lines(path)):
        table.setdefault(r["phase"], {})[r["op"]] = float(r["seconds"])
    return table


def layer_workload(phase: str):
    return build_decoder_layer(load_model(LAYER_MODEL), phase, LAYER_BATCH, LAYER_SEQ_LEN[phase], tp=LAYER_TP)


def layer_rows(gpu: Gpu, phase: str, table: dict[str, dict[str, float]] | None = None) -> list[RowResult]:
    """Measured and modelled seconds of every measured row of one phase (residual adds have no row)."""
    table = table or measured_layers()
    ops = {op.name: op for op in layer_workload(phase).ops}
    return [RowResult(row, table[phase][row], sum(gpu.op_seconds(ops[name]) + harness_s for name in names))
            for row, (names, harness_s) in LAYER_ROWS.items()]


def layer_error(rows: list[RowResult]) -> float:
    """Relative error of the layer total (model - measured) / measured."""
    model, meas = sum(r.model_s for r in rows), sum(r.measured_s for r in rows)
    return (model - meas) / meas
