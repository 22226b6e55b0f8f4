"""``xpusim server``: commands forked from one warm process give what a fresh process gives.

Each test talks to a real server started with ``xpusim server start --no-warm`` (the
kernels load in each run, as in a fresh process, so the test does not wait for every
kernel to compile) in a temporary folder of its own (``TMPDIR``), through the console
command as a user runs it. The server's run count shows a command did go through it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from simulator import server_client

pytestmark = pytest.mark.skipif(not server_client.supported(), reason="needs POSIX sockets that pass descriptors")

ROOT = Path(__file__).resolve().parents[1]
ONE_GEMM = ("name: one\nworkload: {ops: [{name: g, M: 20, K: 10, N: 12}]}\n"
            "systems: [{name: npu, arch: tpuv4-like, set: {rows: 8, cols: 8, cores: 1}}]\n")


def xpusim(args: list[str], env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simulator.cli", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def runs(env: dict, cwd: Path) -> int | None:
    done = xpusim(["server", "status"], env, cwd)
    if done.returncode != 0:
        return None
    return int(done.stdout.split(", ")[-1].split()[0])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    short = Path(tempfile.mkdtemp(prefix="xs", dir="/tmp"))  # a socket's path has at most ~100 characters
    env = {k: v for k, v in os.environ.items() if k != "XPUSIM_SERVER"}
    env["TMPDIR"] = str(short)
    work = tmp_path_factory.mktemp("server")
    (work / "one.yaml").write_text(ONE_GEMM)
    (work / "bad.yaml").write_text(ONE_GEMM.replace("rows: 8", "rows: -8"))
    started = xpusim(["server", "start", "--no-warm", "--idle-minutes", "5"], env, work)
    assert started.returncode == 0, started.stderr
    yield env, work
    xpusim(["server", "stop"], env, work)
    shutil.rmtree(short, ignore_errors=True)


def test_a_run_through_the_server_equals_a_fresh_process(server):
    env, work = server
    before = runs(env, work)
    through = xpusim(["run", "one.yaml", "--out", "a", "--no-figures"], env, work)
    assert runs(env, work) == before + 1
    alone = xpusim(["run", "one.yaml", "--out", "b", "--no-figures"], {**env, "XPUSIM_SERVER": "0"}, work)
    assert runs(env, work) == before + 1  # XPUSIM_SERVER=0 kept that one in its own process
    assert through.returncode == alone.returncode == 0
    assert through.stdout == alone.stdout
    assert through.stderr.replace("a/one", "b/one") == alone.stderr
    assert json.loads((work / "a/one/results.json").read_text()) == json.loads((work / "b/one/results.json").read_text())


def test_input_errors_and_exit_codes_come_back(server):
    env, work = server
    before = runs(env, work)
    bad = xpusim(["run", "bad.yaml", "--out", "c"], env, work)
    alone = xpusim(["run", "bad.yaml", "--out", "c"], {**env, "XPUSIM_SERVER": "0"}, work)
    assert bad.returncode == alone.returncode == 2
    assert "rows" in bad.stderr and bad.stderr == alone.stderr
    usage = xpusim(["run"], env, work)  # argparse's own error and exit status
    assert usage.returncode == 2 and "the following arguments are required: file" in usage.stderr
    listing = xpusim(["list", "kinds"], env, work)
    assert listing.returncode == 0 and "systolic" in listing.stdout and not listing.stderr
    assert runs(env, work) == before + 3


def test_another_environment_does_not_reach_the_server(server):
    env, work = server
    before = runs(env, work)
    other = {**env, "NUMBA_OPT": "1"}  # Numba reads it at import: the server's kernels would differ
    assert runs(other, work) is None
    done = xpusim(["list", "kinds"], other, work)
    assert done.returncode == 0 and "systolic" in done.stdout
    assert runs(env, work) == before


def test_the_key_names_what_changes_results(tmp_path, monkeypatch):
    assert server_client.environment_key({"NUMBA_OPT": "1", "XPUSIM_SERVER": "1", "HOME": "/x"}) == {"NUMBA_OPT": "1"}
    package = tmp_path / "simulator"
    package.mkdir()
    source = package / "a.py"
    source.write_text("x = 1\n")
    monkeypatch.setattr(server_client, "source_root", lambda: tmp_path)
    first = server_client.key({})
    assert server_client.key({}) == first
    assert server_client.key({"NUMBA_OPT": "1"}) != first
    source.write_text("x = 22\n")  # another size
    assert server_client.key({}) != first
    second = server_client.key({})
    os.utime(source, ns=(1, 1))  # same size, another modification time
    assert server_client.key({}) != second


def test_stop_ends_the_server_and_commands_run_alone_again(tmp_path):
    short = Path(tempfile.mkdtemp(prefix="xs", dir="/tmp"))
    env = {**{k: v for k, v in os.environ.items() if k != "XPUSIM_SERVER"}, "TMPDIR": str(short)}
    try:
        assert xpusim(["server", "start", "--no-warm"], env, tmp_path).returncode == 0
        assert runs(env, tmp_path) == 0
        assert xpusim(["server", "stop"], env, tmp_path).returncode == 0
        assert runs(env, tmp_path) is None
        assert not list((short / f"xpusim-{os.getuid()}").glob("*.sock"))
        done = xpusim(["list", "kinds"], env, tmp_path)
        assert done.returncode == 0 and "systolic" in done.stdout
        assert xpusim(["server", "stop"], env, tmp_path).returncode == 1  # none runs now
    finally:
        xpusim(["server", "stop"], env, tmp_path)
        shutil.rmtree(short, ignore_errors=True)


def test_the_warm_up_loads_the_kernels_and_the_plotting_library():
    probe = ("import sys\nfrom simulator.server import warm\nwarm(['systolic'])\n"
             "from simulator.engine import _event_tier\nfrom arch.systolic import kernel\n"
             "print(_event_tier().jitted, 'matplotlib.pyplot' in sys.modules, bool(kernel.gemm_kernel.overloads))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "True"]


def test_a_folder_others_may_write_is_not_used(server):
    env, work = server
    folder = Path(env["TMPDIR"]) / f"xpusim-{os.getuid()}"
    before = runs(env, work)
    os.chmod(folder, 0o777)
    try:
        done = xpusim(["list", "kinds"], env, work)
    finally:
        os.chmod(folder, 0o700)
    assert done.returncode == 0 and "systolic" in done.stdout
    assert runs(env, work) == before  # the command ran in its own process


def test_a_socket_path_over_the_system_limit_is_named(tmp_path):
    deep = tmp_path / ("d" * 100)
    deep.mkdir()
    env = {**{k: v for k, v in os.environ.items() if k != "XPUSIM_SERVER"}, "TMPDIR": str(deep)}
    done = xpusim(["server", "start", "--no-warm"], env, tmp_path)
    assert done.returncode == 2 and "set TMPDIR to a shorter folder" in done.stderr
    assert not list(deep.rglob("*.log"))  # refused before anything started
