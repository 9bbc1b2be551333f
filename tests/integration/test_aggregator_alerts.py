"""An aggregator and the local receiver seeing the same watched airframe over Belarus in
the same minute: one track, one alert, positions from both sources. The aggregator is a
real local HTTP server answering in the ADS-B Exchange v2 format (adsb.lol preset)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from flightwatch.collector.aggregators import make_aggregator
from flightwatch.daemon.alerting import build_alerting
from flightwatch.daemon.pipeline import Pipeline, build_pipeline
from flightwatch.daemon.run import fences_union
from flightwatch.db import connect
from flightwatch.db.alert_queries import query_alerts
from flightwatch.db.queries import history
from flightwatch.decoder import Frame
from flightwatch.settings import load_settings
from tools.simulate import Flight, Rates, frames

WATCHED = "157710"  # RA-96016 in config/watchlist.csv
T0 = datetime(2020, 8, 19, 9, 0, tzinfo=UTC)
LOCAL = "beast:127.0.0.1:30005"


def aggregator_answer(at: datetime) -> dict[str, object]:
    """RA-96016 over Minsk region as adsb.lol would report it, seen 1 s before ``at``."""
    return {
        "ac": [
            {
                "hex": WATCHED.lower(),
                "type": "adsb_icao",
                "flight": "RSD016  ",
                "r": "RA-96016",
                "t": "IL96",
                "alt_baro": 12000,
                "gs": 300.0,
                "track": 270.0,
                "baro_rate": 0,
                "lat": 53.95,
                "lon": 27.90,
                "seen_pos": 1.0,
                "seen": 0.5,
            }
        ],
        "msg": "No error",
        "now": int(at.timestamp() * 1000),
        "total": 1,
    }


def local_frames(start: datetime) -> list[Frame]:
    """A minute of the same aircraft heard by the local receiver, flying west."""
    flight = Flight(
        WATCHED, "RSD016", [(53.95, 27.89, 12000, 300), (53.95, 27.30, 12000, 300)], start
    )
    end = start.timestamp() + 60
    return [Frame(hex_, t, LOCAL) for t, hex_ in frames([flight], Rates()) if t <= end]


@pytest.fixture
def pipeline(tmp_path: Path) -> Pipeline:
    config = tmp_path / "fw.toml"
    config.write_text('[database]\nurl = "sqlite:///fw.db"\n[alerts]\noutbox_dir = "outbox"\n')
    settings = load_settings(config, env={})
    engine = connect(settings.database_url)
    made = build_pipeline(settings, engine, alerting=build_alerting(settings, engine))
    made.settings = settings  # type: ignore[attr-defined]
    return made


@pytest.mark.integration
@pytest.mark.parametrize("aggregator_first", [True, False])
def test_one_alert_for_one_airframe_from_two_sources(
    pipeline: Pipeline, httpserver: HTTPServer, aggregator_first: bool
) -> None:
    seen_at = T0 + timedelta(seconds=20)
    httpserver.expect_request(re.compile(r"^/v2/point/.*")).respond_with_json(
        aggregator_answer(seen_at)
    )
    settings = pipeline.settings  # type: ignore[attr-defined]
    aggregator = make_aggregator(
        {
            "type": "adsbx",
            "provider": "adsb.lol",
            "base_url": httpserver.url_for("/"),
            "interval": 15,
        },
        fences_union(settings),
    )

    def poll() -> None:
        observations = aggregator.poll()
        assert [o.icao for o in observations] == [WATCHED]
        for obs in observations:
            pipeline.observe(obs)

    if aggregator_first:
        poll()
    for frame in local_frames(T0):
        pipeline.feed(frame)
    if not aggregator_first:
        poll()
    assert pipeline.close()

    engine = pipeline.store.engine
    alerts = [a for a in query_alerts(engine) if a.icao == WATCHED]
    assert [a.kind for a in alerts] == ["first_seen_inside"]
    assert alerts[0].geofence == "belarus" and alerts[0].matched_by == "icao"
    sources = {row.source for row in history(engine, icaos=[WATCHED])}
    # A late aggregator report falls between two local positions the tracker already
    # kept (one per 5 s per aircraft), so only the first-come source is stored then.
    expected = {f"local/{LOCAL}", "local/adsb.lol"} if aggregator_first else {f"local/{LOCAL}"}
    assert sources == expected
    assert set(alerts[0].sources) <= expected | {"local/adsb.lol"}  # named as positions are
