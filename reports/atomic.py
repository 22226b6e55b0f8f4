"""Atomic file writes for result writers: a temporary file in the same folder, then a rename.

A process killed mid-write leaves the old file or the new one, never half of one
(``os.replace`` is atomic on POSIX and Windows within one file system). The data
is flushed and fsynced before the rename.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def remove_stale(folder: Path, keep: Iterable[str], pattern: str = "*.png") -> list[Path]:
    """Delete files matching ``pattern`` in ``folder`` that are not in ``keep`` (figures of an earlier run)."""
    keep = set(keep)
    stale = [p for p in folder.glob(pattern) if p.name not in keep] if folder.is_dir() else []
    for path in stale:
        path.unlink()
    return stale
