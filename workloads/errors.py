"""The error type of the workload layer.

Everything ``workloads`` refuses -- a model config without a required field, a
trace file that does not parse, a length distribution without its parameter, a
graph with a cycle -- raises :class:`WorkloadError` (a ``ValueError``), and
``simulator`` converts it once into an input error naming the experiment key.
"""


class WorkloadError(ValueError):
    """A workload, model, trace or request stream that cannot be built."""
