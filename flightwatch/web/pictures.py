"""What the site draws beyond the JSON API: the places layer of every map, each alert's
picture, and the evidence report (a self-contained HTML file to download, or JSON).

An alert raised before pictures existed (or with ``alerts.pictures`` off) gets one drawn
from its stored positions on request; nothing is stored (the site only reads).
"""

from __future__ import annotations

import argparse
import functools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from starlette.responses import Response

from flightwatch.alerts.notify.phone import zones_of
from flightwatch.cli.selection import selected_icaos
from flightwatch.db.alert_record import TrackPoint
from flightwatch.output.alert_picture import TRACK_BEFORE, AlertPictures, map_layers
from flightwatch.output.picture import MapLayers
from flightwatch.output.places import airports_within, places_json, towns_within
from flightwatch.settings import Settings

# At most this many towns and airports in one answer (a world of airports zoomed out).
PLACES_AT_MOST = 400


class Pictures:
    """The places, pictures and reports of one site (layers read once, when first drawn)."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine

    @functools.cached_property
    def layers(self) -> MapLayers:
        return map_layers(self.settings, self.engine)

    @functools.cached_property
    def alert_pictures(self) -> AlertPictures:
        return AlertPictures(lambda: self.layers, zones_of(self.settings.geofences))

    def places(self, bounds: tuple[float, float, float, float], zoom: float) -> dict[str, Any]:
        layers = self.layers
        towns = towns_within(layers.towns, bounds, zoom)[:PLACES_AT_MOST]
        airports = sorted(airports_within(layers.airports, bounds, zoom),
                          key=lambda a: (a.type != "large_airport", a.type, a.code))
        return places_json(towns, airports[:PLACES_AT_MOST], layers.receiver, layers.outlines)

    def alert_png(self, alert_id: int) -> bytes | None:
        """The picture stored with the alert, else one drawn from its stored positions."""
        from flightwatch.db.alert_queries import alert_by_id
        from flightwatch.db.alerts import alert_picture
        from flightwatch.db.queries import history

        stored = alert_picture(self.engine, alert_id)
        if stored is not None:
            return stored
        alert = alert_by_id(self.engine, alert_id)
        if alert is None:
            return None
        track = [TrackPoint(p.time, p.lat, p.lon, p.altitude_ft)
                 for p in history(self.engine, icaos=[alert.icao],
                                  since=alert.time - TRACK_BEFORE, until=alert.time)]
        return self.alert_pictures.render(alert, track)

    def report(self, selection: argparse.Namespace, fmt: str) -> Response:
        from flightwatch.output.report import read_report, report_html, report_json

        icaos = selected_icaos(selection, self.engine) or []
        report = read_report(
            self.engine, registration=selection.registration, icaos=icaos,
            since=selection.since, until=selection.until, fences=self.layers.fences,
            layers=self.layers if fmt == "html" else None, generated=datetime.now(UTC))
        name = "-".join(filter(None, ("flightwatch-report", selection.registration,
                                      *(selection.icao or []))))
        if fmt == "json":
            return Response(report_json(report), media_type="application/json")
        # A download: the site's CSP forbids the inline style a self-contained page needs,
        # and the file is meant to be kept, mailed or archived anyway.
        return Response(report_html(report), media_type="text/html; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{name}.html"'})
