"""AVR, SBS and the two capture line formats, with plain bytes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest

from flightwatch.collector import avr, capture, sbs
from flightwatch.collector.framing import MAX_LINE_BYTES
from flightwatch.decoder import Frame, Observation

LONG_HEX = "8D406B902015A678D4D220AA4BDA"
SHORT_HEX = "5D71BE3409274B"
HOUR = timedelta(hours=1)


def test_avr_lines_with_and_without_counter() -> None:
    buf = (
        b"*8D406B902015A678D4D220AA4BDA;\n"
        b"@0000A1B2C3D45d71be3409274b;\r\n"
        b"\n"
        b"*0000;\n"  # dump1090's heartbeat on an idle port
    )
    counter: Counter[str] = Counter()
    frames, rest = avr.parse(buf, counter)
    assert frames == [
        (LONG_HEX, None, None),
        (SHORT_HEX, 0xA1B2C3D4, None),
    ]
    assert rest == b""
    assert +counter == Counter({"heartbeats": 1})


@pytest.mark.parametrize(
    "line",
    [
        b"*8D406B902015A678D4D220AA4BD;",  # 27 digits
        b"*8D406B902015A678D4D220AA4BDA",  # no ';'
        b"*8D406B902015A678D4D220AA4BGA;",  # not hex
        b"*5D71BE3409;",  # 10 digits
        b"@0000A1B25d71be3409274b;",  # counter too short
        b"@0000A1B2C3DZ5d71be3409274b;",  # counter not hex
        b"8D406B902015A678D4D220AA4BDA;",  # no '*'
        b"Found 1 device(s):",
        b"*8D406B902015A678D4D220AA4BDA; trailing words",
    ],
)
def test_avr_noise_lines_are_counted(line: bytes) -> None:
    counter: Counter[str] = Counter()
    frames, rest = avr.parse(line + b"\n*5D71BE3409274B;\n", counter)
    assert frames == [(SHORT_HEX, None, None)]
    assert counter["bad_frames"] == 1
    assert rest == b""


def test_avr_partial_last_line_is_the_remainder() -> None:
    frames, rest = avr.parse(b"*5D71BE3409274B;\n*8D406B9020")
    assert frames == [(SHORT_HEX, None, None)]
    assert rest == b"*8D406B9020"


def test_a_line_that_never_ends_does_not_grow_the_buffer() -> None:
    counter: Counter[str] = Counter()
    frames, rest = avr.parse(b"x" * (MAX_LINE_BYTES + 1), counter)
    assert frames == [] and len(rest) <= 1 and counter["bad_frames"] == 1


@pytest.mark.parametrize("huge", [b"*" + b"8D" * 500_000 + b";", b"MSG,3," + b"9" * 1_000_000])
def test_a_megabyte_line_read_in_pieces_is_one_bad_line_and_the_next_line_counts(
        huge: bytes) -> None:
    counter: Counter[str] = Counter()
    stream = huge + b"\n" + b"*" + SHORT_HEX.encode() + b";\n"
    rest, out, largest = b"", [], 0
    for i in range(0, len(stream), 65536):  # as a socket delivers it
        frames, rest = avr.parse(rest + stream[i:i + 65536], counter)
        out += frames
        largest = max(largest, len(rest))
    assert largest <= MAX_LINE_BYTES
    assert counter["bad_frames"] == 1
    assert out == [(SHORT_HEX, None, None)]


# BaseStation lines: the first four and the AIR line from the node-sbs1 README (as
# Kinetic's SBS-1 sent them), the surface position written here in the same layout.
SBS_LINES = b"""\
MSG,1,145,256,7404F2,11267,2008/11/28,23:48:18.611,2008/11/28,23:53:19.161,RJA1118,,,,,,,,,,,
MSG,3,496,211,4CA2D6,10057,2008/11/28,14:53:50.594,2008/11/28,14:58:51.153,,37000,,,51.45735,-1.02826,,,0,0,0,0
MSG,4,496,469,4CA767,27854,2010/02/19,17:58:13.039,2010/02/19,17:58:13.368,,,288.6,103.2,,,-832,,,,,
MSG,6,496,237,4CA215,27864,2010/02/19,17:58:12.846,2010/02/19,17:58:13.368,,33325,,,,,,0271,0,0,0,0
MSG,2,1,1,400CB6,1,2008/10/13,12:24:32.414,2008/10/13,12:28:52.074,,0,76.4,258.3,54.05735,-4.38826,,,,,,-1
AIR,,496,5906,400F01,27931,2010/02/19,18:06:07.128,2010/02/19,18:06:07.128
"""


def test_sbs_messages_become_observations_on_their_generated_time() -> None:
    counter: Counter[str] = Counter()
    observations, rest = sbs.parse(SBS_LINES, counter, source="sbs:test")
    assert rest == b""
    assert counter["skipped_records"] == 1 and counter["bad_frames"] == 0
    ident, position, velocity, squawk, surface = observations
    assert ident == Observation(
        icao="7404F2",
        time=datetime(2008, 11, 28, 23, 48, 18, 611000, UTC),
        source="sbs:test",
        callsign="RJA1118",
    )
    assert (position.icao, position.altitude_ft, position.lat, position.lon) == (
        "4CA2D6",
        37000.0,
        51.45735,
        -1.02826,
    )
    assert position.on_ground is False
    assert (velocity.ground_speed_kt, velocity.track_deg, velocity.vertical_rate_fpm) == (
        288.6,
        103.2,
        -832.0,
    )
    assert velocity.on_ground is None
    assert (squawk.squawk, squawk.altitude_ft) == ("0271", 33325.0)
    assert (surface.on_ground, surface.lat, surface.ground_speed_kt) == (True, 54.05735, 76.4)


def test_sbs_time_zone_and_receive_time() -> None:
    line = SBS_LINES.splitlines(keepends=True)[0]
    cet = timezone(HOUR)
    (local,), _ = sbs.parse(line, tz=cet)
    assert local.time == datetime(2008, 11, 28, 22, 48, 18, 611000, UTC)
    (live,), _ = sbs.parse(line, received=1_700_000_000.5)
    assert live.time == datetime.fromtimestamp(1_700_000_000.5, UTC)


@pytest.mark.parametrize(
    "line",
    [
        b"MSG,3,496,211,4CA2D6,10057,2008/11/28,14:53:50.594",  # too few fields
        b"MSG,9,496,211,4CA2D6,10057,2008/11/28,14:53:50.594,,,,37000,,,,,,,,,,,",  # no type 9
        b"MSG,3,496,211,~4CA2D6,10057,2008/11/28,14:53:50.594,,,,37000,,,,,,,,,,,",  # not ICAO
        b"MSG,3,496,211,4CA2D6,10057,2008/11/28,14:53:50.594,,,,high,,,,,,,,,,,",  # not a number
        b"MSG,3,496,211,4CA2D6,10057,,,,,,37000,,,,,,,,,,,",  # no time at all
        b"MSG,3,496,211,4CA2D6,10057,2008/13/28,14:53:50.594,,,,37000,,,,,,,,,,,",  # month 13
        # Hostile numbers: float() reads nan and inf; no aircraft has these values.
        b"MSG,3,496,211,4CA2D6,10057,2008/11/28,14:53:50.594,,,,37000,,,nan,nan,,,,,,",
        b"MSG,3,496,211,4CA2D6,10057,2008/11/28,14:53:50.594,,,,inf,,,51.4,-1.0,,,,,,",
        b"MSG,3,496,211,4CA2D6,10057,2008/11/28,14:53:50.594,,,,37000,,,91.0,-1.0,,,,,,",
        b"MSG,3,496,211,4CA2D6,10057,2008/11/28,14:53:50.594,,,,1e9,,,51.4,-1.0,,,,,,",
        b"MSG,4,496,211,4CA2D6,10057,2008/11/28,14:53:50.594,,,,,-5,90,,,0,,,,,",
        b"MSG,4,496,211,4CA2D6,10057,2008/11/28,14:53:50.594,,,,,400,720,,,0,,,,,",
        b"hello",
    ],
)
def test_sbs_bad_lines_are_counted(line: bytes) -> None:
    counter: Counter[str] = Counter()
    observations, _ = sbs.parse(line + b"\n", counter)
    assert observations == []
    assert counter["bad_frames"] == 1


def test_csv_capture_lines() -> None:
    buf = (
        b'1457996400,"8D406B909945DE10000405999BE4","406B90",19\n'
        b'1457996401.5,"5d71be3409274b","71BE34",0\r\n'
        b'1457996402,"8D406B90",406B90,19\n'
        b"not,a,frame\n"
        b"14579964"
    )
    counter: Counter[str] = Counter()
    frames, rest = capture.parse_csv(buf, counter, source="csv:test")
    assert frames == [
        Frame("8D406B909945DE10000405999BE4", 1457996400.0, "csv:test"),
        Frame(SHORT_HEX, 1457996401.5, "csv:test"),
    ]
    assert counter["bad_frames"] == 2
    assert rest == b"14579964"


def test_tsv_capture_lines_tab_or_spaces_and_zones() -> None:
    buf = (
        b"2015-03-03T16:12:24.846557    5D4840D6F87407\n"
        b"2015-03-03T16:12:25\t8D406B909945DE10000405999BE4\n"
        b"2015-03-03T17:12:26+01:00\t5D4840D6F87407\n"
        b"yesterday\t5D4840D6F87407\n"
    )
    counter: Counter[str] = Counter()
    frames, _ = capture.parse_tsv(buf, counter)
    start = datetime(2015, 3, 3, 16, 12, 24, 846557, UTC).timestamp()
    assert [(f.hex, f.time) for f in frames] == [
        ("5D4840D6F87407", start),
        ("8D406B909945DE10000405999BE4", start + 0.153443),
        ("5D4840D6F87407", start + 1.153443),
    ]
    assert counter["bad_frames"] == 1
    (shifted,), _ = capture.parse_tsv(buf.splitlines(keepends=True)[0], tz=timezone(-HOUR))
    assert shifted.time == start + 3600
