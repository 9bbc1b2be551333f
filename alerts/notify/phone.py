"""The short form of an alert for a phone screen: chat apps, push services, MQTT.

The words come from the alert mail (``what_happened``, ``aircraft_title``); this
adds what a person on the move needs first: the local time of the fence, the
nearest airfield and a link to the track.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from flightwatch.alerts.notify.email import (
    aircraft_title,
    correction,
    fence_title,
    plus_or_minus,
    what_happened,
)
from flightwatch.db.airports import Airport, AirportIndex, haversine_km
from flightwatch.db.alert_record import Alert
from flightwatch.decoder.geodesy import bearing_deg

# "42 km SW of UMMS": beyond this an airfield says nothing about where the aircraft is.
NEAREST_AIRPORT_KM = 100.0
# Airports a reader knows; a heliport or farm strip nearby tells them nothing. OurAirports
# types where the row has them (Belarus, a user's import); a bundled world airport has no
# size, so one with an IATA code (scheduled service) stands for them.
LANDMARK_TYPES = frozenset({"large_airport", "medium_airport"})
_COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def is_landmark(airport: Airport) -> bool:
    """An airport worth naming as "42 km SW of ..."."""
    return airport.type in LANDMARK_TYPES or (airport.type == "airport" and bool(airport.iata))


def zones_of(fences: Iterable[Mapping[str, Any]]) -> dict[str, tzinfo]:
    """Fence name -> time zone, from ``[[geofences]]`` tables with a ``timezone``."""
    return {f["name"]: ZoneInfo(f["timezone"]) for f in fences if f.get("timezone")}


@dataclass(frozen=True)
class PhoneFormat:
    """Title and body of an alert, a few lines long.

    ``track_url`` is a template with ``{icao}`` (lower-case hex) and ``{date}``
    (UTC, YYYY-MM-DD); ``zones`` maps fence names to their local time zone.
    """

    track_url: str = ""
    zones: Mapping[str, tzinfo] = field(default_factory=dict)
    airports: AirportIndex | None = None

    def title(self, alert: Alert) -> str:
        """``RA-96016 Il-96-300PU (Rossiya) entered Belarus``."""
        return f"{aircraft_title(alert)} {what_happened(alert)}"

    def track_link(self, alert: Alert) -> str | None:
        if not self.track_url:
            return None
        return self.track_url.format(icao=alert.icao.lower(),
                                     date=alert.time.strftime("%Y-%m-%d"))

    def when(self, alert: Alert) -> str:
        """``2026-11-25 10:15 UTC (13:15 Minsk)``; the local date too when it differs."""
        utc = f"{alert.time:%Y-%m-%d %H:%M} UTC"
        zone = self.zones.get(alert.geofence or "")
        if zone is None:
            return utc
        local = alert.time.astimezone(zone)
        if local.utcoffset() == alert.time.utcoffset():
            return utc
        shown = f"{local:%H:%M}" if local.date() == alert.time.date() else f"{local:%Y-%m-%d %H:%M}"
        return f"{utc} ({shown} {_zone_label(zone, local)})"

    def where(self, alert: Alert) -> str:
        """``Belarus, 42 km SW of UMMS Minsk National (53.9012, 27.5500)``."""
        located = alert.lat is not None and alert.lon is not None
        # A retraction's airport is where it did not land: say where it was heard instead.
        airport = alert.airport if alert.kind != "landing_retracted" else None
        near = f"at {self._airport_name(airport)}" if airport else None
        if near is None and alert.lat is not None and alert.lon is not None:
            near = self._nearest_airport(alert.lat, alert.lon)
        place = ", ".join(p for p in (fence_title(alert.geofence) if alert.geofence else None,
                                      near) if p)
        position = f"({alert.lat:.4f}, {alert.lon:.4f})" if located else ""
        return " ".join(p for p in (place, position) if p)

    def body(self, alert: Alert) -> str:
        flight = [
            None if alert.altitude_ft is None
            else f"FL{max(round(alert.altitude_ft / 100), 0):03d}",
            None if alert.ground_speed_kt is None else f"{alert.ground_speed_kt:.0f} kt",
            f"callsign {alert.callsign}" if alert.callsign else None,
            f"ICAO {alert.icao}",
        ]
        spread = plus_or_minus(alert)
        lines = [f"When: {self.when(alert)}" + (f" ({spread})" if spread else "")]
        corrected = correction(alert)
        if corrected:
            lines.insert(0, corrected)
        where = self.where(alert)
        if where:
            lines.append(f"Where: {where}")
        lines.append(", ".join(part for part in flight if part))
        reason = alert.details.get("reason")
        if reason and alert.kind != "landing_retracted":
            lines.append(f"Why: {reason}")
        if alert.confidence != "high":
            lines.append(f"Confidence: {alert.confidence} (matched by {alert.matched_by})")
        link = self.track_link(alert)
        if link:
            lines.append(f"Track: {link}")
        return "\n".join(lines)

    def _airport_name(self, code: str) -> str:
        airport = self.airports.get(code) if self.airports is not None else None
        return f"{airport.code} {airport.name}" if airport is not None else code

    def _nearest_airport(self, lat: float, lon: float) -> str | None:
        if self.airports is None:
            return None
        airport = self.airports.nearest(lat, lon, NEAREST_AIRPORT_KM, where=is_landmark)
        if airport is None:
            return None
        km = haversine_km(airport.lat, airport.lon, lat, lon)
        name = self._airport_name(airport.code)
        if km < 1:
            return f"at {name}"
        heading = _COMPASS[round(bearing_deg(airport.lat, airport.lon, lat, lon) / 45) % 8]
        return f"{km:.0f} km {heading} of {name}"


def _zone_label(zone: tzinfo, local: datetime) -> str:
    """``Minsk`` for Europe/Minsk (its abbreviation, ``+03``, tells a reader little)."""
    key = getattr(zone, "key", None)
    if key:
        return str(key).rsplit("/", 1)[-1].replace("_", " ")
    return local.tzname() or "local"
