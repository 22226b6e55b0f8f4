"""Shared fixtures: small experiment texts and a CLI runner that captures output.

On a machine without an NVIDIA GPU the Numba CUDA reference kernels run in
Numba's CUDA simulator: ``NUMBA_ENABLE_CUDASIM=1`` is set here, before anything
imports Numba, unless the environment already says otherwise. ``XPUSIM_SERVER=0``: every
``xpusim`` process a test starts runs alone, even where a developer has an ``xpusim server``
running (``tests/test_server.py`` starts its own).
"""

from __future__ import annotations

import os
import shutil
import textwrap

if not (os.path.exists("/dev/nvidiactl") or shutil.which("nvidia-smi")):
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")
os.environ["XPUSIM_SERVER"] = "0"

import pytest

from simulator.cli import main

SMALL_EXPERIMENT = textwrap.dedent("""\
    name: small
    seed: 0
    workload:
      act_bits: 8
      weight_bits: 8
      ops:
        - {name: a, M: 64, N: 64, K: 64}
        - {name: b, M: 64, N: 32, K: 64}
    systems:
      - name: small
        arch: scalesim-default
      - name: big
        arch: scalesim-default
        set: {rows: 64, cols: 64}
    report:
      baseline: small
    """)


@pytest.fixture
def write(tmp_path):
    def _write(text: str, name: str = "exp.yaml"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path
    return _write


@pytest.fixture
def cli(capsys):
    def _run(*args: str):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err
    return _run
