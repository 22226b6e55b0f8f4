"""WaferLLM (He et al., OSDI'25) claims: the wafer model (``wse2``, ``wse3``) against the paper's tables.

Published values are [WL]'s Tables 2-8 and §7 text as tabulated in LUT_AND_WAFER.md §2.2,
with the tolerances of its validation plan (§2.3, W-V1 .. W-V11): decode and prefill
throughput per request (TPR) ±25 %, the decode trend's sign and ±10 points, the prefill
scale-up ±15 %, MeshGEMV cycles ±30 %, the A100 GEMV baseline ±15 %, the KV capacity
ratio ±10 %, end-to-end TPR ±30 %, the algorithm ranking as bounds, the energy identity
±1 % (or half a unit of the published last digit). ``fitted`` marks what
``benchmarks/wafer_validation.py`` fits the calibrated spec fields on: Table 3 LLaMA3-8B
prefill at 480^2 and 720^2, Table 4 LLaMA3-8B decode at 420^2, the pipeline / K-tree
decode ratio of §7.3, and on WSE-3 the P = 240 weak-scaling layer (held within 5 % only
to show the fit holds; the plan gives that row no tolerance).

The computations below are the ones ``benchmarks/wafer_validation.py`` prints (it imports
them); the benchmark adds the calibration fit itself, sweeps and the energy views.
CodeLLaMA-34B and QWen2-72B are measured by the paper on a subset of layers and scaled
(LUT_AND_WAFER.md pitfall W2), so their workloads skip the capacity check.
"""

from __future__ import annotations

from functools import lru_cache, partial
from pathlib import Path

from arch import registry
from arch.capacity import CapacityError, resident_bytes
from arch.wafer.kernel import ALLREDUCE_ALGORITHMS, GEMM_ALGORITHMS, MESH_GEMM, MESH_GEMV
from arch.wafer.energy import paper_energy_ratio
from arch.wafer.opcost import mesh_cost
from arch.wafer.options import AllreduceAlgorithm, KvPlacement, WaferMappingOptions
from arch.wafer.partition import kv_capacity_tokens, reshuffle_cycles, residency
from arch.wafer.published import ENERGY_CELLS
from simulator.reproduce.claims import Check, Claim, Comparison
from workloads.layers import build_decoder_layer
from workloads.models import load_model
from workloads.op import Op, OpKind

claim = partial(Claim, "waferllm")
WL = "WaferLLM, OSDI'25"
EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"

DECODE_KV = 4096     # Table 8 is "decode 4K"; the KV length of Table 4 is taken to be the same (assumption)
PREFILL_TOKENS = 4096  # Table 3: 4096 input tokens
# [WL] Table 4: decode TPR (tok/s per request) at 420^2 / 540^2 / 660^2
TABLE4 = {"llama3-8b": (2699.9, 2501.5, 2243.3), "llama2-13b": (2039.2, 1899.4, 1739.8),
          "codellama-34b": (1450.8, 1407.7, 1359.2), "qwen2-72b": (839.7, 824.3, 787.1)}
TABLE4_SIDES = (420, 540, 660)
# [WL] Table 3: prefill TPR, 4096 input tokens, at 480^2 / 600^2 / 720^2
TABLE3 = {"llama3-8b": (20320.6, 25037.2, 27686.5), "llama2-13b": (13685.1, 16854.2, 17498.3),
          "codellama-34b": (5471.4, 7540.1, 8526.0), "qwen2-72b": (2785.2, 3775.5, 4421.6)}
TABLE3_SIDES = (480, 600, 720)
# [WL] Table 6: MeshGEMV latency (ms) and A100 (SGLang-TP, 1 GPU) latency
TABLE6 = {16384: (0.0012, 0.336), 32768: (0.00203, 1.231)}
TABLE6_CLOCK_HZ = 1.1e9  # WaferLLM's scripts convert cycles at 1.1 GHz (LUT_AND_WAFER.md §2.2, pitfall W5)
# [WL] Table 5: max decode output length, concat vs shift, at the decode region side of Table 2
TABLE5 = {"llama3-8b": (382, 137548, 360), "llama2-13b": (16, 6168, 375)}
# [WL] Table 2: E2E TPR, (input, output) -> tok/s; prefill/decode sides of §7.1
TABLE2 = {"llama3-8b": ({(2048, 128): 764.4, (4096, 128): 604.4, (2048, 2048): 2370.3, (4096, 4096): 2459.0},
                        660, 360),
          "llama2-13b": ({(2048, 128): 473.9, (4096, 128): 414.0, (2048, 2048): 1690.3, (4096, 4096): 1826.0},
                         750, 375)}
# [WL-nb] WSE-3 weak-scaling decode layer llama8B_weak_1_240 (LUT_AND_WAFER.md §2.2)
WEAK240 = {"p": 240, "dim": 2160, "seq": 2160, "ffn": 7200, "groups": 10, "cycles": 19546.0,
           "comm": 11982.0, "unprofiled": 4357.0}
MODELS = {"llama3-8b": "llama3-8b", "llama2-13b": "llama2-13b", "qwen2-72b": "qwen2-72b",
          "codellama-34b": {"name": "codellama-34b", "hidden_size": 8192, "num_layers": 48, "num_heads": 64,
                            "num_kv_heads": 8, "ffn_size": 22016, "activation": "swiglu", "norm": "rmsnorm",
                            "vocab_size": 32000, "position": "rope", "max_positions": 16384,
                            "source": "codellama/CodeLlama-34b-hf config.json"}}
SCALED = ("codellama-34b", "qwen2-72b")  # measured on a subset of layers and scaled (pitfall W2): no capacity check
CALIBRATED = ("relay_latency_cycles", "call_overhead_cycles", "step_sync_cycles", "op_overhead_cycles")
MESHGEMV_OVER_PIPELINE = 4.6  # [WL] §7.3: MeshGEMV ~4.6x end to end over Cerebras' GEMV (pipeline all-reduce)
MESHGEMV_OVER_CEREBRAS_MIN = 4.0  # [WL] §7.3: MeshGEMV 4-8x over Cerebras' GEMV
MESHGEMM_OVER_SUMMA_MIN = 2.0  # [WL] §7.2: MeshGEMM 2-3x faster than SUMMA and Cannon
PAPER_MACS_PER_CYCLE_PER_PE = 1  # the peak [WL] §7 describes: "perform a multiply-accumulate operation" per cycle
EFFICIENCY_TARGETS = (0.70, 0.50)  # [WL] §7.2: MeshGEMM "over 70%", SUMMA and Cannon "below 50%" at 720 x 720
E2E_KV_STRIDE = 32  # decode steps are costed every 32 KV positions and held in between
# [WL-wse3run] Decode/WSE-3/WSE3_SDK_RUN_RESULTS.md (MeshInfra/WaferLLM @e711402): the full decode with
# P:32, bsz:1, dim_p_pe:4, head_dim_p_pe:4, seq_len_p_pe:1024, ffn_dim_p_pe:4, pe_num_p_group:4 (config
# offchip_h2d_p32_fit.json: dim 128, 1 head, seq 32768, ffn 128, group_num 8) fails to link ("ran out of PE
# memory for data (section .bss)", "... for task table"); an H2D-only build with the same data arrays links.
P32_DECODE = {"p": 32, "groups": 8, "dim": 128, "seq": 32768, "ffn": 128}

SPEEDUP_8K = ("at 8K on 720^2 MeshGEMM reaches {mesh:.0%} and {label} {other:.0%} of one MAC per PE per cycle, so the "
              "paper's \"over 70 %\" and \"below 50 %\" both hold while their ratio, the speed-up, is {bound:.2f}x "
              "(those two bounds only imply more than 1.4x); the paper does not say at which size its 2-3x holds "
              "(Figure 9 is an image), and its validation plan holds the ratio to ±30 % (LUT_AND_WAFER.md W-V8; "
              "docs/reproduce.md \"Known residuals\")")
P32 = ("the per-PE reservation for code and task tables is an assumption (no published size): with it the data "
       "arrays of the released P = 32 decode fit, and the link failure is in what the reservation stands for "
       "(docs/wafer.md \"What it does not capture\")")
SRC = {"t2": f"{WL} Table 2 (LUT_AND_WAFER.md §2.2)", "t3": f"{WL} Table 3 (LUT_AND_WAFER.md §2.2)",
       "t4": f"{WL} Table 4 (LUT_AND_WAFER.md §2.2)", "t5": f"{WL} Table 5 (LUT_AND_WAFER.md §2.2)",
       "t6": f"{WL} Table 6, ms at 1.1 GHz (LUT_AND_WAFER.md §2.2)", "e": f"{WL} Tables 6-8 (arch/wafer/published.py)",
       "s72": f"{WL} §7.2 (LUT_AND_WAFER.md §2.2, W-V8)", "s73": f"{WL} §7.3 (LUT_AND_WAFER.md §2.2, W-V8)",
       "w3": "MeshInfra/WaferLLM Decode/WSE-3/weak_scaling_figures.ipynb (LUT_AND_WAFER.md §2.2, W-V3)",
       "w11": "MeshInfra/WaferLLM Decode/WSE-3/WSE3_SDK_RUN_RESULTS.md (LUT_AND_WAFER.md §2.3, W-V11)"}


def wafer(preset: str, **fields):
    return registry.build({**registry.preset_spec(preset), **fields})


@lru_cache(maxsize=None)
def preset(name: str):
    return wafer(name)


@lru_cache(maxsize=None)
def layer(model: str, phase: str, tokens: int):
    return build_decoder_layer(load_model(MODELS[model]), phase, 1, tokens)


def decode_tpr(accel, model: str, side: int, kv: int = DECODE_KV) -> float:
    work = layer(model, "decode", kv)
    options = WaferMappingOptions(decode_region_pe=side)
    if model not in SCALED:
        accel.check_workload(work, options)
    return accel.clock_hz / accel.step_cycles(work, options)


def prefill_tpr(accel, model: str, side: int, tokens: int = PREFILL_TOKENS) -> float:
    work = layer(model, "prefill", tokens)
    options = WaferMappingOptions(prefill_region_pe=side)
    if model not in SCALED:
        accel.check_workload(work, options)
    return tokens * accel.clock_hz / accel.step_cycles(work, options)


def weak_layer(p: int, dim: int, seq: int, ffn: int):
    """The released decode layer (n_heads = 1, head_dim = dim, pitfall W7) of one weak-scaling config."""
    config = {"name": f"weak-{p}", "hidden_size": dim, "num_layers": 1, "num_heads": 1, "ffn_size": ffn,
              "activation": "swiglu", "norm": "rmsnorm", "vocab_size": 32000, "position": "rope",
              "max_positions": 65536}
    return build_decoder_layer(load_model(config), "decode", 1, seq - 1)


def weak_cycles(accel, p: int, groups: int, dim: int, seq: int, ffn: int) -> tuple[int, int]:
    """(cycles, communication cycles) of one weak-scaling decode layer on ``p`` x ``p`` PEs."""
    work = weak_layer(p, dim, seq, ffn)
    options = WaferMappingOptions(decode_region_pe=p, ktree_groups=groups)
    costs = [accel.op_cost(op, None, options) for op in work.ops]
    comm = sum(mesh_cost(accel.spec, op, options).comm_cycles for op in work.ops)
    return sum(c.compute_cycles for c in costs), comm


def gemv_cycles(accel, dim: int) -> int:
    """MeshGEMV of Table 6 on the whole program rectangle (the paper does not report the grid; W6), the
    reduction along whichever axis finishes first."""
    s = accel.spec
    args = (2, 0, s.hop_latency_cycles, s.relay_latency_cycles, s.link_words_per_cycle,
            s.fp16_macs_per_cycle_per_pe, s.call_overhead_cycles)
    sides = ((s.mesh_width_pe, s.mesh_height_pe), (s.mesh_height_pe, s.mesh_width_pe))
    return min(MESH_GEMV(0, 1, dim, dim, px, py, *args)[0] for px, py in sides) + s.op_overhead_cycles


def pipeline_over_ktree(accel, side: int = 420) -> float:
    """LLaMA3-8B decode with the pipeline all-reduce over decode with the K-tree."""
    work = layer("llama3-8b", "decode", DECODE_KV)
    slow = accel.step_cycles(work, WaferMappingOptions(decode_region_pe=side, allreduce_algorithm="pipeline"))
    return slow / accel.step_cycles(work, WaferMappingOptions(decode_region_pe=side))


def kv_capacity(accel, model: str, side: int) -> tuple[dict[KvPlacement, int], int]:
    """({placement: max decode tokens}, bytes of K and V per token) of Table 5, the weights as placed (padded
    tiles on side x side PEs, every layer)."""
    config = load_model(MODELS[model])
    tiles = residency(accel.spec, layer(model, "decode", 1).ops, config.num_layers, side)
    weights = tiles.weight_bytes_per_pe * side * side * config.num_layers
    per_token = 2 * 2 * config.num_layers * config.num_kv_heads * config.head_dim
    return {pl: kv_capacity_tokens(accel.spec, weights, per_token, side, pl) for pl in KvPlacement}, per_token


def gemm_kernel_args(spec) -> tuple:
    return (spec.hop_latency_cycles, spec.relay_latency_cycles, spec.link_words_per_cycle,
            spec.fp16_macs_per_cycle_per_pe, spec.call_overhead_cycles, spec.step_sync_cycles, spec.free_colors)


def gemm_algorithms(accel, n: int, p: int) -> dict[str, tuple]:
    """Each GEMM algorithm's kernel output for an n x n x n GEMM on p x p PEs (cycles first)."""
    args = gemm_kernel_args(accel.spec)
    return {name: MESH_GEMM(code, n, n, n, p, *args) for name, code in GEMM_ALGORITHMS.items()}


def paper_efficiency(n: int, p: int, cycles: int) -> float:
    """Compute efficiency in the paper's convention (one MAC per PE per cycle)."""
    return n ** 3 / (cycles * p * p * PAPER_MACS_PER_CYCLE_PER_PE)


def gemv_allreduce_cycles(accel, dim: int = 16384, p: int = 720) -> dict[str, int]:
    """A dim x dim GEMV on p x p PEs under each all-reduce algorithm."""
    args = gemm_kernel_args(accel.spec)[:5]
    return {a.value: MESH_GEMV(ALLREDUCE_ALGORITHMS[a.value], 1, dim, dim, p, p, 2, 0, *args)[0]
            for a in (AllreduceAlgorithm.KTREE, AllreduceAlgorithm.PIPELINE, AllreduceAlgorithm.RING)}


def e2e_tpr(accel, model: str, n_in: int, n_out: int, prefill_side: int, decode_side: int) -> float:
    """Output tokens over prefill + reshuffle + decode time, each decode step at its own KV length."""
    config = load_model(MODELS[model])
    prefill_work = build_decoder_layer(config, "prefill", 1, n_in)
    prefill = accel.step_cycles(prefill_work, WaferMappingOptions(prefill_region_pe=prefill_side))
    options = WaferMappingOptions(decode_region_pe=decode_side)
    decode = 0
    for start in range(0, n_out, E2E_KV_STRIDE):
        steps = min(E2E_KV_STRIDE, n_out - start)
        decode += steps * accel.step_cycles(build_decoder_layer(config, "decode", 1, n_in + start), options)
    resident = resident_bytes(build_decoder_layer(config, "decode", 1, n_in))
    shuffle = reshuffle_cycles(accel.spec, resident, prefill_side, decode_side)
    return n_out * accel.clock_hz / (prefill + shuffle + decode)


def p32_refused(accel) -> bool:
    """W-V11: is the released WSE-3 decode at P = 32 refused by the per-PE capacity check?"""
    c = P32_DECODE
    work = weak_layer(c["p"], c["dim"], c["seq"], c["ffn"])
    try:
        accel.check_workload(work, WaferMappingOptions(decode_region_pe=c["p"], ktree_groups=c["groups"]))
    except CapacityError:
        return True
    return False


# ---- claims ----------------------------------------------------------------------------------------------


def energy() -> list[Claim]:
    out = []
    for i, (gpus, t_gpu, t_wse, published) in enumerate(ENERGY_CELLS):
        tolerance = max(0.01, 0.005 / published)  # ±1 %, or half a unit of the published last digit
        out.append(claim(f"energy/{i}", f"A100 / WSE-2 energy, {gpus} GPU(s), t_GPU {t_gpu:.3g}, t_WSE {t_wse:.3g} "
                         "(power x time, 37.5 A100s per WSE-2)", published, SRC["e"],
                         paper_energy_ratio(gpus, t_gpu, t_wse), tolerance, "x"))
    return out


def decode() -> list[Claim]:
    wse2, out = preset("wse2"), []
    for model, published in TABLE4.items():
        values = [decode_tpr(wse2, model, side) for side in TABLE4_SIDES]
        scaled = " (a subset of layers, scaled: W2)" if model in SCALED else ""
        for side, value, pub in zip(TABLE4_SIDES, values, published):
            out.append(claim(f"decode/{model}/{side}", f"{model} decode TPR at {side}^2, KV {DECODE_KV}{scaled}", pub,
                             SRC["t4"], value, 0.25, "tok/s", fitted=model == "llama3-8b" and side == 420))
        trend, pub_trend = values[-1] / values[0] - 1, published[-1] / published[0] - 1
        out.append(claim(f"decode/{model}/trend", f"{model} decode TPR change 420^2 -> 660^2 (±10 points)", pub_trend,
                         SRC["t4"], trend, 0.10, "fraction", Comparison.ABSOLUTE))
        out.append(claim(f"decode/{model}/slower", f"{model} decode TPR change 420^2 -> 660^2: decode gets slower "
                         "with more cores (at most 0)", 0.0, SRC["t4"], trend, unit="fraction",
                         comparison=Comparison.AT_MOST))
    return out


def prefill() -> list[Claim]:
    wse2, out = preset("wse2"), []
    for model, published in TABLE3.items():
        values = [prefill_tpr(wse2, model, side) for side in TABLE3_SIDES]
        for side, value, pub in zip(TABLE3_SIDES, values, published):
            out.append(claim(f"prefill/{model}/{side}", f"{model} prefill TPR at {side}^2, {PREFILL_TOKENS} tokens",
                             pub, SRC["t3"], value, 0.25, "tok/s",
                             fitted=model == "llama3-8b" and side in (480, 720)))
        out.append(claim(f"prefill/{model}/scale_up", f"{model} prefill TPR scale-up 480^2 -> 720^2", published[2]
                         / published[0], SRC["t3"], values[2] / values[0], 0.15, "x", fitted=model == "llama3-8b"))
    return out


def kernels() -> list[Claim]:
    wse2, a100 = preset("wse2"), registry.build(registry.preset_spec("a100-80gb"))
    out = []
    for dim, (wse_ms, gpu_ms) in TABLE6.items():
        size = f"[1,{dim // 1024}K] x [{dim // 1024}K,{dim // 1024}K]"
        out.append(claim(f"meshgemv/{dim}", f"MeshGEMV {size} on the whole 750 x 994 rectangle (grid not reported)",
                         wse_ms * 1e-3 * TABLE6_CLOCK_HZ, SRC["t6"], gemv_cycles(wse2, dim), 0.30, "cycles"))
        out.append(claim(f"a100_gemv/{dim}", f"A100 GEMV {size} on the GPU model (a100-80gb)", gpu_ms,
                         f"{WL} Table 6, SGLang-TP on 1 A100 (LUT_AND_WAFER.md §2.2, W-V10)",
                         a100.op_seconds(Op(f"gemv{dim}", OpKind.GEMM, 1, dim, dim)) * 1e3, 0.15, "ms"))
    for model, (concat, shift, side) in TABLE5.items():
        got, _ = kv_capacity(wse2, model, side)
        out.append(claim(f"kv_capacity/{model}", f"{model} max decode length, shift over concat placement at "
                         f"{side}^2", shift / concat, SRC["t5"], got[KvPlacement.SHIFT] /
                         max(1, got[KvPlacement.CONCAT]), 0.10, "x"))
    return out


def ranking() -> list[Claim]:
    wse2, out = preset("wse2"), []
    high, low = EFFICIENCY_TARGETS
    for n in (2048, 4096, 8192):
        cycles = {name: o[0] for name, o in gemm_algorithms(wse2, n, 720).items()}
        eff = {name: paper_efficiency(n, 720, c) for name, c in cycles.items()}
        for other, label in (("summa", "SUMMA"), ("cannon", "Cannon")):
            speedup = cycles[other] / cycles["meshgemm"]
            out.append(claim(f"meshgemm_over_{other}/{n}", f"GEMM {n // 1024}K at 720^2: MeshGEMM faster than {label} "
                             "(speed-up at least 1)", 1.0, SRC["s72"], speedup, unit="x",
                             comparison=Comparison.AT_LEAST))
            out.append(claim(f"meshgemm_over_{other}/{n}/2x", f"GEMM {n // 1024}K at 720^2: MeshGEMM over {label}, at "
                             "least the paper's 2x (\"2-3x\")", MESHGEMM_OVER_SUMMA_MIN, SRC["s72"], speedup, unit="x",
                             comparison=Comparison.AT_LEAST,
                             residual=SPEEDUP_8K.format(mesh=eff["meshgemm"], other=eff[other], label=label,
                                                        bound=eff["meshgemm"] / eff[other]) if n == 8192 else None))
        if n == 8192:
            out.append(claim("efficiency/meshgemm", "GEMM 8K at 720^2: MeshGEMM compute efficiency (one MAC per PE "
                             "per cycle) over 70 %", high, SRC["s72"], eff["meshgemm"], unit="fraction",
                             comparison=Comparison.AT_LEAST))
            for other in ("summa", "cannon"):
                out.append(claim(f"efficiency/{other}", f"GEMM 8K at 720^2: {other} compute efficiency (one MAC per "
                                 "PE per cycle) below 50 %", low, SRC["s72"], eff[other], unit="fraction",
                                 comparison=Comparison.AT_MOST))
    gemv = gemv_allreduce_cycles(wse2)
    out.append(claim("meshgemv_over_pipeline/16384", "GEMV 16K at 720^2: K-tree all-reduce over the pipeline "
                     "all-reduce (Cerebras' GEMV), at least the paper's 4x", MESHGEMV_OVER_CEREBRAS_MIN, SRC["s73"],
                     gemv["pipeline"] / gemv["ktree"], unit="x", comparison=Comparison.AT_LEAST))
    out.append(claim("decode_pipeline_over_ktree", "LLaMA3-8B decode at 420^2, pipeline over K-tree all-reduce "
                     "(about 4.6x end to end)", MESHGEMV_OVER_PIPELINE, SRC["s73"], pipeline_over_ktree(wse2), 0.30,
                     "x", fitted=True))
    return out


def wse3() -> list[Claim]:
    w, accel = WEAK240, preset("wse3")
    cycles, comm = weak_cycles(accel, w["p"], w["groups"], w["dim"], w["seq"], w["ffn"])
    return [claim("weak240/cycles", "WSE-3 weak-scaling decode layer, P = 240: cycles", w["cycles"], SRC["w3"],
                  cycles, 0.05, "cycles", fitted=True),
            claim("weak240/comm", "WSE-3 weak-scaling decode layer, P = 240: communication cycles", w["comm"],
                  SRC["w3"], comm, 0.05, "cycles", fitted=True),
            claim("p32_refused", "the released WSE-3 decode at P = 32 does not fit a PE (1 = refused by the capacity "
                  "check)", 1.0, SRC["w11"], float(p32_refused(accel)), 0.0, "", Comparison.ABSOLUTE,
                  residual=P32)]


def end_to_end() -> list[Claim]:
    wse2, out = preset("wse2"), []
    for model, (cells, prefill_side, decode_side) in TABLE2.items():
        for (n_in, n_out), pub in cells.items():
            out.append(claim(f"e2e/{model}/{n_in}x{n_out}", f"{model} end-to-end TPR, {n_in} in / {n_out} out "
                             f"(prefill {prefill_side}^2, decode {decode_side}^2, reshuffle between)", pub, SRC["t2"],
                             e2e_tpr(wse2, model, n_in, n_out, prefill_side, decode_side), 0.30, "tok/s"))
    return out


def serving() -> list[Claim]:
    from simulator import api

    served = api.run(str(EXPERIMENTS / "waferllm-serving.yaml"))
    stats = served.systems[0].serving
    e2e_s = (stats if isinstance(stats, dict) else stats.to_dict())["e2e_s"]["p50"]
    return [claim("serving/llama3-8b/2048x128", "llama3-8b 2048 in / 128 out by the serving simulator "
                  "(experiments/waferllm-serving.yaml, median request)", TABLE2["llama3-8b"][0][(2048, 128)],
                  SRC["t2"], 128 / e2e_s, 0.30, "tok/s")]


CHECKS = (
    Check("energy", energy, quick=True, text="the paper's energy identity (power x time), Tables 6-8"),
    Check("decode", decode, quick=True, text="Table 4 decode TPR against region size, and its trend"),
    Check("prefill", prefill, quick=True, text="Table 3 prefill TPR against region size, and its scale-up"),
    Check("kernels", kernels, quick=True, text="Table 6 MeshGEMV and A100 GEMV, Table 5 KV capacity ratio"),
    Check("ranking", ranking, quick=True, text="§7.2-7.3 algorithm ranking: MeshGEMM, MeshGEMV, efficiencies"),
    Check("wse3", wse3, quick=True, text="WSE-3 weak-scaling layer (fitted) and the P = 32 capacity refusal"),
    Check("end_to_end", end_to_end, quick=True, text="Table 2 end-to-end TPR (prefill, reshuffle, decode)"),
    Check("serving", serving, quick=True, text="Table 2 LLaMA3-8B 2048/128 through the serving simulator"),
)
