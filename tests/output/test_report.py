"""The report's timeline from flights as the detection work (issue 19) grades them: a
probable arrival at UMMS, four and a half hours on the ground, a departure; grades,
reasons, uncertainty, time on the ground, gaps, sources, and text from the air escaped."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from flightwatch.db.flight_queries import FlightRow
from flightwatch.output.report import (
    ReportPosition,
    build_report,
    report_html,
    report_json,
    report_markdown,
    source_kind,
)

T0 = datetime(2020, 8, 18, 13, 0, tzinfo=UTC)
M = timedelta(minutes=1)
CALLSIGN = "<b>|RSD|</b>"  # markup and a table pipe, as a forged callsign might be
REASON = ("lost at 13,975 ft 67 km E of UMMS descending 1,800 fpm towards it; heard again "
          "4 h 34 min later climbing through 7,600 ft 25 km NW of UMMS")


def _positions(start: datetime, minutes: int, source: str, lon: float) -> list[ReportPosition]:
    return [ReportPosition(start + i * M, 54.0, lon - i * 0.05, 30_000 - i * 300, 420, -1_800,
                           False, source) for i in range(minutes)]


def _flights() -> tuple[list[FlightRow], list[list[ReportPosition]]]:
    inbound = _positions(T0, 40, "vilnius/beast:127.0.0.1:30005", 30.0)
    inbound += _positions(T0 + 50 * M, 5, "vilnius/beast:127.0.0.1:30005", 28.4)  # a gap
    outbound = _positions(T0 + 6 * 60 * M, 30, "adsbx", 27.5)
    arrival = FlightRow(
        "4B8D28", "RA-64523", CALLSIGN, None, None, "UMMS", T0 + 62 * M, inbound[0].time,
        inbound[-1].time, 30_000, len(inbound), ("belarus=2000",), None, "probable",
        arrival_uncertainty_s=360, arrival_reason=REASON)
    departure = FlightRow(
        "4B8D28", "RA-64523", CALLSIGN, "UMMS", T0 + 5 * 60 * M + 36 * M, None, None,
        outbound[0].time, outbound[-1].time, 30_000, len(outbound), (), "inferred", None,
        turnaround_s=(4 * 60 + 34) * 60, departure_candidates=("UMMS", "UMLI"))
    return [arrival, departure], [inbound, outbound]


def _report():
    flights, tracks = _flights()
    return build_report(registration="RA-64523", icaos=["4B8D28"], since=T0,
                        until=T0 + 24 * 60 * M, flights=flights,
                        positions=list(zip(flights, tracks, strict=True)), alerts=[],
                        fences=[], layers=None, generated=T0 + 48 * 60 * M)


def test_the_turnaround_story_with_grades_reasons_and_time_on_the_ground() -> None:
    lines = _report().lines
    kinds = [line.kind for line in lines]
    # In time order: the arrival estimated after the last position heard, the departure
    # before the first one heard.
    assert kinds == ["first_heard", "gap", "last_heard", "gap", "arrival", "on_ground",
                     "departure", "first_heard", "last_heard"]
    arrival = lines[4]
    assert (arrival.grade, arrival.reason) == ("probable", REASON)
    assert arrival.text == "landed at UMMS at 14:02Z ± 6 min"
    assert arrival.figures == {"airport": "UMMS", "time": "2020-08-18 14:02:00Z",
                               "uncertainty_s": 360}
    assert lines[5].text == "on the ground at UMMS for 4 h 34 min"
    assert lines[1].text == "not heard for 11 min (until 13:50:00Z)"
    assert lines[3].text == "not heard for 5 h 06 min between flights"
    departure = lines[6]
    assert departure.text == "took off from UMMS or UMLI at 18:36Z"  # two fit alike
    assert departure.grade == "inferred" and departure.source == "adsbx (aggregator)"
    assert lines[0].source == "vilnius/beast:127.0.0.1:30005 (receiver)"
    assert lines[0].text.startswith("first heard at 13:00:00Z, 54.0000 N 30.0000 E, "
                                    "30,000 ft, 420 kt, -1,800 fpm")


def test_every_format_keeps_text_from_the_air_as_text() -> None:
    report = _report()
    page = report_html(report)
    assert CALLSIGN not in page and "&lt;b&gt;|RSD|&lt;/b&gt;" in page
    markdown = report_markdown(report)
    assert "<b>" not in markdown and "\\|RSD\\|" in markdown
    assert all(line.count(" | ") == 6 for line in markdown.splitlines()
               if line.startswith("| 2020"))  # no cell split by the pipe
    data = json.loads(report_json(report))
    assert data["flights"][0]["callsign"] == CALLSIGN  # JSON: as received, for machines
    assert data["timeline"][4]["reason"] == REASON


def test_sources_are_named_by_kind() -> None:
    assert source_kind("import/globe_history_2020_08_18.tar") == "imported archive"
    assert source_kind("demo/replay:demo_minsk.tsv") == "replayed capture"
    assert source_kind("local/sbs:127.0.0.1:30003") == "receiver"
    assert source_kind("opensky") == "aggregator"
    assert source_kind(None) == "unknown source"
