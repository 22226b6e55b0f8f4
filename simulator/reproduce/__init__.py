"""``xpusim reproduce``: every built-in paper reproduction as claims with verdicts.

:mod:`simulator.reproduce.claims` holds the claim type, :mod:`simulator.reproduce.registry`
the list of papers and the runner; one module per paper computes its claims
(docs/reproduce.md says how to add one).
"""
