"""A paper claim next to xpusim's value, and its verdict.

A :class:`Claim` is one published figure (with the source it is quoted from), the
value xpusim computes for it, the tolerance xpusim is held to and, where the model
is known to miss, the documented reason. Its :attr:`Claim.verdict` is

* ``pass`` when the computed value meets the published one within the tolerance
  (for a bound, when it is on the stated side);
* ``known residual`` when it does not, and a reason is documented (a strict-xfail
  test or a docs section says why);
* ``fail`` otherwise: a miss nobody has explained, which makes ``xpusim reproduce``
  exit non-zero.

A :class:`Check` is one group of claims computed together (one function of a paper
module); ``quick`` marks those that take seconds, which the default test run checks.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Callable


class Verdict(str, Enum):
    PASS = "pass"
    RESIDUAL = "known residual"
    FAIL = "fail"


class Comparison(str, Enum):
    """How the computed value is held to the published one."""

    WITHIN = "within"      # |computed / published - 1| <= tolerance
    AT_LEAST = "at least"  # computed >= published (a published lower bound such as "over 70 %")
    AT_MOST = "at most"    # computed <= published
    ABSOLUTE = "absolute"  # |computed - published| <= tolerance (in the claim's unit)


@dataclass(frozen=True)
class Claim:
    paper: str              # the paper's registry name (``neupims``)
    key: str                # unique within the paper, stable across runs (``ratio_steady``)
    text: str               # what is claimed, in words
    published: float
    source: str             # where the published value is quoted from
    computed: float
    tolerance: float = 0.0  # relative, for Comparison.WITHIN
    unit: str = ""
    comparison: Comparison = Comparison.WITHIN
    residual: str | None = None  # the documented reason the model misses, where it does
    fitted: bool = False    # a model parameter was fitted on this figure (so it is no prediction)
    error: str | None = None  # the computation failed with this message (verdict: fail)

    @property
    def ratio(self) -> float:
        """computed / published (nan where the published value is 0)."""
        return self.computed / self.published if self.published else math.nan

    @property
    def within(self) -> bool:
        if self.error is not None or math.isnan(self.computed):
            return False
        if self.comparison is Comparison.AT_LEAST:
            return self.computed >= self.published
        if self.comparison is Comparison.AT_MOST:
            return self.computed <= self.published
        if self.comparison is Comparison.ABSOLUTE or self.published == 0:
            return abs(self.computed - self.published) <= self.tolerance + 1e-12
        return abs(self.ratio - 1) <= self.tolerance + 1e-12

    @property
    def verdict(self) -> Verdict:
        if self.within:
            return Verdict.PASS
        return Verdict.RESIDUAL if self.residual and self.error is None else Verdict.FAIL

    @property
    def tolerance_text(self) -> str:
        if self.comparison in (Comparison.AT_LEAST, Comparison.AT_MOST):
            return f"{self.comparison.value} published"
        if self.comparison is Comparison.ABSOLUTE or self.published == 0:
            return f"±{self.tolerance:.3g} {self.unit}".rstrip()
        return f"±{self.tolerance * 100:.3g} %"

    def row(self) -> dict:
        """A plain, JSON-ready row for the report (the result type the reports package reads)."""
        out = asdict(self)
        out.update(comparison=self.comparison.value, ratio=self.ratio, verdict=self.verdict.value,
                   tolerance_text=self.tolerance_text)
        return out


def failed_claim(paper: str, key: str, text: str, message: str) -> Claim:
    """The row of a check whose computation raised: a fail that names the error."""
    return Claim(paper, key, text, math.nan, "-", math.nan, error=message)


@dataclass(frozen=True)
class Check:
    """One group of claims of a paper, computed by ``compute`` (no arguments, returns the claims)."""

    name: str
    compute: Callable[[], list[Claim]]
    quick: bool = False     # takes seconds: part of the default test run's subset
    text: str = ""
    # simulates many contended schedules (the engine's event kernel): run after the other checks while a
    # child compiles that kernel (simulator.engine_warmup), so that they find it compiled
    contended: bool = False


@dataclass(frozen=True)
class Paper:
    """A paper (or a calibration data set) whose claims xpusim reproduces."""

    name: str               # the ``xpusim reproduce NAME`` argument
    title: str              # the paper, venue and year
    module: str             # the module whose ``CHECKS`` compute its claims (imported when run)
    source: str             # where its published values are tabulated
