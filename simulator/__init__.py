"""xpusim's simulator: experiments, runs, sweeps, searches and the ``xpusim`` CLI.

The public Python API is :mod:`simulator.api` (``from simulator import api as xs``);
``run`` and ``sweep`` are not re-exported here because ``simulator.run`` and
``simulator.sweep`` are modules.
"""
