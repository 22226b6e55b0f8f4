"""The client side of the ``xpusim server``: hand a command to a running server, or say there is none.

A process of ``xpusim`` spends most of a small run importing the simulator and loading
its compiled kernels (a one-GEMM ``xpusim run --no-figures`` takes ~0.02 s of a ~0.6 s
process once imported). ``xpusim server start`` keeps one process with all of that
loaded (:mod:`simulator.server`); each later ``xpusim`` command of the same installation
and environment is then run by a process forked from it, whose standard input, output
and error are this process's own (passed over the socket), in this process's folder and
environment. The command's exit status comes back as this process's. This module is the
part that runs before anything else in every command, so it imports the standard
library only and costs a directory listing when no server runs.

Which server: the socket's name is a hash of what decides what the simulator computes
-- the interpreter, the import path, every source and data file of the packages (path,
size and modification time) and the ``NUMBA_*``, ``XPUSIM_*`` and ``PYTHONHASHSEED``
variables -- so an edited checkout, another virtual environment or another Numba
setting never reaches a server started before it (that one idles out). The sockets are
in ``$TMPDIR/xpusim-UID``, used only when it is this user's with mode 0700. ``XPUSIM_SERVER=0`` keeps a command in its own
process. What it does not do: plug-ins installed after the server started (entry
points) are seen by its forked runs only if the simulator looks them up at run time;
POSIX only (``socket.send_fds``, ``fork``).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import sys
from pathlib import Path

PACKAGES = ("simulator", "arch", "workloads", "mappers", "reports")
SOURCE_SUFFIXES = (".py", ".yaml", ".json", ".cfg", ".csv")
ENV_PREFIXES = ("NUMBA_", "XPUSIM_")
ENV_NAMES = ("PYTHONHASHSEED",)
NOT_KEYED = ("XPUSIM_SERVER",)  # turns forwarding off; does not change results
LENGTH_BYTES = 8  # every message: its length, then its JSON
PID_BYTES, CODE_BYTES = 8, 4
CONNECT_TIMEOUT_S = 2.0
STD_FDS = (0, 1, 2)


def supported() -> bool:
    """Whether this system can run a server: POSIX, with descriptors passed over sockets."""
    return os.name == "posix" and hasattr(socket, "send_fds") and hasattr(os, "fork")


def enabled() -> bool:
    """Whether commands are handed to a server: supported, and ``XPUSIM_SERVER`` is not 0."""
    return os.environ.get("XPUSIM_SERVER", "1") != "0" and supported()


def server_dir() -> Path:
    """``$TMPDIR/xpusim-UID`` (``TEMP``, ``TMP``, then /tmp, as ``tempfile`` looks, without importing it)."""
    base = next((os.environ[n] for n in ("TMPDIR", "TEMP", "TMP") if os.path.isdir(os.environ.get(n, ""))), "/tmp")
    return Path(base) / f"xpusim-{os.getuid()}"


def source_root() -> Path:
    return Path(__file__).resolve().parents[1]


def environment_key(environ=None) -> dict[str, str]:
    environ = os.environ if environ is None else environ
    return {k: v for k, v in sorted(environ.items())
            if (k.startswith(ENV_PREFIXES) or k in ENV_NAMES) and k not in NOT_KEYED}


def key(environ=None) -> str:
    """The hash naming the server that computes as this process would (module docstring)."""
    head = json.dumps([sys.executable, sys.version, [p for p in sys.path if p], environment_key(environ)])
    return hashlib.sha256(f"{head}\n{source_digest()}".encode()).hexdigest()[:24]


def source_digest() -> str:
    """A hash of the path, size and modification time of every source and data file of the packages."""
    root = str(source_root())
    lines: list[str] = []
    for package in PACKAGES:
        _files(os.path.join(root, package), len(root) + 1, lines)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _files(folder: str, strip: int, lines: list[str]) -> None:
    """``path size mtime`` of every source and data file under ``folder``, in name order, into ``lines``."""
    try:
        entries = sorted(os.scandir(folder), key=_name)
    except OSError:
        return
    for entry in entries:
        if entry.name.endswith(SOURCE_SUFFIXES):
            stat = entry.stat()
            lines.append(f"{entry.path[strip:]}\0{stat.st_size}\0{stat.st_mtime_ns}")
        elif entry.name != "__pycache__" and entry.is_dir(follow_symlinks=False):
            _files(entry.path, strip, lines)


def _name(entry: os.DirEntry) -> str:
    return entry.name


def socket_path(server_key: str | None = None) -> Path:
    return server_dir() / f"{server_key or key()}.sock"


def send_message(sock: socket.socket, message: dict, fds: tuple[int, ...] = ()) -> None:
    body = json.dumps(message).encode()
    head = len(body).to_bytes(LENGTH_BYTES, "little")
    if fds:
        socket.send_fds(sock, [head], list(fds))
    else:
        sock.sendall(head)
    sock.sendall(body)


def receive_exact(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        part = sock.recv(count - len(data))
        if not part:
            raise ConnectionError("closed before the whole message came")
        data += part
    return data


def connect(path: Path) -> socket.socket | None:
    """A connection to the server at ``path``, or None when none listens there."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(CONNECT_TIMEOUT_S)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        return None
    sock.settimeout(None)
    return sock


def _private(folder: Path) -> bool:
    """Whether ``folder`` is this user's alone (mode 0700) and holds a socket: a server anyone else could have
    started would get this process's environment and streams."""
    try:
        status = os.stat(folder)
        if status.st_uid != os.getuid() or status.st_mode & 0o077:
            return False
        return any(name.endswith(".sock") for name in os.listdir(folder))
    except OSError:
        return False


def is_running(path: Path) -> bool:
    sock = connect(path)
    if sock is None:
        return False
    sock.close()
    return True


def forward(argv: list[str]) -> int | None:
    """Run ``xpusim ARGV`` in the server of this installation and environment; its exit status, or None when
    there is none (or forwarding is off) and the command should run in this process."""
    if not enabled() or (argv and argv[0] == "server"):
        return None
    if not _private(server_dir()):
        return None
    sock = connect(socket_path())
    if sock is None:
        return None
    with sock:
        return _run_remote(sock, argv)


def _run_remote(sock: socket.socket, argv: list[str]) -> int | None:
    fds = tuple(_open_fd(fd) for fd in STD_FDS)
    try:
        send_message(sock, {"op": "run", "argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}, fds)
        pid = int.from_bytes(receive_exact(sock, PID_BYTES), "little")
    except (OSError, ConnectionError):
        return None  # the server could not start the run: run it here
    forwarded = {s: signal.signal(s, lambda number, _frame: _signal(pid, number))
                 for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        return int.from_bytes(receive_exact(sock, CODE_BYTES), "little", signed=True)
    except (OSError, ConnectionError):
        print(f"xpusim: the server's run (process {pid}) ended without an exit status", file=sys.stderr)
        return 1
    finally:
        for number, handler in forwarded.items():
            signal.signal(number, handler)


def _open_fd(fd: int) -> int:
    """``fd`` when it is open here, else /dev/null (a command started with a closed stream)."""
    try:
        os.fstat(fd)
        return fd
    except OSError:
        return os.open(os.devnull, os.O_RDWR)


def _signal(pid: int, number: int) -> None:
    try:
        os.kill(pid, number)
    except OSError:
        pass


def ask(message: dict, server_key: str | None = None) -> dict | None:
    """A control request (``status``, ``stop``) to the server; its answer, or None when none runs."""
    sock = connect(socket_path(server_key))
    if sock is None:
        return None
    with sock:
        try:
            send_message(sock, message)
            length = int.from_bytes(receive_exact(sock, LENGTH_BYTES), "little")
            return json.loads(receive_exact(sock, length))
        except (OSError, ConnectionError, ValueError):
            return None
