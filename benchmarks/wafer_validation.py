"""WaferLLM validation: the wafer model's figures next to the paper's (LUT_AND_WAFER.md §2.3).

The published tables and the computations live in :mod:`simulator.reproduce.waferllm`
(``xpusim reproduce waferllm`` holds each figure as a claim); this script prints them
with the calibration fit, sweeps and energy views that are not claims.

Run: ``python benchmarks/wafer_validation.py`` (about a minute on one core).

First it refits the calibrated spec fields on the named configurations only
(WSE-2: Table 3 LLaMA3-8B prefill at 480^2 and 720^2 for the call overhead and
step sync, then Table 4 LLaMA3-8B decode at 420^2 for the relay latency; WSE-3:
the P = 240 weak-scaling decode layer) and checks that the presets carry the
fitted values. Every other figure is predicted with those values fixed. The
published values below are quoted from the paper ([WL], He et al., OSDI'25) as
tabulated in LUT_AND_WAFER.md §2.2; "fit" marks a figure a parameter was fitted on.
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arch import registry  # noqa: E402
from arch.wafer.energy import paper_energy_j, paper_energy_ratio  # noqa: E402
from arch.wafer.kernel import GEMM_ALGORITHMS, mesh_gemm_kernel, mesh_gemv_kernel  # noqa: E402
from arch.wafer.published import ENERGY_CELLS  # noqa: E402
from arch.wafer.options import AllreduceAlgorithm, KvPlacement, WaferMappingOptions  # noqa: E402
from arch.capacity import CapacityError  # noqa: E402
from arch.wafer.partition import autotune_regions, residency, shift_step_cycles  # noqa: E402
from simulator.reproduce.waferllm import (CALIBRATED, DECODE_KV, EFFICIENCY_TARGETS, MESHGEMV_OVER_PIPELINE,  # noqa: E402
                                          MODELS, P32_DECODE, PAPER_MACS_PER_CYCLE_PER_PE, TABLE2, TABLE3,
                                          TABLE3_SIDES, TABLE4, TABLE4_SIDES, TABLE5, TABLE6, WEAK240, decode_tpr,
                                          e2e_tpr, gemv_cycles, kv_capacity, layer, pipeline_over_ktree, prefill_tpr,
                                          wafer, weak_cycles, weak_layer)
from workloads.layers import build_decoder_layer  # noqa: E402
from workloads.models import load_model  # noqa: E402
from workloads.op import Op, OpKind  # noqa: E402

def rel(a: float, b: float) -> float:
    return a / b - 1


def row(label: str, computed: float, published: float, tol: float | None, fit: bool = False) -> bool:
    err = rel(computed, published)
    ok = tol is None or abs(err) <= tol
    mark = "fit" if fit else ("ok" if ok else "MISS")
    tol_s = f"±{tol:.0%}" if tol is not None else "  -"
    digits = 3 if abs(published) < 100 else 1
    print(f"  {label:<38} {computed:>12.{digits}f} {published:>12.{digits}f} {err:>+8.1%} {tol_s:>6} {mark}")
    return ok


def fit_prefill(**fields) -> tuple[float, int, int]:
    """(largest relative error, call overhead, step sync) fitted on Table 3 LLaMA3-8B prefill at 480^2 and
    720^2, with the other spec fields the preset's (or ``fields``)."""
    best = None
    for o, s in itertools.product(range(0, 17), range(0, 1001, 10)):
        accel = wafer("wse2", **fields, call_overhead_cycles=o, step_sync_cycles=s, op_overhead_cycles=0)
        err = max(abs(rel(prefill_tpr(accel, "llama3-8b", side), TABLE3["llama3-8b"][i]))
                  for i, side in ((0, 480), (2, 720)))
        if best is None or err < best[0]:
            best = (err, o, s)
    return best


def one_lane_variant() -> None:
    """The prefill calibration redone at one fp16 lane per PE, and the scale-ups it then predicts."""
    err, o, s = fit_prefill(fp16_macs_per_cycle_per_pe=1)
    accel = wafer("wse2", fp16_macs_per_cycle_per_pe=1, call_overhead_cycles=o, step_sync_cycles=s)
    ups = ", ".join(f"{m} {prefill_tpr(accel, m, 720) / prefill_tpr(accel, m, 480):.3f} "
                    f"({rel(prefill_tpr(accel, m, 720) / prefill_tpr(accel, m, 480), pub[2] / pub[0]):+.1%})"
                    for m, pub in TABLE3.items())
    print(f"  (at one fp16 lane the same fit gives call overhead {o}, step sync {s}, worst error {err:.1%} on its own "
          f"two configurations -- {fit_prefill()[0]:.1%} at the preset's {wafer('wse2').spec.fp16_macs_per_cycle_per_pe}"
          f" lanes -- and scale-ups {ups})")


def fit_wse2() -> dict:
    """Call overhead and step sync on Table 3 LLaMA3-8B prefill at 480^2 / 720^2; then, for each relay
    latency, the op overhead that matches Table 4 LLaMA3-8B decode at 420^2, keeping the relay latency
    whose decode with the pipeline all-reduce is closest to 4.6x slower ([WL] §7.3). The MAC rate is the
    preset's, derived rather than fitted: two fp16 lanes per 32-bit operand ([WL] §7; pitfall W6)."""
    _, o, s = fit_prefill()
    candidates = []
    for beta in range(0, 41):
        fixed = {"call_overhead_cycles": o, "step_sync_cycles": s, "relay_latency_cycles": beta}
        overhead = min(range(0, 601, 10), key=lambda ov: abs(rel(decode_tpr(
            wafer("wse2", **fixed, op_overhead_cycles=ov), "llama3-8b", 420), TABLE4["llama3-8b"][0])))
        fixed["op_overhead_cycles"] = overhead
        ratio = pipeline_over_ktree(wafer("wse2", **fixed))
        candidates.append((abs(ratio - MESHGEMV_OVER_PIPELINE), beta, fixed))
    return min(candidates, key=lambda c: (c[0], c[1]))[2]


def fit_wse3() -> dict:
    """relay latency on the P = 240 layer's communication cycles; op overhead = the unprofiled cycles per
    op; call overhead on the layer's total cycles."""
    w = WEAK240
    ops = len(weak_layer(w["p"], w["dim"], w["seq"], w["ffn"]).ops)
    overhead = round(w["unprofiled"] / ops)
    args = (w["p"], w["groups"], w["dim"], w["seq"], w["ffn"])
    beta = min(range(0, 201), key=lambda b: abs(weak_cycles(wafer("wse3", relay_latency_cycles=b), *args)[1]
                                               - w["comm"]))
    o = min(range(0, 101), key=lambda o: abs(weak_cycles(wafer(
        "wse3", relay_latency_cycles=beta, op_overhead_cycles=overhead, call_overhead_cycles=o), *args)[0]
        - w["cycles"]))
    return {"relay_latency_cycles": beta, "call_overhead_cycles": o, "op_overhead_cycles": overhead}


def check_presets(preset: str, fitted: dict) -> bool:
    spec = registry.preset_spec(preset)
    same = all(spec[k] == v for k, v in fitted.items())
    print(f"  {preset}: fitted {fitted}; preset {'matches' if same else 'DIFFERS: ' + str({k: spec[k] for k in fitted})}")
    return same


def main() -> int:
    started = time.perf_counter()
    results = []
    print("Calibration (fitted on the named configurations only)")
    results.append(check_presets("wse2", fit_wse2()))
    results.append(check_presets("wse3", fit_wse3()))
    wse2, wse3 = wafer("wse2"), wafer("wse3")
    for preset, accel in (("wse2", wse2), ("wse3", wse3)):
        print(f"  {preset} notes: {accel.notes()[0]}")

    print(f"\n{'':2}{'figure':<38} {'computed':>12} {'published':>12} {'error':>8} {'tol':>6}")
    print("W-V1 energy identity (A100 / WSE-2 energy = n t_GPU / (37.5 t_WSE)), Tables 6-8")
    for gpus, t_gpu, t_wse, published in ENERGY_CELLS:
        ratio = paper_energy_ratio(gpus, t_gpu, t_wse)
        tol = max(0.01, 0.005 / published)  # ±1%, or half a unit of the published last digit
        results.append(row(f"{gpus} GPU(s), t_GPU {t_gpu:.3g}, t_WSE {t_wse:.3g}", ratio, published, tol))

    print("W-V4 Table 4 decode TPR (tok/s), KV 4096, batch 1 -- wse2")
    for model, published in TABLE4.items():
        values = [decode_tpr(wse2, model, side) for side in TABLE4_SIDES]
        for side, v, pub in zip(TABLE4_SIDES, values, published):
            fit = model == "llama3-8b" and side == 420
            tag = " (subset of layers scaled, W2)" if model in ("codellama-34b", "qwen2-72b") else ""
            results.append(row(f"{model} {side}^2{tag}", v, pub, 0.25, fit) or fit)
        trend, pub_trend = values[-1] / values[0] - 1, published[-1] / published[0] - 1
        ok = (trend < 0) == (pub_trend < 0) and abs(trend - pub_trend) <= 0.10
        print(f"  {model} trend 420^2 -> 660^2: {trend:+.1%} vs {pub_trend:+.1%} (sign, ±10 pts) "
              f"{'ok' if ok else 'MISS'}")
        results.append(ok)

    print("W-V5 Table 3 prefill TPR (tok/s), 4096 tokens -- wse2")
    for model, published in TABLE3.items():
        values = [prefill_tpr(wse2, model, side) for side in TABLE3_SIDES]
        for i, (side, v, pub) in enumerate(zip(TABLE3_SIDES, values, published)):
            fit = model == "llama3-8b" and side in (480, 720)
            results.append(row(f"{model} {side}^2", v, pub, 0.25, fit) or fit)
        results.append(row(f"{model} scale-up 480^2 -> 720^2", values[2] / values[0], published[2] / published[0],
                           0.15, model == "llama3-8b") or model == "llama3-8b")

    one_lane_variant()

    print("W-V7 Table 6 MeshGEMV latency (cycles at 1.1 GHz), grid not reported: the whole 750 x 994 rectangle")
    for dim, (ms, _) in TABLE6.items():
        results.append(row(f"[1,{dim // 1024}K] x [{dim // 1024}K,{dim // 1024}K]", gemv_cycles(wse2, dim),
                           ms * 1e-3 * 1.1e9, 0.30))

    print("W-V10 A100 GEMV baseline on the GPU model (ms)")
    a100 = registry.build(registry.preset_spec("a100-80gb"))
    for dim, (_, ms) in TABLE6.items():
        op = Op(f"gemv{dim}", OpKind.GEMM, 1, dim, dim)
        results.append(row(f"A100 [1,{dim // 1024}K] x [{dim // 1024}K,{dim // 1024}K]", a100.op_seconds(op) * 1e3,
                           ms, 0.15))

    print("W-V9 Table 5 KV capacity, shift / concat ratio (tokens) -- wse2")
    for model, (concat, shift, side) in TABLE5.items():
        config = load_model(MODELS[model])
        got, per_token = kv_capacity(wse2, model, side)
        ratio = got[KvPlacement.SHIFT] / max(1, got[KvPlacement.CONCAT])
        results.append(row(f"{model} ratio at {side}^2", ratio, shift / concat, 0.10))
        print(f"  {model} absolute (not a target): shift {got[KvPlacement.SHIFT]} vs {shift}, "
              f"concat {got[KvPlacement.CONCAT]} vs {concat}; shift-based placement moves "
              f"{shift_step_cycles(wse2.spec, per_token // 2 // config.num_layers, side)} cycles of KV per layer "
              "and decode step")

    work = layer("llama3-8b", "decode", DECODE_KV)
    for appended in (0, 382, 4096):
        cost = {pl.value: wse2.step_cycles(work, WaferMappingOptions(decode_region_pe=360, kv_placement=pl,
                                                                    kv_appended_tokens=appended))
                for pl in KvPlacement}
        print(f"  llama3-8b decode step at 360^2, KV {DECODE_KV}, {appended} tokens appended since the layout: "
              f"shift {cost['shift']} cycles, concat {cost['concat']} cycles")

    print("W-V8 algorithm ranking -- wse2 kernels, square GEMMs N x N x N")
    results.append(algorithm_ranking(wse2))

    print("W-V6 Table 2 E2E TPR (decode tokens / (prefill + reshuffle + decode time)), ±30% -- wse2")
    for model, (cells, prefill_side, decode_side) in TABLE2.items():
        for (n_in, n_out), pub in cells.items():
            results.append(row(f"{model} {n_in}/{n_out}", e2e_tpr(wse2, model, n_in, n_out, prefill_side,
                                                                   decode_side), pub, 0.30))

    from simulator import api
    served = api.run(str(Path(__file__).resolve().parents[1] / "experiments" / "waferllm-serving.yaml"))
    serving = served.systems[0].serving
    e2e = (serving if isinstance(serving, dict) else serving.to_dict())["e2e_s"]["p50"]
    results.append(row("llama3-8b 2048/128 by the serving simulator", 128 / e2e,
                       TABLE2["llama3-8b"][0][(2048, 128)], 0.30))

    print("Autotuned region sides (WaferLLM autotunes per phase; the paper's LLaMA3-8B choice: prefill 660^2, "
          "decode 360^2 [WL] §7.1)")
    for model in ("llama3-8b", "llama2-13b"):
        pre, dec = autotuned_sides(wse2, model)
        print(f"  {model}: prefill {pre[0]}^2 ({pre[1]} cycles), decode {dec[0]}^2 ({dec[1]} cycles)")

    print("W-V3 WSE-3 weak scaling (per-PE dims 9/9/30), cycles per decode layer -- wse3")
    for p, groups in ((240, 10), (120, 10), (360, 18), (480, 20), (720, 24)):
        cycles, comm = weak_cycles(wse3, p, groups, 9 * p, 9 * p, 30 * p)
        if p == 240:
            row("P = 240 layer cycles", cycles, WEAK240["cycles"], None, True)
            row("P = 240 communication cycles", comm, WEAK240["comm"], None, True)
        else:
            print(f"  P = {p:<4} predicted {cycles:>8} cycles ({comm} communication, {comm / cycles:.0%})")
    cross = wafer("wse3", **{k: registry.preset_spec("wse2")[k] for k in CALIBRATED})
    cycles, comm = weak_cycles(cross, 240, 10, 2160, 2160, 7200)
    print(f"  (the WSE-2 calibration on this layer: {cycles} cycles, {comm} communication -- WaferLLM's WSE-3 "
          "code is a later SDK version, W8)")

    results.append(sram_fit_check(wse3))
    energy_conventions(wse2)
    elapsed = speed_check(wse2)
    results.append(elapsed < 1.0)
    missed = results.count(False)
    print(f"\n{len(results) - missed}/{len(results)} checks within tolerance; total {time.perf_counter() - started:.0f} s")
    return 0


def autotuned_sides(accel, model: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """The fastest prefill (4096 tokens) and decode (KV 4096) region sides among 300, 330, ..., 750."""
    config = load_model(MODELS[model])
    candidates = tuple(range(300, accel.spec.max_region_pe + 1, 30))
    found = []
    for phase, key in (("prefill", "prefill_region_pe"), ("decode", "decode_region_pe")):
        work = build_decoder_layer(config, phase, 1, 4096)

        def cycles_of(side, work=work, key=key):
            options = WaferMappingOptions(**{key: side})
            try:
                accel.check_workload(work, options)
            except CapacityError:
                return None
            return accel.step_cycles(work, options)
        found.append(autotune_regions(cycles_of, candidates))
    return found[0], found[1]


def algorithm_ranking(accel) -> bool:
    """Figure 9's comparison. Efficiency is printed against the model's peak and, as the paper states it,
    against one MAC per PE per cycle; the > 70% / < 50% verdict is taken on the largest GEMM (8K) at 720^2
    in the paper's convention (which GEMM the sentence refers to is not stated; assumption)."""
    spec = accel.spec
    args = (spec.hop_latency_cycles, spec.relay_latency_cycles, spec.link_words_per_cycle,
            spec.fp16_macs_per_cycle_per_pe, spec.call_overhead_cycles, spec.step_sync_cycles, spec.free_colors)
    ok = True
    print(f"  efficiency: model peak {spec.fp16_macs_per_cycle_per_pe} MAC/cycle/PE / paper's convention "
          f"{PAPER_MACS_PER_CYCLE_PER_PE} MAC/cycle/PE")
    for n in (2048, 4096, 8192):
        for p in (360, 540, 720):
            out = {name: mesh_gemm_kernel(code, n, n, n, p, *args) for name, code in GEMM_ALGORITHMS.items()}
            cyc = {name: o[0] for name, o in out.items()}
            eff = {name: n ** 3 / (c * p * p * spec.fp16_macs_per_cycle_per_pe) for name, c in cyc.items()}
            paper = {name: n ** 3 / (c * p * p * PAPER_MACS_PER_CYCLE_PER_PE) for name, c in cyc.items()}
            fits = {name: 2 * o[10] <= spec.usable_sram_bytes_per_pe for name, o in out.items()}
            line = ", ".join(f"{name} {c} ({eff[name]:.0%} / {paper[name]:.0%}"
                             f"{'' if fits[name] else ', does not fit the SRAM'})" for name, c in cyc.items())
            print(f"  GEMM {n // 1024}K at {p}^2: {line}")
            if p == 720:
                ok &= cyc["meshgemm"] < min(cyc["summa"], cyc["cannon"])
                print(f"    MeshGEMM speed-up vs SUMMA {cyc['summa'] / cyc['meshgemm']:.2f}x, vs Cannon "
                      f"{cyc['cannon'] / cyc['meshgemm']:.2f}x (paper 2-3x)")
            if p == 720 and n == 8192:
                high, low = EFFICIENCY_TARGETS
                held = paper["meshgemm"] > high and max(paper["summa"], paper["cannon"]) < low
                own = eff["meshgemm"] > high and max(eff["summa"], eff["cannon"]) < low
                print(f"    efficiency at 720^2 in the paper's convention: MeshGEMM {paper['meshgemm']:.1%} "
                      f"(paper > {high:.0%}), SUMMA {paper['summa']:.1%}, Cannon {paper['cannon']:.1%} "
                      f"(paper < {low:.0%}) {'ok' if held else 'MISS'}")
                over = max(n ** 3 / (mesh_gemm_kernel(GEMM_ALGORITHMS["meshgemm"], n, n, n, q, *args)[0] * q * q
                                     * PAPER_MACS_PER_CYCLE_PER_PE) for q in (360, 540))
                print(f"    against the model's own peak: MeshGEMM {eff['meshgemm']:.1%}, SUMMA {eff['summa']:.1%}, "
                      f"Cannon {eff['cannon']:.1%} ({'ok' if own else 'MISS'}, not counted: the paper does not "
                      f"define its peak; in its convention MeshGEMM reaches {over:.0%} at a smaller region)")
                ok &= held
    gemv = {}
    for name in (AllreduceAlgorithm.KTREE, AllreduceAlgorithm.PIPELINE, AllreduceAlgorithm.RING):
        from arch.wafer.kernel import ALLREDUCE_ALGORITHMS
        gemv[name.value] = mesh_gemv_kernel(ALLREDUCE_ALGORITHMS[name.value], 1, 16384, 16384, 720, 720, 2, 0,
                                            *args[:5])[0]
    print(f"  GEMV 16K at 720^2: {gemv}; K-tree speed-up over pipeline {gemv['pipeline'] / gemv['ktree']:.2f}x "
          f"(paper: MeshGEMV 4-8x over Cerebras' GEMV)")
    print(f"  LLaMA3-8B decode at 420^2, pipeline / K-tree all-reduce: {pipeline_over_ktree(accel):.2f}x "
          f"(paper ~{MESHGEMV_OVER_PIPELINE}x end to end; the relay latency was fitted on it)")
    ok &= gemv["ktree"] < gemv["pipeline"]
    print(f"  ranking {'holds' if ok else 'DOES NOT HOLD'}")
    return ok


def sram_fit_check(accel) -> bool:
    """W-V11: is the released WSE-3 decode at P = 32 refused by the per-PE capacity check?"""
    c = P32_DECODE
    work = weak_layer(c["p"], c["dim"], c["seq"], c["ffn"])
    res = residency(accel.spec, work.ops, 1, c["p"])
    data = res.layer_bytes_per_pe + res.buffer_bytes_per_pe
    try:
        accel.check_workload(work, WaferMappingOptions(decode_region_pe=c["p"], ktree_groups=c["groups"]))
        flagged = False
    except CapacityError:
        flagged = True
    spec = accel.spec
    print(f"W-V11 per-PE SRAM of the released WSE-3 decode at P = {c['p']} (dim {c['dim']}, seq {c['seq']}) -- wse3")
    print(f"  data per PE: weights {res.weight_bytes_per_pe} + KV {res.kv_bytes_per_pe} + working buffers "
          f"{res.buffer_bytes_per_pe} = {data} bytes; reserved (code, task tables) {spec.reserved_sram_bytes_per_pe} "
          f"of {spec.sram_bytes_per_pe}")
    print(f"  the link fails, so code, task tables and runtime take more than {spec.sram_bytes_per_pe - data} bytes "
          f"of that build (no published size); flagged as not fitting: {'yes ok' if flagged else 'no MISS'}")
    return flagged


def energy_conventions(accel) -> None:
    """One LLaMA3-8B decode token (KV 4096, 420^2) under the three energy views the family offers."""
    work = build_decoder_layer(load_model("llama3-8b"), "decode", 1, 4096)
    options = WaferMappingOptions(decode_region_pe=420)
    counts: dict[str, int] = {}
    for op in work.ops:
        for key, n in accel.op_cost(op, None, options).action_counts.items():
            counts[key] = counts.get(key, 0) + n * work.repeat
    seconds = accel.step_cycles(work, options) / accel.clock_hz
    dynamic = accel.energy(counts).total_pj * 1e-12
    static = accel.leakage_w() * seconds
    cores = accel.spec.core_power_w * accel.spec.die_pe_count * seconds
    print("\nEnergy of one LLaMA3-8B decode token on wse2 (420^2, KV 4096)")
    print(f"  per action (technology library, 7 nm): {dynamic:.4f} J dynamic + {static:.4f} J leakage")
    print(f"  paper convention (37.5 x A100 400 W x time): {paper_energy_j(seconds):.3f} J")
    print(f"  core power x cores x time ({accel.spec.core_power_w} W x {accel.spec.die_pe_count}): {cores:.3f} J")
    print("  (the per-action model counts only the work done; the wafer's clock, idle cores and I/O are not in "
          "the technology library)")


def speed_check(accel) -> float:
    """A LLaMA3-8B decode step mapped and simulated by the engine, on shapes no earlier call costed."""
    from mappers.subbatch import map_step
    from simulator.engine import simulate
    start = time.perf_counter()
    work = build_decoder_layer(load_model("llama3-8b"), "decode", 1, 4093)
    accel.check_workload(work, WaferMappingOptions(decode_region_pe=421))
    _, schedule = map_step(work, accel, {"decode_region_pe": 421})
    layer = max(event.end for event in simulate(schedule))
    elapsed = time.perf_counter() - start
    closed = accel.step_cycles(work, WaferMappingOptions(decode_region_pe=421))
    print(f"\nLLaMA3-8B decode step on wse2 (421^2, fresh shapes) through the mapper and engine: "
          f"{layer * work.repeat} cycles ({closed} closed form), {elapsed * 1e3:.0f} ms (limit 1 s)")
    return elapsed


if __name__ == "__main__":
    raise SystemExit(main())
