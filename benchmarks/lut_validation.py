"""LUT Tensor Core validation: the model's figures next to the paper's (LUT_AND_WAFER.md §1.3).

Run: ``python benchmarks/lut_validation.py`` (a few seconds).

Every "model" value is computed here by the code; every "published" value is
quoted from Mo et al., "LUT Tensor Core", ISCA 2025 (``arch/lut/published.py``,
``arch/lut/energy.py``), and for the CPU hosts from ``microsoft/T-MAC``
(``arch/cpu/published.py``; "fit" marks the rows each device's bandwidth curve
is fitted on). "fit" marks the one row the component table was fitted
on (Table 2's LUT Tensor Core row); everything else is a prediction. Latencies
are per-op times (``max(compute, DRAM stream) + launch``, the ops of one kernel
stream in sequence) summed over the decoder layers of BitNet b1.58 3B (its shapes
also stand for the paper's LLAMA 3B, same configuration); the FP16/INT8/FP8 rows
use the GPU baseline model (``kind: gpu``; the H100 at the paper's 1.41 GHz
normalisation, :func:`normalised_h100`) and the LUT rows ``kind: lut``.
Decode "BS1024 SEQ1" is taken as 1024 requests with one cached token each
(assumption: the label gives no KV length).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arch import registry  # noqa: E402
from arch.cpu.decode import tokens_per_s  # noqa: E402
from arch.cpu.options import CpuGemmKernel  # noqa: E402
from arch.cpu.published import (DEVICES, FIT_MODEL, ORIN_POWER, PAPER_BITNET_M2_1T, TMAC_EARLY_THREADS,  # noqa: E402
                                TMAC_PROFILING, row as tmac_row)
from arch.lut.cells import LutArrayDesign, part_areas_um2_45nm  # noqa: E402
from arch.lut.dp_area import largest_bits_below_mac, weight_bits_sweep  # noqa: E402
from arch.lut.energy import TABLE2_ROWS, ablation_rows, tc_area_um2, tc_tops_per_w  # noqa: E402
from arch.lut.model import LUT_UNIT, lut_kernel_counts  # noqa: E402
from arch.lut.options import LutMappingOptions, Precompute  # noqa: E402
from arch.lut.published import (ABLATION_GAIN, LUT_GEMM_OPT175B_1GPU_MS, PRECOMPUTE_FUSED,  # noqa: E402
                                PRECOMPUTE_UNFUSED, PRESET_OF, TABLE1)
from workloads.layers import build_decoder_layer  # noqa: E402
from workloads.models import load_model  # noqa: E402
from workloads.op import Op, OpKind  # noqa: E402

W2A8 = Op("w2a8", OpKind.GEMM, 2048, 8192, 8192, a_bits=8, b_bits=2)
# Table 1 rows: (system preset, weight bits, activation bits, KV bits)
LATENCY_ROWS = {"A100 FP16 TC": ("a100-80gb", 16, 16, 16), "A100 INT8 TC": ("a100-80gb", 2, 8, 8),
                "A100-LUT-4X": ("a100-lut-4x", 2, 8, 8), "A100-LUT-8X": ("a100-lut-8x", 2, 8, 8),
                "H100 FP8 TC": ("h100-sxm@1.41GHz", 8, 8, 8), "H100-LUT-4X": ("h100-lut-4x", 2, 8, 8),
                "H100-LUT-8X": ("h100-lut-8x", 2, 8, 8)}


def build(preset):
    return registry.build(registry.preset_spec(preset))


def normalised_h100():
    """The H100 GPU preset at the paper's 1.41 GHz normalisation clock (pitfall L5): every
    peak scaled by 1.41 / 1.83, so the fp8 peak is Table 1's 1525 TFLOPs; HBM unchanged."""
    raw = registry.preset_spec("h100-sxm")
    factor = 1.41e9 / float(raw["clock_hz"])
    scaled = {key: float(value) * factor for key, value in raw.items()
              if key.startswith("peak_") or key == "vector_flops_per_s"}
    return registry.build({**raw, **scaled, "clock_hz": 1.41e9})


def line(label, model, published, unit="", note=""):
    err = f"{model / published - 1:+7.1%}" if published else "       "
    shown = f"{published:10.3f}" if published is not None else f"{'-':>10}"
    print(f"  {label:44s} {model:10.3f} {shown} {unit:8s} {err} {note}")


def op_seconds(accel, op, precompute=Precompute.FUSED):
    if accel.kind == "gpu":
        return accel.op_seconds(op)
    cost = accel.op_cost(op, options=LutMappingOptions(precompute=precompute))
    mem = accel.memories()[0]
    return (cost.compute_cycles + mem.transfer_cycles(cost.read_bytes) + mem.transfer_cycles(cost.write_bytes)) \
        / accel.clock_hz


def step_ms(preset, phase, batch, seq, wb, ab, kvb, model="bitnet-b1.58-3b", precompute=Precompute.FUSED):
    accel = normalised_h100() if preset == "h100-sxm@1.41GHz" else build(preset)
    layer = build_decoder_layer(load_model(model), phase, batch, seq, wb, ab, kvb)
    return sum(op_seconds(accel, op, precompute) for op in layer.ops) * layer.repeat * 1e3


def base_ms(preset, phase, batch, seq, wb, ab, kvb, model):
    """The layer with LUT GEMMs whose tables cost nothing (activation-sized input, no precompute)."""
    accel = build(preset)
    spec, bw = accel.spec, accel.spec.stream_bytes_per_cycle
    layer = build_decoder_layer(load_model(model), phase, batch, seq, wb, ab, kvb)
    total = 0.0
    for op in layer.ops:
        if accel.lut_runs(op):
            array = lut_kernel_counts(spec, op, Precompute.FUSED).array_cycles
            total += (max(array, (op.min_bytes) / bw) + spec.launch_cycles) / spec.clock_hz
        else:
            total += op_seconds(accel, op)
    return total * layer.repeat * 1e3


def peaks():
    print("L-V1 peak TOPS, W_INT2 (2 x S x 512 / W_BIT x TCs x clock)      model  published")
    for row, preset in sorted(PRESET_OF.items()):
        accel = build(preset)
        peak = 2 * accel.unit_peak_macs_per_cycle(accel.unit(LUT_UNIT), W2A8) * accel.clock_hz / 1e12
        line(row, peak, TABLE1[row].peak_ops_per_s / 1e12, "TOPS")


def densities():
    print("L-V2 compute density = peak / (TC area per SM x SMs)")
    for row, r in TABLE1.items():
        line(f"{row} (Table 1 inputs)", r.peak_ops_per_s / 1e12 / (r.tc_area_mm2_per_sm * r.sms),
             r.density_tops_per_mm2, "TOPS/mm2", "L10: INT8 row inconsistent" if "INT8" in row else "")
    for row, preset in sorted(PRESET_OF.items()):
        spec = build(preset).spec
        area = spec.tensor_cores_per_sm * tc_area_um2(spec) * 1e-6
        line(f"{row} TC area per SM (component table)", area, TABLE1[row].tc_area_mm2_per_sm, "mm2",
             "FP8 datapath not in the cell model" if "H100" in row else "")
        line(f"{row} TOPS/W (component table)", tc_tops_per_w(spec, 2), TABLE1[row].tops_per_w, "TOPS/W",
             "[LTC-sum] secondary" if TABLE1[row].tops_per_w else "")


def headlines():
    t = TABLE1
    fp16 = t["A100 FP16 TC"]
    a8 = build("a100-lut-8x").spec
    a4 = build("a100-lut-4x")
    area8 = a8.tensor_cores_per_sm * tc_area_um2(a8) * 1e-6
    area4 = a4.spec.tensor_cores_per_sm * tc_area_um2(a4.spec) * 1e-6
    peak4 = 2 * a4.unit_peak_macs_per_cycle(a4.unit(LUT_UNIT), W2A8) * a4.clock_hz / 1e12
    h8 = build("h100-lut-8x")
    area_h8 = h8.spec.tensor_cores_per_sm * tc_area_um2(h8.spec) * 1e-6
    peak_h8 = 2 * h8.unit_peak_macs_per_cycle(h8.unit(LUT_UNIT), W2A8) * h8.clock_hz / 1e12
    print("L-V3 headline ratios (model: LUT side from the component table, MAC side Table 1's row)")
    line("38.3%: LUT-8X / FP16 TC area per SM", area8 / fp16.tc_area_mm2_per_sm, 0.383)
    line("20.9x: LUT-4X W2A8 TOPS/mm2 / FP16 TFLOPS/mm2", peak4 / (area4 * 108) / fp16.density_tops_per_mm2, 20.9)
    line("11.2x: LUT-4X TOPS/W / FP16 TFLOPS/W", tc_tops_per_w(a4.spec, 2) / fp16.tops_per_w, 11.2)
    line("2.02x: H100-LUT-8X / H100 FP8 density", peak_h8 / (area_h8 * 132) / t["H100 FP8 TC"].density_tops_per_mm2,
         2.02, "", "FP8 datapath not in the cell model")
    line("3.5x (L2): LUT-4X / A100 INT8 TC density", peak4 / (area4 * 108) / t["A100 INT8 TC"].density_tops_per_mm2,
         t["A100-LUT-4X"].density_tops_per_mm2 / t["A100 INT8 TC"].density_tops_per_mm2)


def ablation():
    print("L-V4 Table 2 ablation from design changes (28 nm, W_INT2 A_INT8, M x N x K = 512)")
    rows = ablation_rows()
    for (name, area, power), (pub_area, pub_power) in zip(rows, TABLE2_ROWS):
        fit = "fit" if name.startswith("+ DFG") else ""
        line(f"{name} area", area, pub_area, "um2", fit)
        line(f"{name} power", power, pub_power, "mW", fit)
    line("1.44x: UNPU area / LUT TC area", rows[0][1] / rows[-1][1], ABLATION_GAIN)


def latencies():
    print("L-V5 Table 1 latencies, BitNet b1.58 3B (LLAMA 3B shapes for FP16), ms; H100 rows unseen")
    model = {}
    for row, (preset, wb, ab, kvb) in LATENCY_ROWS.items():
        model[row] = (step_ms(preset, "prefill", 1, 2048, wb, ab, kvb), step_ms(preset, "decode", 1024, 1, wb, ab, kvb))
        line(f"{row} prefill BS1 SEQ2048", model[row][0], TABLE1[row].prefill_ms, "ms")
        line(f"{row} decode BS1024 SEQ1", model[row][1], TABLE1[row].decode_ms, "ms")
    for a, b in (("A100 FP16 TC", "A100-LUT-4X"), ("A100 FP16 TC", "A100-LUT-8X"), ("A100 INT8 TC", "A100-LUT-4X"),
                 ("A100-LUT-4X", "A100-LUT-8X"), ("H100 FP8 TC", "H100-LUT-8X")):
        for i, phase in enumerate(("prefill", "decode")):
            line(f"ratio {a} / {b} {phase}", model[a][i] / model[b][i],
                 (TABLE1[a].prefill_ms, TABLE1[a].decode_ms)[i] / (TABLE1[b].prefill_ms, TABLE1[b].decode_ms)[i])


def precompute():
    print("L-V6 precompute overhead over free tables, a100-lut-4x, W_INT2 A_INT8 (Table 4's datatypes not given)")
    cases = {"prefill": [("llama2-70b", 1, 4096), ("opt-175b", 1, 2048)],
             "decode": [("llama2-70b", 1024, 1), ("opt-175b", 1024, 1)]}
    for phase, runs in cases.items():
        sep, fus = [], []
        for model, batch, seq in runs:
            base = base_ms("a100-lut-4x", phase, batch, seq, 2, 8, 8, model)
            for out, placement in ((sep, Precompute.SEPARATE), (fus, Precompute.FUSED)):
                out.append(step_ms("a100-lut-4x", phase, batch, seq, 2, 8, 8, model, placement) / base - 1)
        line(f"{phase} unfused (separate kernel)", sum(sep) / len(sep), PRECOMPUTE_UNFUSED[phase])
        line(f"{phase} fused", sum(fus) / len(fus), PRECOMPUTE_FUSED[phase])


def k_sweep():
    print("L-V11 K sweep: cell-count density (1-bit-weight MACs per cycle per 1000 um2 at 45 nm), int8 activations")
    for n, label in ((1, "DP unit M = N = 1 (Fig. 11)"), (64, "tensor core N = 64")):
        row = []
        for g in range(1, 9):
            d = LutArrayDesign(array_m=1, array_n=n, g=g, entry_bits=8 + (g - 1).bit_length(), acc_bits=32,
                               weight_bits=1)
            row.append(1e3 * g * n / sum(part_areas_um2_45nm(d).values()))
        best = 1 + row.index(max(row))
        cells = " ".join(f"K{g}:{v:5.2f}" for g, v in enumerate(row, 1))
        print(f"  {label:30s} {cells}  best K = {best} (paper: 4)")


def lut_gemm():
    print("L-V7 LUT-GEMM (a100-lut-gemm), OPT-175B decode batch 1, 128 cached tokens (assumption), fp16 activations")
    accel = build("a100-lut-gemm")
    layer_ms = {}
    for bits, published in LUT_GEMM_OPT175B_1GPU_MS.items():
        layer = build_decoder_layer(load_model("opt-175b"), "decode", 1, 128, bits, 16, 16)
        layer_ms[bits] = sum(accel.op_seconds(op) for op in layer.ops) * layer.repeat * 1e3
        line(f"per-token latency, {bits}-bit", layer_ms[bits], published, "ms")
    line("per-bit increment (3-bit - 1-bit) / 2", (layer_ms[3] - layer_ms[1]) / 2,
         (LUT_GEMM_OPT175B_1GPU_MS[3] - LUT_GEMM_OPT175B_1GPU_MS[1]) / 2, "ms")


def cpu_host(device, threads):
    return registry.build({**registry.preset_spec(device), "threads": threads})


def cpu_rate(r, kernel, threads=None):
    return tokens_per_s(cpu_host(r.device, threads or r.threads), r.model, kernel)


def tmac():
    lut, dequant = CpuGemmKernel.LUT, CpuGemmKernel.DEQUANT
    print("L-V9 T-MAC (gemm_kernel: lut) and llama.cpp (dequant) decode tokens/s, batch 1 (kind: cpu); "
          f"'fit': the {FIT_MODEL} T-MAC rows each device's bandwidth curve is fitted on")
    for r in TMAC_PROFILING:
        label = f"{r.device} {r.model} {r.threads}t"
        line(f"{label} T-MAC", cpu_rate(r, lut), r.tmac, "tok/s", "fit" if r.model == FIT_MODEL else "")
        line(f"{label} llama.cpp", cpu_rate(r, dequant), r.llama_cpp, "tok/s")
    print("L-V9 ratios: W4 -> W2 at 1 thread (Llama-2-7B), and most threads / 1 thread")
    for device in DEVICES:
        w2, w4 = tmac_row(device, "llama2-7b-w2", 1), tmac_row(device, "llama2-7b-w4", 1)
        for kernel, attr in ((lut, "tmac"), (dequant, "llama_cpp")):
            line(f"{device} W4->W2 1t {attr}", cpu_rate(w2, kernel) / cpu_rate(w4, kernel),
                 getattr(w2, attr) / getattr(w4, attr))
        for model in ("bitnet-3b", "llama2-7b-w2", "llama2-7b-w4"):
            one, most = sorted((r for r in TMAC_PROFILING if (r.device, r.model) == (device, model)),
                               key=lambda r: r.threads)
            for kernel, attr in ((lut, "tmac"), (dequant, "llama_cpp")):
                fitted = model == FIT_MODEL and kernel is lut
                line(f"{device} {model} {most.threads}t/1t {attr}", cpu_rate(most, kernel) / cpu_rate(one, kernel),
                     getattr(most, attr) / getattr(one, attr), "", "fit rows" if fitted else "")
    m2 = tmac_row("m2-ultra", "bitnet-3b", 1)
    line("m2-ultra bitnet-3b 1t T-MAC vs the paper's 1-core figure", cpu_rate(m2, lut), PAPER_BITNET_M2_1T, "tok/s",
         "EuroSys'25 abstract")
    w4 = tmac_row("m2-ultra", "llama2-7b-w4", 1)
    for threads, (published_tmac, published_llama) in TMAC_EARLY_THREADS.items():
        line(f"m2-ultra llama2-7b-w4 {threads}t/1t T-MAC, early README", cpu_rate(w4, lut, threads) / cpu_rate(w4, lut),
             published_tmac / TMAC_EARLY_THREADS[1][0], "", "older version")
    print("L-V10 energy identity J/token = W / (tokens/s), Jetson AGX Orin Llama-2-7B W2 (README values)")
    for name, (rate, watts, joules) in ORIN_POWER.items():
        line(name, watts / rate, joules, "J/token")


def dp4_areas():
    print("L-V11 Fig. 13 shape: DP4 unit area (N = 4 outputs, A_FP16, 28 nm library components), um2")
    rows = weight_bits_sweep()
    for r in rows:
        print(f"  W_INT{r.w_bits}: MAC {r.mac_um2:8.0f}  conventional LUT {r.conventional_lut_um2:8.0f}  "
              f"LUT TC {r.lut_tc_um2:8.0f}")
    line("widest weights where conventional LUT < MAC", largest_bits_below_mac(rows, "conventional_lut_um2"), 2,
         "bits", "Fig. 13: loses above 2-bit")
    line("widest weights where LUT TC < MAC", largest_bits_below_mac(rows, "lut_tc_um2"), 6, "bits",
         "Fig. 13: ~6-bit")


def not_built():
    print("Not modelled: Fig. 13's ADD (bit-serial adder) design; thread synchronisation on CPU hosts")


if __name__ == "__main__":
    print(f"  {'figure':44s} {'model':>10} {'published':>10} {'unit':8s} {'error':>7}")
    for part in (peaks, densities, headlines, ablation, latencies, precompute, lut_gemm, k_sweep, tmac,
                 dp4_areas, not_built):
        part()
