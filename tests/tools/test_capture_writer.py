"""Capture writers reproduce real receiver output byte for byte."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tools import capture_writer as cw
from tools.encoder import df5_identity, identification

_BEAST_LENGTHS = {0x31: 2, 0x32: 7, 0x33: 14}


def read_beast(data: bytes) -> Iterator[tuple[int, int, int, bytes]]:
    """(type, counter, signal, message) of each frame of a clean Beast stream."""
    i = 0
    while i < len(data):
        assert data[i] == 0x1A
        kind = data[i + 1]
        i += 2
        wanted = 7 + _BEAST_LENGTHS[kind]
        body = bytearray()
        while len(body) < wanted:
            byte = data[i]
            i += 2 if byte == 0x1A else 1
            if byte == 0x1A:
                assert data[i - 1] == 0x1A, "a lone 0x1a inside a frame"
            body.append(byte)
        yield kind, int.from_bytes(body[:6], "big"), body[6], bytes(body[7:])


def test_beast_writer_reproduces_a_real_capture(capture: Callable[[str], Path]) -> None:
    original = capture("one_aircraft_71be34.beast").read_bytes()
    rebuilt = b"".join(
        cw.beast_frame(message.hex().upper(), counter, signal)
        for _, counter, signal, message in read_beast(original)
    )
    assert len(list(read_beast(original))) == 1004
    assert rebuilt == original


def test_beast_escapes_0x1a_in_counter_signal_and_message() -> None:
    message = "8D1A1A1A" + identification("1A1A1A", "RSD016")[8:]
    frame = cw.beast_frame(message, 0x1A0000001A1A, signal=0x1A)
    assert frame.startswith(b"\x1a3\x1a\x1a\x00\x00\x00\x1a\x1a\x1a\x1a\x1a\x1a")
    assert list(read_beast(frame)) == [(0x33, 0x1A0000001A1A, 0x1A, bytes.fromhex(message))]
    with pytest.raises(ValueError):
        cw.beast_frame("8D1A", 0)


def test_write_beast_counts_12_mhz_ticks_from_the_first_frame() -> None:
    t0 = datetime(2020, 8, 19, 9, 40, tzinfo=UTC).timestamp()
    frames = [(t0, identification("157710", "RSD016")), (t0 + 1.5, df5_identity("157710", "4615"))]
    out = io.BytesIO()
    assert cw.write_beast(frames, out) == 2
    parsed = list(read_beast(out.getvalue()))
    assert [(kind, counter) for kind, counter, _, _ in parsed] == [(0x33, 0), (0x32, 18_000_000)]
    assert [m.hex().upper() for *_, m in parsed] == [hx for _, hx in frames]


def test_avr_without_timestamps_matches_a_real_capture(capture: Callable[[str], Path]) -> None:
    original = capture("lax_avr_742.txt").read_text()
    messages = re.findall(r"^\*([0-9A-F]+);$", original, flags=re.MULTILINE)
    out = io.StringIO()
    assert cw.write_avr(((0.0, m) for m in messages), out, timestamps=False) == 742
    assert out.getvalue().splitlines() == original.splitlines()


def test_avr_counters_wrap_at_48_bits() -> None:
    out = io.StringIO()
    cw.write_avr([(10.0, "5D4840D6F87407"), (12.25, "5D4840D6F87407")], out, origin=10.0)
    assert out.getvalue() == "@0000000000005D4840D6F87407;\n@0000019BFCC05D4840D6F87407;\n"
    assert cw.ticks(2**48 / cw.TICKS_PER_SECOND + 1.0, 0.0) == cw.TICKS_PER_SECOND


def test_tsv_lines_look_like_the_delft_capture(capture: Callable[[str], Path]) -> None:
    real_time = capture("delft_2015_mixed_modes.txt").read_text().split()[0]
    t = datetime.fromisoformat(real_time).replace(tzinfo=UTC).timestamp()
    out = io.StringIO()
    assert cw.write_tsv([(t, "5D4840D6F87407")], out) == 1
    assert out.getvalue() == f"{real_time}\t5D4840D6F87407\n"
