"""The files inside an import input: a plain file, a folder tree or a tarball, gzip or not.

History dumps come as folders of gzip files (readsb writes ``trace_full_*.json``
gzip-compressed under a ``.json`` name), tarballs of those, or single files.
Members are opened as decompressed streams (gzip recognised by its magic bytes,
not its name) and read in order; a tarball is streamed, never unpacked to disk
nor held in memory, so a member's stream is only valid until the next member.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
HEAD_BYTES = 64 * 1024  # what format detection looks at
_BUFFER = 1 << 16

#: What a damaged member or archive raises while it is read: name it, count it, go on.
READ_ERRORS = (OSError, EOFError, ValueError, tarfile.TarError, zlib.error)


@dataclass(frozen=True, slots=True)
class Member:
    """One file of an input: ``name`` is its path inside the archive or folder."""

    name: str
    size: int
    mtime: float  # Unix seconds: anchors the relative clock of Beast and AVR captures
    opener: Callable[[], BinaryIO]
    path: Path | None = None  # the file itself, for a folder's or a plain file's member

    def open(self) -> tuple[bytes, BinaryIO]:
        """The member's first :data:`HEAD_BYTES` (to recognise its format) and a stream of
        all its bytes, decompressed when they are gzip."""
        return decompressed(self.opener())


class _Rejoined(io.RawIOBase):
    """``head`` (already read to sniff the format) followed by the rest of ``raw``."""

    def __init__(self, head: bytes, raw: BinaryIO) -> None:
        self._head = head
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


def decompressed(raw: BinaryIO) -> tuple[bytes, BinaryIO]:
    """(head, stream): ``raw``'s bytes, through a gzip reader when they start with the
    gzip magic; ``head`` is their first :data:`HEAD_BYTES`, still at the stream's start."""
    magic = raw.read(len(GZIP_MAGIC))
    stream: BinaryIO = io.BufferedReader(_Rejoined(magic, raw), buffer_size=_BUFFER)
    if magic == GZIP_MAGIC:
        stream = gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[assignment]
    head = stream.read(HEAD_BYTES)
    return head, io.BufferedReader(_Rejoined(head, stream), buffer_size=_BUFFER)


def is_tarball(path: Path) -> bool:
    try:
        return path.is_file() and tarfile.is_tarfile(path)
    except OSError:
        return False


def members(path: Path) -> Iterator[Member]:
    """Every regular file of ``path`` in a stable order: a folder's by name, a tarball's in
    archive order, a plain file as itself (named by its file name).

    A tarball cut short raises one of :data:`READ_ERRORS` when the damage is reached;
    the members before it have been handed out by then.
    """
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            stat = file.stat()
            yield Member(file.relative_to(path).as_posix(), stat.st_size, stat.st_mtime,
                         _file_opener(file), file)
    elif is_tarball(path):
        with tarfile.open(path, mode="r|*") as tar:
            for info in tar:
                if not info.isfile():
                    continue
                extracted = tar.extractfile(info)
                if extracted is None:
                    continue
                yield Member(info.name.removeprefix("./"), info.size, float(info.mtime),
                             _once(extracted))  # type: ignore[arg-type]
    else:
        stat = path.stat()
        yield Member(path.name, stat.st_size, stat.st_mtime, _file_opener(path), path)


def _file_opener(path: Path) -> Callable[[], BinaryIO]:
    return lambda: open(path, "rb")


def _once(stream: BinaryIO) -> Callable[[], BinaryIO]:
    return lambda: stream


def input_name(path: Path) -> str:
    """What an input is called in ``import/<name>`` sources: its file or folder name."""
    return os.path.basename(os.path.normpath(path)) or str(path)
