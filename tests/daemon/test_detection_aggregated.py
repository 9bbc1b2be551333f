"""The same stories as an aggregator reports them: through ``flightwatch import`` of readsb
traces, and through ``flightwatch run`` polling an aircraft.json feed every few seconds.

An aggregator hears what any of its feeders hears (tools/coverage_model.Aggregator):
here one feeder, the Vilnius rooftop. Its tracks make no coverage claim, yet the
trajectory still says where a descent was going and where a climb came from.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from integration.daemon_helpers import daemon
from pytest_httpserver import HTTPServer

from flightwatch.daemon.importer import import_archives
from flightwatch.db import connect
from flightwatch.db.alert_queries import query_alerts
from flightwatch.db.alert_record import Alert
from flightwatch.db.flight_queries import FlightRow, query_flights
from flightwatch.settings import load_settings
from tools.control_stories import between_airports
from tools.coverage_model import Aggregator, Receiver
from tools.history_writer import write_tarball
from tools.render_stories import compress_silence, render_snapshots, render_traces
from tools.snapshot_feed import SnapshotFeed, polling_config
from tools.stories import START, Story, arrival, departure, turnaround, watched

ADSBX = Aggregator((Receiver.rooftop(54.687, 25.279, antenna_m=30),), name="adsbx")
PROBABLE_ERROR = timedelta(minutes=10)


def four_hours_in_minsk() -> Story:
    return turnaround(arrival("UMMS", origin="UUWW", airframe=watched("RA-64523")),
                      departure(to="UUWW", cruise_nm=300), timedelta(hours=4))


def stored(config: Path, icao: str) -> tuple[list[FlightRow], list[Alert]]:
    engine = connect(load_settings(config).database_url)
    try:
        return query_flights(engine, icaos=[icao]), query_alerts(engine, icao=icao)
    finally:
        engine.dispose()


def near(said: datetime | None, truth: datetime) -> bool:
    return said is not None and abs(said - truth) <= PROBABLE_ERROR


def assert_four_hours_in_minsk(story: Story, flights: list[FlightRow],
                               alerts: list[Alert]) -> None:
    came, went = flights
    assert (came.arrival_airport, came.arrival_evidence) == ("UMMS", "confirmed")
    assert near(came.arrival_time, story.touchdowns[0].at)
    assert went.departure_airport == "UMMS" and went.departure_evidence == "probable"
    assert near(went.departure_time, story.liftoffs[0].at)
    assert [(a.kind, a.airport) for a in alerts if a.kind in ("landed", "took_off")] == [
        ("landed", "UMMS"), ("took_off", "UMMS")]
    assert "went_dark" not in {a.kind for a in alerts}  # an aggregator claims no coverage


def test_imported_traces_tell_the_same_story(tmp_path: Path) -> None:
    story = four_hours_in_minsk()
    alike = between_airports("UMMS", "UMLI", from_bearing=157, turn_nm=8,
                             airframe=watched("RA-64508"), start=START + timedelta(hours=1))
    archive = write_tarball(tmp_path / "v2024.05.01-planes-readsb-prod-0.tar",
                            render_traces([story, alike], ADSBX))
    config = tmp_path / "flightwatch.toml"
    config.write_text('[database]\nurl = "sqlite:///fw.db"\n', encoding="utf-8")
    import_archives(load_settings(config), [archive])
    flights, alerts = stored(config, story.airframe.icao)
    assert_four_hours_in_minsk(story, flights, alerts)
    assert all(a.retrospective for a in alerts)
    (between,), _ = stored(config, alike.airframe.icao)
    assert between.arrival_airport is None
    assert {"UMMS", "UMLI"} <= set(between.arrival_candidates)  # UMLI, the truth, among them


@pytest.mark.integration
def test_a_polled_aggregator_feed_tells_the_same_story(httpserver: HTTPServer,
                                                       tmp_path: Path) -> None:
    """``flightwatch run`` polls the feed every 20 ms; each poll is the next snapshot (every
    10 s of the story), the hours of silence compressed."""
    story = four_hours_in_minsk()
    docs = compress_silence(render_snapshots([story], ADSBX, every_s=10.0), keep=3)
    feed = SnapshotFeed(httpserver, docs)
    config = tmp_path / "flightwatch.toml"
    config.write_text(polling_config(feed.url), encoding="utf-8")
    with daemon(config) as run:
        run.wait_for("flightwatch running")
        assert feed.wait_until_served(90), f"served {feed.served} of {len(docs)}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            flights, alerts = stored(config, story.airframe.icao)
            if any(a.kind == "took_off" for a in alerts):
                break
            time.sleep(0.2)
        assert "Traceback" not in run.log
    flights, alerts = stored(config, story.airframe.icao)
    assert_four_hours_in_minsk(story, flights, alerts)
