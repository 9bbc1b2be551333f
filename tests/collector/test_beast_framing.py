"""Beast framing edge by edge, with plain bytes."""

from __future__ import annotations

from collections import Counter

from beast_bytes import LONG, MODE_AC, SHORT, STATUS, beast_frame

from flightwatch.collector import RawMessage, beast

LONG_HEX = "8D71BE349909D21BB004B4E8F29A"  # DF17 from one_aircraft_71be34.beast
SHORT_HEX = "5D71BE3409274B"  # DF11 from the same capture
WITH_1A_HEX = "8D4CA2D61A0D5E1A2AB86E4D5B3A"  # a long message holding two 0x1a bytes


def parse(buf: bytes) -> tuple[list[RawMessage], bytes, Counter[str]]:
    counter: Counter[str] = Counter()
    frames, rest = beast.parse(buf, counter)
    return frames, rest, counter


def test_short_and_long_frames_keep_counter_and_signal() -> None:
    buf = beast_frame(LONG, 0x030BF1C1F346, 0x6E, bytes.fromhex(LONG_HEX)) + beast_frame(
        SHORT, 5, 200, bytes.fromhex(SHORT_HEX)
    )
    frames, rest, counter = parse(buf)
    assert frames == [
        (LONG_HEX, 0x030BF1C1F346, 0x6E),
        (SHORT_HEX, 5, 200),
    ]
    assert rest == b""
    assert +counter == Counter()


def test_the_first_bytes_of_the_real_capture() -> None:
    # The first frame of one_aircraft_71be34.beast, read off a hex dump.
    buf = bytes.fromhex("1a33030bf1c1f3466e8d71be349909d21bb004b4e8f29a")
    frames, rest, _ = parse(buf)
    assert frames == [(LONG_HEX, 3349835543366, 110)]
    assert rest == b""


def test_escaped_signal_and_message_bytes() -> None:
    # Worked example of an escaped short frame (adsbee's Beast notes): the signal
    # byte and one message byte are 0x1a, each sent twice.
    buf = bytes.fromhex("1a32083e27b6cb6a1a1a00a1841a1ac3b31d")
    frames, rest, _ = parse(buf)
    assert frames == [("00A1841AC3B31D", 9063047285610, 0x1A)]
    assert rest == b""


def test_escaped_timestamp_bytes() -> None:
    ticks = 0x1A001A1A0001
    buf = beast_frame(SHORT, ticks, 7, bytes.fromhex(SHORT_HEX))
    assert buf.count(b"\x1a\x1a") == 3
    frames, _, _ = parse(buf)
    assert frames == [(SHORT_HEX, ticks, 7)]


def test_escaped_message_bytes_in_a_long_frame() -> None:
    frames, _, _ = parse(beast_frame(LONG, 1, 2, bytes.fromhex(WITH_1A_HEX)))
    assert frames == [(WITH_1A_HEX, 1, 2)]


def test_mode_ac_and_status_frames_are_skipped_and_counted() -> None:
    buf = (
        beast_frame(MODE_AC, 1, 9, b"\x12\x34")
        + beast_frame(SHORT, 2, 9, bytes.fromhex(SHORT_HEX))
        + beast_frame(STATUS, 3, 9, bytes(range(14)))
        + beast_frame(LONG, 4, 9, bytes.fromhex(LONG_HEX))
    )
    frames, rest, counter = parse(buf)
    assert [h for h, _t, _s in frames] == [SHORT_HEX, LONG_HEX]
    assert (counter["mode_ac"], counter["status"], counter["bad_frames"]) == (1, 1, 0)
    assert rest == b""


def test_garbage_between_frames_is_skipped_and_counted() -> None:
    short = beast_frame(SHORT, 2, 9, bytes.fromhex(SHORT_HEX))
    long_ = beast_frame(LONG, 4, 9, bytes.fromhex(LONG_HEX))
    buf = b"hello" + short + b"\x00\xff\x1a\x1a\x32junk" + long_ + b"\x1a\x99" + short
    frames, rest, counter = parse(buf)
    assert [h for h, _t, _s in frames] == [SHORT_HEX, LONG_HEX, SHORT_HEX]
    # "1a 1a 32" out of sync is an escaped byte and a data byte, not a frame start;
    # "1a 99" is an unknown type.
    assert counter["garbage_bytes"] == len(b"hello") + len(b"\x00\xff\x1a\x1a\x32junk") + 2
    assert rest == b""


def test_resynchronises_when_joining_mid_frame() -> None:
    frames_in = [
        beast_frame(LONG, 1, 1, bytes.fromhex(WITH_1A_HEX)),
        beast_frame(SHORT, 2, 2, bytes.fromhex(SHORT_HEX)),
        beast_frame(LONG, 3, 3, bytes.fromhex(LONG_HEX)),
    ]
    stream = b"".join(frames_in)
    frames, rest, counter = parse(stream[9:])  # inside the first frame's message
    assert frames == [(SHORT_HEX, 2, 2), (LONG_HEX, 3, 3)]
    assert counter["garbage_bytes"] == len(frames_in[0]) - 9
    assert rest == b""


def test_frame_cut_short_by_a_new_marker_is_bad_and_the_next_one_kept() -> None:
    cut = beast_frame(LONG, 1, 1, bytes.fromhex(LONG_HEX))[:12]
    buf = cut + beast_frame(SHORT, 2, 2, bytes.fromhex(SHORT_HEX))
    frames, rest, counter = parse(buf)
    assert frames == [(SHORT_HEX, 2, 2)]
    assert counter["bad_frames"] == 1
    assert rest == b""


def test_truncated_last_frame_stays_in_the_remainder() -> None:
    whole = beast_frame(SHORT, 2, 2, bytes.fromhex(SHORT_HEX))
    last = beast_frame(LONG, 1, 1, bytes.fromhex(WITH_1A_HEX))
    frames, rest, counter = parse(whole + last[:-3])
    assert frames == [(SHORT_HEX, 2, 2)]
    assert rest == last[:-3]
    assert +counter == Counter()
    frames, rest, _ = parse(rest + last[-3:])
    assert frames == [(WITH_1A_HEX, 1, 1)]
    assert rest == b""


def test_a_lone_marker_at_the_end_waits_for_its_type() -> None:
    frames, rest, counter = parse(b"\x1a")
    assert (frames, rest, +counter) == ([], b"\x1a", Counter())


def test_every_split_point_gives_the_same_frames() -> None:
    stream = b"".join(
        [
            beast_frame(LONG, 0x1A1A1A1A1A1A, 0x1A, bytes.fromhex(WITH_1A_HEX)),
            beast_frame(MODE_AC, 7, 1, b"\x1a\x00"),
            beast_frame(SHORT, 2, 2, bytes.fromhex(SHORT_HEX)),
            beast_frame(LONG, 3, 3, bytes.fromhex(LONG_HEX)),
        ]
    )
    expected, _, _ = parse(stream)
    assert len(expected) == 3
    for split in range(len(stream) + 1):
        first, rest, counter = parse(stream[:split])
        second, rest = beast.parse(rest + stream[split:], counter)
        assert first + second == expected, split
        assert rest == b""
        assert counter["garbage_bytes"] == counter["bad_frames"] == 0, split
