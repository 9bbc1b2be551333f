"""AVR text framing (dump1090/readsb port 30002, ``rtl_adsb`` stdout).

One message a line: ``*HEX;``, or ``@`` + 12 hex digits of the 48-bit 12 MHz
counter + ``HEX;``. ``\\r\\n`` is tolerated; any other line is noise and counted.
"""

from __future__ import annotations

from collections import Counter

from flightwatch.collector.framing import RawMessage, frame_hex, parse_lines

_STAR, _AT, _SEMI = 0x2A, 0x40, b";"
_HEARTBEAT = b"*0000;"  # dump1090 sends it on an idle raw port
_TICK_DIGITS = 12


def parse(buf: bytes, counter: Counter[str] | None = None) -> tuple[list[RawMessage], bytes]:
    """Frames on the complete lines of ``buf`` and the unterminated last line."""
    return parse_lines(buf, counter, _message)


def _message(line: bytes) -> RawMessage | str | None:
    if not line.endswith(_SEMI):
        return None
    head = line[0]
    if head == _STAR:
        digits = frame_hex(line[1:-1])
        if digits is None:
            return "heartbeats" if line == _HEARTBEAT else None
        return (digits, None, None)
    if head == _AT:
        ticks = line[1 : 1 + _TICK_DIGITS]
        digits = frame_hex(line[1 + _TICK_DIGITS : -1])
        if digits is None or len(ticks) != _TICK_DIGITS:
            return None
        return (digits, int(ticks, 16), None)
    return None
