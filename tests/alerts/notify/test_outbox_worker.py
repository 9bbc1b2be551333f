"""The outbox worker against real channels: aiosmtpd, pytest-httpserver, a SQLite file.

The worker's clock is passed in, so backoff is tested without sleeping.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta

import pytest

from flightwatch.alerts.notify import (
    Backoff,
    EmailNotifier,
    OutboxWorker,
    SmtpSettings,
    WebhookNotifier,
)
from flightwatch.db import connect, open_engine, upgrade
from flightwatch.db.alert_queries import pending_count
from flightwatch.db.alerts import (
    claim,
    dedupe_key,
    due_outbox,
    outbox_status,
    record_alert,
)

pytestmark = pytest.mark.integration

S = timedelta(seconds=1)


def email_to(port: int) -> EmailNotifier:
    return EmailNotifier(SmtpSettings(host="127.0.0.1", port=port,
                                      recipients=("me@example.org",), timeout=5))


def test_smtp_down_then_up_delivers_exactly_once(engine, smtp_server, free_port, make_alert,
                                                 t0, caplog):
    caplog.set_level(logging.INFO, logger="flightwatch.alerts.notify")
    port = free_port()  # nobody listens here yet
    alert_id = record_alert(engine, make_alert(), ["email"], now=t0)
    worker = OutboxWorker(engine, {"email": email_to(port)}, backoff=Backoff(first=30, cap=3600))

    assert worker.deliver_due(t0) == (0, 1)
    assert worker.deliver_due(t0 + 10 * S) == (0, 0)  # waiting out the first 30 s
    assert worker.deliver_due(t0 + 30 * S) == (0, 1)  # still down: next wait 60 s
    assert pending_count(engine) == 1

    server = smtp_server(port=port)
    assert worker.deliver_due(t0 + 60 * S) == (0, 0)  # due at 90 s, not before
    assert worker.deliver_due(t0 + 90 * S) == (1, 0)
    assert worker.deliver_due(t0 + 3600 * S) == (0, 0)
    assert worker.resume(t0 + 3601 * S) == (0, 0)

    assert len(server.mailbox.envelopes) == 1
    assert outbox_status(engine, alert_id) == {"email": ("sent", 3)}
    assert pending_count(engine) == 0
    lines = [r.getMessage() for r in caplog.records if r.name == "flightwatch.alerts.notify.outbox"]
    assert len(lines) == 2, lines  # one when it starts failing, one when it recovers
    assert "email notifications failing" in lines[0]
    assert f"SMTP 127.0.0.1:{port}:" in lines[0]
    assert "Connection refused" in lines[0]
    assert "email notifications recovered" in lines[1]


def test_a_down_channel_costs_one_attempt_per_backoff_step(engine, smtp_server, free_port,
                                                            make_alert, t0):
    port = free_port()
    for minute in range(3):
        record_alert(engine, make_alert(time=make_alert().time + minute * 60 * S), ["email"],
                     now=t0)
    worker = OutboxWorker(engine, {"email": email_to(port)}, backoff=Backoff(first=30))
    assert worker.deliver_due(t0) == (0, 1)  # the oldest probes; the others wait with it
    assert worker.deliver_due(t0 + 5 * S) == (0, 0)
    server = smtp_server(port=port)
    assert worker.deliver_due(t0 + 30 * S) == (3, 0)
    assert len(server.mailbox.envelopes) == 3


def test_restart_after_a_kill_during_sending_delivers_once(db_url, smtp_server, make_alert, t0):
    server = smtp_server()
    before = connect(db_url)
    record_alert(before, make_alert(), ["email"], now=t0)
    delivered = record_alert(before, make_alert(kind="exit"), ["email"], now=t0)
    # The daemon claimed the first notification and was killed before sending it.
    [first, _second] = due_outbox(before, t0)
    assert claim(before, first, t0 + 3600 * S)
    # The second went out before the kill.
    OutboxWorker(before, {"email": email_to(server.port)}).deliver_due(t0)
    assert outbox_status(before, delivered)["email"][0] == "sent"
    assert len(server.mailbox.envelopes) == 1
    before.dispose()

    after = connect(db_url)
    worker = OutboxWorker(after, {"email": email_to(server.port)})
    assert worker.resume(t0 + 60 * S) == (1, 0)  # resume does not wait out the old backoff
    assert worker.resume(t0 + 120 * S) == (0, 0)
    after.dispose()
    subjects = [m["Subject"] for m in server.mailbox.messages()]
    assert sorted(subjects) == [
        "[flightwatch] RA-96016 Il-96-300PU (Rossiya) entered Belarus",
        "[flightwatch] RA-96016 Il-96-300PU (Rossiya) left Belarus",
    ]


def test_webhook_posts_the_alert_as_json(engine, httpserver, make_alert, t0):
    alert = make_alert()
    httpserver.expect_oneshot_request(
        "/hook", method="POST", json=alert.to_dict(),
        headers={"Idempotency-Key": dedupe_key(alert)},
    ).respond_with_data("ok")
    record_alert(engine, alert, ["webhook"], now=t0)
    worker = OutboxWorker(engine, {"webhook": WebhookNotifier(httpserver.url_for("/hook"), 5)})
    assert worker.deliver_due(t0) == (1, 0)
    httpserver.check_assertions()
    body = httpserver.log[0][0].get_json()
    assert body["time"] == "2026-11-25T10:15:30Z"
    assert body["sources"] == ["beast:127.0.0.1:30005"]


def test_webhook_500_is_retried_then_200_delivers_once(engine, httpserver, make_alert, t0):
    httpserver.expect_ordered_request("/hook", method="POST").respond_with_data("boom",
                                                                                 status=500)
    httpserver.expect_ordered_request("/hook", method="POST").respond_with_data("", status=204)
    alert_id = record_alert(engine, make_alert(), ["webhook"], now=t0)
    worker = OutboxWorker(engine, {"webhook": WebhookNotifier(httpserver.url_for("/hook"), 5)})
    assert worker.deliver_due(t0) == (0, 1)
    assert worker.deliver_due(t0 + 30 * S) == (1, 0)
    assert worker.deliver_due(t0 + 7200 * S) == (0, 0)
    assert len(httpserver.log) == 2
    assert outbox_status(engine, alert_id) == {"webhook": ("sent", 2)}


def test_webhook_rejecting_the_payload_is_not_retried(engine, httpserver, make_alert, t0):
    httpserver.expect_request("/hook", method="POST").respond_with_data("bad", status=422)
    alert_id = record_alert(engine, make_alert(), ["webhook"], now=t0)
    worker = OutboxWorker(engine, {"webhook": WebhookNotifier(httpserver.url_for("/hook"), 5)})
    assert worker.deliver_due(t0) == (0, 1)
    assert worker.deliver_due(t0 + 86400 * S) == (0, 0)
    assert len(httpserver.log) == 1
    assert outbox_status(engine, alert_id) == {"webhook": ("failed", 1)}


def test_a_dead_channel_does_not_stop_the_other(engine, httpserver, free_port, make_alert, t0):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    alert_id = record_alert(engine, make_alert(), ["email", "webhook"], now=t0)
    worker = OutboxWorker(engine, {
        "email": email_to(free_port()),
        "webhook": WebhookNotifier(httpserver.url_for("/hook"), 5),
    })
    assert worker.deliver_due(t0) == (1, 1)
    assert len(httpserver.log) == 1
    assert outbox_status(engine, alert_id) == {"email": ("pending", 1), "webhook": ("sent", 1)}


def test_gives_up_after_the_configured_age(engine, free_port, make_alert, t0):
    alert_id = record_alert(engine, make_alert(), ["email"], now=t0)
    worker = OutboxWorker(engine, {"email": email_to(free_port())},
                          backoff=Backoff(give_up_after=86400))
    assert worker.deliver_due(t0 + 86401 * S) == (0, 1)
    assert outbox_status(engine, alert_id) == {"email": ("failed", 0)}
    assert pending_count(engine) == 0


def test_notifications_for_a_channel_no_longer_configured_fail(engine, make_alert, t0):
    alert_id = record_alert(engine, make_alert(), ["webhook"], now=t0)
    assert OutboxWorker(engine, {}).deliver_due(t0) == (0, 1)
    assert outbox_status(engine, alert_id) == {"webhook": ("failed", 0)}


def test_backoff_doubles_up_to_the_cap():
    backoff = Backoff(first=30, cap=3600)
    assert [backoff.delay(n).total_seconds() for n in range(1, 10)] == [
        30, 60, 120, 240, 480, 960, 1920, 3600, 3600,
    ]


def test_database_locked_after_the_send_does_not_send_twice(tmp_path, smtp_server, make_alert,
                                                            t0, caplog):
    path = tmp_path / "flightwatch.db"
    engine = open_engine(f"sqlite:///{path}", busy_timeout_s=0.05)
    upgrade(engine)
    alert_id = record_alert(engine, make_alert(), ["email"], now=t0)
    server = smtp_server()
    # Another writer takes the database while the SMTP server accepts the mail, so
    # the worker cannot record "sent" right away.
    blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    server.mailbox.on_data = lambda: blocker.execute("BEGIN EXCLUSIVE")
    worker = OutboxWorker(engine, {"email": email_to(server.port)}, backoff=Backoff(first=30))
    try:
        assert worker.deliver_due(t0) == (0, 0)
        assert "database unavailable" in caplog.text
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert worker.deliver_due(t0 + 3600 * S) == (0, 0)  # due again, but known to be sent
    assert outbox_status(engine, alert_id) == {"email": ("sent", 1)}
    assert len(server.mailbox.envelopes) == 1
    engine.dispose()
