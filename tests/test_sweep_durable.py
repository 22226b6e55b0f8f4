"""Durable sweeps and result folders: SIGKILL at any moment, then resume to the same table.

A sweep journals each finished point; killed (SIGKILL, as by the OOM killer or
``kill -9``) and run again, it simulates only the points the journal lacks and
writes a ``sweep.csv`` byte-identical to an uninterrupted run. Its worker
processes exit when it dies. Result folders are checked before simulating and
never written over silently.
"""

from __future__ import annotations

import collections
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from simulator.journal import JOURNAL, Journal
from simulator.outdir import INCOMPLETE

REPO = Path(__file__).resolve().parents[1]


def sweep_file(tmp_path: Path, rows: int, cols: int, name: str = "dur") -> Path:
    """A sweep of rows x cols x 3 dataflows over one small GEMM (about 5 ms a point)."""
    values = lambda n: ", ".join(str(4 * (i + 1)) for i in range(n))  # noqa: E731
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: {name}
        workload:
          act_bits: 8
          weight_bits: 8
          ops:
            - {{name: a, M: 16, N: 16, K: 16}}
        systems:
          - {{name: s, arch: scalesim-default}}
        sweep:
          grid:
            systems.s.arch.rows: [{values(rows)}]
            systems.s.arch.cols: [{values(cols)}]
            systems.s.arch.dataflow: [ws, os, is]
        """), encoding="utf-8")
    return path


def journal_points(folder: Path) -> list[int]:
    lines = (folder / JOURNAL).read_text(encoding="utf-8").splitlines()[1:]
    return [json.loads(line)["point"] for line in lines if line.endswith("}")]


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def start_sweep(path: Path, out: Path, workers: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "simulator.cli", "sweep", str(path), "--out", str(out),
                             "--workers", str(workers)], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def kill_when(proc: subprocess.Popen, folder: Path, done_points: int, timeout_s: float = 60.0) -> list[int]:
    """SIGKILL ``proc`` once its journal lists ``done_points`` points; its worker pids at that moment."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (folder / JOURNAL).exists() and len(journal_points(folder)) >= done_points:
            break
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(0.005)
    workers = children_of(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    return workers


def resume(path: Path, out: Path, workers: int = 2) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "simulator.cli", "sweep", str(path), "--out", str(out),
                           "--workers", str(workers)], cwd=REPO, capture_output=True, text=True, timeout=120)
    return done.returncode, " ".join((done.stdout + done.stderr).split())


def simulated_count(output: str) -> int:
    return int(re.search(r"\((\d+) simulated", output).group(1))


def assert_no_orphans(workers: list[int], wait_s: float = 5.0) -> None:
    deadline = time.monotonic() + wait_s
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if alive(pid)], "worker processes outlived the sweep"


def reference_csv(cli, path: Path, tmp_path: Path) -> bytes:
    code, _, _ = cli("sweep", path, "--out", tmp_path / "reference", "--workers", "1")
    assert code == 0
    return (tmp_path / "reference" / path.stem / "sweep.csv").read_bytes()


def test_sigkill_mid_sweep_then_resume_gives_the_same_table(cli, tmp_path):
    path = sweep_file(tmp_path, 4, 5)  # 60 points
    out, folder = tmp_path / "out", tmp_path / "out" / "dur"
    proc = start_sweep(path, out, workers=2)
    workers = kill_when(proc, folder, 20)
    assert workers, "the sweep had no worker processes"
    assert_no_orphans(workers)
    assert (folder / INCOMPLETE).exists() and not (folder / "sweep.csv").exists()
    before = journal_points(folder)
    code, output = resume(path, out)
    assert code == 0, output
    assert simulated_count(output) == 60 - len(before)
    assert not (folder / INCOMPLETE).exists()
    counts = collections.Counter(journal_points(folder))
    assert sorted(counts) == list(range(60)) and max(counts.values()) == 1
    assert (folder / "sweep.csv").read_bytes() == reference_csv(cli, path, tmp_path)


@pytest.mark.slow
def test_300_point_sweep_killed_three_times_including_while_writing(cli, tmp_path):
    path = sweep_file(tmp_path, 10, 10)  # 300 points
    out, folder = tmp_path / "out", tmp_path / "out" / "dur"
    simulated = 0
    for done_points in (60, 180, 300):  # the last kill lands while the report is written
        proc = start_sweep(path, out, workers=2)
        before = len(journal_points(folder)) if (folder / JOURNAL).exists() else 0
        workers = kill_when(proc, folder, done_points)
        assert_no_orphans(workers)
        assert (folder / INCOMPLETE).exists()
        simulated += len(journal_points(folder)) - before
    code, output = resume(path, out)
    assert code == 0, output
    simulated += simulated_count(output)
    counts = collections.Counter(journal_points(folder))
    assert sorted(counts) == list(range(300)) and max(counts.values()) == 1
    assert simulated == 300  # journaled once each; the final run simulated none again
    assert (folder / "sweep.csv").read_bytes() == reference_csv(cli, path, tmp_path)
    assert not (folder / INCOMPLETE).exists()


def test_a_line_cut_short_by_a_kill_is_dropped_and_repaired(tmp_path):
    journal = Journal.open(tmp_path, "k", 3)
    journal.append(0, [{"point": 0}])
    with open(tmp_path / JOURNAL, "a", encoding="utf-8") as handle:
        handle.write('{"point": 1, "rows": [{"po')  # killed mid-line
    again = Journal.open(tmp_path, "k", 3)
    assert again.done == {0: [{"point": 0}]}
    again.append(1, [{"point": 1}])
    assert Journal.open(tmp_path, "k", 3).done == {0: [{"point": 0}], 1: [{"point": 1}]}


def test_a_journal_of_another_sweep_is_not_resumed(tmp_path):
    Journal.open(tmp_path, "first", 3).append(0, [{"point": 0}])
    assert Journal.open(tmp_path, "second", 3).done == {}


def test_a_changed_sweep_goes_to_a_new_numbered_folder(cli, tmp_path):
    out = tmp_path / "out"
    assert cli("sweep", sweep_file(tmp_path, 1, 1), "--out", out, "--workers", "1")[0] == 0
    code, _, err = cli("sweep", sweep_file(tmp_path, 1, 2), "--out", out, "--workers", "1")
    assert code == 0 and "using" in err and (out / "dur-2" / "sweep.csv").exists()
    assert len((out / "dur" / "sweep.csv").read_text().splitlines()) == 1 + 3  # untouched


def test_force_starts_the_sweep_afresh(cli, tmp_path):
    path, out = sweep_file(tmp_path, 1, 1), tmp_path / "out"
    assert cli("sweep", path, "--out", out, "--workers", "1")[0] == 0
    code, _, err = cli("sweep", path, "--out", out, "--workers", "1", "--force")
    assert code == 0 and "(3 simulated" in " ".join(err.split())


def test_a_second_run_goes_to_a_numbered_folder_and_force_writes_over(cli, write, tmp_path):
    from tests.conftest import SMALL_EXPERIMENT

    path, out = write(SMALL_EXPERIMENT), tmp_path / "out"
    assert cli("run", path, "--out", out)[0] == 0
    (out / "small" / "figures" / "stale.png").write_bytes(b"old")
    code, _, err = cli("run", path, "--out", out)
    assert code == 0 and (out / "small-2" / "results.json").exists() and "small-2" in err
    assert cli("run", path, "--out", out, "--force")[0] == 0
    assert not (out / "small" / "figures" / "stale.png").exists()  # figures of the earlier run removed
    assert not (out / "small" / INCOMPLETE).exists()


@pytest.mark.parametrize("workers", ["0", "-1", "two"])
def test_workers_below_one_are_refused(cli, tmp_path, workers):
    with pytest.raises(SystemExit) as info:
        cli("sweep", sweep_file(tmp_path, 1, 1), "--workers", workers)
    assert info.value.code == 2


def test_out_that_is_a_file_is_refused_before_simulating(cli, write, tmp_path):
    from tests.conftest import SMALL_EXPERIMENT

    blocker = tmp_path / "file"
    blocker.write_text("x")
    for command, path in (("run", write(SMALL_EXPERIMENT)), ("sweep", sweep_file(tmp_path, 1, 1))):
        code, out, err = cli(command, path, "--out", blocker / "sub")
        assert code == 2 and "is a file, not a folder" in " ".join(err.split()) and "Traceback" not in out + err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_out_that_cannot_be_written_is_refused(cli, write, tmp_path):
    from tests.conftest import SMALL_EXPERIMENT

    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, _, err = cli("run", write(SMALL_EXPERIMENT), "--out", locked)
    assert code == 2 and "cannot" in err


def test_report_refuses_to_write_over_its_inputs(cli, write, tmp_path):
    from tests.conftest import SMALL_EXPERIMENT

    out = tmp_path / "out"
    assert cli("run", write(SMALL_EXPERIMENT), "--out", out)[0] == 0
    before = (out / "small" / "results.json").read_bytes()
    code, _, err = cli("report", out / "small", "--out", out / "small")
    assert code == 2 and "holds an input of this report" in " ".join(err.split())
    assert (out / "small" / "results.json").read_bytes() == before


def test_a_sweep_on_dask_journals_its_points_and_matches_local_workers(cli, tmp_path):
    distributed = pytest.importorskip("distributed")
    path = sweep_file(tmp_path, 1, 2)  # 6 points
    with distributed.LocalCluster(n_workers=2, processes=False, dashboard_address=None) as cluster:
        code, _, err = cli("sweep", path, "--out", tmp_path / "dask", "--scheduler", cluster.scheduler_address)
    assert code == 0, err
    assert sorted(journal_points(tmp_path / "dask" / "dur")) == list(range(6))
    assert (tmp_path / "dask" / "dur" / "sweep.csv").read_bytes() == reference_csv(cli, path, tmp_path)


def test_a_second_report_into_the_same_folder_goes_to_a_numbered_one(cli, write, tmp_path):
    from tests.conftest import SMALL_EXPERIMENT

    assert cli("run", write(SMALL_EXPERIMENT), "--out", tmp_path / "runs")[0] == 0
    assert cli("report", tmp_path / "runs" / "small", "--out", tmp_path / "cmp")[0] == 0
    first = (tmp_path / "cmp" / "results.json").read_bytes()
    code, _, err = cli("report", tmp_path / "runs" / "small", "--out", tmp_path / "cmp", "--name", "again")
    assert code == 0 and (tmp_path / "cmp-2" / "results.json").exists()
    assert (tmp_path / "cmp" / "results.json").read_bytes() == first


@pytest.mark.parametrize("line", [
    "null",                                                                  # not a header
    '{"point": 0, "rows": 5}',                                               # rows not a list
    '{"point": 7, "rows": []}',                                              # no such point
    '{"point": true, "rows": []}',
    '{"point": 0, "rows": [{"x": 1}]}',                                      # not a row the sweep writes
    '{"point": 0, "rows": [{"point": 0, "system": "s", "fits": true, "cycles": "many"}]}',
])
def test_a_journal_with_a_line_this_program_does_not_write_is_not_resumed(tmp_path, line):
    from simulator.journal import FORMAT, matches
    from simulator.sweep import is_sweep_row

    header = json.dumps({"format": FORMAT, "key": "k", "points": 3})
    (tmp_path / JOURNAL).write_text((line if line == "null" else header + "\n" + line) + "\n")
    assert not matches(tmp_path, "k", 3, is_sweep_row)
    assert Journal.open(tmp_path, "k", 3, is_sweep_row).done == {}


def test_a_sweep_whose_journal_was_edited_runs_in_a_new_folder_and_keeps_the_old(cli, tmp_path):
    path, out = sweep_file(tmp_path, 1, 1), tmp_path / "out"
    assert cli("sweep", path, "--out", out, "--workers", "1")[0] == 0
    journal = out / "dur" / JOURNAL
    lines = journal.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["rows"][0]["seconds"] = None  # a row no run writes
    journal.write_text("\n".join([lines[0], json.dumps(entry)] + lines[2:]) + "\n")
    code, _, err = cli("sweep", path, "--out", out, "--workers", "1")
    assert code == 0 and "using" in err and (out / "dur-2" / "sweep.csv").exists()
    assert journal.read_text().splitlines()[1] == json.dumps(entry)  # the edited folder is left as it was
