"""SRAM energy, area and leakage as a function of capacity, access width and banks.

Modelled: the energy of one read or write access of ``width_bits``, the macro's
area and its leakage power, from a two-term square-root law fitted to cited 45 nm
points (``sram.yaml``: Horowitz's 8 KB / 32 KB / 1 MB reads and Accelergy's CACTI
1 Mbit, 32-bank buffer)::

    read_pj  = width_bits * (k_bank * sqrt(capacity_bytes / banks)
                             + k_global * sqrt(capacity_bytes))
    write_pj = read_pj * write_to_read_ratio
    area_um2 = bits * area_um2_per_bit,   leakage_w = bits * leakage_w_per_bit

How faithful: the fit is within 9 % of every read point (+8.0 % at 1 MB). Writes,
area and leakage rest on the one point that gives them (a single-point
calibration), area and leakage ignore bank overheads, and the width law (linear)
is assumed, not fitted.
Outside the fitted range (capacity, banks, bytes per bank, width) the library
raises :class:`~arch.tech.errors.SramRangeError`, or, if the caller allows
extrapolation, returns the value with :class:`~arch.tech.errors.TechWarning`
records the caller can put in its results.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from arch.tech.errors import InvalidValueError, SramRangeError, TechWarning
from arch.tech.loader import load_data

SRAM_FILE = "sram.yaml"


@dataclass(frozen=True, slots=True)
class SramFit:
    """Coefficients of the SRAM model (at one node) and the range it is valid in."""

    read_coeff_bank: float      # pJ per accessed bit per sqrt(byte of one bank)
    read_coeff_global: float    # pJ per accessed bit per sqrt(byte of the macro)
    write_to_read_ratio: float  # write energy / read energy
    area_um2_per_bit: float
    leakage_w_per_bit: float
    min_capacity_bytes: float
    max_capacity_bytes: float
    min_bank_bytes: float
    max_banks: float
    min_width_bits: float
    max_width_bits: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SramCost:
    """Cost of one SRAM macro: energy per access, area, leakage and any warnings."""

    read_pj: float
    write_pj: float
    area_um2: float
    leakage_w: float
    warnings: tuple[TechWarning, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"read_pj": self.read_pj, "write_pj": self.write_pj,
                "area_um2": self.area_um2, "leakage_w": self.leakage_w,
                "warnings": [w.to_dict() for w in self.warnings]}


# Which SramFit fields are energies, areas or leakages (they scale with the node).
ENERGY_FIELDS = ("read_coeff_bank", "read_coeff_global")
AREA_FIELDS = ("area_um2_per_bit",)
LEAKAGE_FIELDS = ("leakage_w_per_bit",)
FIT_FIELDS = tuple(f.name for f in fields(SramFit))


def fit_read_coefficients(points: Sequence[Mapping[str, Any]]) -> tuple[float, float]:
    """Least-squares (relative error) ``(k_bank, k_global)`` for the read points."""
    rows, targets = [], []
    for p in points:
        width, cap, banks = p["width_bits"], p["capacity_bytes"], p["banks"]
        rows.append([width * math.sqrt(cap / banks) / p["read_pj"],
                     width * math.sqrt(cap) / p["read_pj"]])
        targets.append(1.0)
    solution, *_ = np.linalg.lstsq(np.array(rows), np.array(targets), rcond=None)
    k_bank, k_global = (float(x) for x in solution)
    if k_bank < 0 or k_global < 0:
        raise InvalidValueError(f"SRAM fit gave a negative coefficient: {k_bank}, {k_global}")
    return k_bank, k_global


def reference_fit(data: Mapping[str, Any] | None = None) -> SramFit:
    """The 45 nm fit computed from the points in ``sram.yaml``."""
    data = data if data is not None else load_data(SRAM_FILE)
    points = data["points"]
    k_bank, k_global = fit_read_coefficients(points)
    (full,) = [p for p in points if "write_pj" in p]
    bits = full["capacity_bytes"] * 8
    return SramFit(
        read_coeff_bank=k_bank, read_coeff_global=k_global,
        write_to_read_ratio=full["write_pj"] / full["read_pj"],
        area_um2_per_bit=full["area_um2"] / bits,
        leakage_w_per_bit=full["leakage_w"] / bits,
        **{k: float(v) for k, v in data["range"].items()})


def fit_sources() -> dict[str, str]:
    """Where each fit coefficient comes from (for the generated docs)."""
    names = [p["name"] for p in load_data(SRAM_FILE)["points"]]
    return {
        "read_coeff_bank": "least-squares fit of " + ", ".join(names),
        "read_coeff_global": "least-squares fit of " + ", ".join(names),
        "write_to_read_ratio": "Accelergy shared_glb write / read (CACTI, 45 nm)",
        "area_um2_per_bit": "Accelergy shared_glb area / bits (one-point calibration)",
        "leakage_w_per_bit": "Accelergy shared_glb leakage / bits (one-point calibration)",
    }


def sram_cost(fit: SramFit, capacity_bytes: float, width_bits: int, banks: int,
              allow_extrapolation: bool) -> SramCost:
    """Energy per access, area and leakage of one SRAM macro under ``fit``."""
    _check_geometry(capacity_bytes, width_bits, banks)
    problems = _out_of_range(fit, capacity_bytes, width_bits, banks)
    if problems and not allow_extrapolation:
        raise SramRangeError(
            f"sram(capacity_bytes={capacity_bytes}, width_bits={width_bits}, banks={banks}) "
            f"is outside the fitted SRAM range: {'; '.join(m for _, m in problems)}. "
            "Pass allow_extrapolation=True (tech: allow_extrapolation: true) to use the "
            "fit anyway with a warning in the results.")
    warnings = tuple(TechWarning("sram_extrapolated", key, f"SRAM fit extrapolated: {msg}")
                     for key, msg in problems)
    read = width_bits * (fit.read_coeff_bank * math.sqrt(capacity_bytes / banks)
                         + fit.read_coeff_global * math.sqrt(capacity_bytes))
    bits = capacity_bytes * 8
    return SramCost(read_pj=read, write_pj=read * fit.write_to_read_ratio,
                    area_um2=bits * fit.area_um2_per_bit,
                    leakage_w=bits * fit.leakage_w_per_bit, warnings=warnings)


def _check_geometry(capacity_bytes: object, width_bits: object, banks: object) -> None:
    for name, value, integral in (("capacity_bytes", capacity_bytes, False),
                                  ("width_bits", width_bits, True), ("banks", banks, True)):
        ok_type = isinstance(value, int) if integral else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok_type or not math.isfinite(value) or value <= 0:
            kind = "a positive integer" if integral else "a positive number"
            raise InvalidValueError(f"sram {name} must be {kind}, got {value!r}")


def _out_of_range(fit: SramFit, capacity_bytes: float, width_bits: int,
                  banks: int) -> list[tuple[str, str]]:
    """(key, message) for every bound the geometry breaks."""
    bank_bytes = capacity_bytes / banks
    checks = (
        ("capacity_bytes", capacity_bytes, fit.min_capacity_bytes, fit.max_capacity_bytes),
        ("bank_bytes", bank_bytes, fit.min_bank_bytes, math.inf),
        ("banks", banks, 1, fit.max_banks),
        ("width_bits", width_bits, fit.min_width_bits, fit.max_width_bits),
    )
    return [(key, f"{key} = {value:g} not in [{lo:g}, {hi:g}]")
            for key, value, lo, hi in checks if not lo <= value <= hi]
