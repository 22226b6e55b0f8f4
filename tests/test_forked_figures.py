"""Figures drawn on two cores (reports.forked): the same bytes as drawn in one process, balanced groups,
and a child that fails loses no figure."""

from __future__ import annotations

import os

import pytest

from reports import forked
from reports.figures import RUN_FIGURES, run_figure_names, run_figures
from simulator.experiment import parse_text
from simulator.run import run_experiment

EXPERIMENT = """
name: forked
workload: {model: llama2-7b, phase: decode, batch: 4, seq_len: 128}
systems:
  - {name: npu, arch: tpuv4-like}
  - {name: gpu, arch: a100-80gb}
"""

needs_fork = pytest.mark.skipif(not forked.can_fork(), reason="this process may not fork a drawing child")


@pytest.fixture(scope="module")
def result():
    return run_experiment(parse_text(EXPERIMENT))


def test_split_balances_by_cost_and_keeps_every_name():
    names = ["time.png", "energy.png", "area.png", "roofline.png", "timeline.png"]
    child, own = forked.split(names)
    assert sorted(child + own) == sorted(names)
    # greedy, costliest first, each to the lighter group: timeline 3.4 | area 1.6, roofline 1.6, energy 1.3
    # (3.2 < 3.4) | time 1 to the child (3.4 < 4.5)
    assert child == ["timeline.png", "time.png"]
    assert own == ["area.png", "roofline.png", "energy.png"]  # ties keep the given order


@needs_fork
def test_forked_figures_equal_those_drawn_here(result):
    names = run_figure_names(result)
    assert len(names) == 5
    here = {name: RUN_FIGURES[name](result) for name in names}
    drawn = run_figures(result)
    assert list(drawn) == names
    assert drawn == here


@needs_fork
def test_a_failing_child_loses_no_figure():
    parent = os.getpid()

    def only_here(tag: bytes):
        def draw() -> bytes:
            if os.getpid() != parent:
                raise RuntimeError("the child fails")
            return tag
        return draw

    draw = {name: only_here(name.encode()) for name in ("a", "b", "c")}
    assert forked.draw_all(draw, ["c", "a", "b"]) == {"c": b"c", "a": b"a", "b": b"b"}


@needs_fork
def test_the_child_draws_its_group(monkeypatch):
    parent = os.getpid()
    drawn_by = {}

    def record(name: str):
        def draw() -> bytes:
            return f"{name}:{'here' if os.getpid() == parent else 'child'}".encode()
        return draw

    names = ["timeline.png", "time.png", "area.png"]
    drawn = forked.draw_all({name: record(name) for name in names}, names)
    drawn_by = {name: png.decode().split(":")[1] for name, png in drawn.items()}
    assert drawn_by == {"timeline.png": "child", "time.png": "here", "area.png": "here"}


def test_no_fork_with_another_thread_alive(monkeypatch):
    monkeypatch.setattr(forked.threading, "active_count", lambda: 2)
    assert not forked.can_fork()
    calls = []
    drawn = forked.draw_all({"a": lambda: calls.append("a") or b"a", "b": lambda: calls.append("b") or b"b"},
                            ["a", "b"])
    assert drawn == {"a": b"a", "b": b"b"} and calls == ["a", "b"]


@needs_fork
def test_a_prestarted_child_draws_the_same_figures(result):
    here = {name: RUN_FIGURES[name](result) for name in run_figure_names(result)}
    assert forked.prestart()
    assert forked.prestart()  # one child at a time: a second call keeps the first
    assert len(forked._PRESTARTED) == 1
    drawn = forked.draw_prestarted(result)
    assert drawn == here and list(drawn) == list(here)
    assert forked._PRESTARTED == [] and forked.draw_prestarted(result) is None  # used up: drawn here next


@needs_fork
def test_a_discarded_child_ends(result):
    assert forked.prestart()
    pid = forked._PRESTARTED[0][0]
    forked.discard_prestarted()
    assert forked._PRESTARTED == []
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)  # already reaped


@needs_fork
def test_a_child_that_fails_leaves_the_figures_to_this_process(result, tmp_path, monkeypatch):
    from reports import writers

    assert forked.prestart()
    monkeypatch.setattr(forked.pickle, "dumps", lambda *a, **k: b"not a pickle")  # the child cannot read it
    assert forked.draw_prestarted(result) is None
    monkeypatch.undo()
    assert forked.prestart()
    monkeypatch.setattr(forked, "draw_prestarted", lambda result: None)
    written = writers.write_all(result, tmp_path)
    assert sorted(p.name for p in (tmp_path / "figures").glob("*.png")) == sorted(run_figure_names(result))
    forked.discard_prestarted()


def test_xpusim_run_ends_its_drawing_child_when_the_run_fails(tmp_path, monkeypatch):
    """A run that stops before writing (here: a simulation error) leaves no child behind."""
    from simulator import cli_commands

    started = []
    real = forked.prestart
    monkeypatch.setattr(forked, "prestart", lambda: started.append(real()) or started[-1])

    def boom(*args, **kwargs):
        raise RuntimeError("simulation failed")

    monkeypatch.setattr(cli_commands, "run_experiment", boom)
    path = tmp_path / "e.yaml"
    path.write_text(EXPERIMENT)
    from simulator.cli import main

    with pytest.raises(RuntimeError):
        main(["run", str(path), "--out", str(tmp_path / "out")])
    assert started and forked._PRESTARTED == []
