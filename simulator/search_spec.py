"""The experiment file's ``search:`` block: what a design search varies, measures and requires.

::

    search:
      system: npu                          # whose figures are measured (default: the only system)
      parameters:                          # dotted paths, as sweep grids use
        systems.npu.arch.rows: [32, 64, 128, 256]          # a list: choices
        systems.npu.arch.cores: {low: 1, high: 16}         # integers from low to high
        systems.npu.arch.clock_hz: {low: 0.5e9, high: 2.0e9, log: true}   # a float range
      objectives: [tokens_per_s]           # or {metric: area_mm2, goal: minimize}, one or several
      constraints:
        - {metric: area_mm2, max: 800}
        - {metric: average_power_w, max: 300}
      trials: 200
      seed: 0                              # default: the experiment's seed

The schema here checks shapes and ranges; :func:`simulator.search.search_problems` checks what
needs the rest of the file (the system exists, each key is a sweep-style path,
each parameter's extreme values give a valid experiment).
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, Field, PositiveInt, field_validator, model_validator


class Goal(str, Enum):
    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"


class Metric(str, Enum):
    """A system figure a search can optimise or bound (keys of ``results.json``'s systems)."""

    TOKENS_PER_S = "tokens_per_s"
    SECONDS = "seconds"
    CYCLES = "cycles"
    ENERGY_J = "energy_j"
    ENERGY_PER_TOKEN_J = "energy_per_token_j"
    AVERAGE_POWER_W = "average_power_w"
    AREA_MM2 = "area_mm2"
    TOPS_PER_W = "tops_per_w"
    TOPS_PER_MM2 = "tops_per_mm2"
    UTILISATION = "utilisation"


MAXIMISED = {Metric.TOKENS_PER_S, Metric.TOPS_PER_W, Metric.TOPS_PER_MM2, Metric.UTILISATION}


class _Strict(BaseModel):
    model_config = {"extra": "forbid", "frozen": True}


class ParameterSpec(_Strict):
    """Either ``choices`` (a list, as a sweep grid gives) or a range ``low``..``high``.

    A range of integers (``low`` and ``high`` both integers) draws integers; ``step``
    quantises it; ``log`` draws on a log scale.
    """

    choices: list[bool | int | float | str] | None = Field(None, min_length=1)
    low: int | float | None = None
    high: int | float | None = None
    step: int | float | None = Field(None, gt=0)
    log: bool = False

    @field_validator("choices", mode="before")
    @classmethod
    def _numbers_from_yaml(cls, value: Any) -> Any:
        """``7.0e8`` reads as text under YAML 1.1 (PyYAML wants ``7.0e+8``); a choice that reads as a number is one."""
        if not isinstance(value, list):
            return value
        return [_number(v) if isinstance(v, str) else v for v in value]

    @model_validator(mode="after")
    def _choices_or_range(self) -> "ParameterSpec":
        ranged = (self.low, self.high) != (None, None)
        if (self.choices is None) == (not ranged):
            raise ValueError("give either 'choices' (or a plain list) or both 'low' and 'high'")
        if not ranged:
            if self.step is not None or self.log:
                raise ValueError("'step' and 'log' apply to a range, not to choices")
            return self
        if self.low is None or self.high is None or not self.low < self.high:
            raise ValueError(f"a range needs low < high (got low={self.low}, high={self.high})")
        if self.log and (self.low <= 0 or self.step is not None):
            raise ValueError("a log range needs low > 0 and no 'step'")
        return self

    @property
    def integer(self) -> bool:
        return all(isinstance(v, int) and not isinstance(v, bool) for v in (self.low, self.high, self.step or 1))

    def extremes(self) -> list[Any]:
        """The values checked before a search runs: every choice, or both ends of the range."""
        return list(self.choices) if self.choices is not None else [self.low, self.high]


def _number(text: str) -> Any:
    try:
        return float(text) if any(c.isdigit() for c in text) else text
    except ValueError:
        return text


class ObjectiveSpec(_Strict):
    metric: Metric
    goal: Goal | None = None         # default: maximise throughput and efficiency, minimise the rest
    system: str | None = None        # default: the search's system

    @property
    def direction(self) -> Goal:
        if self.goal is not None:
            return self.goal
        return Goal.MAXIMIZE if self.metric in MAXIMISED else Goal.MINIMIZE


class ConstraintSpec(_Strict):
    metric: Metric
    max: float | None = None
    min: float | None = None
    system: str | None = None

    @model_validator(mode="after")
    def _a_bound(self) -> "ConstraintSpec":
        if self.max is None and self.min is None:
            raise ValueError("give 'max' or 'min' (or both)")
        return self


class SearchSpec(_Strict):
    parameters: dict[str, ParameterSpec] = Field(min_length=1)
    objectives: list[ObjectiveSpec] = Field(min_length=1)
    constraints: list[ConstraintSpec] = Field(default_factory=list)
    system: str | None = None
    trials: PositiveInt = 100
    batch_size: PositiveInt = Field(8, description=(
        "trials proposed together and evaluated in parallel; fixed, so the trials do not depend "
        "on how many workers evaluate them"))
    sampler: Literal["auto", "tpe", "nsga2", "random"] = "auto"   # auto: TPE for one objective, NSGA-II for several
    seed: int | None = None
    reject_warnings: bool = Field(True, description=(
        "a trial whose run carries a warning (e.g. weights + KV cache exceed the DRAM) is infeasible"))

    @field_validator("parameters", mode="before")
    @classmethod
    def _lists_are_choices(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: {"choices": v} if isinstance(v, list) else v for k, v in value.items()}
        return value

    @field_validator("objectives", mode="before")
    @classmethod
    def _names_are_objectives(cls, value: Any) -> Any:
        if isinstance(value, (str, dict)):
            value = [value]
        if isinstance(value, list):
            return [{"metric": v} if isinstance(v, str) else v for v in value]
        return value

    @property
    def resolved_sampler(self) -> str:
        if self.sampler != "auto":
            return self.sampler
        return "tpe" if len(self.objectives) == 1 else "nsga2"
