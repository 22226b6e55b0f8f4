"""Start-up: what the command line imports before a command needs it, and ``--no-figures``.

The command line's own module imports only the standard library and ``rich``; the simulator
and its numerical libraries come with the command's handler, and matplotlib only when figures
are drawn. Each check runs in a fresh interpreter, since this test process has imported
everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.cli import main

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("matplotlib", "networkx", "torch", "dask", "distributed", "numba", "numpy", "simpy", "pydantic",
         "scipy", "optuna", "markdown")


def _imported_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_command_line_module_imports_no_simulator_library():
    loaded = _imported_after("import simulator.cli")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_help_and_version_import_no_simulator_library():
    code = ("import contextlib, io\nfrom simulator.cli import main\n"
            "for argv in (['--version'], ['--help'], ['run', '--help']):\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n"
            "        try:\n            main(argv)\n        except SystemExit:\n            pass")
    loaded = _imported_after(code)
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_validate_needs_no_plotting_library():
    loaded = _imported_after("from simulator.cli import main\nmain(['validate', 'experiments/quickstart.yaml'])")
    assert "matplotlib" not in loaded
    assert "numpy" in loaded  # the probe does run the simulator's checks: it is not a vacuous import test


def test_result_writers_import_matplotlib_only_to_draw():
    assert "matplotlib" not in _imported_after("import reports.writers")


@pytest.fixture(scope="module")
def one_gemm_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("startup") / "one.yaml"
    path.write_text("name: one\nworkload: {ops: [{name: g, M: 64, K: 64, N: 64}]}\nsystems: [{name: npu, arch: tpuv4-like}]\n")
    return path


def test_no_figures_writes_the_report_without_figures(one_gemm_file, tmp_path):
    assert main(["run", str(one_gemm_file), "--out", str(tmp_path / "with")]) == 0
    assert main(["run", str(one_gemm_file), "--out", str(tmp_path / "without"), "--no-figures"]) == 0
    with_figures, without = tmp_path / "with" / "one", tmp_path / "without" / "one"
    assert sorted(p.name for p in (with_figures / "figures").glob("*.png"))  # the default draws them
    assert not list(without.glob("figures/*.png"))
    assert "data:image/png" in (with_figures / "report.html").read_text()
    assert "data:image/png" not in (without / "report.html").read_text()
    for name in ("results.json", "summary.csv", "ops.csv", "report.md"):  # every other file is the same
        assert (with_figures / name).read_bytes() == (without / name).read_bytes(), name


def test_no_figures_removes_the_figures_of_an_earlier_run(one_gemm_file, tmp_path):
    assert main(["run", str(one_gemm_file), "--out", str(tmp_path)]) == 0
    assert list((tmp_path / "one").glob("figures/*.png"))
    assert main(["run", str(one_gemm_file), "--out", str(tmp_path), "--force", "--no-figures"]) == 0
    assert not list((tmp_path / "one").glob("figures/*.png"))
