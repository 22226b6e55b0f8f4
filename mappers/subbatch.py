"""Sub-batch interleaving (NeuPIMs): two halves of a decode batch pipelined on NPU and PIM.

A decode layer is a chain: QKV projections (NPU), attention GEMVs (PIM), output
projection and FFN (NPU). Run whole, NPU and PIM wait for each other. NeuPIMs
splits the batch into two sub-batches whose chains are independent, so one
sub-batch's attention runs on PIM while the other's GEMMs run on the NPU
(``casys-kaist/NeuPIMs: src/scheduler/Scheduler.cc``: each channel's request
queue is halved, and the stages alternate between the sub-batches).

:func:`interleave` rewrites a one-layer decode workload: ``sub_batches`` copies
of the layer, each with its share of the batch (ops whose ``count`` or ``m`` is
a multiple of the batch are scaled), repeated over ``layers`` consecutive
layers. Ops are named ``"sb<s>.l<l>.<op>"``. Within a sub-batch, every op of
layer l that ends the layer (no successor) precedes every op of layer l+1 that
starts it (no predecessor); the sub-batches share no edge. The result's
``repeat`` is the original ``repeat / layers``.

Layer boundaries: the engine simulates the graph once and multiplies by
``repeat``, and no work overlaps across that boundary. One layer would therefore
show the pipeline's fill and drain every layer; unrolling ``layers`` layers
(the largest divisor of the layer count up to ``unroll_layers_max``) leaves one
fill and drain per ``layers`` layers, so the simulated time per layer
approaches the steady state as ``layers`` grows (``c(L) = steady + fill_drain /
L``; ``benchmarks/neupims_artefact.py`` measures both terms).

With requests placed on PIM channels by their KV lengths
(:mod:`mappers.pim_channels`), the sub-batches are those NeuPIMs'
``group_sub_batches`` forms (each channel's queue halved), so they may differ
in size, and each PIM op is timed channel by channel.

Not captured: MoE layers (whose expert ``count`` is not a multiple of the
batch) are rejected.
"""

from __future__ import annotations

import dataclasses

from typing import Mapping

from arch.contract import Accelerator, MappingOptions
from mappers import pim_channels
from mappers.mapping_search import search_mappings
from mappers.schedule import Schedule, map_workload, mapping_options
from workloads.graph import Workload
from workloads.op import Op


def map_step(workload: Workload, accel: Accelerator, mapping: MappingOptions | Mapping | None = None,
             evaluate=None) -> tuple[Workload, Schedule]:
    """The workload as the system's options ask (interleaved or not) and its schedule.

    With ``search`` in the options each op's mapping is searched
    (:mod:`mappers.mapping_search`), timing candidates with ``evaluate`` (a
    schedule -> its timeline; the simulator passes its engine).
    """
    options = mapping_options(accel, mapping, workload.phase, workload.batch)
    channel_of = pim_channels.placement(workload, accel, options) \
        if pim_channels.wants_placement(workload, accel, options) else None
    if options.sub_batches > 1 and workload.batch >= options.sub_batches:
        if options.sub_batch_choice == "faster" and evaluate is not None:
            return _faster(workload, accel, options, evaluate)
        layers = unroll_depth(workload.repeat, options.unroll_layers_max)
        groups = None if channel_of is None else \
            pim_channels.sub_batch_groups(channel_of, accel.spec.pim.channels, options.sub_batches)
        groups = groups if groups and all(groups) else None
        workload = interleave(workload, options.sub_batches, layers, groups)
    place = (lambda schedule: schedule) if channel_of is None else \
        (lambda schedule: pim_channels.place_tasks(schedule, workload, accel, channel_of))
    if options.search is None:
        return workload, place(map_workload(workload, accel, options))
    if evaluate is None:
        raise ValueError("mapping.search: a mapping search times its candidates in the simulator; "
                         "run the experiment (xpusim run, or simulator.api.run) to use it")
    per_op = search_mappings(workload, accel, options, evaluate)
    return workload, place(map_workload(workload, accel, options.model_copy(update={"search": None}), per_op))


def _faster(workload: Workload, accel: Accelerator, options: MappingOptions, evaluate) -> tuple[Workload, Schedule]:
    """The step with and without interleaving, each simulated (``evaluate``): the one with fewer cycles."""
    fixed = options.model_copy(update={"sub_batch_choice": "fixed"})
    whole = map_step(workload, accel, fixed.model_copy(update={"sub_batches": 1}), evaluate)
    split = map_step(workload, accel, fixed, evaluate)
    cycles = [max(e.end for e in evaluate(schedule)) * step.repeat for step, schedule in (whole, split)]
    return split if cycles[1] < cycles[0] else whole


def unroll_depth(repeat: int, most: int) -> int:
    """The largest divisor of ``repeat`` that is at most ``most``."""
    return max(d for d in range(1, max(1, min(repeat, most)) + 1) if repeat % d == 0)


def sub_batch_sizes(batch: int, parts: int) -> list[int]:
    """``batch`` split into ``parts`` sizes that differ by at most one (larger first)."""
    base, extra = divmod(batch, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def interleave(workload: Workload, sub_batches: int, layers: int = 1,
               groups: list[list[int]] | None = None) -> Workload:
    """The decode layer split into ``sub_batches`` chains over ``layers`` layers (module docstring).

    ``groups`` lists the requests of each sub-batch (as :func:`mappers.pim_channels.sub_batch_groups`
    forms them from the requests' channels); without it the batch is halved by count.
    """
    if workload.repeat % layers:
        raise ValueError(f"unroll layers = {layers}: must divide the workload's repeat ({workload.repeat})")
    starts = [op.name for op in workload.ops if not workload.predecessors(op.name)]
    ends = [op.name for op in workload.ops if not workload.successors(op.name)]
    ops, edges = [], []
    for layer in range(layers):
        sizes = [len(g) for g in groups] if groups else sub_batch_sizes(workload.batch, sub_batches)
        for s, size in enumerate(sizes):
            name = lambda op_name, l=layer, s=s: f"sb{s}.l{l}.{op_name}"  # noqa: E731
            ops += [dataclasses.replace(scale_op(op, workload.batch, size), name=name(op.name), layer=layer)
                    for op in workload.ops]
            edges += [(name(a), name(b)) for a, b in workload.edges]
            if layer:
                edges += [(name(a, layer - 1), name(b)) for a in ends for b in starts]
    return dataclasses.replace(workload, name=f"{workload.name}-sb{sub_batches}x{layers}", ops=tuple(ops),
                               edges=tuple(edges), repeat=workload.repeat // layers,
                               meta=workload.meta + (("sub_batches", sub_batches), ("unrolled_layers", layers))
                               + (((pim_channels.SUB_BATCH_META_KEY, ";".join(",".join(map(str, g)) for g in groups)),)
                                  if groups else ()))


def scale_op(op: Op, batch: int, size: int) -> Op:
    """``op`` for ``size`` of the ``batch`` requests: its per-request dimension scaled."""
    if op.count > 1 and op.count % batch == 0:
        return dataclasses.replace(op, count=op.count // batch * size)
    if op.m % batch == 0:
        return dataclasses.replace(op, m=op.m // batch * size)
    raise ValueError(f"op {op.name!r} (m = {op.m}, count = {op.count}) has no dimension that is a multiple "
                     f"of the batch ({batch}); sub-batch interleaving supports dense decode layers only")
