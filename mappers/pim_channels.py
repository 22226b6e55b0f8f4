"""Decode requests placed on PIM channels by their own KV lengths; the PIM op timed by its slowest channel.

NeuPIMs keeps each request's K and V whole in one DRAM channel, so a channel's
share of an attention GEMV is the sum of its own requests, and the op ends when
its busiest channel does. This module makes that a mapper choice
(``mapping.channel_placement``, :class:`arch.pim.options.NeupimsMappingOptions`):

* ``round_robin``: request ``i`` on channel ``i mod channels`` (the artefact's
  ``rr`` request traces);
* ``clb``: in arrival order, each request on the channel whose placed requests'
  summed latency estimate is lowest, the lowest index on ties (NeuPIMs' channel
  load balancing, ``casys-kaist/NeuPIMs: src/scheduler/Scheduler.cc``,
  ``allocate_pim_tile``). The estimate is the artefact scheduler's own
  ``estimate_mha_latency``: 100 cycles per GWRITE (``_gwrite_latency``) and 184
  per tile (``_gemv_latency``), ``ceil(E / page bytes)`` K chunks of
  ``ceil(L / banks)`` tiles plus ``ceil(L / page bytes) x heads`` V chunks of
  ``ceil(d / banks)`` tiles, as that function writes it.
* ``even`` (or no per-request lengths in the workload): the op's instances are
  dealt evenly by the generic mapper, every request at the batch's mean length.

Sub-batches are formed as NeuPIMs' ``group_sub_batches`` forms them (its simple
partition): every channel's queue, in arrival order, is cut into
``sub_batches`` parts, an odd queue giving its larger half to the first
sub-batch and the next odd queue to the second, alternately; so sub-batches may
differ in size. :func:`place_tasks` then replaces each PIM op's tasks by one
task per channel that holds requests of its (sub-)batch, bound to that
channel's instance and costed by the system's ``channel_cost`` with those
requests' KV lengths.

The per-request KV lengths come from the workload's metadata
``request_kv_tokens`` (set by a decode step built from ``workload.kv_lens``).
"""

from __future__ import annotations

import dataclasses

from arch.contract import Accelerator, MappingOptions
from mappers.schedule import Schedule, Task
from workloads.graph import Workload
from workloads.op import Op

PLACEMENTS = ("round_robin", "clb")
# casys-kaist/NeuPIMs: src/scheduler/Scheduler.cc, Scheduler::Scheduler: "PIM GEMV latency"
ARTEFACT_GWRITE_ESTIMATE_CYCLES = 100  # _gwrite_latency
ARTEFACT_TILE_ESTIMATE_CYCLES = 184    # _gemv_latency
KV_META_KEY = "request_kv_tokens"
SUB_BATCH_META_KEY = "sub_batch_requests"


def request_kv_tokens(workload: Workload) -> tuple[int, ...]:
    """Each request's KV tokens from the workload's metadata (empty when it has none)."""
    text = dict(workload.meta).get(KV_META_KEY)
    return tuple(int(x) for x in str(text).split(",")) if text else ()


def kv_meta(kv_tokens) -> tuple[str, str]:
    """The metadata entry that carries per-request KV tokens (a string, so trace files can hold it)."""
    return KV_META_KEY, ",".join(str(int(x)) for x in kv_tokens)


def wants_placement(workload: Workload, accel: Accelerator, options: MappingOptions) -> bool:
    return (getattr(options, "channel_placement", None) in PLACEMENTS and hasattr(accel, "channel_cost")
            and len(request_kv_tokens(workload)) == workload.batch)


def artefact_estimate_cycles(kv_tokens: int, heads: int, head_dim: int, page_bytes: int, banks: int) -> int:
    """The artefact scheduler's attention latency estimate of one request (module docstring)."""
    chunks, tiles = -(-heads * head_dim // page_bytes), -(-kv_tokens // banks)
    latency = chunks * ARTEFACT_GWRITE_ESTIMATE_CYCLES + chunks * tiles * ARTEFACT_TILE_ESTIMATE_CYCLES
    chunks, tiles = -(-kv_tokens // page_bytes) * heads, -(-head_dim // banks)
    return latency + chunks * ARTEFACT_GWRITE_ESTIMATE_CYCLES + chunks * tiles * ARTEFACT_TILE_ESTIMATE_CYCLES


def place_requests(kv_tokens, channels: int, rule: str, estimate=None) -> list[int]:
    """The channel of each request, in arrival order (module docstring); ``estimate(kv) -> cycles`` for clb."""
    if rule == "round_robin":
        return [i % channels for i in range(len(kv_tokens))]
    if rule != "clb":
        raise ValueError(f"channel_placement = {rule!r}: expected one of {PLACEMENTS}")
    load = [0] * channels
    placed = []
    for kv in kv_tokens:
        channel = min(range(channels), key=lambda c: (load[c], c))
        load[channel] += estimate(int(kv))
        placed.append(channel)
    return placed


def sub_batch_groups(channel_of: list[int], channels: int, parts: int) -> list[list[int]]:
    """Request indices of each sub-batch, as ``group_sub_batches`` forms them (module docstring)."""
    queues = [[] for _ in range(channels)]
    for request, channel in enumerate(channel_of):
        queues[channel].append(request)
    groups = [[] for _ in range(parts)]
    turn = 0
    for queue in queues:
        base, extra = divmod(len(queue), parts)
        sizes = [base + (1 if (i - turn) % parts < extra else 0) for i in range(parts)]
        if extra:
            turn = (turn + extra) % parts
        start = 0
        for s, size in enumerate(sizes):
            groups[s] += queue[start:start + size]
            start += size
    return groups


def placement(workload: Workload, accel: Accelerator, options: MappingOptions) -> list[int]:
    """Each request's channel under the options' rule, for this workload on this system."""
    kv = request_kv_tokens(workload)
    pim = accel.spec.pim
    org = pim.dram_spec.organisation
    attention = next(op for op in workload.ops if op.name.endswith("attn_score"))
    heads = attention.count // workload.batch
    estimate = lambda tokens: artefact_estimate_cycles(  # noqa: E731
        tokens, heads, attention.k, org.page_bytes, org.banks_per_channel)
    return place_requests(kv, pim.channels, options.channel_placement, estimate)


def place_tasks(schedule: Schedule, workload: Workload, accel: Accelerator, channel_of: list[int]) -> Schedule:
    """``schedule`` with every PIM op's tasks replaced by one task per channel (module docstring)."""
    kv = request_kv_tokens(workload)
    groups = dict(workload.meta).get(SUB_BATCH_META_KEY)
    sub_batches = [list(map(int, g.split(","))) if g else [] for g in groups.split(";")] if groups else \
        [list(range(len(kv)))]
    pim_unit = next(u for u in accel.units() if u.near_memory)
    by_group: dict[str, list[Task]] = {}
    for task in schedule.tasks:
        if task.unit == pim_unit.name:
            by_group.setdefault(task.group, []).append(task)
    costs: dict = {}
    tasks, done = [], set()
    for task in schedule.tasks:
        if task.unit != pim_unit.name:
            tasks.append(task)
            continue
        if task.group in done:
            continue
        done.add(task.group)
        parts = by_group[task.group]
        whole = dataclasses.replace(parts[0].op, name=task.group, count=sum(p.op.count for p in parts))
        members = sub_batches[_sub_batch_index(task.group)] if len(sub_batches) > 1 else sub_batches[0]
        tasks += _channel_tasks(whole, parts[0], members, kv, channel_of, accel, costs)
    return Schedule(tuple(tasks), schedule.units, schedule.memories, schedule.clock_hz)


def _sub_batch_index(group: str) -> int:
    head = group.split(".", 1)[0]
    return int(head[2:]) if head.startswith("sb") and head[2:].isdigit() else 0


def _channel_tasks(whole: Op, template: Task, members: list[int], kv: tuple[int, ...], channel_of: list[int],
                   accel: Accelerator, costs: dict) -> list[Task]:
    per_channel: dict[int, list[int]] = {}
    for request in members:
        per_channel.setdefault(channel_of[request], []).append(kv[request])
    heads = whole.count // max(1, len(members))
    shape = dataclasses.replace(whole, name="", layer=-1)
    tasks = []
    for channel in sorted(per_channel):
        lengths = tuple(per_channel[channel])
        key = (shape, len(members), lengths)
        if key not in costs:
            costs[key] = accel.channel_cost(whole, len(members), lengths)
        mean = -(-sum(lengths) // len(lengths))
        dims = {"k": mean} if whole.name.endswith("attn_context") else {"n": mean}
        op = dataclasses.replace(whole, name=f"{whole.name}#c{channel}", count=heads * len(lengths), **dims)
        tasks.append(dataclasses.replace(template, name=op.name, op=op, instance=channel, cost=costs[key],
                                         mapping=f"channel={channel} requests={len(lengths)}"))
    return tasks
