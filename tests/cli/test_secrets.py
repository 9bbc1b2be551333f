"""Secrets in URLs reach the services that need them and nothing else: a webhook's
``user:password@`` and ``?token=`` (written literally or as ``${NAME}``), a PostgreSQL
password from FLIGHTWATCH_DATABASE_URL. Checked where they used to show: ``notify-test``,
the outbox table, ``alerts --pending``, the daemon's log, ``status``; and a world-readable
configuration holding secrets is warned about by ``check-config`` and at start.

Real parts: an HTTP server that refuses the webhook (500), the daemon as a process,
PostgreSQL refusing a wrong password.
"""

from __future__ import annotations

import signal
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_helpers import run
from integration.daemon_helpers import DaemonProcess
from pytest_httpserver import HTTPServer
from sqlalchemy.engine import make_url

from flightwatch.alerts.notify import OutboxWorker, build_notifiers
from flightwatch.db import close, connect
from flightwatch.db.alert_record import Alert
from flightwatch.db.alerts import record_alert
from flightwatch.settings import load_settings

PASSWORD = "hunter2-webhook-password"
TOKEN = "tok-0123456789abcdef"
ALERT = Alert(time=datetime(2024, 5, 1, 9, 0, tzinfo=UTC), icao="157710", kind="enter",
              registration="RA-96016", geofence="belarus")


def leaked(text: str, *secrets: str) -> list[str]:
    return [secret for secret in (secrets or (PASSWORD, TOKEN)) if secret in text]


def refusing_hook(httpserver: HTTPServer) -> str:
    httpserver.expect_request("/hook", method="POST").respond_with_data("no", status=500)
    return f"127.0.0.1:{httpserver.port}"


def with_webhook(config_file: Path, url: str) -> Path:
    config_file.write_text('[database]\nurl = "sqlite:///fw.db"\n'
                           f'[alerts.webhook]\nurl = "{url}"\n', encoding="utf-8")
    return config_file


def test_a_webhook_url_from_the_environment_reaches_the_service_and_no_output(
        capsys: pytest.CaptureFixture[str], config_file: Path, httpserver: HTTPServer,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("FW_HOOK_PASSWORD", PASSWORD)
    monkeypatch.setenv("FW_HOOK_TOKEN", TOKEN)
    host = refusing_hook(httpserver)
    with_webhook(config_file, f"http://fw:${{FW_HOOK_PASSWORD}}@{host}/hook"
                              "?token=${FW_HOOK_TOKEN}&channel=alerts")

    code, out, err = run(capsys, "notify-test", "--config", str(config_file))

    assert code == 1
    ((request, _answer),) = httpserver.log
    assert (request.authorization.password, request.args["token"]) == (PASSWORD, TOKEN)
    assert f"webhook: FAILED: POST http://fw:***@{host}/hook?token=***&channel=alerts" in out
    assert leaked(out + err) == []

    settings = load_settings(config_file)
    engine = connect(settings.database_url)
    record_alert(engine, ALERT, ["webhook"])
    assert OutboxWorker(engine, build_notifiers(settings)).deliver_due() == (0, 1)
    close(engine)
    code, out, err = run(capsys, "alerts", "--pending", "--wide", "--config", str(config_file))
    assert code == 0 and "HTTP 500" in out
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name != "werkzeug")
    assert "webhook notifications failing" in logged
    assert leaked(out + err + logged) == []
    with sqlite3.connect(config_file.parent / "fw.db") as db:
        (stored,) = db.execute("SELECT last_error FROM outbox").fetchone()
    assert "***" in stored and leaked(stored) == []


def test_a_literal_webhook_secret_stays_out_of_the_daemon_log_and_is_warned_about(
        config_file: Path, httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]) -> None:
    host = refusing_hook(httpserver)
    with_webhook(config_file, f"http://fw:{PASSWORD}@{host}/hook?token={TOKEN}")
    config_file.chmod(0o644)
    settings = load_settings(config_file)
    engine = connect(settings.database_url)
    record_alert(engine, ALERT, ["webhook"])  # delivered (and refused) at the daemon's start
    close(engine)

    code, _out, err = run(capsys, "check-config", "--config", str(config_file))
    assert code == 0
    assert f"warning: {config_file} holds secrets" in err and "chmod 600" in err
    assert leaked(err) == []

    process = DaemonProcess(config_file)
    try:
        process.wait_for("webhook notifications failing", timeout=60)
        process.wait_for("flightwatch running", timeout=30)
        process.send(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        process.stop()
    log = process.log
    assert f"{config_file} holds secrets" in log
    assert f"POST http://fw:***@{host}/hook?token=***: HTTP 500" in log
    assert leaked(log) == []

    config_file.chmod(0o600)
    code, _out, err = run(capsys, "check-config", "--config", str(config_file))
    assert code == 0 and "warning" not in err


def test_status_shows_no_database_password(
        capsys: pytest.CaptureFixture[str], config_file: Path, postgres_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = "s3cret-db-password"
    url = make_url(postgres_url).set(password=wrong).render_as_string(hide_password=False)
    monkeypatch.setenv("FLIGHTWATCH_DATABASE_URL", url)
    monkeypatch.chdir(config_file.parent)

    code, out, err = run(capsys, "status", "--config", str(config_file))

    assert code == 1 and "password authentication failed" in err
    assert leaked(out + err, wrong) == [] and ":***@" in err
