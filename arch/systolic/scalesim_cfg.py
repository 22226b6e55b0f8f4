"""A SCALE-Sim configuration file (``.cfg``) read as a systolic spec: ``arch: configs/scale.cfg``.

A user's SCALE-Sim configurations run unchanged. The keys are SCALE-Sim 3.0.0's
(``scalesim/scale_config.py``, section ``architecture_presets``; names case-insensitive, as
``configparser`` reads them):

* ``ArrayHeight`` / ``ArrayWidth`` -> ``rows`` / ``cols``;
* ``IfmapSramSzkB``, ``FilterSramSzkB``, ``OfmapSramSzkB`` (KB) -> the three scratchpads in bytes;
* ``Dataflow`` (``os``, ``ws``, ``is``) -> ``dataflow``;
* ``Bandwidth`` (words per cycle; the first value when several are listed) -> the DRAM bandwidth,
  at one byte per word and this reader's clock.

The rest is what the ``scalesim-default`` preset assumes for SCALE-Sim's array: one core,
``int8`` PEs (one-byte words), SCALE-Sim's fold timing, a 1 GHz clock (SCALE-Sim has none:
cycles do not depend on it, seconds do) and one vector lane per column. Not read: the operand
offsets and memory banks (addresses and bank conflicts are not modelled), and
``InterfaceBandwidth``: with ``CALC`` SCALE-Sim sizes the bandwidth so that reads never stall,
while here ``Bandwidth`` is the limit either way (as ``scalesim-default`` takes scale.cfg's).
"""

from __future__ import annotations

import configparser
from typing import Any

from workloads.input_files import MAX_WHOLE_NUMBER

SECTION = "architecture_presets"
CLOCK_HZ = 1.0e9            # assumption, as arch/systolic/presets/scalesim-default.yaml
BYTES_PER_WORD = 1          # SCALE-Sim's words are one byte (int8), as in scalesim-default
KB = 1024
# (SCALE-Sim key, spec field): the scratchpads, given in KB
_SIZES = (("IfmapSramSzkB", "ifmap_sram_bytes"), ("FilterSramSzkB", "filter_sram_bytes"),
          ("OfmapSramSzkB", "ofmap_sram_bytes"))
DATAFLOWS = ("os", "ws", "is")


class ScaleSimConfigError(ValueError):
    """A SCALE-Sim configuration that cannot be read, naming the key."""


def spec_from_scalesim_cfg(text: str) -> dict[str, Any]:
    """The systolic spec mapping of a SCALE-Sim configuration's text (module docstring)."""
    parser = configparser.ConfigParser(interpolation=None)  # a value is taken as written ('%' too)
    try:
        parser.read_string(text)
    except configparser.Error as err:
        raise ScaleSimConfigError(f"not a SCALE-Sim configuration: {str(err).splitlines()[0]}") from None
    if not parser.has_section(SECTION):
        raise ScaleSimConfigError(f"no [{SECTION}] section (a SCALE-Sim configuration names the array there)")
    section = parser[SECTION]
    spec: dict[str, Any] = {"kind": "systolic", "rows": _whole(section, "ArrayHeight"),
                            "cols": _whole(section, "ArrayWidth"), "cores": 1, "clock_hz": CLOCK_HZ,
                            "pe_dtype": "int8", "fold_timing": "scalesim"}
    for key, field in _SIZES:
        spec[field] = _whole(section, key) * KB
    dataflow = section.get("Dataflow", "").strip().lower()
    if dataflow not in DATAFLOWS:
        raise ScaleSimConfigError(f"Dataflow: expected one of {', '.join(DATAFLOWS)}, got {dataflow!r}")
    spec["dataflow"] = dataflow
    words = _whole(section, "Bandwidth", first_of_list=True)
    spec["dram_bandwidth_bytes_per_s"] = words * BYTES_PER_WORD * CLOCK_HZ
    spec["vector_lanes"] = spec["cols"]
    return spec


def _whole(section: configparser.SectionProxy, key: str, first_of_list: bool = False) -> int:
    raw = section.get(key)
    if raw is None:
        raise ScaleSimConfigError(f"{key}: required key is missing from [{SECTION}]")
    value = raw.split(",")[0].strip() if first_of_list else raw.strip()
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_WHOLE_NUMBER:
        raise ScaleSimConfigError(f"{key}: expected a whole number from 1 to 2**53, got {raw.strip()[:40]!r}")
    return int(value)
