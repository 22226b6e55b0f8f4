"""Processing-in-memory: HBM with compute next to its banks, and the NPU+PIM system.

* :mod:`.spec`: :class:`PimMemorySpec` (DRAM device + bank-side compute) and
  :class:`NeupimsSpec` (NPU + PIM memory + sub-batch interleaving).
* :mod:`.kernel` / :mod:`.gemv`: all-bank PIM GEMV timing per channel from the
  DRAM spec's timing table (Numba kernel + Python twin) and the data layout.
* :mod:`.energy`: PIM multipliers and the bank-level HBM data path.
* :mod:`.system`: :class:`NeupimsSystem`, ``kind: neupims``.
"""
