"""Reading alerts and their outbox: ``flightwatch alerts`` (and ``--pending``), the web
API, the status figures. SQL text on a :class:`db.reader.Reader` (an engine works too);
the writes are in :mod:`db.alerts`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flightwatch.db.alert_record import Alert
from flightwatch.db.encoding import flag, utc
from flightwatch.db.reader import Reader, as_reader, where
from flightwatch.decoder.redaction import redact

if TYPE_CHECKING:
    from sqlalchemy import Engine

PENDING = "pending"

#: The columns that are Alert fields, in the order the queries read them.
ALERT_COLUMNS = (
    "time", "icao", "kind", "registration", "callsign", "geofence", "airport", "lat", "lon",
    "altitude_ft", "ground_speed_kt", "track_deg", "matched_by", "confidence", "evidence",
    "retrospective",
)


def alert_from(values: Mapping[Any, Any], alert_id: int | None = None) -> Alert:
    """The Alert a stored row holds (``values``: its columns, times already decoded;
    ``alert_id``: its row id)."""
    fields = {name: values[name] for name in ALERT_COLUMNS}
    fields["retrospective"] = bool(fields["retrospective"])
    sources = tuple(s for s in values["sources"].split(",") if s)
    return Alert(**fields, sources=sources, details=json.loads(values["details"]),
                 id=alert_id)


def query_alerts(
    source: Reader | Engine,
    since: datetime | None = None,
    until: datetime | None = None,
    icao: str | None = None,
    kind: str | None = None,
) -> list[Alert]:
    """Alerts in [since, until), oldest first, optionally for one aircraft or one kind."""
    reader = as_reader(source)
    conditions: list[str] = []
    params: dict[str, Any] = {}
    if since is not None:
        conditions.append("time >= :since")
        params["since"] = reader.time(since)
    if until is not None:
        conditions.append("time < :until")
        params["until"] = reader.time(until)
    if icao is not None:
        conditions.append("icao = :icao")
        params["icao"] = icao.upper()
    if kind is not None:
        conditions.append("kind = :kind")
        params["kind"] = kind
    return _read_alerts(reader, where(conditions), params)


def alert_by_id(source: Reader | Engine, alert_id: int) -> Alert | None:
    """The stored alert of that row id, or None."""
    found = _read_alerts(as_reader(source), " WHERE id = :id", {"id": alert_id})
    return found[0] if found else None


def _read_alerts(reader: Reader, condition: str, params: dict[str, Any]) -> list[Alert]:
    names = (*ALERT_COLUMNS, "sources", "details", "id")
    rows = reader.rows(f"SELECT {', '.join(names)} FROM alerts{condition}"
                       " ORDER BY time, id", params)
    alerts = []
    for row in rows:
        values = dict(zip(names, row, strict=True))
        values["time"] = utc(values["time"])
        values["retrospective"] = flag(values["retrospective"])
        alerts.append(alert_from(values, values["id"]))
    return alerts


def pending_count(source: Reader | Engine) -> int:
    """Notifications not yet delivered (for the status line)."""
    return int(as_reader(source).scalar("SELECT COUNT(*) FROM outbox WHERE status = :pending",
                                        {"pending": PENDING}))


def pending_by_channel(source: Reader | Engine) -> list[dict[str, Any]]:
    """What waits per channel: how many, since when, the next try and the latest error
    (redacted again: a database written by an older flightwatch may hold secrets)."""
    reader = as_reader(source)
    grouped = reader.rows(
        "SELECT channel, COUNT(*), MIN(created_at), MIN(next_attempt_at), MAX(attempts)"
        " FROM outbox WHERE status = :pending GROUP BY channel ORDER BY channel",
        {"pending": PENDING})
    latest_error = (
        "SELECT last_error FROM outbox WHERE status = :pending AND last_error IS NOT NULL"
        " AND channel = :channel ORDER BY id DESC LIMIT 1"
    )
    return [
        {"channel": channel, "pending": count, "oldest": utc(oldest),
         "next_attempt": utc(next_try), "attempts": attempts,
         "last_error": _redacted(reader.scalar(latest_error,
                                               {"pending": PENDING, "channel": channel}))}
        for channel, count, oldest, next_try, attempts in list(grouped)
    ]


def _redacted(text: str | None) -> str | None:
    return None if text is None else redact(text)
