"""Compare two runs' results.json: per system cycles, energy, area, and per op start/end cycles and bound.

Usage: ``python scripts/compare_results.py OLD/results.json NEW/results.json``

Prints every difference (a relative tolerance of 1e-9 on floats) and a count;
exits 1 when anything differs. Used to check that a change to the engine,
mappers or contract leaves an experiment's numbers as they were.
"""

from __future__ import annotations

import json
import sys

SYSTEM_KEYS = ("cycles", "energy_j", "area_mm2", "tokens_per_s", "utilisation")
OP_KEYS = ("name", "unit", "start_cycle", "end_cycle", "compute_cycles", "memory_cycles", "read_bytes",
           "write_bytes", "bound", "utilisation", "energy_pj")


def _differs(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is None or b is None or abs(a - b) > 1e-9 * max(1.0, abs(a))
    return a != b


def differences(old: dict, new: dict) -> list[str]:
    found = []
    for name, a in old["systems"].items():
        b = new["systems"].get(name)
        if b is None:
            found.append(f"{name}: missing in the new run")
            continue
        found += [f"{name}: {k} {a[k]} -> {b[k]}" for k in SYSTEM_KEYS if _differs(a[k], b[k])]
        if len(a["ops"]) != len(b["ops"]):
            found.append(f"{name}: {len(a['ops'])} ops -> {len(b['ops'])}")
        for x, y in zip(a["ops"], b["ops"]):
            found += [f"{name}.{x['name']}: {k} {x.get(k)} -> {y.get(k)}" for k in OP_KEYS
                      if _differs(x.get(k), y.get(k))]
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    old, new = (json.load(open(path, encoding="utf-8")) for path in argv)
    found = differences(old, new)
    for line in found:
        print(line)
    print(f"{len(found)} difference(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
