"""A chip-to-chip link and the ring all-reduce that tensor parallelism runs on it.

What it models
--------------
Each device of a tensor-parallel group of ``devices`` holds a partial sum of the
same tensor (``nbytes`` bytes) and a ring all-reduce adds them up: the tensor
is cut into ``devices`` chunks, and in ``2 (devices - 1)`` steps (a
reduce-scatter, then an all-gather) every device sends one chunk to its ring
neighbour while receiving one. Per device that moves

  sent_bytes = 2 (devices - 1) x ceil(nbytes / devices)  ~ 2 (devices - 1) / devices x nbytes

over its outgoing link, and the all-reduce takes

  cycles = ceil(sent_bytes / link_bytes_per_cycle) + 2 (devices - 1) x latency_cycles.

This is the bandwidth-optimal ring (Patarasuk and Yuan, "Bandwidth optimal
all-reduce algorithms for clusters of workstations", JPDC 2009), the algorithm
NCCL and XLA use for large tensors.

How faithful
------------
Sends and receives overlap fully (full-duplex links), each step pays the link
latency once, and the additions of the received chunks are assumed hidden
under the transfers. Not captured: tree or 2D-torus algorithms, congestion from
other traffic on the links, and link contention between concurrent
all-reduces of one device beyond the engine serialising them on one link unit.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def ring_allreduce_kernel(nbytes, devices, link_bytes_per_cycle, latency_cycles):
    """Return (cycles, bytes each device sends) of a ring all-reduce (module docstring).

    ``nbytes`` >= 0 and ``devices`` >= 1 are ints, ``link_bytes_per_cycle`` > 0;
    one device (or nothing to reduce) costs nothing.
    """
    if devices <= 1 or nbytes <= 0:
        return 0, 0
    steps = 2 * (devices - 1)
    chunk_bytes = (nbytes + devices - 1) // devices
    sent_bytes = steps * chunk_bytes
    transfer_cycles = int(sent_bytes / link_bytes_per_cycle)
    if transfer_cycles * link_bytes_per_cycle < sent_bytes:
        transfer_cycles += 1
    return transfer_cycles + steps * latency_cycles, sent_bytes


# The plain-Python twin: the same function body, run by the interpreter.
ring_allreduce_kernel_py = ring_allreduce_kernel.py_func
