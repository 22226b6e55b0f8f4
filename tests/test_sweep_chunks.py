"""Sweep chunks: schedule-sharing points on one worker; the same rows on 1, 2 workers and Dask; errors contained."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import sweep_workers
from simulator.journal import Journal
from simulator.sweep import SweepPointError, expand, run_sweep
from simulator.sweep_chunks import group_points, make_chunks, schedule_keys
from tests.conftest import SMALL_EXPERIMENT
from workloads.yamlio import load_yaml


@dataclass(frozen=True)
class FakePoint:
    index: int
    values: tuple


def fake_grid(sizes: list[int]) -> list[FakePoint]:
    keys = [f"k{i}" for i in range(len(sizes))]
    return [FakePoint(i, tuple(zip(keys, combo))) for i, combo in
            enumerate(itertools.product(*(range(n) for n in sizes)))]


grids = st.lists(st.integers(1, 5), min_size=1, max_size=4)


@settings(max_examples=150, deadline=None)
@given(sizes=grids, workers=st.integers(1, 4), shared=st.data())
def test_points_sharing_a_schedule_land_in_one_chunk_back_to_back(sizes, workers, shared):
    points = fake_grid(sizes)
    keys = [f"k{i}" for i in range(len(sizes))]
    changing = shared.draw(st.lists(st.sampled_from(keys), unique=True))
    chunks = make_chunks(points, workers, changing)
    ran = [p.index for chunk in chunks for p in chunk.points]
    assert sorted(ran) == list(range(len(points)))  # every point exactly once
    target = max(len(c.points) for c in chunks)
    for group in group_points(points, changing):
        holding = [c for c in chunks if any(p in c.points for p in group)]
        if len(group) <= target:
            assert len(holding) == 1  # a group that fits a chunk is never split
        for chunk in holding:  # and its points run back to back
            spots = [i for i, p in enumerate(chunk.points) if p in group]
            assert spots == list(range(spots[0], spots[0] + len(spots)))
    for point in points:  # a group is the points equal in every changing key
        same = [q for q in points if all(dict(q.values)[k] == dict(point.values)[k] for k in changing)]
        assert next(g for g in group_points(points, changing) if point in g) == same


@settings(max_examples=100, deadline=None)
@given(sizes=st.lists(st.integers(2, 4), min_size=1, max_size=4), shared=st.data())
def test_the_probe_finds_exactly_the_keys_the_schedule_depends_on(sizes, shared):
    points = fake_grid(sizes)
    keys = [f"k{i}" for i in range(len(sizes))]
    changing = set(shared.draw(st.lists(st.sampled_from(keys), unique=True)))
    signature = lambda p: tuple(v for k, v in p.values if k in changing)  # noqa: E731
    assert set(schedule_keys(points, signature)) == changing


def test_a_serving_point_or_a_lone_point_counts_every_key_as_changing():
    points = fake_grid([2, 3])
    assert schedule_keys(points, lambda p: None) == ("k0", "k1")
    assert schedule_keys(points[:1], lambda p: ()) == ("k0", "k1")


def small_points(tmp_path):
    raw = load_yaml(SMALL_EXPERIMENT + "sweep:\n  grid: {systems.big.arch.rows: [8, 16, 32], workload.batch: [1, 3]}\n")
    return expand(raw, "sweep.yaml", tmp_path)


def rows_of(points, folder, **how):
    folder.mkdir()
    stats = {}
    rows, ran = run_sweep(points, Journal.open(folder, "k", len(points)), stats=stats, **how)
    assert ran == len(points)
    return rows, stats


def test_rows_are_identical_on_one_worker_two_workers_and_dask(tmp_path):
    points = small_points(tmp_path)
    one, _ = rows_of(points, tmp_path / "one", workers=1)
    two, stats = rows_of(points, tmp_path / "two", workers=2)
    assert stats["chunks"] > 1  # really spread over the two workers
    assert len(one) == 2 * len(points) and all(row["cycles"] > 0 and row["energy_j"] > 0 for row in one)
    by_rows = {(r["point"], r["system"]): r["cycles"] for r in one}
    assert by_rows[(0, "big")] > by_rows[(4, "big")]  # an 8-row array is slower than a 32-row one
    assert two == one
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=False, dashboard_address=None) as cluster:
        on_dask, _ = rows_of(points, tmp_path / "dask", scheduler=cluster.scheduler_address)
    assert on_dask == one


@pytest.mark.parametrize("workers", [1, 2])
def test_a_point_that_raises_leaves_every_other_point_journaled(tmp_path, monkeypatch, workers):
    points = small_points(tmp_path)
    real = sweep_workers._run_point

    def broken(point, as_rows):
        if point.index == 2:
            raise ZeroDivisionError("a bug at this point")
        return real(point, as_rows)

    monkeypatch.setattr(sweep_workers, "_run_point", broken)  # forked workers inherit it
    journal = Journal.open(tmp_path, "k", len(points))
    with pytest.raises(SweepPointError, match=r"(?s)sweep point 2 .*ZeroDivisionError: a bug at this point"):
        run_sweep(points, journal, workers=workers)
    assert sorted(Journal.open(tmp_path, "k", len(points)).done) == [0, 1, 3, 4, 5]
    monkeypatch.setattr(sweep_workers, "_run_point", real)
    again = Journal.open(tmp_path, "k", len(points))
    rows, ran = run_sweep(points, again, workers=workers)  # the rerun runs only the point that raised
    assert ran == 1 and [r["point"] for r in rows] == [p.index for p in points for _ in range(2)]


def test_a_warmed_worker_freezes_what_it_holds():
    """warm_worker leaves the heap it built out of the cyclic collector's full collections (in a fresh process)."""
    import subprocess
    import sys

    code = ("import gc; from simulator.sweep_workers import warm_worker; before = gc.get_freeze_count(); "
            "warm_worker(('systolic',)); print(before, gc.get_freeze_count())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    before, after = map(int, done.stdout.split())
    assert before == 0 and after > 10_000, done.stderr
