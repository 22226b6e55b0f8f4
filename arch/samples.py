"""Sample ops the conformance checker runs on a family (:mod:`simulator.conformance`).

The default set covers a GEMV, an odd-shaped GEMM, batched decode attention
over the KV cache, a softmax and a residual add, all with 8-bit operands (every
datapath in the technology library takes them). A family whose units run other
datatypes (a W1-W4 LUT core, an fp16-only mesh) overrides
``Accelerator.conformance_ops`` with ops in its own datatypes, so the checks
never pass vacuously.
"""

from __future__ import annotations

from workloads.op import Op, OpKind, Operand

BITS8 = {"a_bits": 8, "b_bits": 8, "out_bits": 8}


def default_sample_ops(bits: dict | None = None) -> tuple[Op, ...]:
    """The default sample ops, with ``bits`` (a_bits / b_bits / out_bits) if given."""
    bits = bits or BITS8
    return (
        Op("gemv", OpKind.GEMM, 1, 4096, 4096, **bits),
        Op("odd", OpKind.GEMM, 77, 300, 129, **bits),
        Op("attn", OpKind.GEMM, 4, 130, 128, count=64, b_operand=Operand.KV, **bits),
        Op("softmax", OpKind.SOFTMAX, 32, 1024, **bits),
        Op("residual", OpKind.ADD, 8, 4096, **bits),
    )
