"""What a receiver source is, and the stream shell every source wraps around a parser.

Errors raised by this package::

    CollectorError                 anything collector raises on purpose
    ├── CaptureFormatError         a capture file is empty or of no known format
    └── ExecutableNotFoundError    the receiver program (rtl_adsb) is not installed
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, tzinfo
from typing import Protocol

from flightwatch.collector import avr, beast, capture, sbs
from flightwatch.collector.framing import Format, RawMessage, new_counter
from flightwatch.decoder import Frame, Observation

#: Turns a message's 48-bit counter (None where the format has none) into Unix seconds.
TickClock = Callable[[int | None], float]


class CollectorError(Exception):
    """Base of the errors this package raises on purpose."""


class Source(Protocol):
    """A stream of raw frames or decoded observations from one receiver or file.

    ``stats`` holds at least ``frames``, ``bad_frames``, ``bytes`` and
    ``reconnects`` (see :data:`collector.framing.COUNTER_KEYS` for the rest).
    ``stop()`` may be called from another thread; iteration then ends promptly,
    after the records of the read already in hand (none is read after it).
    """

    name: str

    def __iter__(self) -> Iterator[Frame | Observation]: ...

    def stop(self) -> None: ...

    @property
    def stats(self) -> Mapping[str, int]: ...


class Backoff:
    """Exponential retry delay with a cap, counting the failures of the current streak.

    Callers log when ``failures`` becomes 1 and when a success ends a streak, so a
    receiver that stays down for a day writes two log lines, not thousands.
    """

    def __init__(self, initial: float = 1.0, maximum: float = 60.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self.failures = 0
        self._delay = initial

    def failed(self) -> float:
        """Record a failure; the delay to wait before the next attempt."""
        self.failures += 1
        delay = self._delay
        self._delay = min(self._delay * 2, self.maximum)
        return delay

    def succeeded(self) -> int:
        """Reset; the number of failures the streak had."""
        failures, self.failures, self._delay = self.failures, 0, self.initial
        return failures


class Framer:
    """Feeds chunks of a byte stream to the format's parser, keeping the tail between reads.

    Raw messages become :class:`Frame`s stamped with ``received`` (live; the
    wall clock when neither it nor ``clock`` is given) or with ``clock`` applied
    to their counter (replay). ``counter`` doubles as the
    source's stats: frames, bytes and whatever the parser counted.
    """

    def __init__(
        self, fmt: Format, source: str, *, tz: tzinfo = UTC, clock: TickClock | None = None
    ) -> None:
        self.fmt = fmt
        self.source = source
        self.tz = tz
        self.clock = clock
        self.counter: Counter[str] = new_counter()
        self._rest = b""

    def feed(self, chunk: bytes, received: float | None = None) -> Sequence[Frame | Observation]:
        """Everything complete in ``chunk`` plus the tail left from before."""
        self.counter["bytes"] += len(chunk)
        return self._parse(self._rest + chunk if self._rest else chunk, received)

    def finish(self, received: float | None = None) -> Sequence[Frame | Observation]:
        """End of stream: a last line without a newline still counts; a cut frame is bad."""
        rest, self._rest = self._rest, b""
        if not rest:
            return []
        if self.fmt == "beast":
            self.counter["bad_frames"] += 1
            return []
        return self._parse(rest + b"\n", received)

    def drop_partial(self) -> None:
        """The connection broke: the frame in flight is lost (counted bad)."""
        if self._rest:
            self.counter["bad_frames"] += 1
        self._rest = b""

    def _parse(self, buf: bytes, received: float | None) -> Sequence[Frame | Observation]:
        records: Sequence[Frame | Observation]
        if self.fmt == "beast" or self.fmt == "avr":
            parse = beast.parse if self.fmt == "beast" else avr.parse
            raw, self._rest = parse(buf, self.counter)
            records = self._stamp(raw, received)
        elif self.fmt == "sbs":
            records, self._rest = sbs.parse(
                buf, self.counter, source=self.source, tz=self.tz, received=received
            )
        elif self.fmt == "csv":
            records, self._rest = capture.parse_csv(buf, self.counter, source=self.source)
        else:
            records, self._rest = capture.parse_tsv(
                buf, self.counter, source=self.source, tz=self.tz
            )
        self.counter["frames"] += len(records)
        return records

    def _stamp(self, raw: list[RawMessage], received: float | None) -> list[Frame]:
        source = self.source
        if received is not None or self.clock is None:
            when = time.time() if received is None else received
            return [Frame(h, when, source, signal, ticks) for h, ticks, signal in raw]
        clock = self.clock
        return [Frame(h, clock(ticks), source, signal, ticks) for h, ticks, signal in raw]
