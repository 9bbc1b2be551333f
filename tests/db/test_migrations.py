"""Upgrading a database that holds alerts keeps their notifications and everything else.

On SQLite a batch migration rebuilds a table (copy, drop, rename); with foreign keys on,
dropping the old alerts table once cascaded to the outbox: 0005 deleted every row.
"""

from __future__ import annotations

from sqlalchemy import Engine, text

from flightwatch.db.engine import head_revisions, upgrade

ALERT = (
    "INSERT INTO alerts (dedupe_key, time, icao, kind, geofence, confidence, sources, details)"
    " VALUES ('k1', :t, '157710', 'enter', 'belarus', 'high', '[]', '{}')"
)
OUTBOX = (
    "INSERT INTO outbox (alert_id, channel, status, attempts, next_attempt_at, created_at)"
    " VALUES (:alert, :channel, :status, 0, :t, :t)"
)


def _outbox(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(
            "SELECT o.channel, o.status, a.dedupe_key FROM outbox o "
            "JOIN alerts a ON a.id = o.alert_id ORDER BY o.id"))]


def test_upgrading_to_the_head_keeps_every_notification(engine_at_0003: Engine) -> None:
    when = "2020-08-19 10:14:46+00:00"
    with engine_at_0003.begin() as conn:
        conn.execute(text(ALERT), {"t": when})
        alert = conn.execute(text("SELECT id FROM alerts")).scalar_one()
        for channel, status in (("email", "pending"), ("webhook", "sent")):
            conn.execute(text(OUTBOX),
                         {"alert": alert, "channel": channel, "status": status, "t": when})
    before = _outbox(engine_at_0003)

    applied = upgrade(engine_at_0003, backup=False)

    assert applied and set(applied[-1:]) == head_revisions()
    assert _outbox(engine_at_0003) == before == [
        ("email", "pending", "k1"), ("webhook", "sent", "k1")]
    if engine_at_0003.dialect.name == "sqlite":  # switched back on for the daemon
        with engine_at_0003.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
