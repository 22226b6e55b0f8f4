"""CPU hosts running LUT (T-MAC) or dequantisation (llama.cpp) low-bit GEMM kernels (``kind: cpu``)."""
