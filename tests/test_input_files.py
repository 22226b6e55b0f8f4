"""Files a user names: a device, a pipe or a folder is refused unread; a file is read with its limit as the bound."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from simulator.errors import InputError
from simulator.result_io import load_result
from workloads.errors import WorkloadError
from workloads.input_files import InputFileError, read_input_bytes
from workloads.models import read_mapping
from workloads.yamlio import YamlError, load_yaml_file

needs_dev_zero = pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")


def _link_to_dev_zero(folder: Path, name: str) -> Path:
    link = folder / name
    link.symlink_to("/dev/zero")
    return link


@needs_dev_zero
@pytest.mark.parametrize("read, name, error", [
    (load_yaml_file, "experiment.yaml", YamlError),
    (read_mapping, "model.json", WorkloadError),
    (load_result, "results.json", InputError),
])
def test_a_link_to_an_endless_device_is_refused_unread(tmp_path, read, name, error):
    with pytest.raises(error, match="not a regular file"):
        read(_link_to_dev_zero(tmp_path, name))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_a_named_pipe_nobody_writes_is_refused_without_waiting(tmp_path):
    fifo = tmp_path / "experiment.yaml"
    os.mkfifo(fifo)
    with pytest.raises(YamlError, match="not a regular file"):
        load_yaml_file(fifo)  # opening it would block until a writer came


def test_a_file_is_read_up_to_its_limit_and_refused_past_it(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"x" * 100)
    assert read_input_bytes(path, 100) == b"x" * 100
    with pytest.raises(InputFileError, match="over the 99-byte limit"):
        read_input_bytes(path, 99)
    with pytest.raises(InputFileError, match="is a folder"):
        read_input_bytes(tmp_path, 100)
    with pytest.raises(InputFileError, match="not found"):
        read_input_bytes(tmp_path / "missing", 100)
