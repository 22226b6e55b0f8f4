"""Write the corpus of bad inputs under tests/data/bad_inputs/ (run from the repository root).

Each case is one experiment file (``NAME.yaml``, or another extension for files
that are not YAML text) plus the helper files some cases point at (``files/``),
and one entry of ``expected.yaml``: the command that must refuse it (``run`` or
``sweep``) and a piece of the message it must print. tests/test_bad_inputs.py
runs every case through ``xpusim validate`` and that command.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

OUT = Path("tests/data/bad_inputs")

OPS = """\
name: bad
workload:
  act_bits: 8
  weight_bits: 8
  ops:
    - {name: a, M: 8, N: 8, K: 8}
    - {name: b, M: 8, N: 8, K: 8}
systems:
  - {name: s, arch: scalesim-default}
"""

MODEL = """\
name: bad
workload: {model: opt-6.7b, phase: decode, batch: 1, seq_len: 64}
systems:
  - {name: s, arch: tpuv4-like}
"""

SERVING = """\
name: bad
workload:
  model: opt-6.7b
  phase: serving
  serving: {csv: files/%s, max_batch: 8}
systems:
  - {name: s, arch: tpuv4-like}
"""

SWEEP = OPS + "sweep:\n  grid:\n%s"

TRACE_OK = {
    "format": "xpusim-trace", "version": 1, "name": "t", "phase": "any", "batch": 1, "tokens_per_step": 1,
    "repeat": 1, "metadata": {},
    "ops": [{"name": n, "kind": "gemm", "m": 8, "n": 8, "k": 8, "count": 1, "a_bits": 16, "b_bits": 16,
             "out_bits": 16, "b_operand": "weight", "phase": "any", "layer": -1, "extra_bytes": 0, "devices": 1}
            for n in ("a", "b")],
    "edges": [["a", "b"]],
}

HF_OK = {"model_type": "llama", "hidden_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4,
         "num_key_value_heads": 4, "intermediate_size": 512, "vocab_size": 1000, "max_position_embeddings": 512,
         "hidden_act": "silu"}


def trace(**changes) -> str:
    data = json.loads(json.dumps(TRACE_OK))
    for key, value in changes.items():
        if key.startswith("op0_"):
            data["ops"][0][key[4:]] = value
        elif value is None:
            data.pop(key)
        else:
            data[key] = value
    return json.dumps(data, indent=1)


def hf(**changes) -> str:
    data = dict(HF_OK)
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return json.dumps(data)


def model_file(name: str) -> str:
    return MODEL.replace("model: opt-6.7b", f"model: files/{name}")


def trace_exp(name: str) -> str:
    return f"name: bad\nworkload:\n  trace: files/{name}\nsystems:\n  - {{name: s, arch: tpuv4-like}}\n"


def topology_exp(name: str) -> str:
    return (f"name: bad\nworkload:\n  topology: files/{name}\n  act_bits: 8\n  weight_bits: 8\nsystems:\n"
            "  - {name: s, arch: tpuv4-like}\n")


def sub(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8))

MERGE_BOMB = "a: &a {x: 1, y: 2}\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} {{<<: [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]}\n" for i in range(9))

# name -> (file text or bytes, command, expected piece of the message)
CASES: dict[str, tuple[str | bytes, str, str]] = {
    # -- the file itself
    "yaml-malformed": ("name: x\nworkload: [unclosed\n", "run", "malformed YAML"),
    "yaml-duplicate-key": (OPS + "name: again\n", "run", "duplicate key 'name' at line 10, column 1 (first defined at line 1)"),
    "yaml-alias-bomb": (BOMB, "run", "expands to more than 200000 nodes"),
    "yaml-alias-bomb-merge": (MERGE_BOMB, "run", "expands to more than 200000 nodes"),
    "yaml-recursive-alias": ("name: &n [*n]\n", "run", "refers to a node that holds it"),
    "yaml-undefined-alias": ("name: *nowhere\n", "run", "found undefined alias 'nowhere'"),
    "yaml-deep-nesting": ("name: " + "[" * 200 + "]" * 200 + "\n", "run", "nesting is"),
    "yaml-deep-mappings": ("name: x\n" + "".join("  " * i + f"k{i}:\n" for i in range(80)) + "  " * 80 + "v: 1\n",
                           "run", "nesting is deeper than 64 levels"),
    "yaml-binary.bin": (bytes(range(256)) * 4, "run", "binary file, not YAML text"),
    "yaml-latin1": ("name: caf\xe9\n".encode("latin-1"), "run", "not UTF-8 text (byte 0xe9"),
    "yaml-utf16": ("name: x\n".encode("utf-16"), "run", "UTF-16 text"),
    "yaml-empty": ("", "run", "the file must be a mapping of keys, got NoneType"),
    "yaml-list": ("- a\n- b\n", "run", "the file must be a mapping of keys, got list"),
    "yaml-scalar": ("just text\n", "run", "the file must be a mapping of keys, got str"),
    "yaml-tab-indent": ("name: x\nworkload:\n\tmodel: opt-6.7b\n", "run", "malformed YAML"),
    # -- the schema
    "top-unknown-key": (OPS + "sead: 0\n", "run", "sead: unknown key; did you mean 'seed'"),
    "top-missing-name": (sub(OPS, "name: bad\n", ""), "run", "name: required key is missing"),
    "top-missing-workload": ("name: bad\nsystems:\n  - {name: s, arch: scalesim-default}\n", "run",
                             "workload: required key is missing"),
    "top-missing-systems": ("name: bad\nworkload: {model: opt-6.7b}\n", "run", "systems: required key is missing"),
    "top-empty-systems": (sub(OPS, "systems:\n  - {name: s, arch: scalesim-default}\n", "systems: []\n"), "run",
                          "systems: List should have at least 1 item"),
    "top-bad-name": (sub(OPS, "name: bad", "name: 'bad name!'"), "run", "name: String should match pattern"),
    "top-seed-text": (OPS + "seed: zero\n", "run", "seed: Input should be a valid integer"),
    "top-seed-huge": (OPS + "seed: 100000000000000000000000000000\n", "run", "seed: a 30-digit integer is out of range"),
    "top-capacity-bad": (OPS + "capacity: maybe\n", "run", "capacity: Input should be 'fail' or 'warn'"),
    "top-baseline-unknown": (OPS + "report: {baseline: t}\n", "run", "report.baseline: 't' is not a system"),
    "top-report-unknown-key": (OPS + "report: {basline: s}\n", "run", "report.basline: unknown key; did you mean 'baseline'"),
    "top-tech-unknown": (OPS + "tech: {overides: {}}\n", "run", "tech.overides: unknown key; did you mean 'overrides'"),
    "workload-unknown-key": (sub(OPS, "  ops:", "  bach: 2\n  ops:"), "run", "workload.bach: unknown key; did you mean 'batch'"),
    "workload-batch-zero": (sub(MODEL, "batch: 1", "batch: 0"), "run", "workload.batch: Input should be greater than 0"),
    "workload-batch-negative": (sub(MODEL, "batch: 1", "batch: -4"), "run", "workload.batch: Input should be greater than 0"),
    "workload-batch-1e30": (sub(MODEL, "batch: 1", "batch: 1000000000000000000000000000000"), "run",
                            "workload.batch: a 31-digit integer is out of range"),
    "workload-batch-over-max": (sub(MODEL, "batch: 1", "batch: 2000000"), "run",
                                "workload.batch: Input should be less than or equal to 1048576"),
    "workload-batch-float": (sub(MODEL, "batch: 1", "batch: 1.5"), "run", "workload.batch: Input should be a valid integer"),
    "workload-batch-text": (sub(MODEL, "batch: 1", "batch: many"), "run", "workload.batch: Input should be a valid integer"),
    "workload-batch-exponent": (sub(MODEL, "batch: 1", "batch: 1e3"), "run", "write 1.0e+3 or 1000"),
    "workload-seq-zero": (sub(MODEL, "seq_len: 64", "seq_len: 0"), "run", "workload.seq_len: Input should be greater than 0"),
    "workload-seq-over-max": (sub(MODEL, "seq_len: 64", "seq_len: 100000000"), "run",
                              "workload.seq_len: Input should be less than or equal to 16777216"),
    "workload-tp-zero": (sub(MODEL, "seq_len: 64", "seq_len: 64, tp: 0"), "run", "workload.tp: Input should be greater than 0"),
    "workload-tp-huge": (sub(MODEL, "seq_len: 64", "seq_len: 64, tp: 100000"), "run",
                         "workload.tp: Input should be less than or equal to 4096"),
    "workload-bits-zero": (sub(MODEL, "seq_len: 64", "seq_len: 64, weight_bits: 0"), "run",
                           "workload.weight_bits: Input should be greater than 0"),
    "workload-bits-64": (sub(MODEL, "seq_len: 64", "seq_len: 64, act_bits: 64"), "run",
                         "workload.act_bits: Input should be less than or equal to 32"),
    "workload-phase-bogus": (sub(MODEL, "phase: decode", "phase: decoding"), "run",
                             "workload.phase: Input should be 'prefill', 'decode' or 'serving'"),
    "workload-model-and-ops": (sub(OPS, "  ops:", "  model: opt-6.7b\n  ops:"), "run", "give exactly one of 'model'"),
    "workload-no-source": ("name: bad\nworkload: {batch: 2}\nsystems:\n  - {name: s, arch: scalesim-default}\n", "run",
                           "give exactly one of 'model'"),
    "workload-ops-empty": ("name: bad\nworkload: {ops: []}\nsystems:\n  - {name: s, arch: scalesim-default}\n", "run",
                           "'ops' must list at least one op"),
    "op-m-zero": (sub(OPS, "{name: a, M: 8", "{name: a, M: 0"), "run", "workload.ops[0].M: Input should be greater than 0"),
    "op-missing-n": (sub(OPS, "{name: a, M: 8, N: 8, K: 8}", "{name: a, M: 8, K: 8}"), "run",
                     "workload.ops[0].N: required key is missing"),
    "op-n-huge": (sub(OPS, "{name: a, M: 8, N: 8", "{name: a, M: 8, N: 10000000000"), "run",
                  "workload.ops[0].N: Input should be less than or equal to 1048576"),
    "op-bad-name": (sub(OPS, "{name: a,", "{name: 'a b',"), "run", "workload.ops[0].name: String should match pattern"),
    "op-unknown-key": (sub(OPS, "{name: a, M: 8", "{name: a, m: 8, M: 8"), "run", "workload.ops[0].m: unknown key"),
    "op-kind-vector": (sub(OPS, "{name: a, M: 8", "{name: a, kind: softmax, M: 8"), "run",
                       "workload.ops[0].kind: Input should be 'gemm'"),
    "op-duplicate-names": (sub(OPS, "{name: b,", "{name: a,"), "run", "ops[1].name: duplicate name 'a' (also ops[0])"),
    "system-missing-name": (sub(OPS, "{name: s, arch: scalesim-default}", "{arch: scalesim-default}"), "run",
                            "systems[0].name: required key is missing"),
    "system-missing-arch": (sub(OPS, "{name: s, arch: scalesim-default}", "{name: s}"), "run",
                            "systems.s.arch: required key is missing"),
    "system-unknown-key": (sub(OPS, "{name: s, arch: scalesim-default}", "{name: s, arch: scalesim-default, sett: {}}"),
                           "run", "systems.s.sett: unknown key; did you mean 'set'"),
    "system-duplicate-names": (OPS + "  - {name: s, arch: tpuv4-like}\n", "run", "system name 's' is used more than once"),
    "arch-unknown-preset": (sub(OPS, "arch: scalesim-default", "arch: scalesim-defualt"), "run",
                            "systems.s.arch: unknown preset 'scalesim-defualt'; did you mean 'scalesim-default'"),
    "arch-unknown-kind": (sub(OPS, "arch: scalesim-default", "arch: {kind: systolc, rows: 4}"), "run",
                          "systems.s.arch.kind: unknown accelerator kind 'systolc'; did you mean 'systolic'"),
    "arch-inline-no-kind": (sub(OPS, "arch: scalesim-default", "arch: {rows: 4}"), "run", "an inline arch needs 'kind'"),
    "arch-file-missing": (sub(OPS, "arch: scalesim-default", "arch: files/no-such-arch.yaml"), "run", "file not found"),
    "arch-file-binary": (sub(OPS, "arch: scalesim-default", "arch: files/binary.yaml"), "run",
                         "binary file, not YAML text"),
    "arch-file-duplicate": (sub(OPS, "arch: scalesim-default", "arch: files/duplicate-arch.yaml"), "run",
                            "duplicate key 'rows' at line 3"),
    "arch-list": (sub(OPS, "arch: scalesim-default", "arch: [a, b]"), "run", "systems.s.arch"),
    "mapping-unknown-key": (sub(OPS, "arch: scalesim-default}", "arch: scalesim-default, mapping: {split_core: 2}}"),
                            "run", "systems.s.mapping.split_core: unknown key; did you mean 'split_cores'"),
    "mapping-bad-search": (sub(OPS, "arch: scalesim-default}", "arch: scalesim-default, mapping: {search: cycle}}"),
                           "run", "systems.s.mapping.search"),
    "mapping-bad-placement": (sub(OPS, "arch: scalesim-default}", "arch: scalesim-default, mapping: {placement: pim}}"),
                              "run", "systems.s.mapping.placement"),
    "mapping-negative-split": (sub(OPS, "arch: scalesim-default}", "arch: scalesim-default, mapping: {split_cores: -1}}"),
                               "run", "systems.s.mapping.split_cores"),
    "mapping-bad-dataflow": (sub(OPS, "arch: scalesim-default}", "arch: scalesim-default, mapping: {dataflow: rs}}"),
                             "run", "systems.s.mapping.dataflow"),
    "mapping-not-a-mapping": (sub(OPS, "arch: scalesim-default}", "arch: scalesim-default, mapping: fast}"),
                              "run", "systems.s.mapping"),
    "set-unknown-key": (sub(OPS, "arch: scalesim-default}", "arch: scalesim-default, set: {rowz: 8}}"), "run",
                        "systems.s.set.rowz: unknown key; did you mean 'rows'"),
    "set-rows-zero": (sub(OPS, "arch: scalesim-default}", "arch: scalesim-default, set: {rows: 0}}"), "run",
                      "systems.s.set.rows: Input should be greater than 0"),
    "set-rows-1e30": (sub(OPS, "arch: scalesim-default}", "arch: scalesim-default, set: {rows: 1000000000000000000000000000000}}"),
                      "run", "systems[0].set.rows: a 31-digit integer is out of range"),
    "set-dataflow-bad": (sub(OPS, "arch: scalesim-default}", "arch: scalesim-default, set: {dataflow: rs}}"), "run",
                         "systems.s.set.dataflow"),
    "set-capacity-exponent": (sub(OPS, "arch: scalesim-default}", "arch: scalesim-default, set: {dram_capacity_bytes: 6.4e10}}"),
                              "run", "write 6.4e+10 or 64000000000"),
    "set-clock-text": (sub(OPS, "arch: scalesim-default}", "arch: scalesim-default, set: {clock_hz: fast}}"), "run",
                       "systems.s.set.clock_hz"),
    "set-not-mapping": (sub(OPS, "arch: scalesim-default}", "arch: scalesim-default, set: [rows, 8]}"), "run",
                        "systems.s.set: Input should be a valid dictionary"),
    "gpu-set-unknown": (sub(OPS, "{name: s, arch: scalesim-default}", "{name: g, arch: a100-80gb, set: {sms: 1}}"), "run",
                        "systems.g.set.sms: unknown key"),
    "tech-bad-override": (OPS + "tech: {overrides: {no_such_component: {energy_pj: 1}}}\n", "run", "tech.overrides"),
    "kvlens-prefill": (sub(MODEL, "seq_len: 64}", "kv_lens: [10, 20]}").replace("phase: decode", "phase: prefill"), "run",
                       "per-request KV lengths need phase 'decode'"),
    "kvlens-and-seqlen": (sub(MODEL, "seq_len: 64}", "seq_len: 64, kv_lens: [10]}"), "run",
                          "'kv_lens' and 'seq_len' both set the decode KV length"),
    "kvlens-wrong-count": (sub(MODEL, "seq_len: 64}", "kv_lens: [10, 20, 30]}"), "run",
                           "lists 3 lengths but batch is 1"),
    "kvlens-zero": (sub(MODEL, "seq_len: 64}", "kv_lens: [0]}"), "run", "workload.kv_lens"),
    "kvlens-lognormal-no-median": (sub(MODEL, "seq_len: 64}", "kv_lens: {kind: lognormal, sigma: 1}}"), "run",
                                   "kind 'lognormal' needs 'median_tokens'"),
    "kvlens-uniform-reversed": (sub(MODEL, "seq_len: 64}", "kv_lens: {kind: uniform, low: 90, high: 10}}"), "run",
                                "uniform length needs low <= high"),
    # -- models and config.json
    "model-unknown-preset": (sub(MODEL, "model: opt-6.7b", "model: llama2-7bb"), "run",
                             "workload.model: unknown model preset 'llama2-7bb'; did you mean 'llama2-7b'"),
    "model-config-missing": (model_file("no-such-config.json"), "run", "workload.model"),
    "model-config-not-json": (model_file("not-json.json"), "run", "workload.model"),
    "model-config-no-hidden": (model_file("hf-no-hidden.json"), "run", "hidden_size"),
    "model-config-unknown-type": (model_file("hf-unknown-type.json"), "run", "model_type"),
    "model-config-zero-heads": (model_file("hf-zero-heads.json"), "run", "num_heads"),
    "model-config-topk-over-experts": (model_file("hf-topk.json"), "run", "experts_per_token"),
    "model-config-binary": (model_file("binary.json"), "run", "workload.model"),
    "model-config-deep-json": (model_file("deep.json"), "run", "workload.model: the file is nested too deeply to read"),
    "model-inline-missing": (sub(MODEL, "model: opt-6.7b", "model: {hidden_size: 64}"), "run", "workload.model"),
    "model-inline-unknown-field": (sub(MODEL, "model: opt-6.7b", "model: {base: opt-6.7b, hiden_size: 64}"), "run",
                                   "workload.model"),
    "model-tp3": (sub(MODEL, "seq_len: 64", "seq_len: 64, tp: 3"), "run", "tp=3 does not split model 'opt-6.7b'"),
    "model-tp64": (sub(MODEL, "seq_len: 64", "seq_len: 64, tp: 64"), "run", "tp=64 does not split model 'opt-6.7b'"),
    "model-tp-ops-serving": (sub(SERVING % "ok.csv", "  phase: serving", "  phase: serving\n  tp: 3"), "run",
                             "tp=3 does not split model 'opt-6.7b'"),
    # -- trace files
    "trace-missing": (trace_exp("no-such-trace.json"), "run", "workload.trace: trace file not found"),
    "trace-truncated": (trace_exp("trace-truncated.json"), "run", "workload.trace"),
    "trace-wrong-version": (trace_exp("trace-version.json"), "run", "version"),
    "trace-wrong-format": (trace_exp("trace-format.json"), "run", "format"),
    "trace-cycle": (trace_exp("trace-cycle.json"), "run", "cycle"),
    "topology-missing": (topology_exp("no-such-topology.csv"), "run", "workload.topology: "),
    "scalesim-cfg-dataflow": (sub(MODEL, "arch: tpuv4-like}", "arch: files/bad-dataflow.cfg}"), "run",
                              "Dataflow: expected one of os, ws, is, got 'rs'"),
    "scalesim-cfg-not-ini": (sub(MODEL, "arch: tpuv4-like}", "arch: files/not-ini.cfg}"), "run",
                             "not a SCALE-Sim configuration"),
    "topology-bad-row": (topology_exp("topology-bad.csv"), "run", "line 3: layer 'Conv2': expected whole numbers"),
    "topology-sparse": (topology_exp("topology-sparse.csv"), "run", "sparsity '2:4' is not modelled"),
    "topology-with-model": (sub(topology_exp("topology-bad.csv"), "  act_bits: 8\n", "  model: llama2-7b\n"),
                            "run", "give exactly one of 'model'"),
    "trace-negative-m": (trace_exp("trace-negative-m.json"), "run", "ops[0]"),
    "trace-no-ops": (trace_exp("trace-no-ops.json"), "run", "ops: expected a non-empty list of ops"),
    "trace-binary": (trace_exp("binary.json"), "run", "workload.trace"),
    "trace-with-batch": (sub(trace_exp("trace-ok.json"), "  trace:", "  batch: 4\n  trace:"), "run",
                         "a trace file fixes its own ops"),
    "trace-list": (trace_exp("trace-list.json"), "run", "expected a mapping of fields, got list"),
    "trace-deep-json": (trace_exp("deep.json"), "run", "workload.trace: the file is nested too deeply to read"),
    # -- serving and request CSVs
    "serving-no-block": (sub(MODEL, "phase: decode", "phase: serving"), "run", "phase 'serving' needs a 'serving:' block"),
    "serving-block-wrong-phase": (sub(MODEL, "seq_len: 64}", "seq_len: 64, serving: {rate_per_s: 1, count: 4}}"), "run",
                                  "a 'serving:' block needs phase 'serving'"),
    "serving-both-sources": (SERVING.replace("{csv: files/%s,", "{csv: files/ok.csv, rate_per_s: 2,"), "run",
                             "give exactly one of 'rate_per_s'"),
    "serving-rate-no-count": (SERVING.replace("{csv: files/%s,", "{rate_per_s: 2,"), "run",
                              "with 'rate_per_s', give exactly one of 'duration_s' or 'count'"),
    "serving-rate-zero": (SERVING.replace("{csv: files/%s,", "{rate_per_s: 0, count: 4,"), "run",
                          "workload.serving.rate_per_s: Input should be greater than 0"),
    "serving-with-ops": (sub(OPS, "  ops:", "  phase: serving\n  serving: {rate_per_s: 1, count: 2}\n  ops:"), "run",
                         "phase 'serving' needs a 'model'"),
    "serving-csv-missing-file": (SERVING % "no-such.csv", "run", "request trace not found"),
    "serving-csv-missing-column": (SERVING % "two-columns.csv", "run", "the header has no column for output_tokens"),
    "serving-csv-negative": (SERVING % "negative.csv", "run", "prompt_tokens must be an integer >= 1"),
    "serving-csv-nan": (SERVING % "nan.csv", "run", "arrival_s must be a finite number >= 0"),
    "serving-csv-header-only": (SERVING % "header-only.csv", "run", "lists no requests"),
    "serving-csv-empty": (SERVING % "empty.csv", "run", "lists no requests"),
    "serving-csv-text": (SERVING % "text.csv", "run", "arrival_s must be a number"),
    "serving-csv-binary": (SERVING % "binary.csv", "run", "workload.serving"),
    "serving-csv-huge-field": (SERVING % "huge-field.csv", "run", "field larger than field limit"),
    # -- designs that do not fit
    "capacity-mixtral-a100": ("name: bad\nworkload: {model: mixtral-8x7b, phase: decode, batch: 1, seq_len: 128}\n"
                              "systems:\n  - {name: g, arch: a100-80gb}\n", "run",
                              "systems.g: does not fit: weights + KV cache need 92.90 GB"),
    "capacity-70b-tpuv4": ("name: bad\nworkload: {model: llama2-70b, phase: decode, batch: 1, seq_len: 128}\n"
                           "systems:\n  - {name: t, arch: tpuv4-like}\n", "run", "systems.t: does not fit"),
    "capacity-kv-neupims-npu": ("name: bad\nworkload: {model: llama2-7b, phase: decode, batch: 256, seq_len: 2048}\n"
                                "systems:\n  - {name: n, arch: neupims-npu}\n", "run", "systems.n: does not fit"),
    "capacity-tp-still-too-big": ("name: bad\nworkload: {model: gpt3-175b, phase: prefill, batch: 1, seq_len: 128, tp: 2}\n"
                                  "systems:\n  - {name: g, arch: h100-sxm}\n", "run",
                                  "systems.g: hbm_capacity_bytes: the workload's weights + KV cache need 173.96 GB"),
    # -- sweep grids
    "sweep-misspelt-key": (SWEEP % "    workload.bacth: [1, 2]\n", "sweep", "workload.bacth"),
    "sweep-unknown-system": (SWEEP % "    systems.x.arch.rows: [8, 16]\n", "sweep",
                             "sweep.grid.systems.x.arch.rows: no system named 'x'"),
    "sweep-bad-key-shape": (SWEEP % "    rows: [8, 16]\n", "sweep",
                            "expected 'workload.<field>', 'systems.<name>.arch.<field>' or 'systems.<name>.mapping.<option>'"),
    "sweep-bad-value": (SWEEP % "    systems.s.arch.rows: [8, 0]\n", "sweep", "[sweep point 1: systems.s.arch.rows=0]"),
    "sweep-empty-list": (SWEEP % "    systems.s.arch.rows: []\n", "sweep",
                         "sweep.grid.systems.s.arch.rows: an empty list gives no points"),
    "sweep-value-not-list": (SWEEP % "    systems.s.arch.rows: 8\n", "sweep", "sweep.grid.systems.s.arch.rows: Input should be a valid list"),
    "sweep-empty-grid": (OPS + "sweep: {grid: {}}\n", "sweep", "sweep.grid: Dictionary should have at least 1 item"),
    "sweep-no-grid": (OPS + "sweep: {}\n", "sweep", "sweep.grid: required key is missing"),
    "sweep-unknown-arch-key": (SWEEP % "    systems.s.arch.rowz: [8, 16]\n", "sweep", "unknown key; did you mean 'rows'"),
    "sweep-unknown-model": (MODEL + "sweep:\n  grid:\n    workload.model: [opt-6.7b, llama2-7bb]\n", "sweep",
                            "unknown model preset 'llama2-7bb'"),
    "sweep-tp-not-dividing": (MODEL + "sweep:\n  grid:\n    workload.tp: [1, 3]\n", "sweep",
                              "[sweep point 1: workload.tp=3]"),
    "sweep-batch-huge": (MODEL + "sweep:\n  grid:\n    workload.batch: [1, 1000000000000000000000000000000]\n", "sweep",
                         "a 31-digit integer is out of range"),
    "sweep-clock-infinite": (SWEEP % "    systems.s.arch.clock_hz: [.inf]\n", "sweep",
                             "systems.s.set.clock_hz: Input should be a finite number"),
    # -- scalars YAML types but Python cannot hold, keys that are not values, control characters
    "int-5000-digits": (sub(OPS, "{name: a, M: 8", "{name: a, M: " + "9" * 5000), "run",
                        "workload.ops.0.M at line 6, column 20"),
    "timestamp-value": (sub(MODEL, "seq_len: 64}", "seq_len: 2026-13-45}"), "run",
                        "workload.seq_len at line 2, column 63: '2026-13-45' is read as a YAML timestamp"),
    "list-as-key": (OPS + "? [1, 2]\n: 3\n", "run", "a list used as a mapping key at line 10, column 3"),
    "form-feed": (sub(OPS, "systems:", "\x0c\nsystems:"), "run", "character 0x000c at line 8, column 1"),
    "bandwidth-tiny": (sub(MODEL, "arch: tpuv4-like}", "arch: tpuv4-like, set: {dram_bandwidth_bytes_per_s: 1.0e-300}}"),
                       "run", "dram_bandwidth_bytes_per_s = 1e-300"),
    "serving-request-over-kv-capacity": (sub(MODEL, "seq_len: 64}", "seq_len: 64, phase: serving, serving: {rate_per_s: 1, "
                                         "count: 2, prompt: {tokens: 2048}, kv_capacity_tokens: 1000}}").replace(
                                         "phase: decode, ", ""), "run",
                                         "request 0 needs 2176 KV tokens (prompt 2048 + output 128), more than "
                                         "kv_capacity_tokens = 1000"),
    "seed-negative": ("seed: -1\n" + OPS, "run", "seed: Input should be greater than or equal to 0"),
    "bool-as-number": (sub(MODEL, "arch: tpuv4-like}", "arch: tpuv4-like, set: {cores: true}}"), "run",
                       "systems.s.set.cores: expected a number or a name, got the boolean true"),
    "text-as-flag": (OPS + "tech: {allow_extrapolation: 'yes'}\n", "run", "tech.allow_extrapolation: expected true or false, "
                     "got 'yes'"),
    "cpu-tech-node": (sub(MODEL, "arch: tpuv4-like}", "arch: m2-ultra, set: {tech_node_nm: 3}}"), "run",
                      "tech_node_nm: Input should be 45, 28, 16, 7 or 5"),
    "wafer-step-phase": (sub(MODEL, "arch: tpuv4-like}", "arch: wse2, mapping: {step_phase: zz}}"), "run",
                         "step_phase: Input should be 'prefill', 'decode' or 'any'"),
    "serving-prompt-low-over-high": (sub(MODEL, "seq_len: 64}", "seq_len: 64, phase: serving, serving: {rate_per_s: 1, "
                                     "count: 2, prompt: {kind: uniform, low: 50, high: 10}}}").replace("phase: decode, ", ""),
                                     "run", "workload.serving.prompt: uniform length needs low <= high"),
    "name-too-long": (sub(OPS, "name: bad", "name: " + "n" * 300), "run", "name: String should have at most 128"),
    "serving-too-many-requests": (sub(MODEL, "seq_len: 64}", "seq_len: 64, phase: serving, serving: {rate_per_s: 1.0e+6, "
                                  "duration_s: 1.0e+9}}").replace("phase: decode, ", ""), "run",
                                  "rate_per_s x duration_s asks for about 1e+15 requests; at most 10,000,000"),
    "serving-arrivals-too-far": (sub(MODEL, "seq_len: 64}", "seq_len: 64, phase: serving, serving: {rate_per_s: 1.0e-300, "
                                 "count: 4}}").replace("phase: decode, ", ""), "run",
                                 "the requests would arrive over about 4e+300 s"),
}

FILES: dict[str, str | bytes] = {
    "binary.yaml": bytes(range(256)),
    "binary.json": b"\x00\x01\x02PK\x03\x04" * 40,
    "binary.csv": b"\x00\xff\xfe" * 50,
    "duplicate-arch.yaml": "kind: systolic\nrows: 8\nrows: 16\ncols: 8\n",
    "not-json.json": "{hidden_size: 64,,}",
    "hf-no-hidden.json": hf(hidden_size=None),
    "hf-unknown-type.json": hf(model_type="frobnicator"),
    "hf-zero-heads.json": hf(num_attention_heads=0),
    "hf-topk.json": hf(model_type="mixtral", num_local_experts=4, num_experts_per_tok=8),
    "trace-ok.json": trace(),
    "trace-truncated.json": trace()[:200],
    "trace-version.json": trace(version=99),
    "trace-format.json": trace(format="something-else"),
    "trace-cycle.json": trace(edges=[["a", "b"], ["b", "a"]]),
    "trace-negative-m.json": trace(op0_m=-8),
    "trace-no-ops.json": trace(ops=[], edges=[]),
    "trace-list.json": "[1, 2, 3]",
    "deep.json": "[" * 5000 + "]" * 5000,
    "ok.csv": "arrival_s,prompt_tokens,output_tokens\n0.0,16,4\n0.5,16,4\n",
    "two-columns.csv": "arrival_s,prompt_tokens\n0.0,16\n",
    "topology-bad.csv": ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
                         "Strides,\nConv1, 28, 28, 3, 3, 3, 8, 1,\nConv2, 26, 26, 3, 3, eight, 8, 1,\n"),
    "topology-sparse.csv": "Layer,M,N,K,Sparsity,\ngemm,64,64,64,2:4,\n",
    "bad-dataflow.cfg": ("[architecture_presets]\nArrayHeight: 8\nArrayWidth: 8\nIfmapSramSzkB: 64\n"
                         "FilterSramSzkB: 64\nOfmapSramSzkB: 64\nBandwidth: 10\nDataflow: rs\n"),
    "not-ini.cfg": "ArrayHeight 8\n",
    "negative.csv": "0.0,-16,4\n",
    "nan.csv": "nan,16,4\n",
    "header-only.csv": "arrival_s,prompt_tokens,output_tokens\n",
    "empty.csv": "",
    "text.csv": "soon,16,4\n",
    "huge-field.csv": "0.0,16,4\n" + "9" * 140_000 + ",16,4\n",
}


def main() -> int:
    (OUT / "files").mkdir(parents=True, exist_ok=True)
    for stale in list(OUT.glob("*.yaml")) + list(OUT.glob("*.bin")) + list((OUT / "files").iterdir()):
        stale.unlink()
    expected = {}
    for name, (content, command, message) in CASES.items():
        filename = name if "." in name else f"{name}.yaml"
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (OUT / filename).write_bytes(data)
        expected[filename] = {"command": command, "message": message}
    for name, content in FILES.items():
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (OUT / "files" / name).write_bytes(data)
    text = ("# Bad inputs: the command that must refuse each file (exit 2, no traceback) and a piece of\n"
            "# its message. Written by scripts/make_bad_inputs.py; checked by tests/test_bad_inputs.py.\n")
    (OUT / "expected.yaml").write_text(text + yaml.safe_dump(expected, sort_keys=True, width=200), encoding="utf-8")
    print(f"{len(CASES)} cases, {len(FILES)} helper files in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
