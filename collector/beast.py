"""Beast binary framing (dump1090/readsb port 30005).

A frame is ``0x1a``, a type byte, a 6-byte 12 MHz counter, a signal byte and the
message; any ``0x1a`` inside the body is doubled. Most frames have no escape, so
the hot path finds the next marker with ``bytes.find`` and slices; only frames
with an escaped byte take the byte-by-byte path.
"""

from __future__ import annotations

from collections import Counter

from flightwatch.collector.framing import RawMessage

_MARK = 0x1A
_MARK_BYTE = b"\x1a"
_MODE_AC, _SHORT, _LONG, _STATUS = 0x31, 0x32, 0x33, 0x34
# Body length after unescaping: counter (6) + signal (1) + message.
# Status frames (Radarcape) carry 14 bytes like a long frame.
_BODY_LEN = {_MODE_AC: 9, _SHORT: 14, _LONG: 21, _STATUS: 21}


def parse(buf: bytes, counter: Counter[str] | None = None) -> tuple[list[RawMessage], bytes]:
    """Mode-S frames (types '2' and '3') in ``buf`` and the unconsumed tail.

    Mode A/C and status frames are skipped and counted. Bytes before a frame
    start (a lone ``0x1a`` followed by a known type) are counted as garbage; a
    frame interrupted by a new marker is counted as bad. A frame that runs past
    the end of ``buf`` is returned in the remainder, from its marker on.
    """
    if counter is None:
        counter = Counter()
    out: list[RawMessage] = []
    find = buf.find
    size = len(buf)
    i = 0
    while True:
        start = find(_MARK_BYTE, i)
        if start < 0:
            if size > i:
                counter["garbage_bytes"] += size - i
            return out, b""
        if start > i:
            counter["garbage_bytes"] += start - i
        if start + 1 >= size:
            return out, buf[start:]
        kind = buf[start + 1]
        body_len = _BODY_LEN.get(kind)
        if body_len is None:
            # "1a 1a" out of sync is an escaped data byte; "1a xx" an unknown type.
            counter["garbage_bytes"] += 2
            i = start + 2
            continue
        body_start = start + 2
        end = body_start + body_len
        if end <= size and find(_MARK_BYTE, body_start, end) < 0:
            body = buf[body_start:end]
            i = end
        else:
            unescaped, i = _unescape(buf, body_start, body_len)
            if unescaped is None:
                if i < 0:
                    return out, buf[start:]
                counter["bad_frames"] += 1
                continue
            body = unescaped
        if kind in (_SHORT, _LONG):
            out.append((body[7:].hex().upper(), int.from_bytes(body[:6]), body[6]))
        elif kind == _MODE_AC:
            counter["mode_ac"] += 1
        else:
            counter["status"] += 1


def _unescape(buf: bytes, j: int, body_len: int) -> tuple[bytes | None, int]:
    """The unescaped body from ``buf[j]`` and the index after it.

    ``(None, -1)`` when ``buf`` ends first (wait for more bytes); ``(None, k)``
    when a lone marker at ``k`` cuts the frame short (resynchronise there).
    """
    body = bytearray()
    size = len(buf)
    while len(body) < body_len:
        if j >= size:
            return None, -1
        byte = buf[j]
        if byte == _MARK:
            if j + 1 >= size:
                return None, -1
            if buf[j + 1] != _MARK:
                return None, j
            j += 2
        else:
            j += 1
        body.append(byte)
    return bytes(body), j
