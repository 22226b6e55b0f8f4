"""A family defined in this folder alone runs through the whole public path (contract v2's promise):
one aggregate unit, a NoC of kind network and an off-chip DRAM; results say what bound each op."""

import pytest

from arch import registry
from simulator.conformance import check_accelerator
from simulator.errors import InputError
from simulator.experiment import parse_text
from simulator.run import run_experiment
from tests.toy_mesh.model import ToyMesh, ToyMeshSpec

EXPERIMENT = """
name: toy
workload:
  ops:
    - {{name: gemv, M: 1, N: 4096, K: 4096}}
    - {{name: wide, M: 64, N: 16384, K: 16384}}
systems:
  - name: mesh
    arch: {{kind: toymesh, side_pes: 64, sram_bytes_per_pe: {sram}}}
"""


@pytest.fixture(autouse=True)
def toy_kind():
    with registry.registered(ToyMesh):
        yield


def bounds(sram_bytes_per_pe: int) -> dict[str, str]:
    result = run_experiment(parse_text(EXPERIMENT.format(sram=sram_bytes_per_pe)))
    assert not result.failures, result.failures
    return {op.name: op.bound for op in result.system("mesh").ops}


def test_a_resident_gemv_is_network_bound_and_a_wide_gemm_compute_bound():
    # gemv: 4096 MAC cycles against (8 KiB + 8 KiB x 64 hops) / 128 B = 4160 NoC cycles;
    # wide: 4.2 M MAC cycles against 1.07 M NoC cycles.
    assert bounds(256 * 1024) == {"gemv": "network", "wide": "compute"}


def test_weights_that_do_not_fit_make_the_gemv_memory_bound():
    # 4096 x 4096 x 2 B = 32 MiB of weights over 4096 PEs of 1 KiB: streamed from DRAM at 64 B/cycle.
    assert bounds(1024) == {"gemv": "memory", "wide": "memory"}


def test_the_toy_family_passes_the_conformance_checker():
    assert "bound_is_slowest_resource" in check_accelerator(ToyMesh(ToyMeshSpec()))


def test_a_misspelt_mapping_option_is_a_path_precise_error():
    text = EXPERIMENT.format(sram=1024) + "    mapping: {split_core: 2}\n"
    with pytest.raises(InputError) as info:
        parse_text(text)
    message = str(info.value)
    assert "systems.mesh.mapping.split_core" in message and "did you mean 'split_cores'" in message


def test_validate_reports_the_misspelt_mapping_option_with_exit_2(tmp_path, capsys):
    from simulator.cli import main
    path = tmp_path / "toy.yaml"
    path.write_text(EXPERIMENT.format(sram=1024) + "    mapping: {split_core: 2}\n")
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    assert "systems.mesh.mapping.split_core: unknown key; did you mean 'split_cores'" in captured.out + captured.err
