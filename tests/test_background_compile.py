"""The background compiler: requests compiled in a child process into Numba's on-disk cache."""

import io
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

from numba import njit, types

from arch import background_compile

ROOT = Path(__file__).resolve().parents[1]


@njit
def _triple(x):
    return 3 * x


def framed(*jobs: bytes) -> io.BytesIO:
    return io.BytesIO(b"".join(len(j).to_bytes(8, "little") + j for j in jobs))


def test_each_request_read_is_compiled_for_its_types_and_a_bad_one_is_skipped():
    assert not _triple.signatures
    good = pickle.dumps((__name__, "_triple", (types.int64,)))
    missing = pickle.dumps((__name__, "no_such_kernel", (types.int64,)))
    assert background_compile.compile_requests(framed(missing, b"not a pickle", good)) == 1
    assert _triple.signatures == [(types.int64,)]


def test_a_stream_cut_short_ends_the_child_s_loop():
    job = pickle.dumps((__name__, "_triple", (types.float64,)))
    assert background_compile.compile_requests(io.BytesIO(len(job).to_bytes(8, "little") + job[:5])) == 0


def test_requests_are_refused_when_turned_off(monkeypatch):
    monkeypatch.setenv("XPUSIM_BACKGROUND_COMPILE", "0")
    assert not background_compile.enabled()
    assert not background_compile.request(_triple, (1,))


def test_a_requested_kernel_is_on_disk_once_the_child_is_done(tmp_path):
    """In a fresh process on an empty cache: the request leaves the kernel compiled on disk, by the child."""
    program = """
import json
from arch import background_compile
from arch.tiered_kernel import compiled_on_disk
from arch.wafer.kernel import _ceil_root
before = compiled_on_disk(_ceil_root)
sent = background_compile.request(_ceil_root, (10, 3))
child = background_compile._CHILD[0]
child.stdin.close()
child.wait(timeout=120)
print(json.dumps({"before": before, "sent": sent, "after": compiled_on_disk(_ceil_root),
                  "here": bool(_ceil_root.signatures)}))
"""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), XPUSIM_BACKGROUND_COMPILE="1")
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    if not background_compile.enabled():  # one usable CPU: nothing is sent
        assert seen == {"before": False, "sent": False, "after": False, "here": False}
        return
    assert seen == {"before": False, "sent": True, "after": True, "here": False}  # compiled there, not here
