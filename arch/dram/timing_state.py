"""Earliest-legal-cycle bookkeeping for the scheduler kernel (:mod:`arch.dram.kernel`).

The state is, for every command, the earliest cycle the constraint table allows
it: one value per command for the channel (``channel_ok``), and one per command
and bank (``bank_ok``, flat, ``command * banks + bank``) that folds in the rules
of every level below the channel. A command's earliest cycle at a bank is the
larger of the two (:func:`earliest`). Both have one more entry (row) than there
are commands, ``NONE`` ("no command"), FOREVER at the channel: a bank with
nothing queued is priced like any other and never wins.

Issuing command c at cycle t (in the kernel's loop) applies each rule of the
table whose preceding command is c, at each level within c's scope: to the
channel value, or to every bank under c's node at that level (sibling rules: to
the banks under the other nodes with the same parent). :func:`bank_rules` lists
the rules below the channel per command, so the loop visits only rules that
exist; ``bank_ok`` is command-major so that each update runs over contiguous
banks. Window rules (tFAW) keep a ring of the last ``count`` issue cycles per
node and apply the oldest plus the latency.

This is exact: every rule is a lower bound "issue cycle of a matching earlier
command + latency", and the stored values are the maxima of those bounds over the
commands issued so far.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from arch.dram.commands import N_COMMANDS

N = N_COMMANDS
NONE = N_COMMANDS
FOREVER = 1 << 60


def hierarchy(ranks, bankgroups, banks):
    """For each bank and level: the flat index of its ancestor node (channel 0, ranks,
    bank groups, then banks) and the range of banks under that node, ``[lo, hi)``."""
    n_banks = ranks * bankgroups * banks
    width = np.array([n_banks, bankgroups * banks, banks, 1], dtype=np.int64)  # banks under one node
    offset = np.array([0, 1, 1 + ranks, 1 + ranks + ranks * bankgroups], dtype=np.int64)
    local = np.arange(n_banks, dtype=np.int64)[:, None] // width[None, :]
    node_of = np.ascontiguousarray(offset[None, :] + local)
    span = np.ascontiguousarray(np.stack([local * width, (local + 1) * width], axis=2))
    return node_of, span


def bank_rules(latency, sibling_latency, scope):
    """The table's rules below the channel, one row per (command, level, following, sibling).

    Returns ``(start, level, following, latency, sibling)``: the rows of command c
    are ``start[c]:start[c + 1]``, each a rule at a level from the rank down to c's
    scope whose latency exists (``NO_CONSTRAINT`` is negative). Sibling rules at the
    channel level have no siblings and are left out, as are rules between commands
    the scheduler does not issue.
    """
    rows = [(c, level, f, int(table[level, c, f]), sibling)
            for c in range(N) for level in range(1, int(scope[c]) + 1) for sibling, table in
            ((False, latency), (True, sibling_latency)) for f in range(N) if table[level, c, f] >= 0]
    start = np.searchsorted(np.array([r[0] for r in rows], dtype=np.int64), np.arange(N + 1), side="left")
    columns = [np.array([r[i] for r in rows], dtype=np.int64) for i in (1, 2, 3)]
    return (np.ascontiguousarray(start, dtype=np.int64), *columns, np.array([r[4] for r in rows], dtype=np.bool_))


@njit(cache=True, inline="always")
def earliest(now, cmd, bank, channel_ok, bank_ok, n_banks):
    """The first cycle from ``now`` at which ``cmd`` to ``bank`` is legal (FOREVER for NONE)."""
    return max(now, channel_ok[cmd], bank_ok[cmd * n_banks + bank])
