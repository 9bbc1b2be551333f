"""Alert mail through a real SMTP server (aiosmtpd on 127.0.0.1): plain, STARTTLS, SSL."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import replace
from pathlib import Path

import pytest

from flightwatch.alerts.notify import (
    DeliveryError,
    EmailNotifier,
    MailFileNotifier,
    PermanentDeliveryError,
    SmtpSettings,
)
from flightwatch.alerts.notify.email import body, subject

pytestmark = pytest.mark.integration

# Subjects as the issue specifies them, for RA-96016 Il-96-300PU (Rossiya):
# (kind, airport, squawk, expected phrase).
SUBJECTS = [
    ("enter", None, None, "entered Belarus"),
    ("exit", None, None, "left Belarus"),
    ("first_seen_inside", None, None, "seen inside Belarus"),
    ("landed", "UMMS", None, "landed at UMMS (Belarus)"),
    ("took_off", "UMMS", None, "took off from UMMS"),
    ("went_silent", None, None, "went silent over Belarus"),
    ("approaching", None, None, "approaching Belarus"),
    ("heard_nearby", None, None, "heard nearby (Mode S only, lower confidence)"),
    ("squawk", None, "7700", "squawking 7700 over Belarus"),
    # Raised by the rules for a watched registration heard from another address.
    ("identity_anomaly", None, None, "heard from an unexpected address (157710)"),
]


@pytest.mark.parametrize(("kind", "airport", "squawk", "phrase"), SUBJECTS)
def test_subject_says_who_and_what(make_alert, kind, airport, squawk, phrase):
    details = dict(make_alert().details)
    if squawk:
        details["squawk"] = squawk
    alert = make_alert(kind=kind, airport=airport, details=details)
    assert subject(alert) == f"[flightwatch] RA-96016 Il-96-300PU (Rossiya) {phrase}"


@pytest.mark.parametrize(("kind", "phrase"), [
    ("landed", "landed at UMMS (Belarus), inferred"),
    ("took_off", "took off from UMMS, inferred"),
])
def test_an_inferred_landing_or_takeoff_says_so(make_alert, kind, phrase):
    alert = make_alert(kind=kind, airport="UMMS", evidence="inferred")
    assert subject(alert).endswith(phrase)
    assert "How known:     inferred (not heard on the ground" in body(alert)
    estimated = make_alert(kind=kind, airport="UMMS", evidence="probable",
                           details={**alert.details, "uncertainty_s": 360,
                                    "reason": "lost at 13,975 ft 67 km E of UMMS"})
    assert subject(estimated).endswith(
        phrase.replace("inferred", f"probable, {estimated.time:%H:%MZ} ± 6 min"))
    assert "Why:           lost at 13,975 ft 67 km E of UMMS" in body(estimated)
    observed = make_alert(kind=kind, airport="UMMS", evidence="observed")
    assert "inferred" not in subject(observed)
    assert "How known:     observed" in body(observed)


def test_an_alert_from_imported_history_says_so_and_when(make_alert):
    alert = make_alert(kind="landed", airport="UMMS", retrospective=True)
    day = f"{alert.time:%Y-%m-%d}"
    assert subject(alert).endswith(f"landed at UMMS (Belarus) (from imported history, {day})")
    assert body(alert).startswith(f"RA-96016 Il-96-300PU (Rossiya) landed at UMMS (Belarus) "
                                  f"(from imported history, {day}).")
    assert "imported" not in subject(make_alert(kind="landed", airport="UMMS"))


def test_mail_reaches_the_smtp_server_with_every_field(smtp_server, make_alert):
    server = smtp_server()
    notifier = EmailNotifier(SmtpSettings(
        host="127.0.0.1", port=server.port, sender="fw@pi.example",
        recipients=("me@example.org", "you@example.org"), timeout=5,
    ))
    alert = make_alert()
    notifier.send(alert)

    [envelope] = server.mailbox.envelopes
    assert envelope.mail_from == "fw@pi.example"
    assert envelope.rcpt_tos == ["me@example.org", "you@example.org"]
    [message] = server.mailbox.messages()
    assert message["Subject"] == "[flightwatch] RA-96016 Il-96-300PU (Rossiya) entered Belarus"
    assert message["To"] == "me@example.org, you@example.org"
    assert email.utils.parsedate_to_datetime(message["Date"]) == alert.time
    assert re.fullmatch(r"<[0-9a-f]{32}\.alert@pi\.example>", message["Message-ID"])
    text = message.get_content()
    for expected in (
        r"Time \(UTC\):\s+2026-11-25 10:15:30",
        r"Position:\s+53\.9012, 27\.5500",
        r"Altitude:\s+12,000 ft",
        r"Ground speed:\s+432 kt",
        r"Track:\s+272 deg",
        r"Callsign:\s+RSD016",
        r"ICAO address:\s+157710",
        r"Why it matched: icao \(confidence high\)",
        r"group: RU_STATE_TRANSPORT_RSD",
        r"operator: Rossiya",
        r"Sources:\s+beast:127\.0\.0\.1:30005",
        r"https://globe\.adsb\.lol/\?icao=157710",
    ):
        assert re.search(expected, text), expected


def test_same_alert_same_message_id_another_alert_another(smtp_server, make_alert):
    server = smtp_server()
    notifier = EmailNotifier(SmtpSettings(host="127.0.0.1", port=server.port,
                                          recipients=("me@example.org",), timeout=5))
    notifier.send(make_alert())
    notifier.send(make_alert())
    notifier.send(make_alert(kind="exit"))
    ids = [m["Message-ID"] for m in server.mailbox.messages()]
    assert ids[0] == ids[1] != ids[2]


def test_starttls_with_login(smtp_server, tls, password_checker, make_alert):
    server = smtp_server(tls_context=tls.server, require_starttls=True,
                         authenticator=password_checker("fw", "s3cret"), auth_required=True)
    settings = SmtpSettings(host="127.0.0.1", port=server.port, security="starttls",
                            username="fw", password="s3cret", recipients=("me@example.org",),
                            timeout=5)
    EmailNotifier(settings, ssl_context=tls.client).send(make_alert())
    assert len(server.mailbox.envelopes) == 1


def test_starttls_wrong_password_is_retried_not_sent(smtp_server, tls, password_checker,
                                                     make_alert):
    server = smtp_server(tls_context=tls.server, require_starttls=True,
                         authenticator=password_checker("fw", "s3cret"), auth_required=True)
    settings = SmtpSettings(host="127.0.0.1", port=server.port, security="starttls",
                            username="fw", password="wrong", recipients=("me@example.org",),
                            timeout=5)
    with pytest.raises(DeliveryError) as caught:
        EmailNotifier(settings, ssl_context=tls.client).send(make_alert())
    assert not isinstance(caught.value, PermanentDeliveryError)
    assert server.mailbox.envelopes == []


def test_implicit_ssl(smtp_server, tls, make_alert):
    server = smtp_server(ssl_context=tls.server)
    settings = SmtpSettings(host="127.0.0.1", port=server.port, security="ssl",
                            recipients=("me@example.org",), timeout=5)
    EmailNotifier(settings, ssl_context=tls.client).send(make_alert())
    assert len(server.mailbox.envelopes) == 1


def test_untrusted_certificate_is_not_sent_to(smtp_server, tls, make_alert):
    server = smtp_server(ssl_context=tls.server)
    settings = SmtpSettings(host="127.0.0.1", port=server.port, security="ssl",
                            recipients=("me@example.org",), timeout=5)
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        EmailNotifier(settings).send(make_alert())  # system CAs do not know our cert
    assert server.mailbox.envelopes == []


def test_every_recipient_refused_is_permanent(smtp_server, make_alert):
    server = smtp_server()
    server.mailbox.refuse = {"nobody@example.org"}
    notifier = EmailNotifier(SmtpSettings(host="127.0.0.1", port=server.port,
                                          recipients=("nobody@example.org",), timeout=5))
    with pytest.raises(PermanentDeliveryError, match="550"):
        notifier.send(make_alert())


def test_some_recipients_refused_still_delivers_to_the_rest(smtp_server, make_alert, caplog):
    server = smtp_server()
    server.mailbox.refuse = {"nobody@example.org"}
    notifier = EmailNotifier(SmtpSettings(
        host="127.0.0.1", port=server.port,
        recipients=("nobody@example.org", "me@example.org"), timeout=5,
    ))
    notifier.send(make_alert())
    assert server.mailbox.envelopes[0].rcpt_tos == ["me@example.org"]
    assert "nobody@example.org" in caplog.text


def test_no_server_listening_is_a_delivery_error(free_port, make_alert):
    notifier = EmailNotifier(SmtpSettings(host="127.0.0.1", port=free_port(),
                                          recipients=("me@example.org",), timeout=2))
    with pytest.raises(DeliveryError, match=r"127\.0\.0\.1"):
        notifier.send(make_alert())


def test_mail_file_is_written_once_per_alert(tmp_path: Path, make_alert):
    notifier = MailFileNotifier(tmp_path / "mail", "fw@pi.example", ["me@example.org"])
    notifier.send(make_alert())
    notifier.send(make_alert())  # the same alert again replaces, never duplicates
    notifier.send(make_alert(kind="exit"))
    files = sorted((tmp_path / "mail").iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml"]
    messages = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
                for f in files]
    assert sorted(m["Subject"] for m in messages) == [
        "[flightwatch] RA-96016 Il-96-300PU (Rossiya) entered Belarus",
        "[flightwatch] RA-96016 Il-96-300PU (Rossiya) left Belarus",
    ]
    assert "Position:      53.9012, 27.5500" in messages[0].get_content()


def test_a_login_without_tls_is_refused_unless_allowed(smtp_server, password_checker,
                                                       make_alert):
    """With a username and the default security = "none", smtplib would send AUTH PLAIN,
    the password in base64, over the bare connection (aiosmtpd here accepts that)."""
    check = password_checker("fw", "s3cret")
    logins: list[bytes] = []

    def recording(server, session, envelope, mechanism, auth_data):
        logins.append(auth_data.password)
        return check(server, session, envelope, mechanism, auth_data)

    server = smtp_server(authenticator=recording, auth_require_tls=False)
    settings = SmtpSettings(host="127.0.0.1", port=server.port, username="fw",
                            password="s3cret", recipients=("me@example.org",), timeout=5)
    with pytest.raises(PermanentDeliveryError, match="allow_plaintext_auth"):
        EmailNotifier(settings).send(make_alert())
    assert logins == [] and server.mailbox.envelopes == []

    EmailNotifier(replace(settings, allow_plaintext_auth=True)).send(make_alert())
    assert logins == [b"s3cret"] and len(server.mailbox.envelopes) == 1


def test_the_configuration_says_so_before_anything_is_sent(tmp_path):
    from flightwatch.alerts.notify import NotifierConfigError, build_notifiers
    from flightwatch.settings import load_settings

    config = tmp_path / "fw.toml"
    config.write_text('[alerts.email]\nhost = "smtp.example.org"\nusername = "fw"\n'
                      'recipients = ["me@example.org"]\n', encoding="utf-8")
    env = {"FLIGHTWATCH_SMTP_PASSWORD": "s3cret"}
    with pytest.raises(NotifierConfigError, match=r'security = "none".*allow_plaintext_auth'):
        build_notifiers(load_settings(config, env={}), env=env)
    config.write_text(config.read_text() + "allow_plaintext_auth = true\n", encoding="utf-8")
    assert "email" in build_notifiers(load_settings(config, env={}), env=env)
