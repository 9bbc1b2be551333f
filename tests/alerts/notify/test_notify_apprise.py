"""Apprise channels against a real HTTP server (pytest-httpserver) through Apprise's json://.

json:// is the Apprise plugin that can be pointed at any HTTP server; the chat services
(tgram://, ntfy://, discord://...) differ only in the far end.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from werkzeug import Response

from flightwatch.alerts.notify import (
    Backoff,
    NotifierConfigError,
    OutboxWorker,
    PhoneFormat,
    build_notifiers,
)
from flightwatch.alerts.notify.chat import AppriseNotifier, channel_names, expand_env
from flightwatch.db.alert_queries import pending_count
from flightwatch.db.alerts import outbox_status, record_alert
from flightwatch.settings import load_settings

pytestmark = pytest.mark.integration

S = timedelta(seconds=1)
SECRET = "tok-9f8e7d6c5b4a"
PHONE = PhoneFormat(track_url="https://globe.example/?icao={icao}&showTrace={date}",
                    zones={"belarus": ZoneInfo("Europe/Minsk")})


def json_url(httpserver, path: str = "/hook") -> str:
    return f"json://{httpserver.host}:{httpserver.port}{path}"


def test_delivered_once_as_title_and_phone_body(engine, httpserver, make_alert, t0):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    alert_id = record_alert(engine, make_alert(), ["apprise:json"], now=t0)
    worker = OutboxWorker(engine, {"apprise:json": AppriseNotifier(
        "apprise:json", json_url(httpserver), PHONE)})

    assert worker.deliver_due(t0) == (1, 0)
    assert worker.deliver_due(t0 + 3600 * S) == (0, 0)
    assert worker.resume(t0 + 3601 * S) == (0, 0)

    [(request, _response)] = httpserver.log
    payload = request.get_json()
    assert payload["title"] == "RA-96016 Il-96-300PU (Rossiya) entered Belarus"
    assert payload["message"].splitlines() == [
        "When: 2026-11-25 10:15 UTC (13:15 Minsk)",
        "Where: Belarus (53.9012, 27.5500)",
        "FL120, 432 kt, callsign RSD016, ICAO 157710",
        "Track: https://globe.example/?icao=157710&showTrace=2026-11-25",
    ]
    assert outbox_status(engine, alert_id) == {"apprise:json": ("sent", 1)}


def test_retried_on_5xx_then_delivered_once(engine, httpserver, make_alert, t0, caplog):
    caplog.set_level(logging.INFO, logger="flightwatch.alerts.notify")
    answers = iter([Response("busy", 503), Response("down", 502), Response("ok", 200)])
    httpserver.expect_request("/hook").respond_with_handler(lambda _request: next(answers))
    alert_id = record_alert(engine, make_alert(), ["apprise:json"], now=t0)
    worker = OutboxWorker(engine, {"apprise:json": AppriseNotifier(
        "apprise:json", json_url(httpserver), PHONE)}, backoff=Backoff(first=30))

    assert worker.deliver_due(t0) == (0, 1)
    assert worker.deliver_due(t0 + 30 * S) == (0, 1)
    assert pending_count(engine) == 1
    assert worker.deliver_due(t0 + 90 * S) == (1, 0)
    assert worker.deliver_due(t0 + 3600 * S) == (0, 0)

    assert len(httpserver.log) == 3
    assert outbox_status(engine, alert_id) == {"apprise:json": ("sent", 3)}
    lines = [r.getMessage() for r in caplog.records if r.name.endswith("outbox")]
    assert len(lines) == 2, lines
    assert "apprise:json notifications failing" in lines[0]
    assert "error=503" in lines[0]


def test_4xx_is_not_retried_and_reported_once(engine, httpserver, make_alert, t0, caplog):
    caplog.set_level(logging.INFO, logger="flightwatch.alerts.notify")
    httpserver.expect_request("/hook").respond_with_data("bad chat id", status=400)
    ids = [record_alert(engine, make_alert(time=make_alert().time + n * 60 * S), ["apprise:json"],
                        now=t0) for n in range(3)]
    worker = OutboxWorker(engine, {"apprise:json": AppriseNotifier(
        "apprise:json", json_url(httpserver), PHONE)})

    assert worker.deliver_due(t0) == (0, 3)
    assert worker.deliver_due(t0 + 86400 * S) == (0, 0)

    assert len(httpserver.log) == 3  # one try each, never again
    assert [outbox_status(engine, i)["apprise:json"] for i in ids] == [("failed", 1)] * 3
    lines = [r.getMessage() for r in caplog.records
             if r.name.endswith("outbox") and r.levelno >= logging.WARNING]
    assert len(lines) == 1, lines
    assert "rejected for good" in lines[0] and "error=400" in lines[0]


def test_a_dead_service_does_not_hold_up_another(engine, httpserver, free_port, make_alert, t0):
    httpserver.expect_request("/hook").respond_with_data("ok")
    urls = [f"json://127.0.0.1:{free_port()}/hook", json_url(httpserver)]
    notifiers = build_notifiers(_settings(tmp_urls=urls), env={})
    assert set(notifiers) == {"apprise:json", "apprise:json-2"}
    for n in range(60):  # more than a batch of the dead channel's backlog
        record_alert(engine, make_alert(time=make_alert().time + n * S), list(notifiers), now=t0)
    worker = OutboxWorker(engine, notifiers, batch=50)

    sent, failed = worker.deliver_due(t0)
    sent2, _ = worker.deliver_due(t0 + 1 * S)
    assert (sent + sent2, failed) == (60, 1)
    assert len(httpserver.log) == 60
    assert pending_count(engine) == 60  # the dead channel's, waiting for its service


@pytest.fixture
def application_log() -> Iterator[io.StringIO]:
    """What the application's log (a handler on the root logger, as ``-vv`` sets it up)
    shows, debug level included: Apprise's debug lines print whole request URLs."""
    text = io.StringIO()
    handler = logging.StreamHandler(text)
    handler.addFilter(lambda record: record.name != "werkzeug")  # the test server's own log
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield text
    root.removeHandler(handler)
    root.setLevel(level)


def test_secrets_stay_out_of_logs_errors_and_check_config(engine, httpserver, free_port,
                                                          make_alert, t0, application_log,
                                                          tmp_path):
    httpserver.expect_request(f"/hook/{SECRET}").respond_with_data("no", status=500)
    env = {"FW_TEST_TOKEN": SECRET, "FW_TEST_PASSWORD": "pw-" + SECRET}
    config = tmp_path / "fw.toml"
    config.write_text(f"""
[database]
url = "sqlite:///fw.db"
[alerts.apprise]
urls = ["json://fw:${{FW_TEST_PASSWORD}}@{httpserver.host}:{httpserver.port}/hook/${{FW_TEST_TOKEN}}",
        "json://127.0.0.1:{free_port()}/hook/${{FW_TEST_TOKEN}}"]
""", encoding="utf-8")
    settings = load_settings(config, env={})
    notifiers = build_notifiers(settings, env=env)
    record_alert(engine, make_alert(), list(notifiers), now=t0)
    worker = OutboxWorker(engine, notifiers)
    assert worker.deliver_due(t0) == (0, 2)

    assert len(httpserver.log) == 1  # the secrets did reach the service
    assert httpserver.log[0][0].authorization.password == "pw-" + SECRET
    shown = application_log.getvalue()
    assert "apprise:json notifications failing" in shown
    shown += "\n".join(str(notifier.display_url) for notifier in notifiers.values())
    from flightwatch.cli.check_config import check

    _problems, lines = check(settings)  # without the env: every URL names its variable
    shown += "\n".join(lines)
    from flightwatch.db.alert_queries import pending_by_channel

    errors = [row["last_error"] for row in pending_by_channel(engine)]
    assert all(errors), errors
    shown += "\n".join(errors)
    assert "error=500" in shown
    assert "apprise:json-2" in shown
    assert SECRET not in shown
    assert "***" in shown


def test_a_missing_variable_is_a_config_error_naming_it_not_its_value():
    with pytest.raises(NotifierConfigError, match=r"urls\[0\].*env TG_TOKEN is not set"):
        build_notifiers(_settings(tmp_urls=["tgram://${TG_TOKEN}/12345"]), env={})
    url, secrets = expand_env("tgram://${TG_TOKEN}/${CHAT}", {"TG_TOKEN": "1:ab", "CHAT": "7"},
                              "x")
    assert (url, secrets) == ("tgram://1:ab/7", ["1:ab", "7"])


def test_a_url_apprise_does_not_know_is_a_config_error():
    with pytest.raises(NotifierConfigError, match=r"urls\[1\] \(apprise:nonsense\).*nonsense://"):
        build_notifiers(_settings(tmp_urls=["ntfy://127.0.0.1/topic", "nonsense://x"]), env={})


def test_channel_names_stay_put_when_other_services_are_added():
    assert channel_names(["tgram://a/1", "ntfys://b", "tgram://c/2", "discord://d/e"]) == [
        "apprise:tgram", "apprise:ntfys", "apprise:tgram-2", "apprise:discord"]


def _settings(tmp_urls: list[str]):
    settings = load_settings(None, env={})
    settings.sections["alerts.apprise"]["urls"] = tmp_urls
    return settings
