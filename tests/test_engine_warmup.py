"""The event kernel compiled by a forked child while the process goes on in SimPy (simulator.engine_warmup)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from simulator import engine_warmup
from simulator.engine import Engine
from simulator.engine_closed_form import closed_form_timeline
from simulator.engine_events import event_timeline

ROOT = Path(__file__).resolve().parents[1]


def test_the_example_schedule_is_contended_and_the_kernel_replays_it():
    schedule = engine_warmup.example_schedule()
    assert closed_form_timeline(schedule) is None  # so compiling needs the event kernel itself
    assert event_timeline(schedule) == Engine(schedule).run()


@pytest.mark.skipif(engine_warmup.usable_cpus() < 2, reason="the child is started only with two CPUs")
def test_a_cold_process_gets_the_kernel_compiled_by_its_child(tmp_path):
    """In a fresh process with an empty Numba cache and a second thread: the first contended schedule starts
    the child and runs
    in SimPy; once the child is done the cache holds the kernel and the process switches to it at the
    cached budget, and its timelines are SimPy's."""
    script = textwrap.dedent("""
        import json, threading, time
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()  # as a progress display's
        from simulator import engine, engine_warmup
        from simulator.engine_event_kernel import compiled_on_disk
        schedule = engine_warmup.example_schedule()
        before = compiled_on_disk()
        first = engine._event_tiered(schedule)
        started = bool(engine_warmup._STARTED)
        engine_warmup.wait()
        engine.clear_simulation_cache()
        second = engine._event_tiered(schedule)
        tier = engine._event_tier()
        print(json.dumps({"before": before, "started": started, "after": compiled_on_disk(),
                          "budget": tier.twin_budget_s, "cached_budget": engine.EVENT_TWIN_BUDGET_CACHED_S,
                          "same": first == second == engine.Engine(schedule).run()}))
    """)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"), PYTHONPATH=str(ROOT))
    env.pop("XPUSIM_JIT_ALWAYS", None)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    import json

    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {"before": False, "started": True, "after": True, "budget": found["cached_budget"],
                     "cached_budget": found["cached_budget"], "same": True}


def test_no_child_on_one_cpu(monkeypatch):
    monkeypatch.setattr(engine_warmup, "usable_cpus", lambda: 1)
    monkeypatch.setattr(engine_warmup, "_CHILD", [])
    monkeypatch.setattr(engine_warmup, "_STARTED", [])
    assert not engine_warmup.start()
    assert not engine_warmup.finished() and not engine_warmup.running()
