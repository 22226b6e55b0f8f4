"""``xpusim server``: one warm process from which each command is forked (the client is :mod:`simulator.server_client`).

The server imports the whole run path (the simulator, the report writers and, through
their optional ``warm`` hook, their plotting library), loads or compiles every kernel of every accelerator kind and the
event kernel, then listens on its socket. Each request is a command line, the
client's folder and environment, and its standard input, output and error (file
descriptors passed over the socket). For each one the server forks: the child takes
those descriptors as its own, moves to the client's folder, takes its environment,
sends its process id (the client forwards SIGINT, SIGTERM and SIGHUP to it), runs
:func:`simulator.cli.main` and sends its exit status back. So a run sees what a fresh
process would, minus the start-up: no result, schedule or memo of an earlier run is
in the server (it never runs a command itself), and every run is its own process.

The server answers ``status`` (process id, start time, runs started) and ``stop``,
and exits by itself after ``idle_s`` seconds without a request, or within
``SOURCE_CHECK_S`` seconds of a change to the sources (its socket's name no longer
matches any client's). Forked runs are not
waited for: they report to their clients and are reaped by the system. One thread
only, so forking is safe.
"""

from __future__ import annotations

import atexit
import gc
import io
import json
import os
import signal
import socket
import sys
import time
import traceback
from pathlib import Path

from simulator.server_client import (
    CODE_BYTES, LENGTH_BYTES, PID_BYTES, STD_FDS, key, receive_exact, server_dir, source_digest)

DEFAULT_IDLE_S = 1800.0  # half an hour without a request
ACCEPT_POLL_S = 1.0
SOURCE_CHECK_S = 5.0  # how often the server looks whether the sources changed (then no client can reach it)
BACKLOG = 64
WRITER_GROUPS = ("xpusim.writers", "xpusim.reproduce_writers")


def warm(kinds: list[str] | None = None) -> None:
    """Import the run path and load (or compile) the kernels of ``kinds`` (default: every kind)."""
    from arch import registry
    from simulator.cli_commands import _writers
    from simulator.engine import prefer_event_kernel
    from simulator.engine_warmup import compile_example
    from simulator.sweep_workers import warm_worker

    for group in WRITER_GROUPS:
        for writer in _writers(group):  # the writers' modules (found through their entry points)
            getattr(writer, "warm", lambda: None)()  # and what they import to draw
    compile_example()
    prefer_event_kernel()
    warm_worker(registry.kinds() if kinds is None else kinds)  # ends with gc.freeze()


def serve(path: Path, idle_s: float = DEFAULT_IDLE_S, warm_kernels: bool = True) -> None:
    """Warm up, then answer requests on the socket ``path`` until stopped or idle for ``idle_s`` seconds."""
    os.environ["XPUSIM_BACKGROUND_COMPILE"] = "0"  # the server compiles what it needs itself, in the warm-up
    if warm_kernels:
        warm()
    else:
        import simulator.cli_commands  # noqa: F401
        gc.freeze()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forked runs are reaped by the system
    source = source_digest()
    listener = _listen(path)
    state = {"pid": os.getpid(), "started": time.time(), "runs": 0, "key": path.stem}
    last = checked = time.monotonic()
    try:
        while time.monotonic() - last < idle_s:
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                if time.monotonic() - checked >= SOURCE_CHECK_S:
                    checked = time.monotonic()
                    if source_digest() != source:
                        break  # an edited checkout: clients now look for another server
                continue
            last = time.monotonic()
            with conn:
                if not _answer(conn, listener, state):
                    break
    finally:
        listener.close()
        _unlink(path)


def _listen(path: Path) -> socket.socket:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(partial))
    listener.listen(BACKLOG)
    os.replace(partial, path)  # clients see the socket only once it accepts
    listener.settimeout(ACCEPT_POLL_S)
    return listener


def _unlink(path: Path) -> None:
    try:
        if path.exists():
            path.unlink()
    except OSError:
        pass


def _answer(conn: socket.socket, listener: socket.socket, state: dict) -> bool:
    """Answer one request; False when it asked the server to stop."""
    conn.settimeout(10.0)
    try:
        head, fds, _flags, _addr = socket.recv_fds(conn, LENGTH_BYTES, len(STD_FDS))
        if len(head) < LENGTH_BYTES:
            head += receive_exact(conn, LENGTH_BYTES - len(head))
        message = json.loads(receive_exact(conn, int.from_bytes(head, "little")))
    except (OSError, ConnectionError, ValueError):
        return True  # a broken request: nothing to answer
    op = message.get("op")
    if op == "run" and len(fds) == len(STD_FDS):
        state["runs"] += 1
        _fork_run(conn, listener, message, fds)
        return True
    for fd in fds:
        os.close(fd)
    if op == "status":
        _reply(conn, state)
    elif op == "stop":
        _reply(conn, {**state, "stopping": True})
        return False
    return True


def _reply(conn: socket.socket, answer: dict) -> None:
    body = json.dumps(answer).encode()
    try:
        conn.sendall(len(body).to_bytes(LENGTH_BYTES, "little") + body)
    except OSError:
        pass


def _fork_run(conn: socket.socket, listener: socket.socket, message: dict, fds: list[int]) -> None:
    pid = os.fork()
    if pid:
        for fd in fds:
            os.close(fd)
        return
    code = 1
    try:
        listener.close()
        code = _child(conn, message, fds)
    except BaseException:  # noqa: BLE001 -- whatever happens, the client gets a status
        traceback.print_exc()
    finally:
        try:
            conn.sendall(int(code).to_bytes(CODE_BYTES, "little", signed=True))
        except (OSError, OverflowError):
            pass
        os._exit(code if 0 <= code < 256 else 1)


def _child(conn: socket.socket, message: dict, fds: list[int]) -> int:
    """In the forked process: become the client's command, run it, return its exit status."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for target, fd in zip(STD_FDS, fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(message["cwd"])
    os.environ.clear()
    os.environ.update(message["env"])
    _new_std_streams()
    conn.settimeout(None)
    conn.sendall(os.getpid().to_bytes(PID_BYTES, "little"))
    from simulator.cli import main

    sys.argv = ["xpusim", *message["argv"]]
    try:
        code = main(message["argv"])
    except SystemExit as done:  # argparse's errors and --help
        code = _exit_code(done.code)
    except KeyboardInterrupt:
        code = 130
    try:
        atexit._run_exitfuncs()  # what the interpreter runs at a normal exit
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return _exit_code(code)


def _exit_code(code) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _new_std_streams() -> None:
    """Text streams over the client's descriptors, buffered as a fresh process's would be."""
    for fd, name, mode in ((0, "stdin", "rb"), (1, "stdout", "wb"), (2, "stderr", "wb")):
        raw = open(fd, mode, buffering=0, closefd=False)
        interactive = os.isatty(fd)
        buffered = io.BufferedReader(raw) if mode == "rb" else io.BufferedWriter(raw)
        stream = io.TextIOWrapper(buffered, encoding="utf-8", errors="backslashreplace" if name == "stderr" else "strict",
                                  line_buffering=interactive or name == "stderr", write_through=name == "stderr")
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def main() -> None:
    """``python -m simulator.server SOCKET IDLE_S WARM``: what ``xpusim server start`` runs, detached."""
    path, idle_s, warm_kernels = Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "1"
    serve(path, idle_s, warm_kernels)


def default_socket() -> Path:
    return server_dir() / f"{key()}.sock"


if __name__ == "__main__":
    main()
