"""Request streams for serving: Poisson arrivals with length distributions, or a CSV.

A :class:`RequestStream` holds, per request, its arrival time in seconds and its
prompt and output lengths in tokens, as numpy arrays sorted by arrival (ties keep
file order). It comes from :func:`poisson_requests` (seeded) or
:func:`read_request_csv`.

Arrivals are a Poisson process: inter-arrival gaps are standard exponential draws
divided by ``rate_per_s``. Arrivals, prompt lengths and output lengths each draw
from their own child of ``numpy.random.SeedSequence(seed)``, so for one seed the
same requests arrive in the same order at every rate, only compressed in time, and
a longer trace starts with the shorter one's requests.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workloads.errors import WorkloadError
from workloads.input_files import MAX_DATA_FILE_BYTES

LENGTH_KINDS = ("fixed", "uniform", "lognormal")


# An unbounded lognormal length is drawn at most e**40 (~2.4e17) tokens: finite in int64, and
# far past any KV capacity, so such a request is refused by the capacity check, not overflowed.
LOG_MAX_TOKENS = 40.0


@dataclass(frozen=True)
class LengthDist:
    """A distribution of token counts; samples are whole numbers >= 1.

    ``fixed``: always ``tokens``. ``uniform``: integers in ``[low, high]``.
    ``lognormal``: ``round(exp(N(mu, sigma)))``, clipped to ``[low, high]``
    (``high = 0``: no upper clip); the median is ``exp(mu)``.
    """

    kind: str = "fixed"
    tokens: int = 0
    low: int = 1
    high: int = 0
    mu: float = 0.0
    sigma: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in LENGTH_KINDS:
            raise WorkloadError(f"length kind must be one of {', '.join(LENGTH_KINDS)}, got {self.kind!r}")
        if self.kind == "fixed" and self.tokens < 1:
            raise WorkloadError(f"fixed length must be >= 1 token, got {self.tokens}")
        if self.low < 1:
            raise WorkloadError(f"length low must be >= 1 token, got {self.low}")
        if self.kind == "uniform" and self.high < self.low:
            raise WorkloadError(f"uniform length needs low <= high, got [{self.low}, {self.high}]")
        if self.kind == "lognormal" and (self.sigma < 0 or not math.isfinite(self.mu)):
            raise WorkloadError(f"lognormal length needs finite mu and sigma >= 0, "
                             f"got mu={self.mu}, sigma={self.sigma}")

    @classmethod
    def fixed(cls, tokens: int) -> "LengthDist":
        return cls("fixed", tokens=tokens)

    @classmethod
    def uniform(cls, low: int, high: int) -> "LengthDist":
        return cls("uniform", low=low, high=high)

    @classmethod
    def lognormal(cls, median_tokens: float, sigma: float, low: int = 1, high: int = 0) -> "LengthDist":
        return cls("lognormal", low=low, high=high, mu=math.log(median_tokens), sigma=sigma)

    def sample(self, rng: np.random.Generator, count: int) -> np.ndarray:
        if self.kind == "fixed":
            return np.full(count, self.tokens, dtype=np.int64)
        if self.kind == "uniform":
            return rng.integers(self.low, self.high, size=count, endpoint=True, dtype=np.int64)
        top = math.log(self.high) if self.high else LOG_MAX_TOKENS  # clipped in log space: exp never overflows
        values = np.rint(np.exp(np.minimum(rng.normal(self.mu, self.sigma, size=count), top)))
        return np.clip(values, self.low, self.high or np.inf).astype(np.int64)


@dataclass(frozen=True, eq=False)
class RequestStream:
    """Requests sorted by arrival: ``arrival_s`` (float), token counts (int64)."""

    arrival_s: np.ndarray
    prompt_tokens: np.ndarray
    output_tokens: np.ndarray

    def __post_init__(self) -> None:
        sizes = {len(self.arrival_s), len(self.prompt_tokens), len(self.output_tokens)}
        if len(sizes) != 1:
            raise WorkloadError("arrival_s, prompt_tokens and output_tokens must have equal lengths")
        if len(self.arrival_s) and (np.any(self.prompt_tokens < 1) or np.any(self.output_tokens < 1)):
            raise WorkloadError("every request needs at least 1 prompt token and 1 output token")
        if np.any(np.diff(self.arrival_s) < 0):
            raise WorkloadError("requests must be sorted by arrival_s")

    def __len__(self) -> int:
        return len(self.arrival_s)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RequestStream) and all(
            np.array_equal(getattr(self, f), getattr(other, f))
            for f in ("arrival_s", "prompt_tokens", "output_tokens"))

    @classmethod
    def from_rows(cls, rows: list[tuple[float, int, int]]) -> "RequestStream":
        """From ``(arrival_s, prompt_tokens, output_tokens)`` rows in any order."""
        table = np.array(rows, dtype=np.float64).reshape(-1, 3)
        order = np.argsort(table[:, 0], kind="stable")
        table = table[order]
        return cls(table[:, 0].copy(), table[:, 1].astype(np.int64), table[:, 2].astype(np.int64))


def length_dist(kind: str = "fixed", tokens: int | None = None, low: int = 1, high: int = 0,
                median_tokens: float | None = None, sigma: float = 0.0) -> LengthDist:
    """The one converter from a length spec's fields (``fixed`` tokens, ``uniform`` [low, high], ``lognormal``
    around median_tokens with sigma) to a :class:`LengthDist`; a missing parameter is an error naming it."""
    if kind == "fixed":
        if tokens is None:
            raise WorkloadError("kind 'fixed' needs 'tokens'")
        return LengthDist.fixed(tokens)
    if kind == "uniform":
        return LengthDist.uniform(low, high)
    if kind == "lognormal":
        if median_tokens is None:
            raise WorkloadError("kind 'lognormal' needs 'median_tokens' (and 'sigma')")
        return LengthDist.lognormal(median_tokens, sigma, low, high)
    raise WorkloadError(f"length kind must be one of {', '.join(LENGTH_KINDS)}, got {kind!r}")


def poisson_requests(rate_per_s: float, prompt: LengthDist, output: LengthDist, seed: int = 0,
                     *, count: int | None = None, duration_s: float | None = None) -> RequestStream:
    """``count`` requests, or all arriving within ``duration_s``, at ``rate_per_s`` on average."""
    if not rate_per_s > 0:
        raise WorkloadError(f"rate_per_s must be > 0, got {rate_per_s!r}")
    if (count is None) == (duration_s is None):
        raise WorkloadError("give exactly one of count or duration_s")
    arrivals_rng, prompt_rng, output_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    if count is not None:
        if count < 0:
            raise WorkloadError(f"count must be >= 0, got {count}")
        arrival_s = np.cumsum(arrivals_rng.standard_exponential(count)) / rate_per_s
    else:
        arrival_s = _arrivals_within(arrivals_rng, rate_per_s, duration_s)
    n = len(arrival_s)
    return RequestStream(arrival_s, prompt.sample(prompt_rng, n), output.sample(output_rng, n))


def _arrivals_within(rng: np.random.Generator, rate_per_s: float, duration_s: float) -> np.ndarray:
    if not duration_s >= 0:
        raise WorkloadError(f"duration_s must be >= 0, got {duration_s!r}")
    expected = rate_per_s * duration_s
    gaps = rng.standard_exponential(int(expected + 10 * math.sqrt(expected) + 16))
    arrival_s = np.cumsum(gaps) / rate_per_s
    while arrival_s[-1] <= duration_s:  # rare: draw more from the same stream
        more = np.cumsum(rng.standard_exponential(len(gaps))) / rate_per_s + arrival_s[-1]
        arrival_s = np.concatenate([arrival_s, more])
    return arrival_s[arrival_s <= duration_s]


# -- CSV --------------------------------------------------------------------------------
CSV_COLUMNS = ("arrival_s", "prompt_tokens", "output_tokens")
# Header names read as each column: xpusim's own, and those of Vidur's trace-replay CSVs
# (microsoft/vidur, vidur/request_generator/trace_replay_request_generator.py and
# data/processed_traces/*.csv: arrived_at in seconds, num_prefill_tokens, num_decode_tokens).
CSV_HEADER_NAMES = {"arrival_s": ("arrival_s", "arrived_at"),
                    "prompt_tokens": ("prompt_tokens", "num_prefill_tokens"),
                    "output_tokens": ("output_tokens", "num_decode_tokens")}


def read_request_csv(path: str | Path) -> RequestStream:
    """A CSV of ``arrival_s, prompt_tokens, output_tokens`` rows.

    Without a header the three columns come in that order. With one (a first row
    naming a column), the columns are found by name, in any order, other columns
    ignored: ``arrival_s`` or ``arrived_at``, ``prompt_tokens`` or ``num_prefill_tokens``,
    ``output_tokens`` or ``num_decode_tokens`` (Vidur's trace files read as they are).
    Blank lines and lines starting with ``#`` are skipped. Every malformed row is
    reported, by line number, in one error.
    """
    path = Path(path)
    if path.is_dir():
        raise WorkloadError(f"{path}: is a folder, not a request trace (a CSV of arrival_s, prompt_tokens, "
                            "output_tokens)")
    if not path.is_file():
        raise FileNotFoundError(f"request trace not found (or not a regular file): {path}")
    if path.stat().st_size > MAX_DATA_FILE_BYTES:
        raise WorkloadError(f"{path}: {path.stat().st_size} bytes is over the {MAX_DATA_FILE_BYTES}-byte limit for a "
                            "request trace")
    rows, errors, columns = [], [], None
    with path.open(newline="", encoding="utf-8") as handle:
        for line, fields in enumerate(csv.reader(handle), start=1):
            cells = [cell.strip() for cell in fields]
            if not any(cells) or cells[0].startswith("#"):
                continue
            if columns is None and not rows and not errors and _is_header(cells):
                columns, missing = _header_columns(cells)
                if missing:
                    raise WorkloadError(f"{path}: line {line}: the header has no column for {', '.join(missing)} "
                                        f"(names read: {_accepted_names()})")
                continue
            row, error = _parse_row([cells[i] if i < len(cells) else "" for i in columns] if columns else cells)
            if error:
                errors.append(f"line {line}: {error}")
            else:
                rows.append(row)
    if errors:
        raise WorkloadError(f"{path}: malformed request trace:\n  " + "\n  ".join(errors[:20]))
    return RequestStream.from_rows(rows)


def _is_header(cells: list[str]) -> bool:
    """A first row naming one of the columns (else it is data, and checked as data)."""
    names = {name for names in CSV_HEADER_NAMES.values() for name in names}
    return any(cell.lower() in names for cell in cells)


def _header_columns(cells: list[str]) -> tuple[list[int], list[str]]:
    """The index of each of ``CSV_COLUMNS`` in a header row, and the columns it lacks."""
    lowered = [cell.lower() for cell in cells]
    found, missing = [], []
    for column, names in CSV_HEADER_NAMES.items():
        index = next((lowered.index(name) for name in names if name in lowered), None)
        if index is None:
            missing.append(column)
        found.append(index)
    return found, missing


def _accepted_names() -> str:
    return "; ".join(" or ".join(names) for names in CSV_HEADER_NAMES.values())


def _parse_row(cells: list[str]) -> tuple[tuple[float, int, int] | None, str]:
    if len(cells) != 3:
        return None, f"expected 3 values ({', '.join(CSV_COLUMNS)}), got {len(cells)}"
    try:
        arrival = float(cells[0])
    except ValueError:
        return None, f"arrival_s must be a number, got {cells[0]!r}"
    if not (math.isfinite(arrival) and arrival >= 0):
        return None, f"arrival_s must be a finite number >= 0, got {cells[0]!r}"
    tokens = []
    for name, cell in zip(CSV_COLUMNS[1:], cells[1:]):
        if not cell.lstrip("+").isdigit() or int(cell) < 1:
            return None, f"{name} must be an integer >= 1, got {cell!r}"
        tokens.append(int(cell))
    return (arrival, tokens[0], tokens[1]), ""
