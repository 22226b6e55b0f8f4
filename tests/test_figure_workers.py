"""Figures drawn by worker processes are the figures drawn in the calling process, and never go missing."""

from __future__ import annotations

import threading

import pytest

from reports import figure_workers
from reports.figures import run_figure_names, run_figures
from simulator.experiment import parse_text
from simulator.run import run_experiment

EXPERIMENT = """\
name: figs
workload: {ops: [{name: a, M: 64, K: 256, N: 128}, {name: b, M: 64, K: 128, N: 256}]}
systems:
  - {name: npu, arch: tpuv4-like}
  - {name: gpu, arch: a100-80gb}
"""

needs_fork = pytest.mark.skipif("fork" not in figure_workers.multiprocessing.get_all_start_methods(),
                                reason="no fork on this platform")


@pytest.fixture(scope="module")
def result():
    return run_experiment(parse_text(EXPERIMENT))


@pytest.fixture(autouse=True)
def _no_workers_left():
    yield
    figure_workers.stop()


@needs_fork
def test_workers_draw_the_same_bytes_as_the_caller(result, monkeypatch):
    monkeypatch.setattr(threading, "active_count", lambda: 1)  # pytest's own threads do not matter here
    assert figure_workers.start(2) == 2
    drawn = figure_workers.draw(result)
    assert list(drawn) == run_figure_names(result) == ["time.png", "energy.png", "area.png", "roofline.png",
                                                       "timeline.png"]
    assert drawn == run_figures(result)
    assert not figure_workers._workers  # stopped once the figures are back


@needs_fork
def test_a_dead_worker_s_figures_are_drawn_by_the_caller(result, monkeypatch):
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert figure_workers.start(2) == 2
    figure_workers._workers[0][0].kill()
    figure_workers._workers[0][0].join()
    assert figure_workers.draw(result) == run_figures(result)


def test_no_workers_are_forked_beside_other_threads(result, monkeypatch):
    monkeypatch.setattr(threading, "active_count", lambda: 3)
    assert figure_workers.start(2) == 0
    assert figure_workers.draw(result, ["time.png"]) == run_figures(result, ["time.png"])


def test_without_workers_the_caller_draws(result):
    figure_workers.stop()
    assert figure_workers.draw(result, ["area.png", "time.png"]) == run_figures(result, ["area.png", "time.png"])
