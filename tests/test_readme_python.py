"""The README's "Using xpusim from Python" code block runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_python_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Using xpusim from Python", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_python_block_runs(monkeypatch, capsys):
    pytest.importorskip("pandas")
    pytest.importorskip("optuna")
    monkeypatch.chdir(ROOT)
    exec(compile(readme_python_block(), "README.md", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    assert "tpuv4-like: " in out and " tokens/s, " in out
    assert "systems.tpuv4-like.set.rowz: unknown key; did you mean 'rows'?" in out
