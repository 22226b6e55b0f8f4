"""Published LUT Tensor Core figures the model is checked against (not used by the model).

All from Mo et al., "LUT Tensor Core", ISCA 2025 (arXiv 2408.06003), as tabulated in
``../shared/LUT_AND_WAFER.md`` §1.2 ("[LTC]"); the energy-efficiency column of Table 1
only survives in a third-party summary ("[LTC-sum]", secondary). Table 1's GPU rows
are normalised by the authors to 28 nm at 1.41 GHz (pitfall L5). Table 2's rows,
which :mod:`arch.lut.energy` uses, live there.
"""

from __future__ import annotations

from typing import NamedTuple


class Table1Row(NamedTuple):
    sms: int
    peak_ops_per_s: float         # TFLOPs / TOPs column, x 1e12
    tc_area_mm2_per_sm: float
    density_tops_per_mm2: float
    tops_per_w: float | None      # [LTC-sum] (secondary); None where not given
    prefill_ms: float             # BS1 SEQ2048
    decode_ms: float              # BS1024 SEQ1


TABLE1 = {
    "A100 FP16 TC": Table1Row(108, 312e12, 0.975, 2.96, 2.98, 106.71, 41.15),      # LLAMA 3B W_FP16A_FP16
    "A100 INT8 TC": Table1Row(108, 624e12, 0.312, 17.73, 19.94, 67.06, 21.70),     # BitNet W_INT2A_INT8
    "A100-LUT-4X": Table1Row(108, 1248e12, 0.187, 61.84, 33.32, 42.49, 11.41),     # BitNet W_INT2A_INT8
    "A100-LUT-8X": Table1Row(108, 2496e12, 0.373, 61.95, 33.65, 38.02, 7.47),      # BitNet W_INT2A_INT8
    "H100 FP8 TC": Table1Row(132, 1525e12, 0.918, 12.59, None, 38.20, 12.30),      # BitNet W_FP8A_FP8
    "H100-LUT-4X": Table1Row(132, 1525e12, 0.488, 23.69, None, 28.70, 9.90),       # BitNet W_INT2A_FP8
    "H100-LUT-8X": Table1Row(132, 3049e12, 0.909, 25.40, None, 23.48, 5.97),       # BitNet W_INT2A_FP8
}
PRESET_OF = {"A100-LUT-4X": "a100-lut-4x", "A100-LUT-8X": "a100-lut-8x",
             "H100-LUT-4X": "h100-lut-4x", "H100-LUT-8X": "h100-lut-8x"}

# Headline claims ([LTC] §1, §4.4.3) and what each compares (pitfalls L1-L4).
AREA_8X_VS_FP16 = 0.383        # A100-LUT-8X TC area per SM / A100 FP16 TC area per SM
DENSITY_4X_VS_FP16 = 20.9      # LUT-4X W_INT2A_INT8 TOPS/mm^2 / FP16 TC TFLOPS/mm^2
EFFICIENCY_4X_VS_FP16 = 11.2   # LUT-4X TOPS/W / FP16 TC TFLOPS/W (efficiency values secondary)
DECODE_SPEEDUP_8X = 5.51       # decode BS1024: A100 FP16 (LLAMA 3B) / A100-LUT-8X (BitNet 3B)
DECODE_SPEEDUP_H100 = 2.06     # decode BS1024: H100 FP8 / H100-LUT-8X
DENSITY_H100_8X_VS_FP8 = 2.02  # H100-LUT-8X / H100 FP8 TC compute density
ABLATION_GAIN = 1.44           # Table 2: UNPU area / LUT TC area (compute intensity at equal throughput)

# Table 4 ([LTC] §4.6.1): precompute overhead over the LUT GEMM alone, averages over
# OPT-175B, BLOOM-176B and LLAMA2-70B single layers.
PRECOMPUTE_UNFUSED = {"prefill": 0.1647, "decode": 0.2441}
PRECOMPUTE_FUSED = {"prefill": 0.0262, "decode": 0.0252}

# LUT-GEMM (Park et al., ICLR'24, Table 4): OPT-175B per-token latency on one A100-80GB
# (FasterTransformer), ms, by weight bits (LUT_AND_WAFER.md §1.2).
LUT_GEMM_OPT175B_1GPU_MS = {1: 30.4, 2: 40.1, 3: 51.6}

# LUT-GEMM (Park et al., ICLR'24) end-to-end latency per token, ms, batch 1, A100-80GB
# ([LG], quoted in LUT_AND_WAFER.md §1.2 and the paper's text, search index id 66549009776).
# Table 4: OPT-175B with FasterTransformer, row-wise binary-coded weights; keys (kernel, bits),
# values by GPU count (None: OOM or not run).
LUT_GEMM_TABLE4_MS = {
    ("cublas", 16): {8: 42.4},
    ("lut_gemm", 1): {1: 30.4, 2: 25.2, 4: 20.3, 8: 20.1},
    ("lut_gemm", 2): {1: 40.1, 2: 30.1, 4: 23.8, 8: 22.4},
    ("lut_gemm", 3): {1: 51.6, 2: 35.8, 4: 27.2, 8: 24.2},
    ("lut_gemm", 4): {2: 41.2, 4: 30.1, 8: 25.8},
}
# Table 3: LLaMA-30B / -65B, AWQ weights in LUT-GEMM's format with groups of 128
# ("LUT-GEMM-q-128"), cuBLAS FP16 as the baseline; keys (model, kernel, bits), by GPU count.
LUT_GEMM_TABLE3_MS = {
    ("llama-30b", "cublas", 16): {1: 43.6, 2: 25.1, 4: 16.9},
    ("llama-30b", "lut_gemm", 4): {1: 20.7, 2: 15.5, 4: 12.2},
    ("llama-30b", "lut_gemm", 3): {1: 18.1, 2: 13.7, 4: 11.2},
    ("llama-65b", "cublas", 16): {2: 46.9, 4: 29.1},
    ("llama-65b", "lut_gemm", 4): {1: 35.7, 2: 25.4, 4: 19.9},
    ("llama-65b", "lut_gemm", 3): {1: 31.3, 2: 23.0, 4: 18.3},
}
LUT_GEMM_TABLE3_GROUP = 128    # "LUT-GEMM-q-128": one scale per bit plane per 128 weights
