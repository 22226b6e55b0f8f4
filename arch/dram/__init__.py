"""DRAM/HBM timing: specs, timing constraints as data, an FR-FCFS scheduler, a legality checker.

A leaf sub-package other models build on (a systolic NPU's memory, PIM).

* :class:`DramSpec` (:mod:`.spec`): organisation, timing parameters in cycles,
  address mapping, controller; :func:`load_preset` reads ``presets/*.yaml``.
* :mod:`.constraints` and :mod:`.standards`: each standard's timing as a table of
  (level, preceding command, following command, latency, window) rules.
* :mod:`.addressing`: byte address -> (channel, rank, bank group, bank, row,
  column), and request streams (sequential, random).
* :func:`schedule` (:mod:`.scheduler`): per-channel FR-FCFS with open-page row
  buffers and refresh, as one Numba kernel (:mod:`.kernel`) with a pure-Python
  twin (:mod:`.twin`).
* :func:`check_command_log` (:mod:`.checker`): replays a command log against the
  table and returns every violation.
"""

from arch.dram.addressing import (
    RequestBatch,
    decode_addresses,
    encode_addresses,
    random_stream,
    requests_from_addresses,
    sequential_stream,
)
from arch.dram.checker import Violation, check_command_log
from arch.dram.commands import COMMAND_SCOPE, Command, Level
from arch.dram.constraints import ConstraintRule, TimingConstraint, TimingTableError, build_constraint_table
from arch.dram.loading import list_presets, load_preset, spec_from_mapping, spec_from_yaml
from arch.dram.scheduler import CommandLog, Engine, ScheduleResult, schedule
from arch.dram.spec import AddressField, ControllerSpec, DramOrganisation, DramSpec, RefreshPolicy
from arch.dram.standards import CONSTRAINT_RULES, Standard

__all__ = [
    "AddressField", "COMMAND_SCOPE", "CONSTRAINT_RULES", "Command", "CommandLog", "ConstraintRule",
    "ControllerSpec", "DramOrganisation", "DramSpec", "Engine", "Level", "RefreshPolicy", "RequestBatch",
    "ScheduleResult", "Standard", "TimingConstraint", "TimingTableError", "Violation",
    "build_constraint_table", "check_command_log", "decode_addresses", "encode_addresses",
    "list_presets", "load_preset", "random_stream", "requests_from_addresses", "schedule",
    "sequential_stream", "spec_from_mapping", "spec_from_yaml",
]
