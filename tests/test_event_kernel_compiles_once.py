"""The event kernel's jitted functions compile once each: no specialisation per literal argument.

Numba compiles a jitted function again for every literal Python int or bool a jitted caller
passes it (``Literal[int](0)``, ``Literal[bool](True)``), and each compilation costs a share of
the several seconds a cold start spends compiling the kernel (``benchmarks/cold_start.py``).
The kernel passes its constants as numpy scalars instead (``simulator.engine_event_queue.ZERO``).
Compiled in a fresh process with an empty Numba cache: a cached kernel loads without compiling
its helpers, so only a fresh compilation shows their signatures.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_PROBE = """
import json
from numba.core.registry import CPUDispatcher
import simulator.engine_event_kernel as kernel, simulator.engine_event_queue as queue
from simulator.engine_warmup import compile_example
compile_example()
print(json.dumps({name: [str(s) for s in f.signatures] for mod in (queue, kernel)
                  for name, f in vars(mod).items()
                  if isinstance(f, CPUDispatcher) and f.__module__ == mod.__name__}))
"""


def test_every_event_kernel_function_has_one_signature(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    signatures = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(signatures) >= 15 and "_event_loop" in signatures and "_schedule" in signatures
    compiled = {name: sigs for name, sigs in signatures.items() if sigs}
    assert len(compiled) == len(signatures), f"not compiled by the example: {set(signatures) - set(compiled)}"
    several = {name: sigs for name, sigs in compiled.items() if len(sigs) > 1}
    assert not several, f"compiled more than once: {several}"
    assert not any("Literal" in s for sigs in compiled.values() for s in sigs)
