"""AlertSink (log line + stored alert + outbox rows) and building notifiers from the config."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from flightwatch.alerts.notify import (
    PASSWORD_ENV,
    AlertSink,
    EmailNotifier,
    MailFileNotifier,
    NotifierConfigError,
    WebhookNotifier,
    alert_line,
    build_notifiers,
)
from flightwatch.db import open_engine, upgrade
from flightwatch.db.alert_queries import pending_count, query_alerts
from flightwatch.db.alerts import outbox_status
from flightwatch.settings import load_settings


def test_log_line_as_the_issue_shows_it(make_alert):
    alert = make_alert(callsign=None, lat=53.9012, lon=27.55)
    assert alert_line(alert) == (
        "ALERT enter RA-96016 (157710) Il-96-300PU Rossiya belarus 53.9012,27.5500 FL120 "
        "matched_by=icao sources=beast:127.0.0.1:30005"
    )


def test_log_line_without_registration_position_or_altitude(make_alert):
    alert = make_alert(kind="heard_nearby", registration=None, lat=None, lon=None,
                       altitude_ft=None, geofence=None, callsign=None, confidence="low",
                       matched_by="address_block", details={}, sources=())
    assert alert_line(alert) == "ALERT heard_nearby 157710 matched_by=address_block confidence=low"


def test_log_line_of_a_retracted_landing_names_the_landing(make_alert):
    alert = make_alert(kind="landing_retracted", airport="UMMS", callsign=None, lat=53.8334,
                       lon=28.1032, altitude_ft=1650.0, details={
                           "landed_at": "2026-11-25T10:14:04+00:00", "silent_for_s": 92})
    assert alert_line(alert) == (
        "ALERT landing_retracted RA-96016 (157710) belarus airport=UMMS 53.8334,28.1032 "
        "FL016 matched_by=icao retracts=landed@2026-11-25T10:14:04+00:00 "
        "sources=beast:127.0.0.1:30005"
    )


def test_raise_alert_logs_and_stores_once(engine, make_alert, caplog):
    caplog.set_level(logging.INFO, logger="flightwatch.alerts.notify")
    sink = AlertSink(engine, ["email", "webhook"])
    alert = make_alert()
    alert_id = sink.raise_alert(alert)
    assert alert_id is not None
    assert sink.raise_alert(alert) is None  # the same alert again (a replay): one row
    assert query_alerts(engine) == [alert]
    assert outbox_status(engine, alert_id) == {"email": ("pending", 0),
                                               "webhook": ("pending", 0)}
    assert pending_count(engine) == 2
    alert_lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ALERT")]
    assert alert_lines == [alert_line(alert)] * 2


def test_locked_database_keeps_the_alert_until_it_can_be_stored(tmp_path, make_alert):
    path = tmp_path / "flightwatch.db"
    engine = open_engine(f"sqlite:///{path}", busy_timeout_s=0.05)
    upgrade(engine)
    sink = AlertSink(engine, ["email"])
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another writer holds the database
    try:
        assert sink.raise_alert(make_alert()) is None
        assert sink.raise_alert(make_alert(kind="exit")) is None
        assert sink.flush() == 2
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert sink.flush() == 0
    assert [a.kind for a in query_alerts(engine)] == ["enter", "exit"]
    assert pending_count(engine) == 2
    engine.dispose()


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "flightwatch.toml"
    path.write_text(text)
    return path


def test_build_notifiers_from_the_config_file(tmp_path):
    settings = load_settings(write_config(tmp_path, """
[alerts.email]
host = "smtp.example.org"
port = 587
security = "starttls"
username = "fw"
recipients = ["me@example.org"]

[alerts.webhook]
url = "http://127.0.0.1:9/hook"
timeout = "3s"
"""), env={})
    notifiers = build_notifiers(settings, env={PASSWORD_ENV: "from-env"})
    assert set(notifiers) == {"email", "webhook"}
    email = notifiers["email"]
    assert isinstance(email, EmailNotifier)
    assert (email.settings.host, email.settings.port, email.settings.security) == (
        "smtp.example.org", 587, "starttls")
    assert email.settings.password == "from-env"
    assert email.settings.recipients == ("me@example.org",)
    webhook = notifiers["webhook"]
    assert isinstance(webhook, WebhookNotifier)
    assert webhook.timeout == 3.0


def test_username_without_password_in_the_environment_is_a_config_error(tmp_path):
    settings = load_settings(write_config(tmp_path, """
[alerts.email]
host = "smtp.example.org"
username = "fw"
recipients = ["me@example.org"]
"""), env={})
    with pytest.raises(NotifierConfigError, match=PASSWORD_ENV):
        build_notifiers(settings, env={})


def test_email_without_recipients_is_a_config_error(tmp_path):
    settings = load_settings(write_config(tmp_path, '[alerts.email]\nhost = "localhost"\n'),
                             env={})
    with pytest.raises(NotifierConfigError, match=r"alerts\.email\.recipients"):
        build_notifiers(settings, env={})


def test_mail_files_when_there_is_no_smtp_server(tmp_path):
    settings = load_settings(write_config(tmp_path, """
[alerts]
outbox_dir = "mail"

[alerts.email]
recipients = ["me@example.org"]
"""), env={})
    notifiers = build_notifiers(settings, env={})
    assert set(notifiers) == {"mailfile"}
    mailfile = notifiers["mailfile"]
    assert isinstance(mailfile, MailFileNotifier)
    assert mailfile.folder == tmp_path / "mail"  # relative to the config file


def test_nothing_configured_means_no_channels():
    assert build_notifiers(load_settings(None, env={}), env={}) == {}
