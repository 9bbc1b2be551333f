"""Raising one alert: the kind switched on, the cooldown, the record, the sink.

Every rule raises through one :class:`Raiser`, so "is this kind on", "is it in its
cooldown" and "what does an alert carry" are answered once for all of them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from flightwatch.alerts.recent_track import RecentTracks
from flightwatch.alerts.rules.cooldown import Cooldown, key
from flightwatch.alerts.rules.details import Details
from flightwatch.alerts.watchlist import Match
from flightwatch.db.alert_record import Alert
from flightwatch.db.store import source_name
from flightwatch.decoder.tracker import AircraftState, Position

log = logging.getLogger("flightwatch.alerts.rules")


class AlertSinkLike(Protocol):
    """Where alerts go (``alerts.notify.AlertSink``: log line, alerts table, outbox)."""

    def raise_alert(self, alert: Alert) -> object: ...


def entry_details(match: Match | None) -> dict[str, Any]:
    """The watchlist row behind a match, empty fields left out."""
    if match is None:
        return {}
    e = match.entry
    values = {
        "operator": e.operator,
        "aircraft_type": e.aircraft_type,
        "category": e.category,
        "group": e.group,
        "watchlist_icao": e.icao,
        "watchlist_registration": e.registration,
    }
    return {k: v for k, v in values.items() if v}


def state_fields(state: AircraftState, position: Position | None) -> dict[str, Any]:
    """The Alert fields an aircraft's state fills in: identity, position, provenance."""
    fields: dict[str, Any] = {
        "registration": state.registration,
        "callsign": state.callsign,
        "sources": tuple(sorted(state.sources)),
    }
    if position is not None:
        fields.update(
            lat=position.lat, lon=position.lon, altitude_ft=position.altitude_ft,
            ground_speed_kt=position.ground_speed_kt, track_deg=position.track_deg,
        )
    return fields


@dataclass(slots=True)
class Raiser:
    """Hands alerts to the sink, unless their kind is off or their cooldown runs."""

    sink: AlertSinkLike
    events: frozenset[str]
    cooldown: Cooldown
    receiver: str | None = None  # alerts name their sources as positions do
    raised: int = field(default=0)
    # The recent tracks the alerts carry for their pictures (set by the wiring).
    recent_tracks: RecentTracks | None = None

    def on(self, kind: str) -> bool:
        return kind in self.events

    def __call__(
        self,
        kind: str,
        time: datetime,
        icao: str,
        match: Match | None,
        *,
        fence: str | None = None,
        airport: str | None = None,
        confidence: str | None = None,
        details: Details | None = None,
        key_extra: str = "",
        **fields: Any,
    ) -> bool:
        """One alert; whether it was handed to the sink."""
        if kind not in self.events:
            return False
        k = key(icao, fence, kind, key_extra)
        if not self.cooldown.allows(k, time):
            return False
        self.cooldown.raised(k, time)
        if fields.get("registration") is None and match is not None:
            fields["registration"] = match.entry.registration or None
        if self.receiver and fields.get("sources"):
            fields["sources"] = tuple(source_name(self.receiver, s) for s in fields["sources"])
        alert = Alert(
            time=time, icao=icao, kind=kind, geofence=fence, airport=airport,
            matched_by=match.matched_by if match else None,
            confidence=confidence or (match.confidence if match else "high"),
            details={**entry_details(match), **(details.as_dict() if details else {})},
            track=self.recent_tracks.track(icao, time) if self.recent_tracks else (),
            **fields,
        )
        self.raised += 1
        try:
            self.sink.raise_alert(alert)
        except Exception:  # a failing sink must not stop decoding; the sink logs its own
            log.exception("could not hand over the %s alert for %s", kind, icao)
        return True

    def in_fences(self, fences: Iterable[str], kind: str, time: datetime, icao: str,
                  match: Match | None, **kwargs: Any) -> tuple[str, ...]:
        """The same alert once per fence; the fences it was raised in."""
        return tuple(name for name in fences
                     if self(kind, time, icao, match, fence=name, **kwargs))
