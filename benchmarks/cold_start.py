"""Each ``xpusim`` command as a whole process, with an empty and with a warm Numba cache.

For every command of the table below the command runs twice as its own process
(``python -m simulator.cli ...``) with ``NUMBA_CACHE_DIR`` pointing at a new,
empty folder: the first run compiles every jitted kernel it calls (``cold``), the
second finds them in that folder (``warm``). A command may leave children compiling
kernels for later runs (the engine's event-kernel child, :mod:`simulator.engine_warmup`;
the background compiler, :mod:`arch.background_compile`); each run is followed by a
wait until they are gone, so that they do not load the machine during the next
measurement. Printed per command: both wall times, how long the cold run's children
ran after it (``after s``), the cold-start cost (cold - warm), both CPU times (user +
system of the command's process, less sensitive than wall time to other load on the
machine), the kernels compiled by the cold run and its children (the cache index files
Numba wrote, one per jitted function, ``name@line``; a kernel answered by its twin,
:mod:`arch.tiered_kernel`, is compiled only by the background compiler), the exit
status, and whether the cold run is under the 5 s target.
Python's own bytecode caches are warm in both runs (they are not what this
measures). ``--kernels`` lists the compiled kernels under each command.

Commands (small inputs, written to a temporary folder):

* ``version`` (``xpusim --version``) and ``list``;
* ``validate`` of ``experiments/quickstart.yaml``;
* ``run`` of one GEMM on one 128 x 128 core (``one-gemm``, the experiment of
  ``whole_process_vs_scalesim.py``: one task, timed in closed form), of one GEMM
  split over ``tpuv4-like``'s four cores (``split-gemm``: simulated in SimPy), and of
  the quickstart (five systems, with figures);
* ``sweep`` of a 2 x 2 grid (``workload.batch`` x ``systems.npu.arch.cores``) of a
  Llama-2-7B decode step on ``tpuv4-like``, one worker, no figures;
* ``reproduce --quick`` when this checkout has ``reproduce``.

``--only NAME ...`` runs some of them (names as in the first column);
``--timeout S`` bounds each process (a command over it is reported, not waited for).

Run: ``python benchmarks/cold_start.py [--only one-gemm sweep] [--timeout 300]``.
Timings depend on the machine and its load: run on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 5.0  # the cold-start target per command

# One golden GEMM as whole_process_vs_scalesim.py runs it: one 128 x 128 core, SCALE-Sim's 1 MiB SRAMs (its
# run is one task, timed in closed form); and a GEMM split over tpuv4-like's four cores (simulated in SimPy).
ONE_GEMM = """name: one-gemm
workload:
  ops: [{name: gemm, M: 200, K: 150, N: 130}]
systems:
  - name: npu
    arch: tpuv4-like
    set: {rows: 128, cols: 128, dataflow: ws, cores: 1, ifmap_sram_bytes: 1048576, filter_sram_bytes: 1048576,
          ofmap_sram_bytes: 1048576}
"""
SPLIT_GEMM = """name: split-gemm
workload:
  ops: [{name: gemm, M: 128, K: 4096, N: 4096}]
systems:
  - {name: npu, arch: tpuv4-like}
"""

SMALL_SWEEP = """name: small-sweep
workload: {model: llama2-7b, phase: decode, batch: 8, seq_len: 512}
systems:
  - {name: npu, arch: tpuv4-like}
sweep:
  grid: {workload.batch: [8, 16], systems.npu.arch.cores: [2, 4]}
"""


def commands(folder: Path) -> list[tuple[str, list[str]]]:
    """(name, CLI arguments) per command, inputs written into ``folder``."""
    (folder / "one_gemm.yaml").write_text(ONE_GEMM)
    (folder / "split_gemm.yaml").write_text(SPLIT_GEMM)
    (folder / "small_sweep.yaml").write_text(SMALL_SWEEP)
    out = str(folder / "out")
    quickstart = str(ROOT / "experiments" / "quickstart.yaml")
    listed = [
        ("version", ["--version"]),
        ("list", ["list"]),
        ("validate", ["validate", quickstart]),
        ("one-gemm", ["run", str(folder / "one_gemm.yaml"), "--out", out, "--force"]),
        ("split-gemm", ["run", str(folder / "split_gemm.yaml"), "--out", out, "--force"]),
        ("quickstart", ["run", quickstart, "--out", out, "--force"]),
        ("sweep", ["sweep", str(folder / "small_sweep.yaml"), "--out", out, "--force", "--workers", "1",
                   "--no-figures"]),
    ]
    if (ROOT / "simulator" / "reproduce").exists():
        listed.append(("reproduce --quick", ["reproduce", "--quick", "--out", out, "--force"]))
    return listed


def timed(arguments: list[str], cache_dir: Path, timeout_s: float) -> tuple[float, float, int | str]:
    """Wall seconds, CPU seconds (user + system) and exit status (``"timeout"`` past ``timeout_s``) of one
    CLI process."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir), XPUSIM_SERVER="0")  # each command alone
    before = _children_cpu_s()
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "simulator.cli", *arguments], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - start, _children_cpu_s() - before, "timeout"
    return time.perf_counter() - start, _children_cpu_s() - before, done.returncode


def wait_for_background(cache_dir: Path, timeout_s: float) -> float:
    """Seconds until every process left running with ``cache_dir`` as its Numba cache has exited (children a
    command started to compile kernels for later runs: the engine's event-kernel child, the background
    compiler). They would otherwise load the machine during the next measurement. 0 without procfs."""
    marker = f"NUMBA_CACHE_DIR={cache_dir}".encode() + b"\0"
    start = time.perf_counter()
    while time.perf_counter() - start < timeout_s:
        if not any(marker in _environ(pid) for pid in _pids()):
            break
        time.sleep(0.05)
    return time.perf_counter() - start


def _pids() -> list[int]:
    proc = Path("/proc")
    return [int(p.name) for p in proc.iterdir() if p.name.isdigit()] if proc.is_dir() else []


def _environ(pid: int) -> bytes:
    try:
        return (Path("/proc") / str(pid) / "environ").read_bytes() + b"\0"
    except OSError:
        return b""


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def compiled_kernels(cache_dir: Path) -> list[str]:
    """The jitted functions Numba cached in ``cache_dir`` (one ``.nbi`` index per function)."""
    names = []
    for index in sorted(cache_dir.rglob("*.nbi")):
        module, function, line = _index_name(index)
        names.append(f"{module}.{function}@{line}")
    return names


def _index_name(index: Path) -> tuple[str, str, str]:
    # Numba names an index "<file stem>.<qualified function name>-<line>.py<version>.nbi"
    stem = index.name.split(".py")[0] if ".py" in index.name else index.stem
    module, _, rest = stem.partition(".")
    function, _, line = rest.rpartition("-")
    return module, function or rest, line


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="command names to run (first column)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds each process may take")
    parser.add_argument("--kernels", action="store_true", help="list every kernel each cold run compiled")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="xpusim-cold-") as tmp:
        folder = Path(tmp)
        chosen = [(n, a) for n, a in commands(folder) if args.only is None or n in args.only]
        print(f"{'command':<18} {'cold s':>7} {'after s':>7} {'warm s':>7} {'cold-warm':>9} {'cold cpu':>8} "
              f"{'warm cpu':>8} {'kernels':>7} {'exit':>5} {'cold < 5 s':>10}", flush=True)
        under = 0
        for number, (name, arguments) in enumerate(chosen):
            cache_dir = folder / f"numba-{number}"
            cache_dir.mkdir()
            cold_s, cold_cpu_s, cold_rc = timed(arguments, cache_dir, args.timeout)
            after_s = wait_for_background(cache_dir, args.timeout)
            kernels = compiled_kernels(cache_dir)
            warm_s, warm_cpu_s, warm_rc = timed(arguments, cache_dir, args.timeout)
            wait_for_background(cache_dir, args.timeout)
            status = cold_rc if cold_rc == warm_rc else f"{cold_rc}/{warm_rc}"
            under += cold_s < TARGET_S
            print(f"{name:<18} {cold_s:7.2f} {after_s:7.2f} {warm_s:7.2f} {cold_s - warm_s:9.2f} {cold_cpu_s:8.2f} "
                  f"{warm_cpu_s:8.2f} "
                  f"{len(kernels):7d} "
                  f"{str(status):>5} {'yes' if cold_s < TARGET_S else 'NO':>10}", flush=True)
            if args.kernels and kernels:
                print("    compiled: " + ", ".join(kernels))
        print(f"\n{under} of {len(chosen)} commands under {TARGET_S:g} s with an empty Numba cache "
              "(exit status other than 0: the command failed; see it run by hand)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
