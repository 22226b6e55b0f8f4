"""The CPU host family (kind: cpu): T-MAC's LUT kernels and llama.cpp's dequantisation kernels.

Published rates: microsoft/T-MAC docs/profiling_data.md (arch/cpu/published.py). The
achievable-bandwidth curve of each preset is fitted on its device's T-MAC Llama-2-7B W4
rows (arch/cpu/calibration.py); every other row is a check.
"""

import pytest

from arch import registry
from arch.cpu.calibration import fitted_bandwidth
from arch.cpu.decode import tokens_per_s
from arch.cpu.model import lut_counts, lut_cycles
from arch.cpu.options import CpuGemmKernel, CpuMappingOptions
from arch.cpu.published import DEVICES, FIT_MODEL, ORIN_POWER, TMAC_PROFILING, row
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
def test_presets_hold_the_bandwidth_fit(device):
    spec = host(device).spec
    one, most = fitted_bandwidth(device)
    assert spec.bandwidth_1t_bytes_per_s == pytest.approx(one, rel=1e-3)
    assert spec.bandwidth_all_bytes_per_s == pytest.approx(most, rel=1e-3)


def test_bad_kernel_name_is_named():
    with pytest.raises(ValueError, match="gemm_kernel"):
        CpuMappingOptions.model_validate({"gemm_kernel": "tmac"})
    with pytest.raises(ValueError, match="threads"):
        registry.build({**registry.preset_spec("raspberry-pi-5"), "threads": 5})


def test_energy_identity_of_the_orin_comparison():
    for tokens_per_s_, watts, joules in ORIN_POWER.values():  # L-V10: J/token = W / (tokens/s)
        assert abs(watts / tokens_per_s_ - joules) <= 0.01     # two decimals (10.4 / 15.62 = 0.666 is given as 0.66)


# -- published rows ------------------------------------------------------------------
CHECK_ROWS = [r for r in TMAC_PROFILING if r.model != FIT_MODEL]
# Rows the model misses by more than 25 %: M2-Ultra's multi-thread rates are not
# bandwidth-bound (its 8-thread W2 row moves less than its W4 row, its 4-thread BitNet row
# less still); thread synchronisation and per-op framework costs are not modelled.
TMAC_MISSES = {("m2-ultra", "bitnet-3b", 4), ("m2-ultra", "llama2-7b-w2", 8)}


def _rate(r, kernel):
    return tokens_per_s(host(r.device, r.threads), r.model, kernel)


@pytest.mark.parametrize("r", CHECK_ROWS, ids=lambda r: f"{r.device}-{r.model}-{r.threads}t")
def test_tmac_token_rates_within_25_percent(r, request):
    if (r.device, r.model, r.threads) in TMAC_MISSES:
        request.applymarker(pytest.mark.xfail(strict=True, reason="not bandwidth-bound on the host (see TMAC_MISSES)"))
    assert _rate(r, LUT) == pytest.approx(r.tmac, rel=0.25)


@pytest.mark.parametrize("device", DEVICES)
def test_tmac_w4_to_w2_ratio_within_10_percent(device):
    model = _rate(row(device, "llama2-7b-w2", 1), LUT) / _rate(row(device, "llama2-7b-w4", 1), LUT)
    assert model == pytest.approx(row(device, "llama2-7b-w2", 1).tmac / row(device, "llama2-7b-w4", 1).tmac, rel=0.10)


SCALING = [(d, m) for d in DEVICES for m in ("bitnet-3b", "llama2-7b-w2")]
# Published scaling the model misses by more than 10 %: M2-Ultra's (not bandwidth-bound, see
# TMAC_MISSES) and BitNet's on the Surface Book 3.
SCALING_MISSES = {("m2-ultra", "bitnet-3b"), ("m2-ultra", "llama2-7b-w2"), ("surface-book-3", "bitnet-3b")}


@pytest.mark.parametrize("device,model", SCALING)
def test_tmac_thread_scaling_within_10_percent(device, model, request):
    if (device, model) in SCALING_MISSES:
        request.applymarker(pytest.mark.xfail(strict=True, reason="see SCALING_MISSES"))
    rows = sorted((r for r in TMAC_PROFILING if (r.device, r.model) == (device, model)), key=lambda r: r.threads)
    assert _rate(rows[-1], LUT) / _rate(rows[0], LUT) == pytest.approx(rows[-1].tmac / rows[0].tmac, rel=0.10)


def test_lut_beats_dequant_on_every_row_as_published():
    for r in TMAC_PROFILING:
        assert (r.tmac > r.llama_cpp) and _rate(r, LUT) > _rate(r, DEQUANT), r


# llama.cpp rows within 25 %: the 4-bit rows of the M2-Ultra, and the Orin's 1-thread rows and its
# bandwidth-bound 12-thread 4-bit row. The others run slower than the instruction counts of the
# vec_dot listings at full issue and the bandwidth T-MAC reaches on the same host allow (what
# limits llama.cpp there is not modelled).
LLAMA_HOLDS = {("m2-ultra", "llama2-7b-w4", 1), ("m2-ultra", "llama2-7b-w4", 8), ("jetson-agx-orin", "bitnet-3b", 1),
               ("jetson-agx-orin", "llama2-7b-w2", 1), ("jetson-agx-orin", "llama2-7b-w4", 1),
               ("jetson-agx-orin", "llama2-7b-w4", 12)}


@pytest.mark.parametrize("r", TMAC_PROFILING, ids=lambda r: f"{r.device}-{r.model}-{r.threads}t")
def test_llama_cpp_token_rates_within_25_percent(r, request):
    if (r.device, r.model, r.threads) not in LLAMA_HOLDS:
        request.applymarker(pytest.mark.xfail(strict=True, reason="llama.cpp slower than modelled (LLAMA_HOLDS)"))
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
