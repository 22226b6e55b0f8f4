"""Published WaferLLM figures the wafer model is checked against (quoted, with their source).

``ENERGY_CELLS``: the cells of [WL] (WaferLLM, OSDI'25) Tables 6-8 with the inputs they were
computed from -- (A100 GPUs, GPU time or 1/TPR, WSE-2 time or 1/TPR, published A100/WSE energy
ratio) -- for the paper's energy convention (constant power x time, LUT_AND_WAFER.md W-V1).
"""

ENERGY_CELLS = (
    (1, 0.336, 0.0012, 7.47), (8, 0.253, 0.0012, 44.97), (16, 0.340, 0.0012, 120.88),
    (1, 1.231, 0.00203, 16.17), (8, 0.341, 0.00203, 35.83), (16, 0.339, 0.00203, 71.25),
    (1, 1 / 13988, 1 / 27686, 0.05), (8, 1 / 17361, 1 / 27686, 0.34), (16, 1 / 13994, 1 / 27686, 0.84),
    (1, 1 / 7805, 1 / 17498, 0.06), (8, 1 / 12287, 1 / 17498, 0.30),
    (1, 1 / 78, 1 / 2700, 0.92), (8, 1 / 260, 1 / 2700, 2.22), (16, 1 / 164, 1 / 2700, 7.02),
    (1, 1 / 48, 1 / 2039, 1.13), (8, 1 / 175, 1 / 2039, 2.49),
)
