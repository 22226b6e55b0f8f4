"""Reading ``results.json`` back into result types, and merging runs into one comparison.

:func:`load_result` inverts :meth:`~simulator.results.ExperimentResult.to_dict`
(the per-op rows also give back each system's one-layer timeline, since every
op row holds its unit, start and end cycles). :func:`merge_results` puts the
systems of several runs side by side, so ``xpusim report`` can compare results
produced at different times or on different machines. A file that is not an
xpusim result is an input error naming the file and the missing key.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from simulator.errors import InputError, Problem, error_text
from simulator.results import ExperimentResult, Failure, OpResult, SystemResult, TimelineEvent
from workloads.input_files import MAX_DATA_FILE_BYTES, InputFileError, read_input_bytes

_OP_FIELDS = ("name", "kind", "unit", "start_cycle", "end_cycle", "compute_cycles", "stall_cycles",
              "memory_cycles", "macs", "flops", "read_bytes", "write_bytes", "energy_pj", "bound")


def load_result(path: str | Path) -> ExperimentResult:
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    if not path.exists():
        raise InputError(str(path), [Problem("", "no such results file (give a results.json or its folder)")])
    try:
        data = json.loads(read_input_bytes(path, MAX_DATA_FILE_BYTES, "results file").decode("utf-8"))
        return result_from_dict(data)
    except InputFileError as err:
        raise InputError(str(path), [Problem("", str(err).removeprefix(f"{path}: "))]) from None
    except json.JSONDecodeError as err:
        raise InputError(str(path), [Problem("", f"not valid JSON: {err}")]) from None
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(str(path), [Problem(error_text(err), "missing or malformed: this is not an "
                                                                    "xpusim results.json")]) from None


def result_from_dict(data: Mapping[str, Any]) -> ExperimentResult:
    entries = data["systems"]
    order = [s["name"] for s in data["experiment"].get("systems", ()) if s.get("name") in entries]
    names = order + sorted(set(entries) - set(order))  # results.json sorts keys; the run's order is kept
    systems = tuple(_system(name, entries[name]) for name in names)
    timelines = {s.name: tuple(TimelineEvent(o.name, o.unit, o.start_cycle, o.end_cycle, o.compute_cycles,
                                             o.memory_cycles) for o in s.ops) for s in systems}
    failures = tuple(Failure(f["system"], f["message"]) for f in data.get("failures", ()))
    return ExperimentResult(data["name"], data["xpusim_version"], data["seed"], data["experiment"], systems,
                            data.get("baseline"), failures, timelines)


def _system(name: str, entry: Mapping[str, Any]) -> SystemResult:
    ops = tuple(OpResult(**{k: op[k] for k in _OP_FIELDS},
                         energy_pj_by_category=dict(op.get("energy_breakdown_pj", {})),
                         utilisation=op.get("utilisation"), actions=dict(op.get("actions", {})),
                         mapping=op.get("mapping", ""), dram_efficiency=op.get("dram_efficiency"),
                         dram_bandwidth_bytes_per_s=op.get("dram_bandwidth_bytes_per_s"))
                for op in entry["ops"])
    return SystemResult(
        name=name, kind=entry["kind"], clock_hz=entry["clock_hz"], cycles=entry["cycles"],
        layer_cycles=entry["layer_cycles"], repeat=entry["repeat"],
        energy_pj_by_component={k: v * 1e12 for k, v in entry["energy_by_component_j"].items()},
        energy_pj_by_category={k: v * 1e12 for k, v in entry["energy_breakdown_j"].items()},
        area_mm2_by_component=dict(entry["area_breakdown_mm2"]), tokens=entry["tokens"], macs=entry["macs"],
        peak_macs_per_cycle=entry["peak_macs_per_cycle"], ops=ops, notes=tuple(entry.get("notes", ())),
        warnings=tuple(entry.get("warnings", ())), devices=entry.get("devices", 1),
        serving=entry.get("serving"), mapping_search=entry.get("mapping_search"),
        memories=entry.get("memories", {}),
    )


def merge_results(results: Sequence[ExperimentResult], name: str, baseline: str | None = None) -> ExperimentResult:
    """One result holding every run's systems.

    When two runs have a system of the same name, every system is labelled
    ``<run>/<system>``; runs of the same name are numbered (``<run>-1``, ``<run>-2``).
    """
    names = [s.name for r in results for s in r.systems]
    clash = len(set(names)) < len(names)
    run_names = [r.name for r in results]
    prefixes = [f"{n}-{i + 1}" if run_names.count(n) > 1 else n for i, n in enumerate(run_names)]
    systems, timelines, failures = [], {}, []
    for prefix, result in zip(prefixes, results):
        for system in result.systems:
            label = f"{prefix}/{system.name}" if clash else system.name
            systems.append(_renamed(system, label))
            timelines[label] = result.timelines.get(system.name, ())
        failures += [Failure(f"{prefix}/{f.system}" if clash else f.system, f.message) for f in result.failures]
    labels = [s.name for s in systems]
    if baseline is not None and baseline not in labels:
        raise InputError("report", [Problem("--baseline", f"no system {baseline!r} in these results "
                                                          f"(systems: {', '.join(labels)})")])
    experiment = {"merged_from": [r.name for r in results], "experiments": [r.experiment for r in results]}
    return ExperimentResult(name, results[0].version, results[0].seed, experiment, tuple(systems), baseline,
                            tuple(failures), timelines)


def _renamed(system: SystemResult, name: str) -> SystemResult:
    return system if system.name == name else replace(system, name=name)
