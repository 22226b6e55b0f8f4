"""Reading a file a user names: a regular file of at most a given size, read with that bound.

A path to a device (``/dev/zero``), a pipe or a socket is refused before it is
opened: reading one may never end (or never start, for a pipe nobody writes).
A regular file is read with its limit as the bound, so one that grows while it
is read cannot exceed it either.
"""

from __future__ import annotations

import stat
from pathlib import Path


# Trace files, request CSVs and model files larger than this are refused before they are read
# (the largest trace the exporter writes for a shipped preset is well under 1 MB).
MAX_DATA_FILE_BYTES = 256 * 1024 * 1024


# The largest whole number an input file may give: integers beyond 2**53 are not exact as
# floats and overflow the 64-bit products the Numba kernels form; no quantity in an
# experiment (bytes, Hz, tokens) comes near it.
MAX_WHOLE_NUMBER = 1 << 53


class InputFileError(ValueError):
    """A named file that is missing, not a regular file, too large or unreadable."""


def read_input_bytes(path: str | Path, limit_bytes: int, what: str = "file") -> bytes:
    """The bytes of ``path``, or :class:`InputFileError` saying why they cannot be had."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputFileError(f"{path}: {what} not found") from None
    except OSError as err:
        raise InputFileError(f"{path}: cannot read {what} ({err.strerror})") from None
    if stat.S_ISDIR(mode):
        raise InputFileError(f"{path}: is a folder, not a {what}")
    if not stat.S_ISREG(mode):
        raise InputFileError(f"{path}: is not a regular file (a device, pipe or socket): give a {what}")
    try:
        with path.open("rb") as handle:
            data = handle.read(limit_bytes + 1)
    except OSError as err:
        raise InputFileError(f"{path}: cannot read {what} ({err.strerror})") from None
    if len(data) > limit_bytes:
        raise InputFileError(f"{path}: over the {limit_bytes}-byte limit for a {what}")
    return data
