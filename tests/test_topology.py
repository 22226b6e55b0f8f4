"""SCALE-Sim topology files as workloads (workloads/topology.py): lowering, parsing, errors, experiments."""

import json
from pathlib import Path

import pytest

from arch.systolic.kernel import gemm_compute
from simulator import api as xs
from workloads.errors import WorkloadError
from workloads.topology import read_topology

GOLDEN = json.loads((Path(__file__).parent / "data" / "scalesim_conv_golden.json").read_text(encoding="utf-8"))
CONV_HEADER = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"


def _topology(tmp_path, text, name="net.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_golden_provenance():
    assert GOLDEN["scalesim_version"] == "3.0.0" and GOLDEN["command"] and GOLDEN["date"]
    assert len(GOLDEN["cases"]) == 9 and {c["dataflow"] for c in GOLDEN["cases"]} == {"os", "ws", "is"}


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=lambda c: f"{c['dataflow']}-{c['rows']}x{c['cols']}")
def test_lowered_convolutions_take_scalesims_cycles(tmp_path, case):
    """Each layer lowered as SCALE-Sim lowers it, timed by the systolic kernel, equals SCALE-Sim's conv run
    (scripts/make_scalesim_conv_golden.py); a depthwise layer is SCALE-Sim's one row per channel."""
    text = CONV_HEADER + "".join(",".join(map(str, layer)) + ",\n" for layer in GOLDEN["layers"])
    ops = read_topology(_topology(tmp_path, text))
    cycles = []
    for op in ops:
        cost = gemm_compute(op["M"], op["N"], op["K"], case["rows"], case["cols"], case["dataflow"])
        cycles += [cost.compute_cycles] * op["count"]
    assert cycles == case["total_cycles_per_report_row"]


def test_the_lowering_of_a_convolution():
    # AlexNet's first layer as SCALE-Sim's alexnet.csv writes it: 224 x 224 x 3, 96 11 x 11 filters, stride 4
    [op] = read_topology_text(CONV_HEADER + "Conv1     ,224 ,224 ,11 ,11 ,3 ,96 ,4 ,\n")
    assert op == {"name": "Conv1", "M": 55 * 55, "N": 96, "K": 11 * 11 * 3, "count": 1}  # ceil((224-11+4)/4) = 55


def read_topology_text(text):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.csv"
        path.write_text(text)
        return read_topology(path)


def test_gemm_rows_names_labels_comments_and_a_missing_header():
    ops = read_topology_text("Layer,M,N,K,\n\nTransformer,\nQKT,1024,1024,64,\nAttn x'K,8,4,2, # note\n"
                             "QKT,3,2,1,1:1,\n")
    assert [(o["name"], o["M"], o["N"], o["K"]) for o in ops] == [
        ("QKT", 1024, 1024, 64), ("Attn_x_K", 8, 4, 2), ("QKT-2", 3, 2, 1)]
    assert read_topology_text("g,5,6,7\n") == [{"name": "g", "M": 5, "N": 6, "K": 7, "count": 1}]  # no header


@pytest.mark.parametrize("text,message", [
    ("Layer,M,N,K,\ng,5,6\n", "line 2: layer 'g': expected 3 values"),
    ("Layer,M,N,K,\ng,5,x,7\n", "line 2: layer 'g': expected whole numbers from 1 to 2..53, got N 'x'"),
    ("Layer,M,N,K,\ng,5,0,7\n", "got N '0'"),
    ("Layer,M,N,K,\ng,5," + "9" * 30 + ",7\n", "expected whole numbers from 1 to 2..53"),
    ("Layer,M,N,K,\ng,5,6,7,2:4\n", "sparsity '2:4' is not modelled"),
    (CONV_HEADER + "c,5,5,7,3,1,1,1,\n", "the 7 x 3 filter is larger than the 5 x 5 IFMAP"),
    ("Layer\tM\tN\tK\ng\t5\t6\t7\n", "cells are separated by commas"),
    ("Layer,M,N,K,\n", "lists no layers"),
    ("\xff", "not UTF-8"),
])
def test_a_malformed_topology_names_the_line(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(WorkloadError, match=message):
        read_topology(path)


def test_an_experiment_runs_a_topology_as_its_ops(tmp_path):
    _topology(tmp_path, "Layer,M,N,K,\nqkt,64,64,32,\nproj,64,128,64,\n")
    base = {"name": "t", "workload": {"act_bits": 8, "weight_bits": 8}, "systems": [{"name": "npu", "arch": "tpuv4-like"}]}
    from_file = xs.load({**base, "workload": {**base["workload"], "topology": "net.csv"}}, base_dir=tmp_path)
    from_ops = xs.load({**base, "workload": {**base["workload"], "ops": [
        {"name": "qkt", "M": 64, "N": 64, "K": 32}, {"name": "proj", "M": 64, "N": 128, "K": 64}]}})
    assert [op.M for op in from_file.resolved.spec.workload.ops] == [64, 64]
    assert xs.run(from_file).rows() == xs.run(from_ops).rows()


def test_a_topology_problem_is_named_under_workload_topology(tmp_path):
    base = {"name": "t", "systems": [{"name": "npu", "arch": "tpuv4-like"}]}
    with pytest.raises(xs.InputError) as caught:
        xs.load({**base, "workload": {"topology": "missing.csv"}}, base_dir=tmp_path)
    assert [p.path for p in caught.value.problems] == ["workload.topology"] and "not found" in str(caught.value)
    with pytest.raises(xs.InputError, match="exactly one of 'model'"):
        xs.load({**base, "workload": {"topology": "a.csv", "model": "llama2-7b"}}, base_dir=tmp_path)


def test_a_topology_runs_at_scalesims_one_byte_words_unless_the_block_says(tmp_path):
    _topology(tmp_path, "Layer,M,N,K,\ng,64,64,64,\n")
    base = {"name": "t", "systems": [{"name": "npu", "arch": "scalesim-default"}]}
    eight = xs.load({**base, "workload": {"topology": "net.csv"}}, base_dir=tmp_path).resolved.spec.workload
    assert (eight.act_bits, eight.weight_bits) == (8, 8)
    sixteen = xs.load({**base, "workload": {"topology": "net.csv", "act_bits": 16}}, base_dir=tmp_path)
    assert (sixteen.resolved.spec.workload.act_bits, sixteen.resolved.spec.workload.weight_bits) == (16, 8)
