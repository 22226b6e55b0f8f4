"""Technology-node scaling factors: which nodes exist and how values scale to them.

Values in the library are given at the 45 nm reference node. A node has three
explicit factors relative to 45 nm (energy per action, area, leakage power), read
from ``nodes.yaml`` where each carries its source. The factors come from Stillmaker
& Baas (2017) for 45 to 7 nm, evaluated at one supply voltage (an iso-voltage
assumption stated in the data), with 28 nm interpolated and 5 nm extrapolated from
TSMC's published N5-versus-N7 gains. Logic and SRAM are scaled by the same
factors; in reality SRAM area shrinks less than logic at the newest nodes, so SRAM
area below 7 nm is optimistic.

:func:`derive_node_factors` recomputes the factors from the published data in
``nodes.yaml``'s ``provenance`` section; a test keeps the two in agreement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from arch.tech.errors import InvalidValueError, UnknownNodeError
from arch.tech.loader import load_data

NODES_FILE = "nodes.yaml"
FACTOR_NAMES = ("energy_factor", "area_factor", "leakage_factor")


@dataclass(frozen=True, slots=True)
class NodeFactors:
    """Scaling factors of one node relative to 45 nm, with their source."""

    node_nm: int
    energy_factor: float
    area_factor: float
    leakage_factor: float
    source: str

    def replace_factors(self, updates: Mapping[str, float]) -> NodeFactors:
        values = {**asdict(self), **updates}
        return NodeFactors(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def supported_nodes_nm() -> tuple[int, ...]:
    """The nodes the library has factors for, largest first."""
    return tuple(sorted(load_data(NODES_FILE)["nodes"], reverse=True))


def node_factors(node_nm: object) -> NodeFactors:
    """The factors of ``node_nm`` (an integer number of nanometres)."""
    nodes = load_data(NODES_FILE)["nodes"]
    if isinstance(node_nm, bool) or not isinstance(node_nm, int):
        raise InvalidValueError(
            f"tech node_nm must be an integer number of nanometres, got {node_nm!r}")
    if node_nm not in nodes:
        known = ", ".join(str(n) for n in supported_nodes_nm())
        nearest = min(nodes, key=lambda n: abs(n - node_nm))
        raise UnknownNodeError(
            f"unknown technology node {node_nm} nm (tech node_nm); supported: {known} "
            f"nm; nearest is {nearest} nm")
    entry = nodes[node_nm]
    return NodeFactors(node_nm, *(float(entry[f]) for f in FACTOR_NAMES), entry["source"])


def stillmaker_energy(coefficients: tuple[float, float, float], vdd_v: float) -> float:
    """Stillmaker & Baas's energy polynomial a V^2 + b V + c (arbitrary units)."""
    a, b, c = coefficients
    return a * vdd_v**2 + b * vdd_v + c


def derive_node_factors(provenance: Mapping[str, Any] | None = None) -> dict[int, dict[str, float]]:
    """Energy, area and leakage factors per node recomputed from the published data."""
    prov = provenance if provenance is not None else load_data(NODES_FILE)["provenance"]
    vdd = prov["vdd_v"]
    energy = {n: stillmaker_energy(c, vdd) for n, c in prov["energy_coefficients"].items()}
    area = {45: 1.0, **prov["area_factor_from_45nm"]}
    for node, (hi, lo) in prov["interpolate"].items():
        t = (hi - node) / (hi - lo)
        energy[node] = energy[hi] + (energy[lo] - energy[hi]) * t
        area[node] = area[hi] + (area[lo] - area[hi]) * t
    factors = {n: {"energy_factor": energy[n] / energy[45], "area_factor": area[n]}
               for n in (45, 28, 16, 7) if n in energy}
    n5 = prov["n5_vs_n7"]
    factors[5] = {
        "energy_factor": factors[7]["energy_factor"] * (1 - n5["power_reduction_iso_speed"]),
        "area_factor": factors[7]["area_factor"] / n5["logic_density_gain"]}
    for f in factors.values():
        f["leakage_factor"] = f["energy_factor"]
    return factors


def check_factor(key: str, value: float) -> None:
    """Scaling factors must be positive."""
    if not value > 0:
        raise InvalidValueError(f"tech override {key!r} = {value!r}: a scaling factor must be > 0")
