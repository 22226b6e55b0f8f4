"""Progress of long work (sweep points, search trials) for the command line.

On a terminal: a rich progress bar with the count done, the rate and the time
left. Elsewhere (a log file, CI): plain lines, one each time another tenth of
the work is done and one at the end, each with the count, rate and time left,
so a log shows progress without control characters.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.text import Text


class RateColumn(ProgressColumn):
    """Items per second, e.g. ``12.5 points/s``."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.3g} {self.unit}/s" if speed else f"- {self.unit}/s")


@contextmanager
def progress_bar(console: Console, total: int, label: str, unit: str = "points",
                 clock: Callable[[], float] = time.monotonic) -> Iterator[Callable[[int], None]]:
    """Yields ``update(done)``; draws a bar on a terminal, else prints plain lines."""
    if console.is_terminal:
        columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), RateColumn(unit),
                   TextColumn("ETA"), TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(label, total=total)
            yield lambda done: progress.update(task, completed=done)
        return
    yield PlainProgress(console, total, label, unit, clock)


class PlainProgress:
    """Prints ``label: 40/200 points (20%), 3.1 points/s, ETA 52 s`` at every tenth and at the end."""

    def __init__(self, console: Console, total: int, label: str, unit: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.console, self.total, self.label, self.unit, self.clock = console, total, label, unit, clock
        self.started = clock()
        self.tenths_shown = 0

    def __call__(self, done: int) -> None:
        tenths = 10 * done // self.total if self.total else 10
        if tenths <= self.tenths_shown and done < self.total:
            return
        if done == self.total and self.tenths_shown > 10:
            return
        self.tenths_shown = 11 if done >= self.total else tenths
        self.console.print(self.line(done), highlight=False)

    def line(self, done: int) -> str:
        elapsed = self.clock() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (self.total - done) / rate if rate else 0.0
        share = done / self.total if self.total else 1.0
        return (f"{self.label}: {done}/{self.total} {self.unit} ({share:.0%}), "
                f"{rate:.3g} {self.unit}/s, ETA {left:.0f} s")
