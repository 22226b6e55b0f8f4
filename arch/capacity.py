"""Capacity checks: whether a workload's resident data (weights, KV cache) fits a memory.

Resident bytes are every GEMM's weight or KV operand of one simulated layer
graph times the layer repeat. Models call :func:`check_capacity` to refuse a
step that does not fit or :func:`capacity_warnings` to report it.
"""

from __future__ import annotations

from workloads.op import OpKind, Operand


class CapacityError(ValueError):
    """A workload's resident data (weights, KV cache) does not fit a system's memory."""


def resident_bytes(workload) -> int:
    """Bytes that stay in memory for a whole step: every GEMM's weight or KV operand, times the layer repeat."""
    per_layer = sum(op.b_bytes for op in workload.ops
                    if op.kind is OpKind.GEMM and op.b_operand in (Operand.WEIGHT, Operand.KV))
    return per_layer * workload.repeat


def check_capacity(workload, capacity_bytes: int, key: str, holder: str) -> None:
    """Raise :class:`CapacityError` naming ``key`` when ``workload``'s resident bytes exceed ``capacity_bytes``."""
    message = _capacity_message(workload, capacity_bytes, key, holder)
    if message:
        raise CapacityError(message)


def capacity_warnings(workload, capacity_bytes: int, key: str, holder: str) -> tuple[str, ...]:
    """The same check as :func:`check_capacity`, as a warning the results carry instead of an error."""
    message = _capacity_message(workload, capacity_bytes, key, holder)
    return (f"{message} -- the results assume the step's data fits",) if message else ()


def _capacity_message(workload, capacity_bytes: int, key: str, holder: str) -> str:
    needed = resident_bytes(workload)
    if not capacity_bytes or needed <= capacity_bytes:
        return ""
    return (f"{key}: the workload's weights + KV cache need {needed / 1e9:.2f} GB ({needed} bytes) but "
            f"{holder} holds {capacity_bytes / 1e9:.2f} GB ({capacity_bytes} bytes); use tensor parallelism "
            "(workload tp), fewer bits or a smaller batch / sequence")
