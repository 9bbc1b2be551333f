"""The picture of one alert: its aircraft's recent track, the fence, towns and airports
around it, the event marked, and a caption line (aircraft, event, time UTC and local,
evidence grade).

Rendered once when the alert is raised (:class:`AlertPictures` is the ``AlertSink``'s
``picture``) and stored with it; the web page draws one from stored positions for an
alert raised before pictures existed.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flightwatch.alerts.notify.email import aircraft_title, what_happened
from flightwatch.alerts.notify.phone import PhoneFormat, zones_of
from flightwatch.db.airports import haversine_km
from flightwatch.db.alert_record import Alert, TrackPoint
from flightwatch.db.coverage import receiver_outlines
from flightwatch.output.picture import MapLayers, Mark, render_png
from flightwatch.output.places import Place, read_places, receiver_of

log = logging.getLogger(__name__)

# How much track before an alert its picture shows (the rules' memory keeps as much).
TRACK_BEFORE = timedelta(minutes=30)
# An alert whose fence names no time zone gets the zone of the nearest town this close.
LOCAL_TOWN_KM = 300.0


def local_zone(alert: Alert, zones: Mapping[str, tzinfo], towns: Sequence[Place]) -> tzinfo | None:
    """The fence's time zone, else the nearest town's (GeoNames gives each town one)."""
    zone = zones.get(alert.geofence or "")
    if zone is not None or alert.lat is None or alert.lon is None:
        return zone
    lat, lon = alert.lat, alert.lon
    near = [t for t in towns if t.timezone and abs(t.lat - lat) < 3 and abs(t.lon - lon) < 5]
    if not near:
        return None
    town = min(near, key=lambda t: haversine_km(t.lat, t.lon, lat, lon))
    if haversine_km(town.lat, town.lon, lat, lon) > LOCAL_TOWN_KM:
        return None
    try:
        return ZoneInfo(town.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def evidence_words(alert: Alert) -> str | None:
    """``evidence: probable (±6 min)``; None for an alert with no grade."""
    if not alert.evidence:
        return None
    uncertainty = alert.details.get("uncertainty_s")
    if isinstance(uncertainty, int | float) and uncertainty > 0:
        return f"evidence: {alert.evidence} (±{max(round(uncertainty / 60), 1)} min)"
    return f"evidence: {alert.evidence}"


def alert_caption(alert: Alert, zone: tzinfo | None) -> tuple[str, str]:
    """Two lines: ``RA-64523 Tu-214 (Rossiya) landed at UMMS (Belarus)`` and
    ``2020-08-18 14:05 UTC (17:05 Minsk) · evidence: inferred``."""
    shown = alert.for_display()
    when = PhoneFormat(zones={alert.geofence or "": zone} if zone else {}).when(shown)
    what = f"{aircraft_title(shown)} {what_happened(replace(shown, evidence=None))}"
    return what, " · ".join(p for p in (when, evidence_words(shown)) if p)


class AlertPictures:
    """Draws alert pictures; the layers (fences, airports, towns) are read at the first.

    Callable as the ``AlertSink``'s ``picture``: never raises (a picture that cannot be
    drawn is logged and the alert goes without one).
    """

    def __init__(self, layers: Callable[[], MapLayers], zones: Mapping[str, tzinfo]) -> None:
        self._layers = functools.cache(layers)
        self.zones = zones

    def __call__(self, alert: Alert) -> bytes | None:
        try:
            return self.render(alert, alert.track)
        except Exception:  # a picture must never cost the alert
            log.exception("could not draw the picture of the %s alert for %s", alert.kind,
                          alert.icao)
            return None

    def render(self, alert: Alert, track: Sequence[TrackPoint]) -> bytes | None:
        """The PNG of ``alert`` over ``track`` (oldest first); None with nothing to place."""
        layers = self._layers()
        marks = []
        if alert.lat is not None and alert.lon is not None:
            marks.append(Mark(alert.lat, alert.lon, alert.kind.replace("_", " ")))
        caption = alert_caption(alert, local_zone(alert, self.zones, layers.towns))
        return render_png(layers, track, marks, caption,
                          highlight=[alert.airport] if alert.airport else [])


def map_layers(settings: Any, reader: Any = None) -> MapLayers:
    """The layers a configuration describes: its fences and airports, the bundled towns,
    the receiver and its learned coverage."""
    from flightwatch.airports import airport_index
    from flightwatch.alerts.engine import load_fences

    return MapLayers(
        fences=load_fences(settings.geofences), airports=airport_index(settings),
        towns=read_places(),
        receiver=receiver_of(settings),
        outlines=receiver_outlines(reader) if reader is not None else [],
    )


def alert_pictures(settings: Any, reader: Any = None) -> AlertPictures:
    """The pictures of a configuration's alerts (layers read when the first is drawn)."""
    return AlertPictures(lambda: map_layers(settings, reader), zones_of(settings.geofences))
