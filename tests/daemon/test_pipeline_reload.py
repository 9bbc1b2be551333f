"""SIGHUP's reloaders: an edited geofence file reaches both the alert rules and the flights'
time-inside figures (the daemon runs ``pipeline.reloaders`` on its pipeline thread)."""

from __future__ import annotations

import json
from pathlib import Path

from flightwatch.alerts.rules import AlertRules
from flightwatch.daemon.alerting import build_alerting
from flightwatch.daemon.pipeline import build_pipeline
from flightwatch.db import connect
from flightwatch.db.flights import FlightSegmenter
from flightwatch.settings import load_settings

MINSK = (53.9, 27.56)
GRODNO = (53.68, 23.83)


def square(path: Path, lat: float, lon: float) -> None:
    """A 0.2-degree square GeoJSON fence around (lat, lon)."""
    ring = [[lon - 0.1, lat - 0.1], [lon + 0.1, lat - 0.1], [lon + 0.1, lat + 0.1],
            [lon - 0.1, lat + 0.1], [lon - 0.1, lat - 0.1]]
    path.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}), encoding="utf-8")


def test_reloaders_reread_the_fences_of_flights_and_alert_rules(tmp_path: Path) -> None:
    fence = tmp_path / "zone.geojson"
    square(fence, *MINSK)
    config = tmp_path / "fw.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "fw.db"}"\n\n'
        f'[[geofences]]\nname = "zone"\nfile = "{fence}"\n', encoding="utf-8")
    settings = load_settings(config, env={})
    engine = connect(settings.database_url)
    pipeline = build_pipeline(settings, engine, alerting=build_alerting(settings, engine))
    rules = [x for x in pipeline.listeners if isinstance(x, AlertRules)]
    assert pipeline.detection is not None
    segmenters = [pipeline.detection.segmenter]
    fenced: list[AlertRules | FlightSegmenter] = [*rules, *segmenters]
    assert len(fenced) == 2

    def inside(lat: float, lon: float) -> list[bool]:
        return [f.contains(lat, lon) for holder in fenced for f in holder.fences]

    assert inside(*MINSK) == [True, True] and inside(*GRODNO) == [False, False]
    square(fence, *GRODNO)  # the user edits the file, then sends SIGHUP
    for reload in pipeline.reloaders:
        reload()
    assert inside(*MINSK) == [False, False] and inside(*GRODNO) == [True, True]
