"""The GPU's component table: a power x time model split into SM, HBM, NVLink and idle.

This is a board-power model, not a per-transistor one. The published board power
(``tdp_w``) at full load is split into three parts, and each part is charged per
physically meaningful action:

* **idle** (``board`` component, static): ``idle_power_w`` for the whole run,
  as leakage x time;
* **HBM** (``hbm`` component, per bit read or written): the host path of an HBM
  stack, cell to interposer, 3.59 pJ/bit (FGDRAM, MICRO'17, as tabulated by
  AttAcc; ``arch.tech`` path ``host``). At full bandwidth this draws
  ``hbm_power_w = bandwidth x 8 x 3.59 pJ``;
* **SMs** (``sm`` component, per SM busy cycle): what remains,

      sm_power_w = tdp_w - idle_power_w - hbm_power_w      (derived)
      energy per SM busy cycle = sm_power_w / (sm_count x clock_hz)

  so a GEMM streaming at the tensor cores' peak on every SM draws exactly the
  TDP, and nothing is counted twice. An op's busy SM-cycles are its work divided
  by one SM's peak rate for the op's datatype (tensor-core MACs, or CUDA-core
  FLOPs for element-wise ops), so energy is proportional to work: cycles lost to
  padding, wave tails and the efficiency ceiling cost only idle power.
* **NVLink** (``nvlink`` component, per bit sent): 1.3 pJ/bit (AttAcc,
  ``arch.tech`` component ``link.nvlink``), present when the spec has NVLink.
* **die** (area only): the published die size, the whole die (SMs, L2, memory
  controllers, NVLink and I/O) as one entry; HBM stacks are not included.

Not modelled: power capping and clock throttling near the TDP, data-dependent
switching power, L2/SMEM/register energy as separate actions (they are inside
the SM share), the energy of the host CPU.
"""

from __future__ import annotations

from arch.contract import Component
from arch.gpu.spec import GpuSpec
from arch.tech import TechLibrary

HBM_PATH = "host"  # a GPU reads HBM over the full path to the interposer (FGDRAM)


def hbm_pj_per_bit(lib: TechLibrary) -> float:
    return lib.dram_path_pj_per_bit(HBM_PATH)


def hbm_power_w(spec: GpuSpec, lib: TechLibrary) -> float:
    """HBM power at the full published bandwidth (derived: bytes/s x 8 x pJ/bit)."""
    return spec.hbm_bandwidth_bytes_per_s * 8 * hbm_pj_per_bit(lib) * 1e-12


def sm_power_w(spec: GpuSpec, lib: TechLibrary) -> float:
    """The SMs' share of the TDP: TDP - idle - HBM at full bandwidth (derived)."""
    power = spec.tdp_w - spec.idle_power_w - hbm_power_w(spec, lib)
    if power <= 0:
        raise ValueError(
            f"tdp_w: {spec.tdp_w} W leaves no power for the SMs after idle_power_w "
            f"({spec.idle_power_w} W) and HBM at full bandwidth ({hbm_power_w(spec, lib):.1f} W)")
    return power


def sm_pj_per_busy_cycle(spec: GpuSpec, lib: TechLibrary) -> float:
    return sm_power_w(spec, lib) / (spec.sm_count * spec.clock_hz) * 1e12


def gpu_components(spec: GpuSpec, lib: TechLibrary) -> tuple[Component, ...]:
    hbm = hbm_pj_per_bit(lib)
    parts = [
        Component("sm", spec.sm_count, 0.0, {"busy_cycle": sm_pj_per_busy_cycle(spec, lib)}, 0.0, "compute"),
        Component("hbm", 1, 0.0, {"read_bit": hbm, "write_bit": hbm}, 0.0, "dram"),
        Component("board", 1, 0.0, {}, spec.idle_power_w, "other"),
        Component("die", 1, spec.die_area_mm2 * 1e6, {}, 0.0, "other"),
    ]
    if spec.nvlink_bandwidth_bytes_per_s > 0:
        parts.append(Component("nvlink", 1, 0.0, {"transfer_bit": lib.energy_pj("link.nvlink", "transfer")},
                               0.0, "network"))
    return tuple(parts)
