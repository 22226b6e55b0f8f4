"""The checks build a workload once per spec and seed, and never reuse one that reads a file."""

from __future__ import annotations

import json

from simulator.checks import step_workload
from simulator.experiment import parse_text

PRESET = "name: c\nseed: {seed}\nworkload: {{model: llama2-7b, phase: decode, batch: {batch}, seq_len: 64}}\n" \
         "systems: [{{name: npu, arch: tpuv4-like}}]\n"


def test_the_same_spec_and_seed_give_the_same_workload_object():
    first = step_workload(parse_text(PRESET.format(seed=0, batch=4)))
    again = step_workload(parse_text(PRESET.format(seed=0, batch=4)))
    assert again[0] is first[0]
    other = step_workload(parse_text(PRESET.format(seed=0, batch=8)))
    assert other[0] is not first[0] and other[0].batch == 8


def test_a_model_file_is_read_again_each_time(tmp_path):
    config = tmp_path / "config.json"
    fields = {"model_type": "llama", "hidden_size": 256, "intermediate_size": 512, "num_attention_heads": 4,
              "num_hidden_layers": 2, "vocab_size": 1000}
    config.write_text(json.dumps(fields))
    text = (f"name: f\nworkload: {{model: {config}, phase: decode, batch: 2, seq_len: 32}}\n"
            "systems: [{name: npu, arch: tpuv4-like}]\n")
    first, _ = step_workload(parse_text(text))
    config.write_text(json.dumps({**fields, "num_hidden_layers": 6}))
    second, _ = step_workload(parse_text(text))
    assert (first.repeat, second.repeat) == (2, 6)
