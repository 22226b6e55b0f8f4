"""One capacity rule for every accelerator family: weights + KV cache must fit the DRAM.

Resident bytes are every weight and KV operand of the simulated layer graph times
the layer repeat (as :mod:`arch.capacity` counts them), with one correction: a
mixture-of-experts layer graph holds only the experts a step touches (at batch 1,
Mixtral touches 2 of 8), but every expert's weights stay in memory, so the
expert GEMMs (``expert_gate``/``expert_up``/``expert_down``, built by
:mod:`workloads.layers`) are counted at ``num_experts`` copies. With tensor
parallelism the graph is one device's shard, and so is the capacity.

The capacity is the sum of ``capacity_bytes`` over the system's memories of kind
DRAM (:class:`arch.contract.Memory`); a system declaring none (0) is not checked.
Activations, the LM head and the embedding table are not counted (the LM head is
not in the simulated graph), so the check errs towards "fits".
"""

from __future__ import annotations

from workloads.graph import Workload
from workloads.models import ModelConfig
from workloads.op import Operand, OpKind

EXPERT_OPS = ("expert_gate", "expert_up", "expert_down")  # names given by workloads.layers._moe


def dram_capacity_bytes(accel) -> int:
    """Bytes of DRAM the system declares (0: not declared)."""
    return sum(m.capacity_bytes for m in accel.memories()
               if m.capacity_bytes and getattr(getattr(m, "kind", None), "value", "dram") == "dram")


def resident_bytes(workload: Workload) -> int:
    """Every GEMM's weight or KV operand of the layer graph, times the layer repeat."""
    per_layer = sum(op.b_bytes for op in workload.ops
                    if op.kind is OpKind.GEMM and op.b_operand in (Operand.WEIGHT, Operand.KV))
    return per_layer * workload.repeat


def untouched_expert_bytes(workload: Workload, config: ModelConfig | None) -> int:
    """Weight bytes of the experts a step does not touch, over all layers (0 for a dense model)."""
    if config is None or not config.num_experts:
        return 0
    per_layer = 0
    for op in workload.ops:
        if op.kind is OpKind.GEMM and op.name.startswith(EXPERT_OPS) and 0 < op.count < config.num_experts:
            per_expert = op.b_bytes / op.count
            per_layer += per_expert * (config.num_experts - op.count)
    return round(per_layer) * workload.repeat


def needed_bytes(workload: Workload, config: ModelConfig | None) -> int:
    """Weights (every expert) + KV cache of one step, on one device."""
    return resident_bytes(workload) + untouched_expert_bytes(workload, config)


def capacity_shortfall(accel, workload: Workload, config: ModelConfig | None) -> str:
    """A message with the numbers if the step's data does not fit ``accel``'s DRAM; ``""`` if it fits."""
    capacity = dram_capacity_bytes(accel)
    needed = needed_bytes(workload, config)
    if not capacity or needed <= capacity:
        return ""
    experts = untouched_expert_bytes(workload, config)
    detail = f", of which {experts / 1e9:.2f} GB are experts this step does not use" if experts else ""
    tp = dict(workload.meta).get("tp", 1)
    per_device = f" per device (tp {tp})" if tp and tp > 1 else ""
    return (f"does not fit: weights + KV cache need {needed / 1e9:.2f} GB{per_device}{detail}, "
            f"the DRAM holds {capacity / 1e9:.2f} GB; use tensor parallelism (workload.tp), fewer bits, "
            "a smaller batch or sequence, or `capacity: warn` to simulate it anyway")
