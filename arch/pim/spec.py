"""Specs of a PIM memory (HBM with compute units per bank) and of an NPU+PIM system.

:class:`PimMemorySpec` names a DRAM device (a preset of :mod:`arch.dram` or an
inline DRAM spec mapping, plus optional ``dram_changes`` merged into it) and the
compute placed next to its banks: ``multipliers_per_bank`` lanes that each take
one element per all-bank MAC command, one compute unit per ``banks_per_unit``
banks clocked at ``unit_clock_hz``, the number of row buffers per bank and the
issue spacing of all-bank MAC commands. Every timing parameter is read from the
DRAM spec object; none is re-typed here. A memory whose PIM command stream
breaks a rule of its DRAM standard's table (a MAC spacing below tCCD_L, say) is
refused, naming the rule (:mod:`arch.pim.command_timing`).

:class:`NeupimsSpec` composes a systolic NPU (a preset name or an inline
systolic spec) with a PIM memory and says whether decode batches are split into
interleaved sub-batches. Bad values raise errors that name the key, the value
and what was expected.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PositiveFloat, PositiveInt, field_validator, model_validator

from arch.contract import SpecBase
from arch.dram import DramSpec, load_preset, spec_from_mapping
from arch.pim.command_timing import check_stream, device_vector, frozen_array
from arch.tech.errors import hint_clause
from arch.systolic.spec import SystolicSpec
from workloads.yamlio import load_yaml_file

MEMORY_DIR = Path(__file__).with_name("memories")


def memory_presets() -> list[str]:
    """Names of the bundled PIM memory presets (``arch/pim/memories/*.yaml``)."""
    return sorted(p.stem for p in MEMORY_DIR.glob("*.yaml"))


def _dram_error(where: str, err: Exception) -> ValueError:
    return ValueError(f"{where}: {str(err).strip()}")


class PimMemorySpec(SpecBase):
    """HBM with compute next to its banks (see the module docstring)."""

    dram: str | dict[str, Any] = Field(description="arch.dram preset name or inline DRAM spec mapping")
    dram_changes: dict[str, Any] = Field(default_factory=dict,
                                         description="sections merged into the DRAM spec (DramSpec.with_changes)")
    multipliers_per_bank: PositiveInt = Field(16, description="multiply lanes per bank fed by one MAC command")
    banks_per_unit: PositiveInt = Field(1, description="banks sharing one compute unit")
    unit_clock_hz: PositiveFloat | None = Field(None, description="compute unit clock; None = DRAM clock")
    row_buffers: Literal[1, 2] = Field(2, description="1 = single (blocked mode), 2 = dual row buffers")
    mac_spacing_cycles: PositiveInt | None = Field(
        None, description="DRAM cycles between all-bank MAC commands; None = tCCD_L of the DRAM timing")
    all_bank_activation: Literal["ganged", "faw_limited"] = Field(
        "ganged", description="ganged: one all-bank ACT command; faw_limited: per-bank ACTs under tRRD/tFAW")
    element_bits: PositiveInt = Field(16, description="bits of one multiplier operand")
    layout: Literal["dense", "artefact"] = Field(
        "dense", description="KV layout of decode attention: dense = a channel's share packed into rows; "
                             "artefact = NeuPIMs' per-request K tiles and per-head V rows (arch/pim/layout.py)")

    @field_validator("dram", mode="before")
    @classmethod
    def _dram_resolves(cls, value: Any) -> Any:
        try:
            _resolve_dram(value, {})
        except (ValueError, TypeError) as err:
            raise _dram_error(f"dram = {value!r}" if isinstance(value, str) else "dram", err) from None
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> "PimMemorySpec":
        try:
            dram = self.dram_spec
        except (ValueError, TypeError) as err:
            raise _dram_error("dram_changes", err) from None
        banks = dram.organisation.banks_per_channel
        if banks % self.banks_per_unit:
            raise ValueError(f"banks_per_unit = {self.banks_per_unit}: must divide the {banks} banks per channel "
                             f"of DRAM {dram.name!r}")
        missing = sorted({"tRCDRD", "tRAS", "tRP", "tRTP", "tCCD_L", "tFAW", "tRRD_S", "tRFC", "tREFI",
                          "BL", "CL"} - set(dram.timing_cycles))
        if missing:
            raise ValueError(f"dram.timing_cycles: missing {missing} (needed by the PIM command timing)")
        check_stream(self)  # the PIM commands against the DRAM standard's timing table
        return self

    def __hash__(self) -> int:  # the dict-valued fields are not hashable themselves
        return hash(self.model_dump_json())

    @cached_property
    def dram_spec(self) -> DramSpec:
        """The validated DRAM device (preset or inline, with ``dram_changes`` applied)."""
        return _resolve_dram(self.dram, self.dram_changes)

    @cached_property
    def device_vectors(self) -> dict[bool, tuple[int, ...]]:
        """The PIM kernels' device vector without and with the host sharing the bus, as tuples
        (:func:`arch.pim.command_timing.device_vector`; ``kernel_device`` gives the array), built once."""
        return {dual: tuple(int(x) for x in device_vector(self, dual)) for dual in (False, True)}

    def kernel_device(self, dual_bus: bool):
        """The device vector as the read-only int64 array the kernels take."""
        return frozen_array(self.device_vectors[dual_bus])

    @property
    def element_bytes(self) -> float:
        return self.element_bits / 8

    @property
    def banks_per_channel(self) -> int:
        return self.dram_spec.organisation.banks_per_channel

    @property
    def channels(self) -> int:
        return self.dram_spec.organisation.scheduled_channels

    @property
    def units_per_channel(self) -> int:
        return self.banks_per_channel // self.banks_per_unit

    def mac_spacing(self) -> int:
        """DRAM cycles between all-bank MAC commands (derived, see ``docs/pim.md``).

        The larger of the column spacing (``mac_spacing_cycles`` or tCCD_L) and
        the time a shared unit needs: ``banks_per_unit`` MACs at ``unit_clock_hz``,
        expressed in DRAM cycles and rounded up.
        """
        timing, clock = self.dram_spec.timing_cycles, self.dram_spec.organisation.clock_hz
        column = self.mac_spacing_cycles or timing["tCCD_L"]
        unit_clock = self.unit_clock_hz or clock
        unit = -(-self.banks_per_unit * clock // unit_clock)
        return int(max(column, unit))


def _resolve_dram(value: Any, changes: dict[str, Any]) -> DramSpec:
    if isinstance(value, str):
        spec = load_preset(value)
    elif isinstance(value, dict):
        spec = spec_from_mapping(value)
    else:
        raise TypeError(f"expected an arch.dram preset name or a DRAM spec mapping, got {type(value).__name__}")
    return spec.with_changes(**changes) if changes else spec


def load_memory(name: str) -> dict[str, Any]:
    """The raw mapping of a bundled PIM memory preset."""
    if name not in memory_presets():
        raise ValueError(f"unknown PIM memory preset {name!r}{hint_clause(name, memory_presets())} "
                         f"(known: {', '.join(memory_presets())})")
    return load_yaml_file(MEMORY_DIR / f"{name}.yaml")


class NeupimsSpec(SpecBase):
    """An NPU plus a PIM memory, and how decode batches are interleaved."""

    kind: Literal["neupims"] = "neupims"
    npu: SystolicSpec = Field(description="systolic preset name or inline systolic spec")
    pim: PimMemorySpec = Field(description="PIM memory preset name or inline PIM memory spec")
    sub_batch_interleaving: bool | Literal["auto", "faster"] = Field(
        "auto", description="split decode batches into interleaved sub-batches; auto = from "
                            "interleave_min_batch requests; faster = whichever simulates faster")
    # casys-kaist/NeuPIMs README: sub-batch interleaving is enabled for batches of 256 requests and more
    # (as reported with the artefact's measurements in the fidelity issue).
    interleave_min_batch: PositiveInt = Field(256, description="smallest decode batch auto interleaves")
    sub_batches: PositiveInt = Field(2, description="sub-batches when interleaving (NeuPIMs: 2)")
    unroll_layers_max: PositiveInt = Field(
        2, description="most decoder layers simulated back to back when interleaving (steady state)")
    channel_placement: Literal["even", "round_robin", "clb"] = Field(
        "even", description="how decode requests are placed on PIM channels: even = the op's instances dealt "
                            "evenly; round_robin = request i on channel i mod channels; clb = NeuPIMs' "
                            "least-loaded channel by estimated attention latency (mappers/pim_channels.py)")

    @field_validator("npu", mode="before")
    @classmethod
    def _npu_preset(cls, value: Any) -> Any:
        if isinstance(value, str):
            from arch import registry  # the registry imports model modules lazily; no import cycle at use
            try:
                raw = registry.preset_spec(value)
            except registry.UnknownNameError as err:
                raise ValueError(str(err)) from None
            if raw.get("kind") != "systolic":
                raise ValueError(f"npu = {value!r}: expected a systolic preset, got kind {raw.get('kind')!r}")
            return raw
        return value

    @field_validator("pim", mode="before")
    @classmethod
    def _pim_preset(cls, value: Any) -> Any:
        return load_memory(value) if isinstance(value, str) else value

    @property
    def clock_hz(self) -> float:
        return self.npu.clock_hz

    @property
    def tech_node_nm(self) -> int:
        return self.npu.tech_node_nm

    def interleaves(self, batch: int) -> bool:
        """Whether a decode step of ``batch`` requests is split into sub-batches.

        ``auto`` follows the NeuPIMs README, which enables sub-batch mode for
        batches of ``interleave_min_batch`` (256) and more (its scheduler then
        halves every channel's request queue, ``casys-kaist/NeuPIMs:
        src/scheduler/Scheduler.cc``, ``group_sub_batches``); at small batches the
        second weight read per sub-batch costs more than hiding the PIM attention
        saves. ``faster`` may interleave whenever the batch can be split, and the
        step is simulated both ways to keep the faster
        (``sub_batch_choice: faster``, see ``NeupimsSystem.default_mapping``).
        """
        if self.sub_batch_interleaving == "auto":
            return batch >= max(self.sub_batches, self.interleave_min_batch)
        if self.sub_batch_interleaving == "faster":
            return batch >= self.sub_batches
        return bool(self.sub_batch_interleaving) and batch >= self.sub_batches
