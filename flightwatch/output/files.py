"""Files other processes read while we write them (status snapshot, digest marker)."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomically(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write beside ``path`` and rename over it: a reader never sees half a file.

    ``durable`` also fsyncs; the status snapshot skips that (a lost minute does
    not matter, and an SD card should not flush every minute for it).
    """
    partial = path.with_name(f".{path.name}.partial")
    with open(partial, "wb") as handle:
        handle.write(data)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(partial, path)
