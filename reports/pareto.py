"""The Pareto front of (throughput, energy per token) points, shared by the sweep report and its figure."""

from __future__ import annotations

from typing import Sequence


def pareto_front(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points not dominated by another (higher-or-equal throughput and lower-or-equal energy), by throughput."""
    front: list[tuple[float, float]] = []
    for throughput, energy in sorted(set(points), key=lambda p: (-p[0], p[1])):
        if not front or energy < front[-1][1]:
            front.append((throughput, energy))
    return sorted(front)
