"""Pieces every framing parser shares: the raw record, the garbage counter, line splitting.

Parsers are pure: ``parse(buf, counter) -> (records, remainder)``. The counter is a
plain :class:`collections.Counter` the caller owns; parsers only add to it, under
the keys listed in :data:`COUNTER_KEYS`.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal, NamedTuple

Format = Literal["beast", "avr", "sbs", "csv", "tsv"]
FORMATS: tuple[Format, ...] = ("beast", "avr", "sbs", "csv", "tsv")

#: Keys a parser or source counts under. ``bad_frames``: a frame cut short or a line
#: that is not a frame; ``garbage_bytes``: Beast bytes skipped while out of sync;
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

_HEX_BYTES = b"0123456789abcdefABCDEF"


class RawMessage(NamedTuple):
    """One Mode-S message as framed, before a clock is applied."""

    hex: str  # upper case, 14 or 28 digits
    ticks: int | None  # 48-bit 12 MHz counter, where the format carries one
    signal: int | None  # Beast signal byte


def new_counter() -> Counter[str]:
    """A counter with every known key present, so a snapshot always has them."""
    return Counter(dict.fromkeys(COUNTER_KEYS, 0))


def split_lines(buf: bytes, counter: Counter[str]) -> tuple[list[bytes], bytes]:
    """Complete lines (without the newline) and the unterminated tail.

    A tail longer than :data:`MAX_LINE_BYTES` is counted as one bad frame and
    dropped, so a stream without newlines cannot grow the buffer forever.
    """
    *lines, rest = buf.split(b"\n")
    if len(rest) > MAX_LINE_BYTES:
        counter["bad_frames"] += 1
        rest = b""
    return lines, rest


def frame_hex(digits: bytes) -> str | None:
    """``digits`` as an upper-case Mode-S hex string, or None unless 14 or 28 hex digits."""
    if len(digits) not in (14, 28) or digits.translate(None, _HEX_BYTES):
        return None
    return digits.decode("ascii").upper()
