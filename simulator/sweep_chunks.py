"""Sweep points in chunks for workers, points that share a schedule in the same chunk.

Each worker process keeps its own schedule cache (:func:`simulator.engine.simulate`),
so two points that map to the same schedule are simulated once only if they run in
the same process. Which grid keys change the schedule is found by mapping (not
simulating) a few points: :func:`schedule_keys` maps the first and the last point
and, for every grid key, up to ``alternatives`` points that differ from them in
that key alone; a key none of whose probed values changed any system's schedule
is taken as *schedule-neutral* (a scratchpad size that does not change the tiling,
say). Points equal in every other key form one group (:func:`group_points`); a
group goes to one chunk whole, its points back to back, so the engine's cache
hits whatever its size. The probe is a sample: a key neutral at the probed points
but not elsewhere costs repeated simulations, never a different result (every
point is still simulated or found in the cache by its exact schedule).

:func:`make_chunks` packs whole groups, in grid order, into chunks of about
``len(points) / (workers * CHUNKS_PER_WORKER)`` points: enough chunks that the
workers finish together and results stream back as chunks finish, few enough that
each chunk's overhead (pickling its points, one journal write) is small. A group
larger than a chunk is cut into chunk-sized pieces, each of which simulates the
group's schedule once more; otherwise one group would hold the whole sweep on one
worker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterable, Sequence

CHUNKS_PER_WORKER = 8  # ~8 chunks a worker: the last chunk's wait is ~1/8 of a worker's share
PROBE_MIN_POINTS_PER_MAPPING = 10  # probe only where it maps at most a tenth as many points as the sweep runs


@dataclass(frozen=True)
class Chunk:
    """Points run by one worker task, in the order they run (groups back to back)."""

    points: tuple  # SweepPoint

    @property
    def indices(self) -> tuple[int, ...]:
        return tuple(p.index for p in self.points)


def grid_keys(points: Sequence) -> tuple[str, ...]:
    return tuple(key for key, _ in points[0].values) if points else ()


def group_points(points: Sequence, keys: Iterable[str]) -> list[list]:
    """Points grouped by their values of ``keys`` (the schedule-changing keys), groups in grid order."""
    chosen = set(keys)
    groups: dict[Hashable, list] = {}
    for point in points:
        label = tuple(_hashable(v) for k, v in point.values if k in chosen)
        groups.setdefault(label, []).append(point)
    return list(groups.values())


def make_chunks(points: Sequence, workers: int, keys: Iterable[str] | None = None,
                per_worker: int = CHUNKS_PER_WORKER) -> list[Chunk]:
    """Chunks of whole groups (see :func:`group_points`; ``keys=None``: every grid key, i.e. no sharing)."""
    if not points:
        return []
    groups = group_points(points, grid_keys(points) if keys is None else keys)
    target = max(1, math.ceil(len(points) / (max(1, workers) * per_worker)))
    chunks, current = [], []
    for group in groups:
        for start in range(0, len(group), target):
            piece = group[start:start + target]
            if current and len(current) + len(piece) > target:
                chunks.append(Chunk(tuple(current)))
                current = []
            current.extend(piece)
    if current:
        chunks.append(Chunk(tuple(current)))
    return chunks


def schedule_keys(points: Sequence, signature: Callable[[Any], Any] | None = None,
                  alternatives: int = 2) -> tuple[str, ...]:
    """The grid keys found to change some system's schedule (every key where it cannot be told).

    ``signature(point)`` is compared with ``==`` between points (default:
    :func:`schedule_signature`, every system's mapped schedule); ``None`` means the
    point's schedules cannot be compared (a serving trace runs many), and then every
    key counts as changing them.
    """
    keys = grid_keys(points)
    if len(points) < 2:
        return keys
    signature = signature or schedule_signature
    varied = [k for i, k in enumerate(keys) if len({_hashable(p.values[i][1]) for p in points}) > 1]
    changing: set[str] = set()
    signatures: dict[int, Any] = {}

    def sig(point):
        if point.index not in signatures:
            signatures[point.index] = signature(point)
        return signatures[point.index]

    for base in (points[0], points[-1]):  # the grid's two extremes
        if sig(base) is None:
            return keys
        for key in varied:
            if key in changing:
                continue
            others = _differing_only_in(points, base, keys.index(key))[:alternatives]
            if not others or any(sig(p) != sig(base) for p in others):
                changing.add(key)
    return tuple(k for k in keys if k in changing)


def probe_worthwhile(points: Sequence, alternatives: int = 2) -> bool:
    """Whether :func:`schedule_keys` maps few enough points for its sweep to be worth it."""
    keys = grid_keys(points)
    mappings = 2 * (1 + alternatives * len(keys))
    return len(points) >= PROBE_MIN_POINTS_PER_MAPPING * mappings


def _differing_only_in(points: Sequence, base, position: int) -> list:
    mine = [_hashable(v) for _, v in base.values]
    found = []
    for point in points:
        values = [_hashable(v) for _, v in point.values]
        if values[position] != mine[position] and \
                all(a == b for i, (a, b) in enumerate(zip(values, mine)) if i != position):
            found.append(point)
    return found


def schedule_signature(point) -> tuple | None:
    """Every running system's mapped schedule at ``point`` (the fixed mapping; a failure's message)."""
    from mappers.subbatch import map_step  # the mapper is needed only for the probe
    from simulator.checks import mapping_options
    from simulator.workload_spec import build_workload
    from arch import registry

    experiment = point.experiment
    if experiment.spec.workload.phase == "serving":
        return None
    try:
        workload = build_workload(experiment.spec.workload, seed=experiment.spec.seed)
    except Exception as err:  # noqa: BLE001 -- the run reports it; here it is only a distinct signature
        return (("workload", str(err)),)
    found = []
    for system in experiment.systems:
        try:
            accel = registry.model_class(system.kind)(system.spec, system.tech)
            options = mapping_options(accel, system, workload)
            if getattr(options, "search", None) is not None:
                options = options.model_copy(update={"search": None})
            found.append(map_step(workload, accel, options)[1])
        except (ValueError, KeyError) as err:
            found.append((system.name, str(err)))
    return tuple(found)


def _hashable(value: Any) -> Hashable:
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value
