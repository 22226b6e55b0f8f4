"""Reading ``results.json`` back into result types, and merging runs into one comparison.

:func:`load_result` inverts :meth:`~simulator.results.ExperimentResult.to_dict`
(the per-op rows also give back each system's one-layer timeline, since every
op row holds its unit, start and end cycles). :func:`merge_results` puts the
systems of several runs side by side, so ``xpusim report`` can compare results
produced at different times or on different machines. A file that is not an
xpusim result is an input error naming the file and each key that is missing or
malformed (the shape is :mod:`simulator.result_schema`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from pydantic import ValidationError

from simulator.errors import InputError, Problem, from_validation_error
from simulator.result_schema import ResultsEntry, SystemEntry
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
        text = read_input_bytes(path, MAX_DATA_FILE_BYTES, "results file").decode("utf-8")
    except InputFileError as err:
        raise InputError(str(path), [Problem("", str(err).removeprefix(f"{path}: "))]) from None
    except UnicodeDecodeError:
        raise InputError(str(path), [Problem("", f"not UTF-8 text: {NOT_RESULTS}")]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(str(path), [Problem("", f"not valid JSON: {err}")]) from None
    except RecursionError:
        raise InputError(str(path), [Problem("", f"nested too deeply: {NOT_RESULTS}")]) from None
    try:
        return result_from_dict(data)
    except MalformedResult as err:
        raise InputError(str(path), [Problem(p.path, f"{p.message}: {NOT_RESULTS}") for p in err.problems]) from None


NOT_RESULTS = "this is not an xpusim results.json"


class MalformedResult(ValueError):
    """A results mapping with keys missing or values of the wrong type: one problem each (dotted key)."""

    def __init__(self, key: str = "", message: str = "", problems: Sequence[Problem] = ()):
        self.problems = tuple(problems) or (Problem(key, message),)
        super().__init__("; ".join(str(p) for p in self.problems))


def result_from_dict(data: Mapping[str, Any]) -> ExperimentResult:
    """The result a ``results.json`` mapping holds; :class:`MalformedResult` naming each key that is missing or
    of the wrong type (:mod:`simulator.result_schema`)."""
    if not isinstance(data, Mapping):
        got = "an array" if isinstance(data, list) else "null" if data is None else f"a {type(data).__name__}"
        raise MalformedResult("", f"expected a JSON object, got {got}")
    try:
        top = ResultsEntry.model_validate(data)
    except ValidationError as err:
        raise MalformedResult(problems=from_validation_error(err, ResultsEntry)) from None
    entries, listed = top.systems, top.experiment.get("systems", ())
    order = [s["name"] for s in listed if isinstance(s, Mapping) and s.get("name") in entries] \
        if isinstance(listed, (list, tuple)) else []
    names = order + sorted(set(entries) - set(order))  # results.json sorts keys; the run's order is kept
    systems = tuple(_system(name, entries[name]) for name in names)
    timelines = {s.name: tuple(TimelineEvent(o.name, o.unit, o.start_cycle, o.end_cycle, o.compute_cycles,
                                             o.memory_cycles) for o in s.ops) for s in systems}
    failures = tuple(Failure(f.system, f.message) for f in top.failures)
    return ExperimentResult(top.name, top.xpusim_version, top.seed, data["experiment"], systems, top.baseline,
                            failures, timelines)


def _system(name: str, entry: Mapping[str, Any]) -> SystemResult:
    try:
        checked = SystemEntry.model_validate(entry)
    except ValidationError as err:
        raise MalformedResult(problems=from_validation_error(err, SystemEntry, f"systems.{name}")) from None
    ops = tuple(OpResult(**{k: getattr(op, k) for k in _OP_FIELDS},
                         energy_pj_by_category=dict(op.energy_breakdown_pj), utilisation=op.utilisation,
                         actions=dict(op.actions), mapping=op.mapping, dram_efficiency=op.dram_efficiency,
                         dram_bandwidth_bytes_per_s=op.dram_bandwidth_bytes_per_s)
                for op in checked.ops)
    return SystemResult(
        name=name, kind=checked.kind, clock_hz=checked.clock_hz, cycles=checked.cycles,
        layer_cycles=checked.layer_cycles, repeat=checked.repeat,
        energy_pj_by_component={k: v * 1e12 for k, v in checked.energy_by_component_j.items()},
        energy_pj_by_category={k: v * 1e12 for k, v in checked.energy_breakdown_j.items()},
        area_mm2_by_component=dict(checked.area_breakdown_mm2), tokens=checked.tokens, macs=checked.macs,
        peak_macs_per_cycle=checked.peak_macs_per_cycle, ops=ops, notes=tuple(checked.notes),
        warnings=tuple(checked.warnings), devices=checked.devices, serving=checked.serving,
        mapping_search=checked.mapping_search, memories=checked.memories,
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
