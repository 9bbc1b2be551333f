"""The alert record: what the rules raise and every notifier delivers."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any, NamedTuple

from flightwatch.decoder import printable, shown


class TrackPoint(NamedTuple):
    """One point of an aircraft's recent track (a tuple: hundreds are kept per aircraft)."""

    time: datetime
    lat: float
    lon: float
    altitude_ft: float | None


@dataclass(frozen=True)
class Alert:
    """One event about one watched aircraft.

    Field names follow the ``flightwatch alerts`` output contract. ``matched_by``
    says why the aircraft is watched (icao, registration, callsign_prefix,
    address_block); ``sources`` which feeds saw it; ``details`` carries the
    watchlist row (operator, type, category, group) and anything rule-specific.
    ``evidence`` says how a landing or takeoff was known: ``observed`` (surface or
    low-and-slow positions) or ``inferred`` (signal lost on a runway's approach, or
    first heard climbing out);
    ``retrospective`` marks an alert raised from imported history.
    ``track`` is the aircraft's recent track up to the alert, oldest first, from the
    rules' memory (positions are written to the database in batches, so the newest are
    not stored yet when the alert is raised): drawn in the alert's picture, never stored
    or sent as data.
    """

    time: datetime
    icao: str
    kind: str
    registration: str | None = None
    callsign: str | None = None
    geofence: str | None = None
    airport: str | None = None
    lat: float | None = None
    lon: float | None = None
    altitude_ft: float | None = None
    ground_speed_kt: float | None = None
    track_deg: float | None = None
    matched_by: str | None = None
    confidence: str = "high"
    sources: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    evidence: str | None = None  # landed/took_off: observed | inferred
    retrospective: bool = False  # raised by ``flightwatch import``, not seen live
    track: tuple[TrackPoint, ...] = field(default=(), compare=False, repr=False)
    id: int | None = field(default=None, compare=False)  # the stored row's, once read back

    def registrations(self) -> tuple[str | None, str | None]:
        """(the registration to call the aircraft by, a differing one its sources reported).

        The watchlist's wins: an aggregator's registration is whatever its feeder typed,
        or whatever someone answering for it wants read, and a mail subject is where a
        person decides whether to act. A differing one is a discrepancy worth showing
        beside the name, not a name."""
        listed = self.details.get("watchlist_registration") or None
        heard = self.registration
        if not isinstance(listed, str):
            return heard, None
        differs = heard is not None and _compared(heard) != _compared(listed)
        return listed, heard if differs else None

    def for_display(self) -> Alert:
        """A copy whose texts are safe to show (:func:`decoder.printable`): for the mail and
        the log line, where a CR/LF in a callsign could forge a header or a line. The
        stored alert and the webhook's JSON keep them as received."""
        return replace(
            self, registration=shown(self.registration), callsign=shown(self.callsign),
            geofence=shown(self.geofence), airport=shown(self.airport),
            sources=tuple(printable(s) for s in self.sources),
            details={k: printable(v) if isinstance(v, str) else v
                     for k, v in self.details.items()},
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (ISO 8601 UTC time, sources as a list); neither the track
        nor the row id (the webhook and MQTT payloads are a contract)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("track", "id")}
        data["details"] = copy.deepcopy(self.details)
        data["time"] = self.time.isoformat().replace("+00:00", "Z")
        data["sources"] = list(self.sources)
        return data


def _compared(registration: str) -> str:
    """RA-96016, ra96016 and 'RA 96016' are one registration."""
    return "".join(ch for ch in registration.upper() if ch.isalnum())
