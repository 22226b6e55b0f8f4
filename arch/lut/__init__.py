"""LUT tensor cores: lookup-table mixed-precision GEMM (``kind: lut``)."""
