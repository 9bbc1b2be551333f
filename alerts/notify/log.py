"""The one log line per alert: greppable, fixed order, missing parts left out."""

from __future__ import annotations

import logging

from flightwatch.db.alert_record import Alert

log = logging.getLogger(__name__)


def _altitude(altitude_ft: float | None) -> str | None:
    if altitude_ft is None:
        return None
    return f"FL{max(round(altitude_ft / 100), 0):03d}"


def alert_line(alert: Alert) -> str:
    """``ALERT enter RA-96016 (157710) Il-96-300PU Rossiya belarus 53.9012,27.5500 FL120 ...``."""
    details = alert.details
    registration, reported = alert.registrations()
    position = (
        None if alert.lat is None or alert.lon is None else f"{alert.lat:.4f},{alert.lon:.4f}"
    )
    parts = [
        "ALERT",
        alert.kind,
        f"{registration} ({alert.icao})" if registration else alert.icao,
        details.get("aircraft_type") or details.get("type"),
        details.get("operator"),
        alert.geofence,
        f"airport={alert.airport}" if alert.airport else None,
        position,
        _altitude(alert.altitude_ft),
        f"callsign={alert.callsign}" if alert.callsign else None,
        f"reported_registration={reported}" if reported else None,
        f"matched_by={alert.matched_by}" if alert.matched_by else None,
        f"confidence={alert.confidence}" if alert.confidence != "high" else None,
        f"evidence={alert.evidence}" if alert.evidence else None,
        f"retracts=landed@{details['landed_at']}" if details.get("landed_at") else None,
        f"sources={','.join(alert.sources)}" if alert.sources else None,
        "retrospective" if alert.retrospective else None,
    ]
    return " ".join(str(p) for p in parts if p)


def log_alert(alert: Alert) -> None:
    log.info("%s", alert_line(alert.for_display()))  # a CR/LF in a callsign forges no log line
