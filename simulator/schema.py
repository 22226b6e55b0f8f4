"""The experiment file's schema (the user contract of DESIGN.md), as pydantic models.

Validation happens in two passes, as ZigZag does: this schema checks shapes,
types and ranges; :mod:`simulator.experiment` then applies cross-field rules
(unique system names, a baseline that exists, each system's accelerator spec)
and collects every error before reporting.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import Field, PositiveInt, model_validator

from arch.strict_model import StrictModel
from simulator.search_spec import SearchSpec

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
# Names become folder and file names (with suffixes such as "-2" and ".png"); file systems
# allow 255 bytes a name (ext4, APFS, NTFS), so names stay well below.
NAME_MAX_CHARS = 128


class Strict(StrictModel):
    model_config = {"validate_default": False}


Bits = Field(default=16, gt=0, le=32)

# Upper bounds on counts, so every product the kernels form (tokens x width x width,
# bytes x repeat) stays inside Numba's 64-bit integers: 2**24 tokens x 2**20 x 2**20
# would not, but no LLM layer is wider than 2**20 (the widest preset, gpt3-175b, has
# hidden 12288 and ffn 49152) nor a step longer than 2**24 tokens.
MAX_TOKENS = 1 << 24
MAX_WIDTH = 1 << 20
MAX_BATCH = 1 << 20
MAX_TP = 1 << 12


class GemmOpSpec(Strict):
    """One explicit GEMM: M tokens x K reduction times K x N weights, ``count`` times."""

    name: str = Field(pattern=NAME_PATTERN, max_length=NAME_MAX_CHARS)
    kind: Literal["gemm"] = "gemm"
    M: PositiveInt = Field(le=MAX_TOKENS)
    N: PositiveInt = Field(le=MAX_WIDTH)
    K: PositiveInt = Field(le=MAX_WIDTH)
    count: PositiveInt = Field(1, le=MAX_BATCH)


class LengthSpec(Strict):
    """A token-length distribution: fixed ``tokens``, uniform [low, high], or
    lognormal around ``median_tokens`` with ``sigma`` (clipped to [low, high])."""

    kind: Literal["fixed", "uniform", "lognormal"] = "fixed"
    tokens: PositiveInt | None = None
    low: PositiveInt = 1
    high: int = Field(0, ge=0)
    median_tokens: float | None = Field(None, gt=0)
    sigma: float = Field(0.0, ge=0)


class ServingLatency(str, Enum):
    """How a serving iteration's latency is obtained."""

    EXACT = "exact"
    COMPOSED = "composed"


# A generated trace's limits: its requests' arrays (arrival, prompt, output, batching state) live
# in memory, and its times must stay finite when counted in cycles.
MAX_SERVING_REQUESTS = 10_000_000
MAX_SERVING_SPAN_S = 1e12


class ServingSpec(Strict):
    """A request stream (Poisson at ``rate_per_s``, or a CSV trace) and the batching limits."""

    rate_per_s: float | None = Field(None, gt=0)
    duration_s: float | None = Field(None, gt=0)
    count: PositiveInt | None = None
    prompt: LengthSpec = Field(default_factory=lambda: LengthSpec(tokens=512))
    output: LengthSpec = Field(default_factory=lambda: LengthSpec(tokens=128))
    csv: str | None = None
    max_batch: PositiveInt = 256
    kv_capacity_tokens: PositiveInt = 1 << 20
    max_tokens_per_iter: PositiveInt | None = None
    kv_bucket_tokens: PositiveInt = 64
    # how an iteration is timed: exact (each distinct bucketed iteration simulated as a whole
    # layer) or composed from op groups (simulator/serving_compose.py; docs/workloads.md gives its error)
    latency: ServingLatency = ServingLatency.EXACT
    interpolation_tolerance: float = Field(1e-3, ge=0, lt=1)  # composed: midpoint check, relative

    @model_validator(mode="after")
    def _one_source(self) -> "ServingSpec":
        if (self.csv is None) == (self.rate_per_s is None):
            raise ValueError("give exactly one of 'rate_per_s' (Poisson arrivals) or 'csv' (a request trace)")
        if self.rate_per_s is not None and (self.duration_s is None) == (self.count is None):
            raise ValueError("with 'rate_per_s', give exactly one of 'duration_s' or 'count'")
        if self.rate_per_s is not None:
            self._check_trace_size()
        return self

    def _check_trace_size(self) -> None:
        expected = self.count if self.count is not None else self.rate_per_s * self.duration_s
        span_s = self.duration_s if self.duration_s is not None else self.count / self.rate_per_s
        source = "count" if self.count is not None else "rate_per_s x duration_s"
        if expected > MAX_SERVING_REQUESTS:
            raise ValueError(f"{source} asks for about {expected:.3g} requests; at most {MAX_SERVING_REQUESTS:,} "
                             f"are generated (every request is kept in memory): give a smaller count or duration_s")
        if span_s > MAX_SERVING_SPAN_S:
            raise ValueError(f"the requests would arrive over about {span_s:.3g} s; at most {MAX_SERVING_SPAN_S:.0e} s "
                             f"of arrivals are simulated: give a higher rate_per_s or a shorter duration_s")


class WorkloadSpec(Strict):
    model: str | dict[str, Any] | None = None
    ops: list[GemmOpSpec] | None = None
    phase: Literal["prefill", "decode", "serving"] = "decode"
    batch: PositiveInt = Field(1, le=MAX_BATCH)
    seq_len: PositiveInt = Field(1024, le=MAX_TOKENS)
    weight_bits: float = Bits
    act_bits: float = Bits
    kv_bits: float = Bits
    weight_group_size: int | None = Field(128, ge=0)
    scale_bits: float = Bits
    tp: PositiveInt = Field(1, le=MAX_TP)
    serving: ServingSpec | None = None
    trace: str | None = None  # a trace file (workloads/tracefile.py), relative to the experiment file
    topology: str | None = None  # a SCALE-Sim topology CSV (workloads/topology.py), read as 'ops'
    # decode only: each request's KV length, drawn from a distribution with the experiment
    # seed or listed; replaces seq_len (checks in simulator/workload_spec.py)
    kv_lens: LengthSpec | list[PositiveInt] | None = None
    # how attention runs (workloads/attention.py): unfused score/softmax/context or a fused kernel;
    # softmax_passes (unfused only): reads of the score matrix; kv_splits: split-KV chunks
    attention: Literal["unfused", "flash2", "flashdecoding", "flashdecoding++"] = "unfused"
    softmax_passes: Literal[1, 2, 3] = 1
    kv_splits: PositiveInt | None = Field(None, le=1 << 10)

    @model_validator(mode="after")
    def _model_or_ops(self) -> "WorkloadSpec":
        if sum(source is not None for source in (self.model, self.ops, self.trace, self.topology)) != 1:
            raise ValueError("give exactly one of 'model' (a preset, config.json path or inline fields), "
                             "'ops', 'trace' (a trace file) or 'topology' (a SCALE-Sim topology file)")
        if self.ops is not None and not self.ops:
            raise ValueError("'ops' must list at least one op")
        if (self.phase == "serving") != (self.serving is not None):
            raise ValueError("phase 'serving' needs a 'serving:' block, and a 'serving:' block needs phase 'serving'")
        if self.phase == "serving" and self.model is None:
            raise ValueError("phase 'serving' needs a 'model'")
        return self


class SystemEntry(Strict):
    name: str = Field(pattern=NAME_PATTERN, max_length=NAME_MAX_CHARS)
    arch: str | dict[str, Any]
    set: dict[str, Any] = Field(default_factory=dict)
    mapping: dict[str, Any] = Field(default_factory=dict)  # mapper options, checked against the kind's type


class ReportSpec(Strict):
    baseline: str | None = None


class SweepSpec(Strict):
    grid: dict[str, list[Any]] = Field(min_length=1)


class TechBlock(Strict):
    """Technology overrides for every system (the node is per system: ``tech_node_nm``)."""

    overrides: dict[str, Any] = Field(default_factory=dict)
    allow_extrapolation: bool = False


class ExperimentSpec(Strict):
    name: str = Field(pattern=NAME_PATTERN, max_length=NAME_MAX_CHARS)
    seed: int = Field(0, ge=0, description="seed of every random draw (request arrivals and lengths, KV lengths)")
    workload: WorkloadSpec
    systems: list[SystemEntry] = Field(min_length=1)
    report: ReportSpec = Field(default_factory=ReportSpec)
    sweep: SweepSpec | None = None
    search: SearchSpec | None = None   # a design search (simulator/search_spec.py)
    tech: TechBlock = Field(default_factory=TechBlock)
    # a design whose DRAM cannot hold the weights + KV cache: an error, or simulated with a warning
    capacity: Literal["fail", "warn"] = "fail"
