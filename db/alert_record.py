"""The alert record: what the rules raise and every notifier delivers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


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

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (ISO 8601 UTC time, sources as a list)."""
        data = asdict(self)
        data["time"] = self.time.isoformat().replace("+00:00", "Z")
        data["sources"] = list(self.sources)
        return data
