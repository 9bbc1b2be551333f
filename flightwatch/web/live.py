"""Aircraft in range now, for the Now page and ``/api/aircraft``.

Under ``flightwatch run`` the answer comes from the running pipeline's tracker (what
it knows this second); ``flightwatch serve`` alone reads the latest stored position of
each aircraft heard within the tracker's expiry. Either way each aircraft is marked
watched as the alert rules would: its address on the watchlist, or a watched
operator's callsign prefix.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine, select

from flightwatch.alerts.watchlist import Watchlist
from flightwatch.db.models import WatchlistEntry
from flightwatch.db.queries import history
from flightwatch.decoder.tracker import Tracker

#: ``/api/aircraft`` fields: the history contract's names, plus who the aircraft is.
LIVE_FIELDS = (
    "icao", "time", "lat", "lon", "altitude_ft", "ground_speed_kt", "track_deg",
    "vertical_rate_fpm", "callsign", "on_ground", "squawk", "registration", "aircraft_type",
    "operator", "category", "watched", "matched_by", "sources",
)
_IN_CHUNK = 500


@dataclass(slots=True)
class LiveAircraft:
    """One aircraft with a known position, as the Now page shows it."""

    icao: str
    time: datetime
    lat: float
    lon: float
    altitude_ft: float | None
    ground_speed_kt: float | None
    track_deg: float | None
    vertical_rate_fpm: float | None
    callsign: str | None
    on_ground: bool | None
    squawk: str | None = None
    registration: str | None = None
    aircraft_type: str | None = None
    operator: str | None = None
    category: str | None = None
    watched: bool = False
    matched_by: str | None = None
    sources: tuple[str, ...] = ()


class LiveView(Protocol):
    def aircraft(self) -> list[LiveAircraft]: ...


class WatchedMarker:
    """Marks aircraft watched: addresses looked up in the watchlist table per request (a
    17,000-row watchlist need not sit in the server's memory), prefixes in memory."""

    def __init__(self, engine: Engine, prefixes: Iterable[Any]) -> None:
        self.engine = engine
        self.by_callsign = Watchlist((), prefixes)

    def mark(self, aircraft: Sequence[LiveAircraft]) -> list[LiveAircraft]:
        icaos = sorted({a.icao for a in aircraft})
        known: dict[str, Any] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(icaos), _IN_CHUNK):
                query = select(WatchlistEntry).where(
                    WatchlistEntry.icao.in_(icaos[start:start + _IN_CHUNK]))
                known.update((row.icao, row) for row in conn.execute(query))
        for plane in aircraft:
            entry = known.get(plane.icao)
            if entry is not None:
                plane.watched, plane.matched_by = True, "icao"
                plane.registration = plane.registration or entry.registration
                plane.aircraft_type = plane.aircraft_type or entry.aircraft_type
                plane.operator, plane.category = entry.operator, entry.category
                continue
            match = self.by_callsign.match(plane.icao, None, plane.callsign)
            if match is not None:
                plane.watched, plane.matched_by = True, match.matched_by
                plane.operator = match.entry.operator or None
        return list(aircraft)


class TrackerView:
    """The pipeline's tracker, read from the web server's threads.

    ``Tracker.states()`` copies the dict's values in one C call, so the pipeline
    thread never sees the server iterate; fields read a moment late are harmless.
    """

    def __init__(self, tracker: Tracker, marker: WatchedMarker) -> None:
        self.tracker = tracker
        self.marker = marker

    def aircraft(self) -> list[LiveAircraft]:
        found = []
        for state in self.tracker.states():
            pos = state.position
            if pos is None:
                continue
            found.append(LiveAircraft(
                icao=state.icao, time=pos.time, lat=pos.lat, lon=pos.lon,
                altitude_ft=state.altitude_ft, ground_speed_kt=state.ground_speed_kt,
                track_deg=state.track_deg, vertical_rate_fpm=state.vertical_rate_fpm,
                callsign=state.callsign, on_ground=state.on_ground, squawk=state.squawk,
                registration=state.registration, aircraft_type=state.aircraft_type,
                sources=tuple(sorted(state.sources)),
            ))
        return self.marker.mark(found)


class DatabaseView:
    """The latest stored position of each aircraft heard within ``window_s``."""

    def __init__(
        self, engine: Engine, marker: WatchedMarker, window_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.marker = marker
        self.window = timedelta(seconds=window_s)
        self.clock = clock

    def aircraft(self) -> list[LiveAircraft]:
        since = datetime.fromtimestamp(self.clock(), UTC) - self.window
        latest: dict[str, Any] = {}
        for row in history(self.engine, since=since):  # by aircraft, then time
            latest[row.icao] = row
        found = [
            LiveAircraft(
                icao=r.icao, time=r.time, lat=r.lat, lon=r.lon, altitude_ft=r.altitude_ft,
                ground_speed_kt=r.ground_speed_kt, track_deg=r.track_deg,
                vertical_rate_fpm=r.vertical_rate_fpm, callsign=r.callsign,
                on_ground=r.on_ground, sources=(r.source,) if r.source else (),
            )
            for r in latest.values()
        ]
        return self.marker.mark(found)
