"""Progress off a terminal: a plain line at every tenth and at the end, with rate and time left."""

from __future__ import annotations

import io

from rich.console import Console

from simulator.progress import progress_bar


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=terminal, width=120, highlight=False), buffer


def test_plain_lines_show_count_rate_and_eta_at_each_tenth():
    console, buffer = _console(terminal=False)
    now = iter(float(t) for t in range(100))  # one second per reading
    with progress_bar(console, 20, "sweeping x", clock=lambda: next(now)) as update:
        for done in range(1, 21):
            update(done)
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[0] == "sweeping x: 2/20 points (10%), 2 points/s, ETA 9 s"
    assert lines[-1] == "sweeping x: 20/20 points (100%), 2 points/s, ETA 0 s"


def test_a_terminal_gets_a_bar_with_count_rate_and_eta():
    console, buffer = _console(terminal=True)
    with progress_bar(console, 4, "searching y", unit="trials") as update:
        for done in range(1, 5):
            update(done)
    text = buffer.getvalue()
    assert "searching y" in text and "4/4" in text and "trials/s" in text and "ETA" in text


def test_a_sweep_off_a_terminal_prints_plain_progress_lines(cli, write, tmp_path):
    from tests.conftest import SMALL_EXPERIMENT

    text = SMALL_EXPERIMENT + "sweep:\n  grid: {workload.batch: [1, 2, 3, 4]}\n"
    code, _, err = cli("sweep", write(text), "--out", tmp_path, "--workers", "1")
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("sweeping small:")]
    assert [line.split(" points")[0] for line in lines] == [f"sweeping small: {n}/4" for n in (1, 2, 3, 4)]
    assert "\x1b" not in err  # no control characters in a log
