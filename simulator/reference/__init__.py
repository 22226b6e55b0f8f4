"""Numba CUDA reference kernels that check the functional results of simulated computations.

:mod:`.kernels` holds plain, obviously-correct GPU kernels (tiled GEMM, row
softmax, split-K GEMV); :mod:`.checks` runs an accelerator model's functional
schedule and the matching reference kernel on the same seeded data and compares
them. On a machine without a GPU, set ``NUMBA_ENABLE_CUDASIM=1`` and Numba's CUDA
simulator runs the same kernels on the CPU (slowly: keep shapes small).
"""
