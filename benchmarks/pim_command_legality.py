"""PIM command streams against each DRAM standard's table: commands, violations, and the bus-only kernel's.

For each DRAM preset and all-bank activation mode, one decode-attention GEMV
(2048 tokens x 16 instances, the NeuPIMs memory's organisation, several tREFI
long) is timed by the PIM kernel's twin with every command logged, and the log
is replayed by ``arch.dram.check_command_log``. The last column repeats it with
the kernel's spacings between row commands set to the command bus alone (one
command per cycle: ACT-to-ACT, PRE-to-PRE, PRE-to-ACT and REF-to-REF = 1) and
tRC taken as tRAS + tRP, the way the kernel timed them before it read them from
the table.

    python benchmarks/pim_command_legality.py
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from arch.dram import check_command_log, list_presets  # noqa: E402
from arch.pim.command_timing import command_log, device_vector  # noqa: E402
from arch.pim.gemv import layout  # noqa: E402
from arch.pim.kernel import ACT_TO_ACT, PRE_TO_ACT, PRE_TO_PRE, REF_TO_REF, T_RAS, T_RC, T_RP  # noqa: E402
from arch.pim.spec import PimMemorySpec, load_memory  # noqa: E402
from workloads.op import Op, OpKind, Operand  # noqa: E402

OP = Op("attn_score", OpKind.GEMM, 1, 2048, 128, count=16, b_operand=Operand.KV)


def rows(pim):
    lay = layout(OP, pim)
    macs = [lay.macs_full] * (lay.row_sets - 1) + [lay.macs_last]
    reads = [lay.readouts // lay.row_sets + (r < lay.readouts % lay.row_sets) for r in range(lay.row_sets)]
    before = [lay.gwrite_bursts * pim.dram_spec.timing_cycles["BL"]] + [0] * (lay.row_sets - 1)
    return macs, reads, before


def rules_broken(pim, log) -> str:
    found = check_command_log(pim.dram_spec, log)
    names = Counter(v.message.rsplit("(", 1)[-1].rstrip(")") for v in found if "needs" in v.message)
    return f"{len(found)}" + (f" ({', '.join(f'{n} x{k}' for n, k in names.most_common(3))})" if found else "")


def main() -> None:
    print("| DRAM | activation | commands | cycles | violations | bus-only spacing: violations |")
    print("|---|---|---|---|---|---|")
    for dram in list_presets():
        for mode in ("ganged", "faw_limited"):
            pim = PimMemorySpec.model_validate({**load_memory("neupims-hbm2"), "dram": dram,
                                                "all_bank_activation": mode})
            device = device_vector(pim, dual_bus=True)
            log, cycles = command_log(rows(pim), device)
            bus_only = device.copy()
            for field in (ACT_TO_ACT, PRE_TO_PRE, PRE_TO_ACT, REF_TO_REF):
                bus_only[field] = 1
            bus_only[T_RC] = device[T_RAS] + device[T_RP]
            old_log, _ = command_log(rows(pim), bus_only)
            print(f"| {dram} | {mode} | {len(log.cycle)} | {cycles} | {rules_broken(pim, log)} | "
                  f"{rules_broken(pim, old_log)} |")


if __name__ == "__main__":
    main()
