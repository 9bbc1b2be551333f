"""An alert's picture travels with it: attached to the mail (a real aiosmtpd) and to Apprise
channels that take attachments (json:// to pytest-httpserver), the same bytes on a retry;
a channel that takes none gets the text alone."""

from __future__ import annotations

import base64
import email
import io
from datetime import timedelta
from email import policy

import pytest
from PIL import Image

from flightwatch.alerts.notify import OutboxWorker, PhoneFormat
from flightwatch.alerts.notify.chat import AppriseNotifier
from flightwatch.alerts.notify.email import EmailNotifier, SmtpSettings
from flightwatch.alerts.notify.mailfile import MailFileNotifier
from flightwatch.db.alert_record import TrackPoint
from flightwatch.db.alerts import alert_picture, record_alert
from flightwatch.output.alert_picture import AlertPictures
from flightwatch.output.picture import MapLayers

pytestmark = pytest.mark.integration

S = timedelta(seconds=1)
PHONE = PhoneFormat(track_url="https://globe.example/?icao={icao}&showTrace={date}")


@pytest.fixture
def alert(make_alert):
    """The sample alert with a recent track: 20 minutes flown west to where it was raised."""
    base = make_alert()
    track = tuple(
        TrackPoint(base.time - (20 - i) * 60 * S, base.lat, base.lon + (20 - i) * 0.06,
                   12_000 + (20 - i) * 500)
        for i in range(21))
    return make_alert(track=track)


@pytest.fixture
def png(alert) -> bytes:
    picture = AlertPictures(lambda: MapLayers(), {})(alert)
    assert picture is not None and picture.startswith(b"\x89PNG")
    return picture


def email_to(port: int) -> EmailNotifier:
    return EmailNotifier(SmtpSettings(host="127.0.0.1", port=port,
                                      recipients=("me@example.org",), timeout=5))


def _png_parts(message) -> list[bytes]:
    return [part.get_content() for part in message.walk()
            if part.get_content_type() == "image/png"]


def test_the_mail_carries_the_stored_picture_on_every_try(engine, smtp_server, free_port, alert,
                                                          png, t0):
    port = free_port()  # nobody listens yet: the first try fails
    alert_id = record_alert(engine, alert, ["email"], now=t0, picture=png)
    worker = OutboxWorker(engine, {"email": email_to(port)})
    assert worker.deliver_due(t0) == (0, 1)

    server = smtp_server(port=port)
    assert worker.deliver_due(t0 + 3600 * S) == (1, 0)
    [message] = server.mailbox.messages()
    assert message.get_content_maintype() == "multipart"
    text = message.get_body(("plain",)).get_content()
    assert "RA-96016" in text and "entered Belarus" in text
    [attached] = _png_parts(message)
    assert attached == png == alert_picture(engine, alert_id)
    [part] = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert part.get_content_disposition() == "inline"
    assert part.get_filename() == "flightwatch-157710-enter-20261125T101530Z.png"
    assert Image.open(io.BytesIO(attached)).size == (800, 600)


def test_an_alert_without_a_picture_is_a_plain_mail(engine, smtp_server, make_alert, t0):
    server = smtp_server()
    record_alert(engine, make_alert(), ["email"], now=t0)
    assert OutboxWorker(engine, {"email": email_to(server.port)}).deliver_due(t0) == (1, 0)
    [message] = server.mailbox.messages()
    assert message.get_content_type() == "text/plain"
    assert _png_parts(message) == []


def test_a_mail_file_has_the_picture_too(engine, tmp_path, alert, png, t0):
    notifier = MailFileNotifier(tmp_path / "outbox", "flightwatch@example.org")
    record_alert(engine, alert, ["mailfile"], now=t0, picture=png)
    assert OutboxWorker(engine, {"mailfile": notifier}).deliver_due(t0) == (1, 0)
    [path] = (tmp_path / "outbox").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert _png_parts(message) == [png]


def test_apprise_attaches_the_picture_where_the_service_takes_files(engine, httpserver, alert,
                                                                    png, t0):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    notifier = AppriseNotifier("apprise:json",
                               f"json://{httpserver.host}:{httpserver.port}/hook", PHONE)
    assert notifier.takes_pictures
    record_alert(engine, alert, ["apprise:json"], now=t0, picture=png)
    assert OutboxWorker(engine, {"apprise:json": notifier}).deliver_due(t0) == (1, 0)

    [(request, _response)] = httpserver.log
    payload = request.get_json()
    assert payload["title"] == "RA-96016 Il-96-300PU (Rossiya) entered Belarus"
    [attachment] = payload["attachments"]
    assert attachment["mimetype"] == "image/png"
    assert attachment["filename"] == "flightwatch-157710-enter-20261125T101530Z.png"
    assert base64.b64decode(attachment["base64"]) == png


def test_a_service_that_takes_no_files_gets_the_text_and_link(engine, httpserver, alert, png,
                                                              t0):
    """Gotify takes no attachments: the alert goes as today, text with its track link."""
    httpserver.expect_request("/message", method="POST").respond_with_json({"id": 1})
    notifier = AppriseNotifier(
        "apprise:gotify", f"gotify://{httpserver.host}:{httpserver.port}/AbCdEfGhIjKlMnO", PHONE)
    assert not notifier.takes_pictures
    record_alert(engine, alert, ["apprise:gotify"], now=t0, picture=png)
    assert OutboxWorker(engine, {"apprise:gotify": notifier}).deliver_due(t0) == (1, 0)

    [(request, _response)] = httpserver.log
    payload = request.get_json()
    assert "Track: https://globe.example/?icao=157710&showTrace=2026-11-25" in payload["message"]
    assert "attachments" not in payload
