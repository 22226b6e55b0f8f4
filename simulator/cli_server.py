"""``xpusim server start | stop | status``: the command's body (a part of :mod:`simulator.cli`).

``start`` runs :mod:`simulator.server` as a detached process (its own session, its
output in ``server-KEY.log`` beside the socket) and waits until it accepts commands;
from then on every ``xpusim`` command of this installation and environment is run by
it (:mod:`simulator.server_client`). ``stop`` asks it to exit; ``status`` says whether
one runs, since when and how many commands it ran.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from rich.console import Console

from simulator.errors import InputError, Problem
from simulator.server_client import ask, is_running, key, server_dir, supported

EXIT_OK, EXIT_NOT_RUNNING = 0, 1
START_POLL_S = 0.1
# sun_path holds 108 bytes on Linux (unix(7)) and 104 on macOS (sys/un.h), the final NUL included
SOCKET_PATH_MAX = 103 if sys.platform == "darwin" else 107


def cmd_server(args: argparse.Namespace, console: Console) -> int:
    out = Console(highlight=False, soft_wrap=True)
    if not supported():
        raise InputError("server", [Problem("server", "needs a POSIX system that passes descriptors over "
                                                      "sockets (socket.send_fds) and forks")])
    server_key = key()
    if args.action == "status":
        return _status(out, server_key)
    if args.action == "stop":
        answer = ask({"op": "stop"}, server_key)
        out.print("stopped the server" if answer else "no server runs for this installation", markup=False)
        return EXIT_OK if answer else EXIT_NOT_RUNNING
    return _start(args, out, console, server_key)


def _status(out: Console, server_key: str) -> int:
    answer = ask({"op": "status"}, server_key)
    if answer is None:
        out.print("no server runs for this installation and environment", markup=False)
        return EXIT_NOT_RUNNING
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(answer["started"]))
    out.print(f"server {answer['key']}: process {answer['pid']}, up since {started}, {answer['runs']} commands run",
              markup=False)
    return EXIT_OK


def _start(args: argparse.Namespace, out: Console, console: Console, server_key: str) -> int:
    folder = server_dir()
    path = folder / f"{server_key}.sock"
    if len(os.fsencode(path)) > SOCKET_PATH_MAX:
        raise InputError("server", [Problem("server start", f"the socket's path {path} is {len(os.fsencode(path))} "
                                                            f"bytes, over the system's {SOCKET_PATH_MAX}: set TMPDIR "
                                                            f"to a shorter folder")])
    if is_running(path):
        out.print(f"a server already runs for this installation ({path})", markup=False)
        return EXIT_OK
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    log = folder / f"server-{server_key}.log"
    with open(log, "ab") as handle:
        child = subprocess.Popen([sys.executable, "-m", "simulator.server", str(path), str(args.idle_minutes * 60),
                                  "0" if args.no_warm else "1"], stdin=subprocess.DEVNULL, stdout=handle,
                                 stderr=handle, start_new_session=True, env=dict(os.environ))
    with console.status("starting the server (loading every kernel; compiling those not in Numba's cache)"):
        while not is_running(path):
            if child.poll() is not None:
                raise InputError("server", [Problem("server start", f"the server exited with status "
                                                                    f"{child.returncode}; see {log}")])
            time.sleep(START_POLL_S)
    out.print(f"server {server_key} started (process {child.pid}); xpusim commands now run in it "
              f"(XPUSIM_SERVER=0 keeps one in its own process; 'xpusim server stop' ends it)", markup=False)
    return EXIT_OK
