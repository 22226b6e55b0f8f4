"""Sweeps on a Dask cluster give the same rows, in the same order, as local processes."""

import pytest

from simulator.errors import InputError
from simulator.sweep import expand, run_points, run_points_on_dask, sweep_rows
from tests.conftest import SMALL_EXPERIMENT
from workloads.yamlio import load_yaml

distributed = pytest.importorskip("distributed")


def _points(tmp_path):
    raw = load_yaml(SMALL_EXPERIMENT + "sweep:\n  grid: {systems.big.arch.rows: [8, 16, 32], workload.batch: [1, 3]}\n")
    return expand(raw, "sweep.yaml", tmp_path)


def test_dask_cluster_gives_the_same_rows_as_local_processes(tmp_path):
    points = _points(tmp_path)
    with distributed.LocalCluster(n_workers=2, processes=False, dashboard_address=None) as cluster:
        seen = []
        on_dask = run_points_on_dask(points, cluster.scheduler_address, seen.append)
    local = run_points(points, workers=1)
    assert sweep_rows(points, on_dask) == sweep_rows(points, local)
    assert seen == sorted(set(seen)) and seen[-1] == len(points)  # counts rise as chunks finish


def test_an_unreachable_scheduler_is_an_input_error_naming_it(tmp_path):
    with pytest.raises(InputError, match="cannot reach the Dask scheduler 'tcp://127.0.0.1:1'"):
        run_points_on_dask(_points(tmp_path)[:1], "tcp://127.0.0.1:1", connect_timeout_s=1.0)


def test_a_scheduler_address_dask_cannot_parse_is_an_input_error_naming_it(tmp_path):
    with pytest.raises(InputError, match="'garbage' is not a scheduler address"):
        run_points_on_dask(_points(tmp_path)[:1], "garbage", connect_timeout_s=1.0)
