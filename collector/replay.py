"""Replay a recorded capture file as a source, on the capture's own clock.

Clocks by format:

- ``beast`` and ``avr`` with ``@``: the 12 MHz counter, as seconds since the first
  frame (48-bit wrap handled), added to ``start`` (default: the file's
  modification time). A counter of zero means "no counter" (dump1090 without
  MLAT timing) and is treated like a missing one.
- ``avr`` without ``@`` has no clock: frame *n* gets ``start + n * NO_CLOCK_STEP_S``.
- ``csv``, ``tsv`` and ``sbs`` carry a time per line; ``start`` is not used.

The file is streamed in chunks, never read whole.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import cast

from flightwatch.collector.detect import detect_format
from flightwatch.collector.framing import FORMATS, Format
from flightwatch.collector.source import Framer
from flightwatch.decoder import Frame, Observation

log = logging.getLogger(__name__)

TICKS_PER_SECOND = 12_000_000
#: Spacing given to frames that carry no clock (AVR without ``@``): 100 frames/s,
#: a busy receiver's rate, so CPR even/odd pairs stay well within their 10 s window.
NO_CLOCK_STEP_S = 0.01
_WRAP = 1 << 48
_HALF_WRAP = 1 << 47
#: A counter going back further than this is a receiver restart, not reordering.
_MAX_BACKWARD_TICKS = TICKS_PER_SECOND
# A chunk becomes a list of frames at once (a 1 MB Beast chunk: ~45,000 frames, ~14 MB of
# objects); 64 kB keeps that transient under a megabyte and costs no measurable speed.
CHUNK_BYTES = 1 << 16


class CaptureClock:
    """Seconds on the capture's clock: ``start`` plus the counter time since the first frame."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.resets = 0
        self._elapsed = 0.0
        self._previous: int | None = None
        self._seen = False

    def __call__(self, ticks: int | None) -> float:
        previous = self._previous
        if not ticks or previous is None:
            if self._seen:
                self._elapsed += NO_CLOCK_STEP_S
        else:
            delta = (ticks - previous) % _WRAP
            if delta >= _HALF_WRAP:
                delta -= _WRAP
            if delta < -_MAX_BACKWARD_TICKS:
                self.resets += 1
                delta = 0
            self._elapsed += delta / TICKS_PER_SECOND
        if ticks:
            self._previous = ticks
        self._seen = True
        return self.start + self._elapsed


class ReplaySource:
    """A capture file as a :class:`collector.Source`; build it with :func:`open_capture`."""

    def __init__(
        self,
        path: Path,
        fmt: Format,
        start: datetime,
        *,
        realtime: bool = False,
        tz: tzinfo = UTC,
        name: str | None = None,
        chunk_bytes: int = CHUNK_BYTES,
    ) -> None:
        self.path = path
        self.fmt = fmt
        self.start = start
        self.realtime = realtime
        self.name = name or f"replay:{path.name}"
        self.total_bytes = path.stat().st_size
        self.clock = CaptureClock(start.timestamp())
        self._framer = Framer(fmt, self.name, tz=tz, clock=self.clock)
        self._chunk_bytes = chunk_bytes
        self._stopped = threading.Event()

    @property
    def bytes_read(self) -> int:
        """For a progress bar, against :attr:`total_bytes`."""
        return self._framer.counter["bytes"]

    @property
    def stats(self) -> Mapping[str, int]:
        return dict(self._framer.counter)

    def stop(self) -> None:
        self._stopped.set()

    def __iter__(self) -> Iterator[Frame | Observation]:
        framer = self._framer
        pace = _Pacer(self._stopped) if self.realtime else None
        with open(self.path, "rb") as f:
            while not self._stopped.is_set():
                chunk = f.read(self._chunk_bytes)
                records = framer.feed(chunk) if chunk else framer.finish()
                for record in records:
                    if pace is not None and not pace.wait_for(record):
                        return
                    yield record
                if not chunk:
                    break
        if self.clock.resets:
            log.warning(
                "%s: the receiver clock went back %d times (receiver restarts?); "
                "times after each jump continue from the last good one",
                self.name,
                self.clock.resets,
            )


class _Pacer:
    """Sleeps so records come out at the pace of the capture's clock."""

    def __init__(self, stopped: threading.Event) -> None:
        self._stopped = stopped
        self._first: float | None = None
        self._wall = 0.0

    def wait_for(self, record: Frame | Observation) -> bool:
        """False when the source was stopped while waiting."""
        when = record.time if isinstance(record, Frame) else record.time.timestamp()
        if self._first is None:
            self._first, self._wall = when, time.monotonic()
            return not self._stopped.is_set()
        delay = (when - self._first) - (time.monotonic() - self._wall)
        if delay > 0:
            return not self._stopped.wait(delay)
        return not self._stopped.is_set()


def open_capture(
    path: str | os.PathLike[str],
    fmt: str = "auto",
    start: datetime | None = None,
    realtime: bool = False,
    *,
    tz: tzinfo = UTC,
    name: str | None = None,
) -> ReplaySource:
    """A capture file as a source.

    ``fmt`` is ``"auto"`` (see :func:`collector.detect_format`) or one of
    :data:`collector.FORMATS`. ``start`` anchors counter clocks (naive means
    UTC; default: the file's modification time). ``tz`` is the zone of times
    written without an offset (SBS, TSV). Raises :class:`CaptureFormatError`
    for an empty or unknown file, ``ValueError`` for an unknown ``fmt`` and
    ``FileNotFoundError`` for a missing file.
    """
    file = Path(path)
    if fmt == "auto":
        chosen = detect_format(file)
    elif fmt in FORMATS:
        chosen = cast(Format, fmt)
    else:
        raise ValueError(f"unknown capture format {fmt!r}; use auto or one of {', '.join(FORMATS)}")
    if start is None:
        start = datetime.fromtimestamp(file.stat().st_mtime, UTC)
    elif start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    return ReplaySource(file, chosen, start, realtime=realtime, tz=tz, name=name)
