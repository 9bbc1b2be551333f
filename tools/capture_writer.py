"""Write timed Mode-S frames in the capture formats flightwatch reads.

The simulator's output becomes test captures, the demo and benchmark input in
exactly the byte layouts a receiver produces (see FORMATS.md): TSV as in the
Delft recording, AVR as dump1090 port 30002, Beast binary as port 30005.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import BinaryIO, TextIO

TICKS_PER_SECOND = 12_000_000  # the receivers' free-running 12 MHz counter
_TICK_MASK = (1 << 48) - 1
_ESCAPE = b"\x1a"


def ticks(t: float, origin: float) -> int:
    """The 48-bit 12 MHz counter value at Unix time ``t`` for a counter started at ``origin``."""
    return round((t - origin) * TICKS_PER_SECOND) & _TICK_MASK


def tsv_line(t: float, message: str) -> str:
    """``ISO-time<TAB>HEX``: UTC without an offset, microseconds, as the Delft capture."""
    stamp = datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return f"{stamp}\t{message}\n"


def avr_line(message: str, counter: int | None = None) -> str:
    """``*HEX;`` or, with a counter, ``@`` + 12 hex digits + ``HEX;``."""
    if counter is None:
        return f"*{message};\n"
    return f"@{counter:012X}{message};\n"


def beast_frame(message: str, counter: int, signal: int = 0x80) -> bytes:
    """One Beast binary frame: 0x1a, type '2' or '3', counter, signal, message; 0x1a doubled."""
    kinds = {14: b"2", 28: b"3"}
    if len(message) not in kinds:
        raise ValueError(f"Beast carries 14- or 28-digit Mode-S frames, got {len(message)}")
    body = counter.to_bytes(6, "big") + bytes((signal,)) + bytes.fromhex(message)
    return _ESCAPE + kinds[len(message)] + body.replace(_ESCAPE, _ESCAPE * 2)


def write_tsv(frames: Iterable[tuple[float, str]], out: TextIO) -> int:
    """Write ``ISO-time<TAB>HEX`` lines; returns the number of frames written."""
    count = 0
    for t, message in frames:
        out.write(tsv_line(t, message))
        count += 1
    return count


def write_avr(
    frames: Iterable[tuple[float, str]],
    out: TextIO,
    timestamps: bool = True,
    origin: float | None = None,
) -> int:
    """Write AVR lines, with ``@`` counters relative to ``origin`` (default: the first frame)."""
    count = 0
    for t, message in frames:
        if origin is None:
            origin = t
        out.write(avr_line(message, ticks(t, origin) if timestamps else None))
        count += 1
    return count


def write_beast(
    frames: Iterable[tuple[float, str]],
    out: BinaryIO,
    origin: float | None = None,
    signal: int = 0x80,
) -> int:
    """Write Beast binary frames with counters relative to ``origin`` (default: the first)."""
    count = 0
    for t, message in frames:
        if origin is None:
            origin = t
        out.write(beast_frame(message, ticks(t, origin), signal))
        count += 1
    return count
