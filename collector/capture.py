"""Framing for the two capture formats that carry their own clock per line.

- ``csv``: ``unix_ts,"HEX",icao,typecode`` (extra columns ignored)
- ``tsv``: ``ISO-time<whitespace>HEX`` (tab or spaces; a time without an offset
  is read in ``tz``)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

from flightwatch.collector.framing import frame_hex, parse_lines
from flightwatch.decoder import Frame

_Row = Callable[[bytes], tuple[float, bytes]]


def parse_csv(
    buf: bytes, counter: Counter[str] | None = None, *, source: str = "csv"
) -> tuple[list[Frame], bytes]:
    """Frames on the complete lines of a ``unix_ts,"HEX",...`` capture."""
    return _parse(buf, counter, source, _csv_row)


def parse_tsv(
    buf: bytes, counter: Counter[str] | None = None, *, source: str = "tsv", tz: tzinfo = UTC
) -> tuple[list[Frame], bytes]:
    """Frames on the complete lines of an ``ISO-time<TAB>HEX`` capture."""

    def row(line: bytes) -> tuple[float, bytes]:
        stamp, digits = line.split(None, 2)[:2]
        time = datetime.fromisoformat(stamp.decode("ascii"))
        if time.tzinfo is None:
            time = time.replace(tzinfo=tz)
        return time.timestamp(), digits

    return _parse(buf, counter, source, row)


def _csv_row(line: bytes) -> tuple[float, bytes]:
    stamp, digits = line.split(b",", 2)[:2]
    return float(stamp), digits.strip().strip(b'"')


def _parse(
    buf: bytes, counter: Counter[str] | None, source: str, row: _Row
) -> tuple[list[Frame], bytes]:
    def line_frame(line: bytes) -> Frame | None:
        time, digits = row(line)
        hex_ = frame_hex(digits)
        return None if hex_ is None else Frame(hex_, time, source)

    return parse_lines(buf, counter, line_frame)
