"""Pieces every framing parser shares: the raw record, the garbage counter, line splitting.

Parsers are pure: ``parse(buf, counter) -> (records, remainder)``. The counter is a
plain :class:`collections.Counter` the caller owns; parsers only add to it, under
the keys listed in :data:`COUNTER_KEYS`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Literal, TypeVar

Format = Literal["beast", "avr", "sbs", "csv", "tsv"]
FORMATS: tuple[Format, ...] = ("beast", "avr", "sbs", "csv", "tsv")

#: Keys a parser or source counts under. ``bad_frames``: a frame cut short or a line
#: that is not a frame; ``garbage_bytes``: Beast bytes skipped while out of sync, and
#: the bytes of text lines dropped for being over-long;
#: ``mode_ac``/``status``/``heartbeats``/``skipped_records``: valid records we do not use.
COUNTER_KEYS = (
    "frames",
    "bad_frames",
    "bytes",
    "reconnects",
    "garbage_bytes",
    "mode_ac",
    "status",
    "heartbeats",
    "skipped_records",
)

#: A line longer than this without a newline is noise, not a line still arriving.
MAX_LINE_BYTES = 4096
#: The tail of a line being dropped: a NUL, which no text format's line starts with.
_DROPPING = b"\x00"

_HEX_BYTES = b"0123456789abcdefABCDEF"
R = TypeVar("R")


#: One Mode-S message as framed, before a clock is applied: (hex, ticks, signal) --
#: upper-case hex of 14 or 28 digits, the 48-bit 12 MHz counter and the Beast signal
#: byte where the format carries them. A plain tuple: one is built per frame, and a
#: NamedTuple costs 0.3 µs more to build.
RawMessage = tuple[str, int | None, int | None]


def new_counter() -> Counter[str]:
    """A counter with every known key present, so a snapshot always has them."""
    return Counter(dict.fromkeys(COUNTER_KEYS, 0))


def parse_lines(
    buf: bytes, counter: Counter[str] | None, parse_line: Callable[[bytes], R | str | None]
) -> tuple[list[R], bytes]:
    """Records from the complete lines of ``buf``, and the unterminated tail.

    ``parse_line`` gets a stripped, non-blank line and returns a record, the
    counter key of a valid line that is not kept (e.g. ``"heartbeats"``), or None
    (or raises ValueError) for a bad line. A tail longer than
    :data:`MAX_LINE_BYTES` is one bad line, dropped so the buffer cannot grow forever;
    the tail returned then is a marker, and the rest of that line, however long and in
    however many reads, is dropped up to its newline without being counted again.
    """
    if counter is None:
        counter = Counter()
    *lines, rest = buf.split(b"\n")
    if lines and lines[0].startswith(_DROPPING):
        lines[0] = b""  # the end of an over-long line, counted when it was dropped
    if len(rest) > MAX_LINE_BYTES:
        if lines or not rest.startswith(_DROPPING):
            counter["bad_frames"] += 1
        counter["garbage_bytes"] += len(rest)
        rest = _DROPPING
    out: list[R] = []
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        try:
            record = parse_line(line)
        except ValueError:
            record = None
        if record is None:
            counter["bad_frames"] += 1
        elif isinstance(record, str):
            counter[record] += 1
        else:
            out.append(record)
    return out, rest


def frame_hex(digits: bytes) -> str | None:
    """``digits`` as an upper-case Mode-S hex string, or None unless 14 or 28 hex digits."""
    if len(digits) not in (14, 28) or digits.translate(None, _HEX_BYTES):
        return None
    return digits.decode("ascii").upper()
