"""db.alerts on a real SQLite file: one row per alert, atomic outbox, due/claim/retry/sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, String
from sqlalchemy.exc import OperationalError

from flightwatch.db import connect
from flightwatch.db.alert_queries import pending_count, query_alerts
from flightwatch.db.alert_record import Alert
from flightwatch.db.alerts import (
    claim,
    dedupe_key,
    due_outbox,
    mark_retry,
    mark_sent,
    outbox_status,
    record_alert,
    reschedule_pending,
)
from flightwatch.db.models import Base

T = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def alert(minute: int = 0, icao: str = "157710", kind: str = "enter") -> Alert:
    return Alert(
        time=T + minute * MIN, icao=icao, kind=kind, registration="RA-96016",
        callsign="RSD016", geofence="belarus", lat=53.9, lon=27.55, altitude_ft=12000.0,
        ground_speed_kt=430.0, track_deg=270.0, matched_by="icao",
        sources=("beast:127.0.0.1:30005", "adsbx"), details={"operator": "Rossiya"},
    )


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = connect(f"sqlite:///{tmp_path / 'flightwatch.db'}")
    yield engine
    engine.dispose()


def _wider_text(change) -> bool:  # type: ignore[no-untyped-def]
    """A text column declared longer in the models than in SQLite's schema: SQLite keeps
    the declared length as text and never enforces it, so migration 0008 widens the
    grades only on PostgreSQL (tests/db/test_postgres.py checks them there)."""
    ops = change if isinstance(change, list) else [change]
    return all(op[0] == "modify_type" and isinstance(op[5], String)
               and isinstance(op[6], String) for op in ops)


def test_migration_matches_the_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    ours = [d for d in diff if ("alerts" in repr(d) or "outbox" in repr(d))
            and not _wider_text(d)]
    assert ours == []


def test_alert_round_trips_with_every_field(engine):
    original = alert()
    record_alert(engine, original, ["email"], now=T)
    [stored] = query_alerts(engine)
    assert stored == original
    assert stored.time.tzinfo is not None
    assert stored.to_dict()["sources"] == ["beast:127.0.0.1:30005", "adsbx"]


def test_same_alert_twice_is_one_row_with_one_set_of_notifications(engine):
    first = record_alert(engine, alert(), ["email", "webhook"], now=T)
    again = record_alert(engine, alert(), ["email", "webhook"], now=T + MIN)
    assert first is not None
    assert again is None
    assert len(query_alerts(engine)) == 1
    assert pending_count(engine) == 2


def test_dedupe_key_names_aircraft_kind_place_and_second():
    assert dedupe_key(alert()) == "157710|enter|belarus||2026-11-25T10:00:00Z"
    assert dedupe_key(alert(kind="exit")) != dedupe_key(alert())


def test_alert_and_outbox_rows_are_one_transaction(engine):
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE outbox")  # the outbox insert will fail
    with pytest.raises(OperationalError):
        record_alert(engine, alert(), ["email"], now=T)
    assert query_alerts(engine) == []  # the alert insert was rolled back with it


def test_query_filters_by_time_icao_and_kind(engine):
    record_alert(engine, alert(0), [], now=T)
    record_alert(engine, alert(10, kind="exit"), [], now=T)
    record_alert(engine, alert(20, icao="4B1234"), [], now=T)
    assert [a.time for a in query_alerts(engine, since=T + 5 * MIN)] == [
        T + 10 * MIN, T + 20 * MIN]
    assert [a.time for a in query_alerts(engine, T, T + 10 * MIN)] == [T]
    assert [a.icao for a in query_alerts(engine, icao="4b1234")] == ["4B1234"]
    assert [a.kind for a in query_alerts(engine, kind="exit")] == ["exit"]


def test_due_claim_retry_sent(engine):
    alert_id = record_alert(engine, alert(), ["email", "webhook"], now=T)
    assert alert_id is not None
    due = due_outbox(engine, T)
    assert [(i.channel, i.attempts, i.alert) for i in due] == [
        ("email", 0, alert()), ("webhook", 0, alert())]
    assert due_outbox(engine, T - MIN) == []
    assert [i.channel for i in due_outbox(engine, T, exclude_channels=["email"])] == ["webhook"]

    email, webhook = due
    assert claim(engine, email, T + MIN)
    assert not claim(engine, email, T + MIN)  # a stale copy cannot claim it twice
    mark_retry(engine, email.id, T + MIN, "connection refused")
    assert [i.channel for i in due_outbox(engine, T)] == ["webhook"]
    assert [i.attempts for i in due_outbox(engine, T + MIN)] == [1, 0]

    assert claim(engine, webhook, T + MIN)
    mark_sent(engine, webhook.id, T)
    assert outbox_status(engine, alert_id) == {"email": ("pending", 1), "webhook": ("sent", 1)}
    assert pending_count(engine) == 1

    assert reschedule_pending(engine, T) == 1
    assert [i.channel for i in due_outbox(engine, T)] == ["email"]


def test_due_outbox_respects_the_limit_oldest_first(engine):
    for minute in range(5):
        record_alert(engine, alert(minute), ["email"], now=T)
    assert [i.alert.time for i in due_outbox(engine, T, limit=2)] == [T, T + MIN]
