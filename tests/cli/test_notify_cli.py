"""``flightwatch notify-test`` and ``flightwatch alerts --pending`` against real channels."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_helpers import run

from flightwatch.alerts.notify import OutboxWorker, build_notifiers
from flightwatch.db import connect
from flightwatch.db.alert_record import Alert
from flightwatch.db.alerts import record_alert
from flightwatch.settings import load_settings

pytestmark = pytest.mark.integration


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(config_file: Path, body: str) -> Path:
    config_file.write_text('[database]\nurl = "sqlite:///fw.db"\n' + body, encoding="utf-8")
    return config_file


def test_every_channel_works(capsys, config_file, httpserver, mosquitto, mqtt_subscriber):
    httpserver.expect_request("/hook").respond_with_data("ok")
    broker = mosquitto()
    subscriber = mqtt_subscriber(broker.port, "fw/alerts")
    write_config(config_file, f"""
[alerts]
outbox_dir = "mail"
[alerts.apprise]
urls = ["json://127.0.0.1:{httpserver.port}/hook"]
[alerts.mqtt]
host = "127.0.0.1"
port = {broker.port}
topic = "fw/alerts"
""")
    code, out, err = run(capsys, "notify-test", "--config", str(config_file))
    assert code == 0, err
    assert out.splitlines() == ["apprise:json: sent", "mailfile: sent", "mqtt: sent"]
    [request] = [entry[0] for entry in httpserver.log]
    assert request.get_json()["title"] == "flightwatch test message: this channel works"
    [message] = subscriber.wait_for(1, "fw/alerts")
    assert json.loads(message.payload)["kind"] == "test"
    assert len(list((config_file.parent / "mail").glob("*.eml"))) == 1


def test_a_failing_channel_is_named_and_the_exit_code_is_1(capsys, config_file, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    write_config(config_file, f"""
[alerts.apprise]
urls = ["json://127.0.0.1:{closed_port()}/hook", "json://127.0.0.1:{httpserver.port}/hook"]
[alerts.mqtt]
host = "127.0.0.1"
port = {closed_port()}
timeout = "2s"
""")
    code, out, err = run(capsys, "notify-test", "--config", str(config_file))
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("apprise:json: FAILED: json://127.0.0.1:")
    assert lines[1] == "apprise:json-2: sent"
    assert lines[2].startswith("mqtt: FAILED: MQTT 127.0.0.1:")
    assert "notify-test failed for apprise:json, mqtt" in err

    code, out, _err = run(capsys, "notify-test", "--channel", "apprise:json-2",
                          "--config", str(config_file))
    assert (code, out) == (0, "apprise:json-2: sent\n")


def test_unknown_channel_and_no_channels_are_usage_errors(capsys, config_file):
    code, _out, err = run(capsys, "notify-test", "--config", str(config_file))
    assert code == 2
    assert "no alert channels configured" in err
    write_config(config_file, '[alerts]\noutbox_dir = "mail"\n')
    code, _out, err = run(capsys, "notify-test", "--channel", "telegram",
                          "--config", str(config_file))
    assert code == 2
    assert "'telegram' is not configured; configured: mailfile" in err


def test_a_missing_secret_is_a_usage_error_naming_the_variable(capsys, config_file,
                                                               monkeypatch):
    monkeypatch.delenv("FW_TG_TOKEN", raising=False)
    write_config(config_file, '[alerts.apprise]\nurls = ["tgram://${FW_TG_TOKEN}/12345"]\n')
    code, _out, err = run(capsys, "notify-test", "--config", str(config_file))
    assert code == 2
    assert "env FW_TG_TOKEN is not set" in err


def test_alerts_pending_shows_what_waits_per_channel(capsys, config_file, httpserver):
    httpserver.expect_request("/hook").respond_with_data("down", status=503)
    dead = closed_port()
    write_config(config_file, f"""
[alerts.apprise]
urls = ["json://127.0.0.1:{httpserver.port}/hook", "json://127.0.0.1:{dead}/hook"]
""")
    settings = load_settings(config_file, env={})
    engine = connect(settings.database_url)
    notifiers = build_notifiers(settings, env={})
    t0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    for minute in range(3):
        record_alert(engine, Alert(time=t0.replace(minute=minute), icao="157710", kind="enter"),
                     list(notifiers), now=t0)
    assert OutboxWorker(engine, notifiers).deliver_due(t0) == (0, 2)
    engine.dispose()

    code, out, _err = run(capsys, "alerts", "--pending", "--format", "json",
                          "--config", str(config_file))
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["channel"], r["pending"], r["attempts"]) for r in rows] == [
        ("apprise:json", 3, 1), ("apprise:json-2", 3, 1)]
    assert "error=503" in rows[0]["last_error"]
    assert "Connection error" in rows[1]["last_error"]
    assert rows[0]["oldest"] == "2026-11-25T10:00:00Z"
    assert rows[0]["next_attempt"] == "2026-11-25T10:00:00Z"  # the two that were not tried
