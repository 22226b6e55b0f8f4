"""Per-op mapping search: each op's split, core count and family choices, chosen for an objective.

With ``mapping: {search: cycles | energy | edp}`` a system's ops are not all
mapped with one set of options. For each op the search tries:

* the default mapping (the options as given: the split search of
  :mod:`mappers.split` picks parts and dimension), so the result is never worse
  than it on the objective;
* every split the op allows -- each dimension of :func:`mappers.split.split_dims`
  with each power-of-two core count up to its unit's instances (and the
  instances themselves), and one core (no split);
* crossed with the family's own choices (``Accelerator.mapping_space``: a
  systolic array's dataflow per GEMM).

Each candidate is mapped alone and timed by ``evaluate`` (the simulator passes
its engine, so a candidate's cycles include its stalls on the memories); its
energy is its action counts times the component table. The objective orders
candidates by (cycles, energy), (energy, cycles) or cycles x energy; ties keep
the earlier candidate, the default first. Candidates are cached per op shape
and options across calls (a model's layers repeat their shapes, sweep points
their systems). Not searched: tile sizes inside the scratchpads (the systolic
model always takes its least-traffic tiling) and placement (the placement rule
stays as the options say). The search times each op alone, so contention
between concurrent ops is not part of the choice.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from arch.contract import Accelerator, MappingOptions, SearchObjective
from mappers.placement import choose_unit
from mappers.split import split_dims
from workloads.graph import Workload
from workloads.op import Op

Evaluate = Callable[[object], tuple]  # a schedule -> its timeline (TimelineEvent-like: .end)
_CACHE: dict[tuple, MappingOptions] = {}
_CACHE_LIMIT = 65536


def search_mappings(workload: Workload, accel: Accelerator, options: MappingOptions,
                    evaluate: Evaluate) -> dict[str, MappingOptions]:
    """Each op's chosen options (op name -> options without ``search``) for ``options.search``."""
    return {op.name: best_options(op, accel, options, evaluate) for op in workload.ops}


def best_options(op: Op, accel: Accelerator, options: MappingOptions, evaluate: Evaluate) -> MappingOptions:
    key = (type(accel), accel.spec, accel.tech, options, dataclasses.replace(op, name="", layer=-1))
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        scored = [(score(candidate, op, accel, evaluate, options.search), i, candidate)
                  for i, candidate in enumerate(candidates(op, accel, options))]
        _CACHE[key] = min(scored, key=lambda item: (item[0], item[1]))[2]
    return _CACHE[key]


def candidates(op: Op, accel: Accelerator, options: MappingOptions) -> list[MappingOptions]:
    """The default mapping first, then every split crossed with the family's choices (module docstring)."""
    base = options.model_copy(update={"search": None})
    unit_name = choose_unit(accel, op, base)
    count = accel.unit(unit_name).count if not op.kind.is_collective else 1
    splits = [{}] + [{"split_cores": 1}] + [
        {"split_cores": cores, "split_dim": dim} for dim in split_dims(op) for cores in _core_counts(count)]
    family = accel.mapping_space(op, unit_name)
    found, seen = [], set()
    for choice in family:
        for split in splits:
            candidate = options.model_validate({**base.model_dump(), **choice, **split})
            if candidate not in seen:
                seen.add(candidate)
                found.append(candidate)
    return [base] + [c for c in found if c != base]


def _core_counts(count: int) -> list[int]:
    counts, cores = [], 2
    while cores < count:
        counts.append(cores)
        cores *= 2
    return counts + ([count] if count > 1 else [])


def score(candidate: MappingOptions, op: Op, accel: Accelerator, evaluate: Evaluate,
          objective: SearchObjective) -> tuple:
    """The objective's sort key of ``op`` mapped alone with ``candidate``."""
    from mappers.schedule import map_workload  # the schedule module imports this one

    schedule = map_workload(Workload(name="search", ops=(op,)), accel, candidate)
    cycles = max(event.end for event in evaluate(schedule))
    energy_pj = sum(accel.energy(task.cost.action_counts).total_pj for task in schedule.tasks)
    if objective is SearchObjective.ENERGY:
        return (energy_pj, cycles)
    if objective is SearchObjective.EDP:
        return (cycles * energy_pj, cycles)
    return (cycles, energy_pj)


def clear_search_cache() -> None:
    _CACHE.clear()
