"""Trace files: export -> import round trips, and every bad field is named."""

import json

import pytest

from workloads.graph import Workload
from workloads.layers import build_decoder_layer, build_gemm_list
from workloads.models import load_model
from workloads.tracefile import (TraceFileError, export_workload, import_workload,
                                 workload_to_dict)


@pytest.mark.parametrize("model, kwargs", [
    ("llama2-7b", {"weight_bits": 4}),
    ("mixtral-8x7b", {"tp": 2}),
    ("bitnet-b1.58-3b", {"weight_bits": 1.58, "act_bits": 8, "weight_group_size": 0}),
    ("opt-6.7b", {"weight_group_size": None}),
])
def test_round_trip_gives_an_equal_workload(tmp_path, model, kwargs):
    original = build_decoder_layer(load_model(model), "decode", batch=8, seq_len=512, **kwargs)
    path = export_workload(original, tmp_path / "trace.json")
    loaded = import_workload(path)
    assert loaded == original
    assert loaded.total_flops == original.total_flops
    assert loaded.total_min_bytes == original.total_min_bytes
    assert sorted(loaded.graph.edges) == sorted(original.graph.edges)


def test_file_header_and_shape(tmp_path):
    w = build_gemm_list([{"name": "a", "kind": "gemm", "M": 4, "N": 8, "K": 16}])
    data = json.loads(export_workload(w, tmp_path / "t.json").read_text())
    assert (data["format"], data["version"], data["repeat"]) == ("xpusim-trace", 1, 1)
    assert data["ops"][0]["m"] == 4 and data["edges"] == []


def test_yaml_trace_with_defaults(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("format: xpusim-trace\nversion: 1\nrepeat: 2\nops:\n"
                    "  - {name: a, kind: gemm, m: 2, n: 3, k: 4}\n"
                    "  - {name: b, kind: softmax, m: 2, n: 3}\nedges: [[a, b]]\n")
    w = import_workload(path)
    assert (w.name, w.repeat, w.edges) == ("t", 2, (("a", "b"),))
    assert w.op("a").macs == 24


def write(tmp_path, data):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data))
    return path


def minimal(**changes):
    return {"format": "xpusim-trace", "version": 1,
            "ops": [{"name": "a", "kind": "gemm", "m": 2, "n": 3, "k": 4},
                    {"name": "b", "kind": "add", "m": 2, "n": 3}],
            "edges": [["a", "b"]], **changes}


def test_version_mismatch_is_an_error(tmp_path):
    with pytest.raises(TraceFileError, match="reads trace version 1, the file is version 2"):
        import_workload(write(tmp_path, minimal(version=2)))


def test_wrong_format_is_an_error(tmp_path):
    with pytest.raises(TraceFileError, match="format: expected 'xpusim-trace'"):
        import_workload(write(tmp_path, minimal(format="chakra")))


def test_every_bad_op_field_is_named_by_index_and_key(tmp_path):
    data = minimal()
    data["ops"][0]["m"] = -1
    data["ops"][1]["kind"] = "conv"
    data["ops"][1]["bitz"] = 8
    data["edges"].append(["a", "zz"])
    with pytest.raises(TraceFileError) as error:
        import_workload(write(tmp_path, data))
    message = str(error.value)
    assert "ops[0].m: must be a positive integer, got -1" in message
    assert "ops[1].kind: must be one of gemm, softmax" in message
    assert "ops[1].bitz: unknown key" in message


def test_edges_to_unknown_ops_and_cycles(tmp_path):
    with pytest.raises(TraceFileError, match=r"edges\[1\]: names unknown op 'zz'"):
        import_workload(write(tmp_path, minimal(edges=[["a", "b"], ["a", "zz"]])))
    with pytest.raises(TraceFileError, match="cycle"):
        import_workload(write(tmp_path, minimal(edges=[["a", "b"], ["b", "a"]])))


def test_op_rules_and_missing_keys(tmp_path):
    data = minimal()
    data["ops"][1]["k"] = 5  # vector ops have k = 1
    del data["ops"][0]["n"]
    with pytest.raises(TraceFileError) as error:
        import_workload(write(tmp_path, data))
    assert "ops[0]: missing key 'n'" in str(error.value)
    assert "ops[1]: op 'b': a add op has k = 1" in str(error.value)


def test_duplicate_json_keys_and_missing_file(tmp_path):
    path = tmp_path / "dup.json"
    path.write_text('{"format": "xpusim-trace", "format": "x"}')
    with pytest.raises(TraceFileError, match="duplicate key 'format'"):
        import_workload(path)
    with pytest.raises(FileNotFoundError, match="trace file not found"):
        import_workload(tmp_path / "nope.json")


def test_non_scalar_metadata_cannot_be_exported():
    w = Workload.chain("w", [build_gemm_list([{"name": "a", "kind": "gemm", "M": 1, "N": 1,
                                               "K": 1}]).ops[0]], meta=(("x", [1]),))
    with pytest.raises(ValueError, match=r"metadata \['x'\]"):
        workload_to_dict(w)
