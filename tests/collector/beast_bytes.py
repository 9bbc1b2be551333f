"""Build Beast frames by hand for tests: an encoder written from FORMATS.md, not the parser."""

from __future__ import annotations

MARK = b"\x1a"
MODE_AC, SHORT, LONG, STATUS = b"1", b"2", b"3", b"4"


def beast_frame(kind: bytes, ticks: int, signal: int, message: bytes) -> bytes:
    """One frame: marker, type, then the 6-byte counter, signal and message, 0x1a doubled."""
    body = ticks.to_bytes(6, "big") + bytes([signal]) + message
    return MARK + kind + body.replace(MARK, MARK + MARK)
