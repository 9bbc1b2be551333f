"""Alerts and their outbox: record once, hand out due work (``flightwatch alerts`` reads them
through :mod:`db.alert_queries`).

An alert and one outbox row per notification channel are written in one
transaction, so the alert is durable before any delivery is tried and a crash
can never leave an alert without its pending notifications (or the reverse).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, select, update

from flightwatch.db.alert_queries import ALERT_COLUMNS, PENDING, alert_from
from flightwatch.db.alert_record import Alert
from flightwatch.db.models import AlertPicture, AlertRecord, FlightRecord, OutboxEntry
from flightwatch.db.store import dialect_insert
from flightwatch.decoder.redaction import redact

_ALERTS: Table = AlertRecord.__table__  # type: ignore[assignment]
_OUTBOX: Table = OutboxEntry.__table__  # type: ignore[assignment]
_FLIGHTS: Table = FlightRecord.__table__  # type: ignore[assignment]
_PICTURES: Table = AlertPicture.__table__  # type: ignore[assignment]
_LANDING_KINDS = ("landed", "took_off", "landing_retracted")

SENT = "sent"
FAILED = "failed"

_ERROR_CHARS = 2000


def dedupe_key(alert: Alert) -> str:
    """What makes two alerts the same event: aircraft, kind, place and the second it happened.

    A replay of the same capture (e.g. after a crash) yields the same keys.
    """
    when = alert.time.isoformat(timespec="seconds").replace("+00:00", "Z")
    return "|".join((alert.icao, alert.kind, alert.geofence or "", alert.airport or "", when))


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A pending notification with the alert it carries, or a ready-made mail (``mail``,
    named ``mail_name`` in a mail folder) where ``alert`` is None."""

    id: int
    alert_id: int | None
    channel: str
    attempts: int
    created_at: datetime
    alert: Alert | None
    mail_name: str | None = None
    mail: bytes | None = None

    @property
    def what(self) -> str:
        """``alert 12`` or ``mail digest-20200820T0600Z.eml``, for log lines."""
        return f"alert {self.alert_id}" if self.alert_id is not None else f"mail {self.mail_name}"


def record_alert(
    engine: Engine, alert: Alert, channels: Iterable[str], *, now: datetime | None = None,
    picture: bytes | None = None,
) -> int | None:
    """Store ``alert``, a pending outbox row per channel and its ``picture`` (PNG) in one
    transaction; None if it was already stored.

    ``now`` (wall-clock time of recording) starts each notification's clock;
    it is not the alert's time, which may be old when a capture is replayed.
    """
    created = now or datetime.now(UTC)
    row = {name: getattr(alert, name) for name in ALERT_COLUMNS}
    row["dedupe_key"] = dedupe_key(alert)
    row["sources"] = ",".join(alert.sources)
    row["details"] = json.dumps(alert.details, sort_keys=True, default=str)
    insert = dialect_insert(engine, _ALERTS).on_conflict_do_nothing(
        index_elements=[_ALERTS.c.dedupe_key]
    )
    with engine.connect() as conn, durably(conn), conn.begin():
        result = conn.execute(insert.returning(_ALERTS.c.id), row)
        alert_id = result.scalar_one_or_none()
        if alert_id is None:
            return None
        outbox = [
            {"alert_id": alert_id, "channel": channel, "status": PENDING, "attempts": 0,
             "next_attempt_at": created, "created_at": created}
            for channel in dict.fromkeys(channels)
        ]
        if outbox:
            conn.execute(_OUTBOX.insert(), outbox)
        if picture is not None:
            conn.execute(_PICTURES.insert(), {"alert_id": alert_id, "png": picture})
    return int(alert_id)


def record_mail(engine: Engine, name: str, message: bytes, channels: Iterable[str], *,
                now: datetime | None = None, replaces: str | None = None) -> None:
    """A ready-made mail, one pending outbox row per channel, durably: delivered, retried
    and given up on as the alerts' notifications are. Pending mails whose name starts
    with ``replaces`` are given up on first (yesterday's digest, never delivered)."""
    created = now or datetime.now(UTC)
    rows = [{"alert_id": None, "channel": channel, "status": PENDING, "attempts": 0,
             "next_attempt_at": created, "created_at": created, "mail_name": name,
             "mail": message} for channel in dict.fromkeys(channels)]
    with engine.connect() as conn, durably(conn), conn.begin():
        if replaces is not None:
            conn.execute(
                update(_OUTBOX)
                .where(_OUTBOX.c.status == PENDING, _OUTBOX.c.alert_id.is_(None),
                       _OUTBOX.c.mail_name.startswith(replaces, autoescape=True))
                .values(status=FAILED, last_error=f"replaced by {name}"))
        if rows:
            conn.execute(_OUTBOX.insert(), rows)


def alert_picture(engine: Engine, alert_id: int) -> bytes | None:
    """The PNG stored with an alert, or None (raised before pictures, or none drawn)."""
    with engine.connect() as conn:
        png = conn.execute(
            select(_PICTURES.c.png).where(_PICTURES.c.alert_id == alert_id)).scalar()
    return None if png is None else bytes(png)


@contextlib.contextmanager
def durably(conn: Connection) -> Iterator[None]:
    """Commits on ``conn`` reach the disk before they return (SQLite: ``synchronous=FULL``).

    The database runs with ``synchronous=NORMAL``: a commit is safe from a crash of the
    process at once, from a power cut once the system has written it (Linux: within
    about 30 s). An alert is rare and must survive both, with its outbox rows.
    """
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.exec_driver_sql("PRAGMA synchronous=FULL")
        conn.commit()  # ends the transaction the pragma began (SQLAlchemy autobegins)
    try:
        yield
    finally:
        if sqlite:
            conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
            conn.commit()


def due_outbox(
    engine: Engine, now: datetime, limit: int = 50, exclude_channels: Iterable[str] = ()
) -> list[OutboxItem]:
    """Pending notifications whose time has come, oldest first."""
    stmt = (
        select(_OUTBOX.c.id, _OUTBOX.c.alert_id, _OUTBOX.c.channel, _OUTBOX.c.attempts,
               _OUTBOX.c.created_at, _OUTBOX.c.mail_name, _OUTBOX.c.mail, _ALERTS)
        .outerjoin(_ALERTS, _ALERTS.c.id == _OUTBOX.c.alert_id)
        .where(_OUTBOX.c.status == PENDING, _OUTBOX.c.next_attempt_at <= now)
        .order_by(_OUTBOX.c.id)
        .limit(limit)
    )
    excluded = list(exclude_channels)
    if excluded:
        stmt = stmt.where(_OUTBOX.c.channel.not_in(excluded))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [
        OutboxItem(row[0], row[1], row[2], row[3], row[4],
                   None if row[1] is None else alert_from(row._mapping, row[1]), row[5],
                   row[6])
        for row in rows
    ]


def claim(engine: Engine, item: OutboxItem, retry_at: datetime) -> bool:
    """Count an attempt and push the row's next try to ``retry_at`` before sending it.

    Returns False when another worker got there first. Because the retry is
    scheduled before the send, a crash during the send delays the row by one
    backoff step instead of losing or hot-looping it.
    """
    stmt = (
        update(_OUTBOX)
        .where(_OUTBOX.c.id == item.id, _OUTBOX.c.status == PENDING,
               _OUTBOX.c.attempts == item.attempts)
        .values(attempts=item.attempts + 1, next_attempt_at=retry_at)
    )
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1


def mark_sent(engine: Engine, outbox_id: int, now: datetime) -> None:
    _set(engine, outbox_id, status=SENT, sent_at=now, last_error=None)


def mark_retry(engine: Engine, outbox_id: int, next_attempt: datetime, error: str) -> None:
    _set(engine, outbox_id, next_attempt_at=next_attempt,
         last_error=redact(error)[:_ERROR_CHARS])


def mark_failed(engine: Engine, outbox_id: int, error: str) -> None:
    """Give up on a notification for good (the alert itself stays in ``alerts``)."""
    _set(engine, outbox_id, status=FAILED, last_error=redact(error)[:_ERROR_CHARS])


def _set(engine: Engine, outbox_id: int, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(update(_OUTBOX).where(_OUTBOX.c.id == outbox_id).values(**values))


def reschedule_pending(engine: Engine, now: datetime) -> int:
    """Make every pending notification due now (at start: settings may have been fixed)."""
    stmt = (
        update(_OUTBOX)
        .where(_OUTBOX.c.status == PENDING, _OUTBOX.c.next_attempt_at > now)
        .values(next_attempt_at=now)
    )
    with engine.begin() as conn:
        return int(conn.execute(stmt).rowcount)


def outbox_status(engine: Engine, alert_id: int) -> dict[str, tuple[str, int]]:
    """Channel -> (status, attempts) for one alert."""
    stmt = select(_OUTBOX.c.channel, _OUTBOX.c.status, _OUTBOX.c.attempts).where(
        _OUTBOX.c.alert_id == alert_id
    )
    with engine.connect() as conn:
        return {row.channel: (row.status, row.attempts) for row in conn.execute(stmt)}


def latest_alerts(engine: Engine) -> list[tuple[str, str | None, str, datetime]]:
    """The newest alert per (icao, geofence, kind): where the rules' cooldowns stand."""
    table = _ALERTS.c
    query = select(table.icao, table.geofence, table.kind, func.max(table.time)).group_by(
        table.icao, table.geofence, table.kind)
    with engine.connect() as conn:
        return [(icao, fence, kind, time) for icao, fence, kind, time in conn.execute(query)]


def alert_near(
    engine: Engine, icao: str, fence: str | None, kinds: Iterable[str], time: datetime,
    cooldown: timedelta,
) -> bool:
    """Whether an alert of one of ``kinds`` for ``icao`` in ``fence`` is stored less than
    ``cooldown`` before or after ``time``: the rules' cooldown against every stored alert,
    not only the newest (one lookup on the (icao, time) index)."""
    table = _ALERTS.c
    place = table.geofence.is_(None) if fence is None else table.geofence == fence
    query = (
        select(table.id)
        .where(table.icao == icao, table.time > time - cooldown, table.time < time + cooldown,
               table.kind.in_(list(kinds)), place)
        .limit(1)
    )
    with engine.connect() as conn:
        return conn.execute(query).first() is not None
