"""Aggregator items are attacker-controlled: each implausible one is refused alone, with a
counted reason, and the rest of the answer is used; memory stays bounded whatever the count;
a plausible one whose text is longer than its column costs no position (SQLite and
PostgreSQL).

Answers are served by a real HTTP server (pytest-httpserver) as raw JSON text, since
Python's json module accepts the NaN and Infinity literals a hostile server may send.
"""

from __future__ import annotations

import io
import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import text
from stored_positions import stored_rows

from flightwatch.cli.status import StatusReport, write_table
from flightwatch.collector.aggregators import BadResponse, OpenSkySource
from flightwatch.collector.aggregators.aircraft_json import AircraftJsonSource
from flightwatch.collector.aggregators.http import HttpClient, NewerOnly
from flightwatch.collector.plausible import MAX_AIRCRAFT
from flightwatch.daemon.pipeline import build_pipeline
from flightwatch.daemon.status import StatusCollector, StatusSnapshot
from flightwatch.db import close, connect
from flightwatch.decoder import Observation
from flightwatch.settings import load_settings

GOOD = '{"hex": "4b1805", "lat": 53.9, "lon": 27.6, "alt_baro": 35000, "gs": 450, ' \
       '"track": 90, "baro_rate": -64, "flight": "SWR123", "seen_pos": 1.5}'
#: (raw JSON entry, the reason it must be refused with)
HOSTILE = [
    ('{"hex": "4b1806", "lat": NaN, "lon": 27.6}', "not a finite number"),
    ('{"hex": "4b1807", "alt_baro": Infinity}', "not a finite number"),
    ('{"hex": "4b1808", "gs": -Infinity}', "not a finite number"),
    ('{"hex": "4b1809", "lat": 91.0, "lon": 27.6}', "position out of range"),
    ('{"hex": "4b180a", "lat": 53.0, "lon": 1e308}', "position out of range"),
    ('{"hex": "4b180b", "alt_baro": 1000000000}', "altitude out of range"),
    ('{"hex": "4b180c", "alt_geom": -90000}', "altitude out of range"),
    ('{"hex": "4b180d", "gs": 100000}', "speed out of range"),
    ('{"hex": "4b180e", "gs": -5}', "speed out of range"),
    ('{"hex": "4b180f", "track": 720}', "track out of range"),
    ('{"hex": "4b1810", "baro_rate": 9000000}', "vertical rate out of range"),
    ('{"hex": "4b18050"}', "not a 24-bit address"),
    ('{"hex": "zzzzzz"}', "not a 24-bit address"),
    ('{"hex": "1000000"}', "not a 24-bit address"),
    ('{"hex": "4b1811", "seen": -86400}', "time out of range"),
    ('{"hex": "4b1812", "seen": 10000000000}', "time out of range"),
    ('{"hex": "4b1813", "seen": 1e308}', "time out of range"),
    ('{"hex": "4b1814", "flight": "' + "A" * 100_000 + '"}', "text too long"),
    ('{"hex": "4b1816", "r": "RA-\\ud800"}', "text not valid Unicode"),
    ('{"hex": ["4b1815"]}', "malformed"),
]


def aircraft_json(httpserver: HTTPServer, entries: list[str], now: float | None = None,
                  path: str = "/aircraft.json") -> AircraftJsonSource:
    now = time.time() if now is None else now
    httpserver.expect_request(path).respond_with_data(
        f'{{"now": {now!r}, "aircraft": [{", ".join(entries)}]}}',
        content_type="application/json")
    return AircraftJsonSource(url=httpserver.url_for(path), name="hostile",
                              client=HttpClient(name="hostile", retries=0, timeout=(2, 5)))


def test_each_implausible_entry_is_refused_alone_with_its_reason(
        httpserver: HTTPServer) -> None:
    source = aircraft_json(httpserver, [GOOD] + [entry for entry, _reason in HOSTILE])

    observations = source.poll()

    assert [o.icao for o in observations] == ["4B1805"]
    good = observations[0]
    assert (good.lat, good.lon, good.altitude_ft, good.callsign) == (53.9, 27.6, 35000.0, "SWR123")
    expected: dict[str, int] = {}
    for _entry, reason in HOSTILE:
        expected[reason] = expected.get(reason, 0) + 1
    rejected = {k.removeprefix("rejected:"): v for k, v in source.stats.items()
                if k.startswith("rejected:")}
    assert rejected == expected
    assert source.stats["frames"] == 1 + len(HOSTILE)
    assert source.stats["bad_frames"] == len(HOSTILE)


def test_an_answer_time_far_off_fails_the_poll_and_the_next_answer_is_used(
        httpserver: HTTPServer) -> None:
    for now in (1e20, 1e13 * 1000, -5.0):  # year 3e12; ms that are still absurd; before 1970
        source = aircraft_json(httpserver, [GOOD], now=now)
        with pytest.raises(BadResponse, match="time out of range"):
            source.poll()
        httpserver.clear()
    assert [o.icao for o in aircraft_json(httpserver, [GOOD]).poll()] == ["4B1805"]


def test_100000_aircraft_in_one_answer_are_cut_at_the_limit_and_counted(
        httpserver: HTTPServer) -> None:
    entries = [json.dumps({"hex": f"{i:06x}", "lat": 53.0, "lon": 27.0, "seen_pos": 1})
               for i in range(1, 100_001)]
    source = aircraft_json(httpserver, entries)

    observations = source.poll()

    assert len(observations) == MAX_AIRCRAFT
    assert source.stats["rejected:over the aircraft limit of an answer"] == 100_000 - MAX_AIRCRAFT
    assert source.stats["frames"] == 100_000


def test_millions_of_tiny_objects_within_the_body_cap_are_refused_unparsed(
        httpserver: HTTPServer, tmp_path: Path) -> None:
    # 7.6 MB, under the 8 MB cap; parsed whole it would take ~140 MB of memory.
    source = aircraft_json(httpserver, ["{}"] * 1_900_000)
    with pytest.raises(BadResponse, match="more than 200,000 JSON objects"):
        source.poll()
    # The same answer as a file (readsb's --write-json folder): the same limits.
    answer = tmp_path / "aircraft.json"
    answer.write_text('{"aircraft": [' + "{}," * 1_900_000 + "{}]}", encoding="utf-8")
    with pytest.raises(BadResponse, match="more than 200,000 JSON objects"):
        AircraftJsonSource(path=answer).poll()
    answer.write_text('{"aircraft": [' + " " * 9_000_000 + "]}", encoding="utf-8")
    with pytest.raises(BadResponse, match="more than max_body_mb allows"):
        AircraftJsonSource(path=answer).poll()


def test_a_source_inventing_addresses_every_poll_keeps_bounded_memory() -> None:
    fresh = NewerOnly(max_aircraft=1000)
    start = datetime.now(UTC)
    for poll in range(20):
        batch = [Observation(f"{poll * 400 + i:06X}", start + timedelta(seconds=poll), "x")
                 for i in range(400)]
        assert len(fresh(batch)) == 400  # every one is new, and passed on
        assert len(fresh) <= 1000
    # The newest are still known: a repeat of the last poll passes nothing.
    assert fresh(batch) == []


def test_opensky_state_vectors_with_hostile_values(httpserver: HTTPServer) -> None:
    now = int(time.time())
    good = ["4b1805", "SWR123  ", "Switzerland", now - 2, now - 1, 27.6, 53.9, 10668.0, False,
            231.5, 90.0, -0.3, None, 10700.0, "1000", False, 0]
    states = [json.dumps(good)]
    for index, value in ((5, "NaN"), (6, "Infinity"), (7, "1e9"), (9, "-1"), (10, "400"),
                         (11, "1e6"), (3, "1"), (3, str(now + 86_400)), (0, '"4b18051"'),
                         (1, json.dumps("X" * 1000))):
        hostile = [json.dumps(v) for v in good]
        hostile[index] = value
        states.append("[" + ", ".join(hostile) + "]")
    httpserver.expect_request("/states/all").respond_with_data(
        f'{{"time": {now}, "states": [{", ".join(states)}]}}',
        content_type="application/json")
    source = OpenSkySource((50.0, 20.0, 56.0, 33.0), base_url=httpserver.url_for("/"),
                           client=HttpClient(name="opensky", retries=0, timeout=(2, 5)))

    observations = source.poll()

    assert [o.icao for o in observations] == ["4B1805"]
    assert {k: v for k, v in source.stats.items() if k.startswith("rejected:")} == {
        "rejected:not a finite number": 2, "rejected:altitude out of range": 1,
        "rejected:speed out of range": 1, "rejected:track out of range": 1,
        "rejected:vertical rate out of range": 1, "rejected:time out of range": 2,
        "rejected:not a 24-bit address": 1, "rejected:text too long": 1,
    }


#: Plausible by every check (at most 64 characters of valid Unicode), yet longer than
#: their columns (registration 16, type 40, callsign 8), or holding a NUL.
ACCEPTED_BUT_LONG = [
    '{"hex": "4b1821", "r": "RA-1234567890ABCD", "flight": "LONGCALL9X"}',
    '{"hex": "4b1822", "t": "' + "T" * 60 + '", "r": "EW-\\u0000001"}',
]


def test_text_longer_than_its_column_costs_no_position(
        httpserver: HTTPServer, tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "fw.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n', encoding="utf-8")
    engine = connect(load_settings(config, env={}).database_url)
    pipeline = build_pipeline(load_settings(config, env={}), engine)
    now = time.time()
    for second in range(0, 60, 10):
        where = ', "lat": 53.9, "lon": 27.6, "seen_pos": 0'
        entries = [GOOD.replace('"seen_pos": 1.5', '"seen_pos": 0')] + [
            entry[:-1] + where + "}" for entry in ACCEPTED_BUT_LONG]
        source = aircraft_json(httpserver, entries, now=now + second)
        for observation in source.poll():
            pipeline.feed(observation)
        httpserver.clear()
    assert pipeline.close()
    stored = Counter(row[0] for row in stored_rows(engine))
    with engine.connect() as conn:
        aircraft = {row[0]: row[1:] for row in conn.execute(text(
            "SELECT icao, registration, aircraft_type, callsign FROM aircraft"))}
    close(engine)
    assert {f"{icao:06X}": n for icao, n in stored.items()} == {
        "4B1805": 6, "4B1821": 6, "4B1822": 6}
    assert aircraft["4B1821"] == ("RA-1234567890AB\u2026", None, "LONGCAL\u2026")
    assert aircraft["4B1822"] == ("EW-\ufffd001", "T" * 39 + "\u2026", None)


def test_refusals_by_reason_reach_the_status_snapshot(
        httpserver: HTTPServer, tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "fw.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n', encoding="utf-8")
    settings = load_settings(config, env={})
    engine = connect(settings.database_url)
    source = aircraft_json(httpserver, [GOOD, HOSTILE[0][0], HOSTILE[5][0]])
    source.poll()
    collector = StatusCollector(engine, build_pipeline(settings, engine), sources=[source])

    snapshot = StatusSnapshot.from_dict(json.loads(json.dumps(collector.take().to_dict())))

    (status,) = snapshot.sources
    assert (status.name, status.frames, status.bad_frames) == ("hostile", 3, 2)
    assert status.rejected == {"not a finite number": 1, "altitude out of range": 1}
    close(engine)
    table = io.StringIO()
    write_table(StatusReport(snapshot, True, "snapshot", "running"), snapshot.time, table)
    (line,) = [line for line in table.getvalue().splitlines() if "hostile" in line]
    assert line.endswith("2 bad, 0 reconnects; 1 altitude out of range; 1 not a finite number")


def test_an_aggregator_does_not_rename_a_watched_aircraft(
        httpserver: HTTPServer, tmp_path: Path) -> None:
    """157710 is RA-96016 on the watchlist; an aggregator says RA-96017. The mail names it
    as the watchlist does and shows the other as a discrepancy (alerts.outbox_dir files)."""
    from email import message_from_bytes, policy

    from flightwatch.daemon.alerting import build_alerting

    config = tmp_path / "fw.toml"
    config.write_text('[database]\nurl = "sqlite:///fw.db"\n'
                      '[alerts]\noutbox_dir = "mail"\nevents = ["first_seen_inside"]\n',
                      encoding="utf-8")
    settings = load_settings(config, env={})
    engine = connect(settings.database_url)
    alerting = build_alerting(settings, engine)
    pipeline = build_pipeline(settings, engine, alerting=alerting)
    now = time.time()
    for second in range(0, 40, 10):
        source = aircraft_json(httpserver, [
            '{"hex": "157710", "r": "RA-96017", "flight": "RSD016", "lat": 53.9, '
            f'"lon": {27.6 + second / 1000}, "alt_baro": 30000, "gs": 450, "seen_pos": 0}}'],
            now=now + second)
        for observation in source.poll():
            pipeline.feed(observation)
        httpserver.clear()
    assert pipeline.close()
    alerting.deliver()
    close(engine)

    (mail,) = (tmp_path / "mail").glob("*.eml")
    message = message_from_bytes(mail.read_bytes(), policy=policy.default)
    assert message["Subject"].startswith(
        "[flightwatch] RA-96016 (reported as RA-96017) Ilyushin IL-96-300PU")
    assert "Registration:  RA-96016 (watchlist); its sources report RA-96017" in (
        message.get_body(("plain",)).get_content())
