"""Loading and validating experiment files into a resolved :class:`Experiment`.

Pass one validates the file against :mod:`simulator.schema`; pass two resolves
each system's ``arch`` (a preset name, a YAML path or an inline mapping), applies
its ``set:`` overrides by dotted path and validates the result against that
kind's spec, and checks cross-field rules. All problems of both passes are
collected into one :class:`~simulator.errors.InputError`.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from pydantic import ValidationError

from arch import registry
from arch.contract import SpecBase, TechSettings
from arch.systolic.scalesim_cfg import spec_from_scalesim_cfg
from arch.tech.errors import TechError
from simulator.errors import InputError, Problem, from_validation_error, oversized_integers, suggest
from simulator.schema import ExperimentSpec, SystemEntry
from simulator.workload_spec import resolve_workload
from workloads.input_files import MAX_DATA_FILE_BYTES, read_input_bytes
from workloads.yamlio import YamlError, load_yaml, load_yaml_file


@dataclass(frozen=True)
class ResolvedSystem:
    name: str
    spec: SpecBase
    tech: TechSettings = TechSettings()
    mapping: tuple[tuple[str, Any], ...] = ()  # the experiment's mapper options for this system (checked)
    capacity_warn: bool = False  # the experiment's `capacity: warn`: a design that does not fit runs with a warning
    warnings: tuple[str, ...] = ()  # e.g. defaults an inline design inherits that the presets set otherwise

    @property
    def kind(self) -> str:
        return self.spec.kind


@dataclass(frozen=True)
class Experiment:
    spec: ExperimentSpec
    systems: tuple[ResolvedSystem, ...]
    source: str = "<experiment>"

    @property
    def name(self) -> str:
        return self.spec.name

    def resolved(self) -> dict[str, Any]:
        """The experiment with every default filled in and every system spec expanded."""
        data = self.spec.model_dump(mode="json", exclude_none=True)
        for entry, system in zip(data["systems"], self.systems):
            entry["resolved_arch"] = system.spec.model_dump(mode="json")
        return data


def load_experiment(path: str | Path) -> Experiment:
    try:
        data = load_yaml_file(path)
    except YamlError as err:
        raise InputError(str(path), [Problem("", str(err).removeprefix(f"{path}: "))]) from None
    return parse_experiment(data, source=str(path), base_dir=Path(path).parent)


def parse_text(text: str, source: str = "<string>") -> Experiment:
    try:
        data = load_yaml(text, source)
    except YamlError as err:
        raise InputError(source, [Problem("", str(err).removeprefix(f"{source}: "))]) from None
    return parse_experiment(data, source)


def parse_experiment(data: Any, source: str = "<experiment>", base_dir: Path | None = None) -> Experiment:
    if not isinstance(data, Mapping):
        raise InputError(source, [Problem("", f"the file must be a mapping of keys, got {type(data).__name__}")])
    if too_large := oversized_integers(data):
        raise InputError(source, too_large)
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as err:
        problems = from_validation_error(err, ExperimentSpec, rename=_system_names(data))
        if not any(p.path.startswith("workload") for p in problems):  # report the workload's problems too
            problems += _workload_problems(data.get("workload"), data.get("seed", 0), source, base_dir)
        problems += _entry_problems(data.get("systems"), {p.path for p in problems}, base_dir or Path.cwd())
        raise InputError(source, problems) from None
    workload, problems = resolve_workload(spec.workload, spec.seed, base_dir or Path.cwd())
    spec = spec.model_copy(update={"workload": workload})  # trace path made absolute, kv_lens drawn
    tech = _tech_settings(spec, problems)
    systems = tuple(dataclasses.replace(s, tech=tech) for s in _resolve_all(spec, problems, base_dir or Path.cwd()))
    problems += _cross_field(spec)
    if problems:
        if not any(p.path.startswith("workload") for p in problems):  # all problems at once
            problems += _workload_problems(spec.workload, spec.seed, source, base_dir)
        raise InputError(source, problems)
    return Experiment(spec, systems, source)


def _entry_problems(entries: Any, known: set[str], base_dir: Path) -> list[Problem]:
    """The problems of the well-formed ``systems`` entries' specs (a preset's ``set:`` values, say), when the
    file has other problems, so that all are reported at once; none already among ``known``."""
    if not isinstance(entries, list):
        return []
    problems: list[Problem] = []
    for entry in entries:
        try:
            system = SystemEntry.model_validate(entry)
        except ValidationError:
            continue  # its own problems are among the file's
        found: list[Problem] = []
        resolve_system(system.name, system.arch, system.set, found, base_dir)
        problems += [p for p in found if p.path not in known]
    return problems


def _workload_problems(block: Any, seed: Any, source: str, base_dir: Path | None) -> list[Problem]:
    """Problems building the workload block (only looked for when the file has other problems)."""
    from simulator.checks import workload_block_problems  # checks imports this module

    return workload_block_problems(block, seed, source, base_dir or Path.cwd())


def _tech_settings(spec: ExperimentSpec, problems: list[Problem]) -> TechSettings:
    settings = TechSettings.from_mapping(_flat(spec.tech.overrides), spec.tech.allow_extrapolation)
    try:
        settings.library(45)
    except TechError as err:
        problems.append(Problem("tech.overrides", str(err)))
    except TypeError:  # a list or other unhashable value
        problems.append(Problem("tech.overrides", "expected numbers (or nested mappings of numbers) as values"))
        settings = TechSettings.from_mapping({}, spec.tech.allow_extrapolation)
    return settings


def _flat(overrides: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"register": {"read_pj": 0.1}}`` as ``{"register.read_pj": 0.1}`` (the library takes both)."""
    flat: dict[str, Any] = {}
    for key, value in overrides.items():
        if isinstance(value, Mapping):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _system_names(data: Mapping) -> dict[tuple, str]:
    """Error paths say ``systems.npu`` rather than ``systems[0]`` where the name is known."""
    systems = data.get("systems")
    rename = {}
    if isinstance(systems, list):
        for i, entry in enumerate(systems):
            if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
                rename[("systems", i)] = f"systems.{entry['name']}"
    return rename


def _resolve_all(spec: ExperimentSpec, problems: list[Problem], base_dir: Path):
    for entry in spec.systems:
        system = resolve_system(entry.name, entry.arch, entry.set, problems, base_dir)
        if system is not None:
            yield dataclasses.replace(system, mapping=check_mapping(system, entry.mapping, problems),
                                      capacity_warn=spec.capacity == "warn")


def resolve_system(name: str, arch: str | Mapping, overrides: Mapping[str, Any],
                   problems: list[Problem], base_dir: Path) -> ResolvedSystem | None:
    path = f"systems.{name}"
    raw = _arch_mapping(arch, f"{path}.arch", problems, base_dir)
    if raw is None:
        return None
    for key, value in overrides.items():
        set_dotted(raw, key, value)
    kind = raw.get("kind")
    if kind not in registry.kinds():
        problems.append(Problem(f"{path}.arch.kind", registry.unknown_message("accelerator kind", kind, registry.kinds())))
        return None
    spec_type = registry.model_class(kind).spec_type
    try:
        spec = spec_type.model_validate(raw)
        return ResolvedSystem(name, spec, warnings=() if isinstance(arch, str) and not arch.endswith(
            (".yaml", ".yml")) else unset_default_notes(spec))
    except ValidationError as err:
        # an override's key and each shorter prefix of it (``set: {npu.rowz: 1}`` on a spec with no ``npu``)
        rename = {tuple(k.split("."))[:n]: f"{path}.set.{'.'.join(k.split('.')[:n])}"
                  for k in overrides for n in range(1, k.count(".") + 2)}
        problems += from_validation_error(err, spec_type, prefix=f"{path}.arch", rename=rename)
        return None


def unset_default_notes(spec: SpecBase) -> tuple[str, ...]:
    """The spec type's notes on defaults a design that is not a preset left unset (``unset_default_notes``)."""
    notes = getattr(type(spec), "unset_default_notes", {})
    return tuple(note for key, note in notes.items() if key not in spec.model_fields_set)


def check_mapping(system: ResolvedSystem, mapping: Mapping[str, Any], problems: list[Problem]) -> tuple:
    """``mapping`` validated against the system kind's mapper options; problems at ``systems.<name>.mapping``."""
    options_type = registry.model_class(system.kind).mapping_options_type
    try:
        options_type.model_validate(dict(mapping))
    except ValidationError as err:
        problems += from_validation_error(err, options_type, prefix=f"systems.{system.name}.mapping")
        return ()
    return tuple(sorted(mapping.items()))


def _arch_mapping(arch: str | Mapping, path: str, problems: list[Problem], base_dir: Path) -> dict | None:
    if isinstance(arch, Mapping):
        if "kind" not in arch:
            problems.append(Problem(f"{path}.kind", f"an inline arch needs 'kind' (one of: {', '.join(registry.kinds())})"))
            return None
        return copy.deepcopy(dict(arch))
    if arch.endswith((".yaml", ".yml")):
        try:
            return dict(load_yaml_file(_relative(arch, base_dir)))
        except (YamlError, TypeError, ValueError) as err:
            problems.append(Problem(path, str(err)))
            return None
    if arch.endswith(".cfg"):  # a SCALE-Sim configuration (arch/systolic/scalesim_cfg.py)
        file = _relative(arch, base_dir)
        try:
            return spec_from_scalesim_cfg(read_input_bytes(file, MAX_DATA_FILE_BYTES, "SCALE-Sim configuration")
                                          .decode("utf-8"))
        except UnicodeDecodeError:
            problems.append(Problem(path, f"{file}: not UTF-8 text, not a SCALE-Sim configuration"))
        except ValueError as err:  # InputFileError, ScaleSimConfigError
            problems.append(Problem(path, f"{file}: {str(err).removeprefix(f'{file}: ')}"))
        return None
    try:
        return registry.preset_spec(arch)
    except registry.UnknownNameError as err:
        problems.append(Problem(path, str(err)))
        return None


def _relative(path: str, base_dir: Path) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() or candidate.exists() else base_dir / candidate


def set_dotted(data: dict, dotted_key: str, value: Any) -> None:
    """Set ``a.b.c`` in nested mappings, creating levels that are missing.

    A level that holds a preset name (a composite system's ``npu: neupims-npu``)
    is replaced by that preset's mapping first, so ``npu.cores`` overrides one
    field of the named preset.
    """
    *parents, last = dotted_key.split(".")
    node = data
    for part in parents:
        child = node.get(part)
        if isinstance(child, str) and child in registry.presets():
            node[part] = registry.preset_spec(child)
        elif not isinstance(child, dict):
            node[part] = {}
        node = node[part]
    node[last] = value


def _cross_field(spec: ExperimentSpec) -> list[Problem]:
    problems = []
    names = [s.name for s in spec.systems]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(Problem("systems", f"system name {name!r} is used more than once"))
    baseline = spec.report.baseline
    if baseline is not None and baseline not in names:
        problems.append(Problem("report.baseline", f"{baseline!r} is not a system{suggest(baseline, names)} (systems: {', '.join(names)})"))
    return problems
