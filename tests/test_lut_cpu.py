"""The CPU host family (kind: cpu): T-MAC's LUT kernels and llama.cpp's dequantisation kernels.

Published rates: microsoft/T-MAC docs/profiling_data.md (arch/cpu/published.py). The
achievable-bandwidth curve and the per-op synchronisation of each preset are fitted on
its device's T-MAC Llama-2-7B W4 rows and W2 row at the most threads
(arch/cpu/calibration.py); every other row is a check.
"""

import pytest

from arch import registry
from arch.cpu.calibration import fitted, fitted_dequant_efficiency
from arch.cpu.decode import tokens_per_s
from arch.cpu.model import lut_counts, lut_cycles
from arch.cpu.options import CpuGemmKernel, CpuMappingOptions
from arch.cpu.published import DEVICES, ORIN_POWER, TMAC_PROFILING, is_fitted, is_llama_cpp_fitted, row
from workloads.op import Op, OpKind

LUT, DEQUANT = CpuGemmKernel.LUT, CpuGemmKernel.DEQUANT


def host(device, threads=None):
    spec = registry.preset_spec(device)
    return registry.build({**spec, "threads": threads or spec["threads"]})


def test_presets_are_listed_and_sourced():
    assert set(DEVICES) <= set(registry.presets())
    for device in DEVICES:
        text = registry.preset_path(device).read_text()
        for line in text.splitlines():
            if line and not line.startswith("#") and not line.startswith("kind"):
                assert "#" in line, f"{device}: value without a source: {line}"


def test_the_lut_kernel_is_the_shared_one_with_cpu_lanes():
    accel = host("raspberry-pi-5", 1)
    op = Op("gemv", OpKind.GEMM, 1, 4096, 4096, b_bits=2)
    counts = lut_counts(accel.spec, op)
    assert counts.lookups == 4096 * (4096 // 4) * 2          # m x n x K/g x planes
    assert counts.passes == (4096 // 16) * (4096 // 4)       # one tbl per 16 outputs per group
    assert counts.precompute_adds == (4096 // 4) * 11        # one 16-entry table per group: 2^4 - 4 - 1 adds


def test_lut_cost_is_linear_in_weight_bits():
    spec = host("jetson-agx-orin", 1).spec
    cycles = {b: lut_cycles(spec, Op("g", OpKind.GEMM, 1, 4096, 4096, b_bits=b))[0] for b in (1, 2, 4)}
    pre = lut_counts(spec, Op("g", OpKind.GEMM, 1, 4096, 4096, b_bits=1)).precompute_cycles
    assert cycles[4] - pre == 4 * (cycles[1] - pre) and cycles[2] - pre == 2 * (cycles[1] - pre)


def test_peak_bounds_lut_and_dequant_kernels():
    accel = host("m2-ultra")
    op = Op("gemv", OpKind.GEMM, 1, 4096, 4096, b_bits=2)
    peak = accel.peak_macs_per_cycle(op)
    for kernel in CpuGemmKernel:
        cost = accel.op_cost(op, options=CpuMappingOptions(gemm_kernel=kernel))
        mem = accel.memories()[0]
        total = cost.compute_cycles + mem.transfer_cycles(cost.read_bytes) + mem.transfer_cycles(cost.write_bytes)
        assert op.macs / total <= peak


def test_bandwidth_saturates_with_threads():
    spec = host("jetson-agx-orin").spec
    curve = [spec.bandwidth_bytes_per_s(t) for t in range(1, spec.cores + 1)]
    assert curve == sorted(curve) and curve[0] == spec.bandwidth_1t_bytes_per_s
    assert curve[-1] == spec.bandwidth_all_bytes_per_s < spec.dram_bandwidth_bytes_per_s


@pytest.mark.parametrize("device", DEVICES)
def test_presets_hold_the_fit(device):
    spec = host(device).spec
    fit = fitted(device)
    assert spec.bandwidth_1t_bytes_per_s == pytest.approx(fit.bandwidth_1t_bytes_per_s, rel=1e-3)
    assert spec.bandwidth_all_bytes_per_s == pytest.approx(fit.bandwidth_all_bytes_per_s, rel=1e-3)
    assert spec.op_sync_s == pytest.approx(fit.op_sync_s, rel=1e-3, abs=1e-12)
    assert dict(spec.dequant_issue_efficiency) == pytest.approx(fitted_dequant_efficiency(device), rel=1e-3)


@pytest.mark.parametrize("device", DEVICES)
def test_the_dequant_fit_reproduces_its_rows(device):
    """The fitted issue efficiency puts llama.cpp's one-thread Llama-2-7B rows on the measured rates."""
    for model in ("llama2-7b-w2", "llama2-7b-w4"):
        r = row(device, model, 1)
        assert _rate(r, DEQUANT) == pytest.approx(r.llama_cpp, rel=2e-3)


def test_lower_issue_efficiency_is_slower_never_faster():
    spec = registry.preset_spec("raspberry-pi-5")
    rates = [tokens_per_s(registry.build({**spec, "dequant_issue_efficiency": {2: e, 4: e, 6: e, 8: e}}),
                          "llama2-7b-w2", DEQUANT) for e in (0.25, 0.5, 1.0)]
    assert rates == sorted(rates) and rates[0] < rates[-1]
    with pytest.raises(ValueError, match="dequant_issue_efficiency"):
        registry.build({**spec, "dequant_issue_efficiency": {2: 1.5}})


def test_sync_is_amdahl_per_op_and_zero_on_one_thread():
    op = Op("gemv", OpKind.GEMM, 1, 4096, 4096, b_bits=4)
    spec = registry.preset_spec("m2-ultra")
    for threads in (1, 2, 8):
        with_sync = registry.build({**spec, "threads": threads})
        without = registry.build({**spec, "threads": threads, "op_sync_s": 0.0})
        extra = with_sync.op_cost(op).compute_cycles - without.op_cost(op).compute_cycles
        built = with_sync.spec
        assert extra == round(built.op_sync_s * (1 - 1 / threads) * built.clock_hz)
        assert (extra == 0) == (threads == 1)   # M2-Ultra: its W2 row at 8 threads is slower than its bytes allow


def test_the_fit_separates_bandwidth_and_sync_exactly():
    """1/rate = bytes / bandwidth + ops x sync x (1 - 1/t) holds for both fitted rows at the most threads."""
    from arch.cpu.decode import MODELS, token_bytes, token_ops
    fit = fitted("m2-ultra")
    for model in ("llama2-7b-w4", "llama2-7b-w2"):
        name, (layers, head), _ = MODELS[model]
        ops = sum(times for _, times in token_ops(name, layers, head))
        seconds = token_bytes(name, layers, head) / fit.bandwidth_all_bytes_per_s + ops * fit.op_sync_s * (1 - 1 / 8)
        assert seconds == pytest.approx(1 / row("m2-ultra", model, 8).tmac, rel=1e-12)


def test_bad_kernel_name_is_named():
    with pytest.raises(ValueError, match="gemm_kernel"):
        CpuMappingOptions.model_validate({"gemm_kernel": "tmac"})
    with pytest.raises(ValueError, match="threads"):
        registry.build({**registry.preset_spec("raspberry-pi-5"), "threads": 5})
    with pytest.raises(ValueError, match="op_sync_s"):
        registry.build({**registry.preset_spec("raspberry-pi-5"), "op_sync_s": -1e-6})


def test_energy_identity_of_the_orin_comparison():
    for tokens_per_s_, watts, joules in ORIN_POWER.values():  # L-V10: J/token = W / (tokens/s)
        assert abs(watts / tokens_per_s_ - joules) <= 0.01     # two decimals (10.4 / 15.62 = 0.666 is given as 0.66)


# -- published rows ------------------------------------------------------------------
CHECK_ROWS = [r for r in TMAC_PROFILING if not is_fitted(r)]


def _rate(r, kernel):
    return tokens_per_s(host(r.device, r.threads), r.model, kernel)


@pytest.mark.parametrize("r", CHECK_ROWS, ids=lambda r: f"{r.device}-{r.model}-{r.threads}t")
def test_tmac_token_rates_within_25_percent(r):
    assert _rate(r, LUT) == pytest.approx(r.tmac, rel=0.25)


@pytest.mark.parametrize("device", DEVICES)
def test_tmac_w4_to_w2_ratio_within_10_percent(device):
    model = _rate(row(device, "llama2-7b-w2", 1), LUT) / _rate(row(device, "llama2-7b-w4", 1), LUT)
    assert model == pytest.approx(row(device, "llama2-7b-w2", 1).tmac / row(device, "llama2-7b-w4", 1).tmac, rel=0.10)


SCALING = [(d, m) for d in DEVICES for m in ("bitnet-3b", "llama2-7b-w2")]
# BitNet's scaling is a check on every device; W2's most-thread row is a fit row, so its
# ratio checks only the 1-thread row. On the M2-Ultra that row is 10.2 % slow (the LUT
# kernel's instruction count makes it compute-bound there), which puts the ratio 11 % high.
SCALING_MISSES = {("m2-ultra", "llama2-7b-w2")}


@pytest.mark.parametrize("device,model", SCALING)
def test_tmac_thread_scaling_within_10_percent(device, model, request):
    if (device, model) in SCALING_MISSES:
        request.applymarker(pytest.mark.xfail(strict=True, reason="see SCALING_MISSES"))
    rows = sorted((r for r in TMAC_PROFILING if (r.device, r.model) == (device, model)), key=lambda r: r.threads)
    assert _rate(rows[-1], LUT) / _rate(rows[0], LUT) == pytest.approx(rows[-1].tmac / rows[0].tmac, rel=0.10)


LLAMA_SCALING = [(d, m) for d in DEVICES for m in ("bitnet-3b", "llama2-7b-w2", "llama2-7b-w4")]
# llama.cpp's thread scaling with the synchronisation fitted on T-MAC's rows (no llama.cpp
# multi-thread row is fitted). Misses: on the Orin (Q2_K) and the Surface Book 3 (all three)
# its compute-bound kernels scale worse than an even split plus that synchronisation: clock and
# power limits with many busy cores are not modelled (T-MAC's README reports llama.cpp's
# multi-thread rates unstable under a Surface laptop's thermal limit; T-MAC's bandwidth-bound
# rows on the same hosts are not affected).
LLAMA_SCALING_MISSES = {("jetson-agx-orin", "bitnet-3b"), ("jetson-agx-orin", "llama2-7b-w2"),
                        ("surface-book-3", "bitnet-3b"), ("surface-book-3", "llama2-7b-w2"),
                        ("surface-book-3", "llama2-7b-w4")}


@pytest.mark.parametrize("device,model", LLAMA_SCALING)
def test_llama_cpp_thread_scaling_within_10_percent(device, model, request):
    if (device, model) in LLAMA_SCALING_MISSES:
        request.applymarker(pytest.mark.xfail(strict=True, reason="see LLAMA_SCALING_MISSES"))
    rows = sorted((r for r in TMAC_PROFILING if (r.device, r.model) == (device, model)), key=lambda r: r.threads)
    modelled = _rate(rows[-1], DEQUANT) / _rate(rows[0], DEQUANT)
    assert modelled == pytest.approx(rows[-1].llama_cpp / rows[0].llama_cpp, rel=0.10)


def test_lut_beats_dequant_on_every_row_as_published():
    for r in TMAC_PROFILING:
        assert (r.tmac > r.llama_cpp) and _rate(r, LUT) > _rate(r, DEQUANT), r


# llama.cpp's Q2_K / Q4_0 ratio at the most threads (at one thread both rows are fitted). Miss:
# the Orin, whose Q2_K row at 12 threads is one of LLAMA_MISSES (its Q4_0 row is stream-bound).
LLAMA_RATIO_MISSES = {"jetson-agx-orin"}


@pytest.mark.parametrize("device", DEVICES)
def test_llama_cpp_w4_to_w2_ratio_at_most_threads_within_10_percent(device, request):
    if device in LLAMA_RATIO_MISSES:
        request.applymarker(pytest.mark.xfail(strict=True, reason="see LLAMA_RATIO_MISSES"))
    w2 = max((r for r in TMAC_PROFILING if (r.device, r.model) == (device, "llama2-7b-w2")), key=lambda r: r.threads)
    w4 = row(device, "llama2-7b-w4", w2.threads)
    assert _rate(w2, DEQUANT) / _rate(w4, DEQUANT) == pytest.approx(w2.llama_cpp / w4.llama_cpp, rel=0.10)


LLAMA_CHECK_ROWS = [r for r in TMAC_PROFILING if not is_llama_cpp_fitted(r)]
# llama.cpp rows the model misses by more than 25 %: the multi-thread rows of LLAMA_SCALING_MISSES
# (their one-thread rows hold; the scaling does not).
LLAMA_MISSES = {("jetson-agx-orin", "bitnet-3b", 12), ("jetson-agx-orin", "llama2-7b-w2", 12),
                ("surface-book-3", "bitnet-3b", 4), ("surface-book-3", "llama2-7b-w2", 4),
                ("surface-book-3", "llama2-7b-w4", 4)}


@pytest.mark.parametrize("r", LLAMA_CHECK_ROWS, ids=lambda r: f"{r.device}-{r.model}-{r.threads}t")
def test_llama_cpp_token_rates_within_25_percent(r, request):
    if (r.device, r.model, r.threads) in LLAMA_MISSES:
        request.applymarker(pytest.mark.xfail(strict=True, reason="scales worse than modelled (LLAMA_MISSES)"))
    assert _rate(r, DEQUANT) == pytest.approx(r.llama_cpp, rel=0.25)


def test_tmac_experiment_runs_both_kernels_on_every_host():
    from simulator.experiment import load_experiment
    from simulator.run import run_experiment

    result = run_experiment(load_experiment("experiments/tmac.yaml"))
    seconds = {s.name: s.seconds for s in result.systems}
    assert len(seconds) == 10 and not result.failures
    for name, value in seconds.items():
        if "-tmac-" in name:  # the LUT kernel is never slower than dequantisation on the same host and threads
            assert value <= seconds[name.replace("-tmac-", "-llamacpp-")]
    assert seconds["m2-ultra-tmac-8t"] < seconds["m2-ultra-tmac-1t"] / 3
