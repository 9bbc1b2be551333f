"""Alert mail: the message (subject, plain-text body, headers) and its SMTP delivery.

The Message-ID is derived from the alert's dedupe key, so the rare copy sent
again after a crash (see alerts.notify.outbox) carries the same Message-ID and
mail clients and list servers that drop duplicates do so.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email import policy as mail_policy
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from flightwatch.alerts.notify.outbox import DeliveryError, PermanentDeliveryError
from flightwatch.db.alert_record import Alert
from flightwatch.db.alerts import dedupe_key
from flightwatch.db.evidence import CONFIRMED, EXPLAINED, INFERRED, PROBABLE
from flightwatch.decoder import printable

log = logging.getLogger(__name__)

MAP_LINKS = (
    "https://globe.adsb.lol/?icao={icao}",
    "https://globe.adsbexchange.com/?icao={icao}",
)


def fence_title(name: str | None) -> str:
    """``belarus`` -> ``Belarus``: fence names are identifiers, subjects are prose."""
    if not name:
        return "the geofence"
    return " ".join(word[:1].upper() + word[1:] for word in name.replace("_", " ").split())


def airport_of(alert: Alert) -> str:
    """``UMMS``; ``UMMS or UMLI`` where several fit alike and none is named."""
    if alert.airport:
        return alert.airport
    candidates = alert.details.get("candidates")
    if isinstance(candidates, list) and candidates:
        return " or ".join(str(c) for c in candidates)
    return "an airport"


def what_happened(alert: Alert) -> str:
    """The verb phrase of the subject: ``entered Belarus``, ``landed at UMMS (Belarus)``."""
    fence = fence_title(alert.geofence)
    airport = airport_of(alert)
    squawk = alert.details.get("squawk")
    phrases = {
        "enter": f"entered {fence}",
        "exit": f"left {fence}",
        "first_seen_inside": f"seen inside {fence}",
        "landed": f"landed at {airport} ({fence})",
        "took_off": f"took off from {airport}",
        "went_silent": f"went silent over {fence}",
        "approaching": f"approaching {fence}",
        "heard_nearby": "heard nearby (Mode S only, lower confidence)",
        "squawk": f"squawking {squawk} over {fence}" if squawk else f"squawking over {fence}",
        "identity_anomaly": f"heard from an unexpected address ({alert.icao})",
        "landing_retracted": f"did not land at {airport} ({fence}): the landed alert was wrong",
        "went_dark": (f"went dark over {fence}" if alert.geofence else "went dark")
                     + " (transponder likely off)",
        "test": "test message: this channel works",
    }
    phrase = phrases.get(alert.kind, f"{alert.kind.replace('_', ' ')} ({fence})")
    if alert.evidence in JUDGED and alert.kind != "landing_retracted":
        phrase += f", {how_known(alert)}"  # "probable, 17:14Z ± 6 min"
    if alert.retrospective:  # raised by `flightwatch import`: say so before anyone reacts
        phrase += f" (from imported history, {alert.time:%Y-%m-%d})"
    return phrase


JUDGED = (INFERRED, PROBABLE, CONFIRMED)  # grades that are a judgement, not a hearing


def plus_or_minus(alert: Alert) -> str | None:
    """``± 6 min``: how sure the time of a judged landing or take-off is."""
    uncertainty = alert.details.get("uncertainty_s")
    if alert.evidence not in JUDGED or not isinstance(uncertainty, int | float):
        return None
    return f"± {max(round(uncertainty / 60), 1)} min"


def estimate(alert: Alert) -> str | None:
    """``17:14Z ± 6 min``: when a judged landing or take-off happened, and how sure."""
    spread = plus_or_minus(alert)
    return f"{alert.time:%H:%MZ} {spread}" if spread else None


def how_known(alert: Alert) -> str | None:
    """``probable, 17:14Z ± 6 min``: the grade and the estimate, for a summary line."""
    if not alert.evidence:
        return None
    return ", ".join(x for x in (alert.evidence, estimate(alert)) if x)


def correction(alert: Alert) -> str | None:
    """For a ``landing_retracted`` alert, which earlier alert was wrong and why; else None."""
    if alert.kind != "landing_retracted":
        return None
    d = alert.details
    landed_at = _utc(d.get("landed_at"))
    heard_again = _utc(d.get("heard_again")) or f"{alert.time:%Y-%m-%d %H:%M:%S} UTC"
    silent = d.get("silent_for_s")
    after = f", {silent} s after it fell silent" if silent is not None else ""
    grade = f" ({alert.evidence})" if alert.evidence else ""
    wrong = f"Correction: the alert \"landed at {airport_of(alert)}{grade}\" of " \
            f"{landed_at or 'earlier'} was wrong"
    reason = d.get("reason")
    if reason:
        return f"{wrong}: {reason}."
    return (f"{wrong}. The aircraft was heard again at {heard_again}{after}, in the air and "
            "not climbing: it had only dropped below the receiver's coverage on the approach "
            "(or went around).")


def _utc(iso: Any) -> str | None:
    """``2024-05-01 08:05:26 UTC`` from an ISO 8601 time in an alert's details."""
    try:
        return f"{datetime.fromisoformat(str(iso)):%Y-%m-%d %H:%M:%S} UTC" if iso else None
    except ValueError:
        return str(iso)


def aircraft_title(alert: Alert) -> str:
    """``RA-96016 Il-96-300PU (Rossiya)``; the ICAO address when there is no registration;
    ``RA-96016 (reported as RA-96017) ...`` when the sources report another one."""
    listed, reported = alert.registrations()
    name = listed or alert.icao
    if reported:
        name += f" (reported as {reported})"
    aircraft_type = alert.details.get("aircraft_type") or alert.details.get("type")
    operator = alert.details.get("operator")
    parts = [name, str(aircraft_type) if aircraft_type else "", f"({operator})" if operator else ""]
    return " ".join(p for p in parts if p)


def subject(alert: Alert) -> str:
    return f"[flightwatch] {aircraft_title(alert)} {what_happened(alert)}"


def _number(value: float | None, unit: str, digits: int = 0) -> str:
    return "unknown" if value is None else f"{value:,.{digits}f} {unit}".rstrip()


def body(alert: Alert) -> str:
    """The plain-text body: what, where, how it was matched, where to look it up."""
    position = (
        "unknown" if alert.lat is None or alert.lon is None
        else f"{alert.lat:.4f}, {alert.lon:.4f}"
    )
    lines = [f"{aircraft_title(alert)} {what_happened(alert)}.", ""]
    corrected = correction(alert)
    if corrected:
        lines += [corrected, ""]
    lines += [
        f"Time (UTC):    {alert.time.strftime('%Y-%m-%d %H:%M:%S')}",
        f"Position:      {position}",
        f"Altitude:      {_number(alert.altitude_ft, 'ft')}",
        f"Ground speed:  {_number(alert.ground_speed_kt, 'kt')}",
        f"Track:         {_number(alert.track_deg, 'deg')}",
        f"Callsign:      {alert.callsign or 'unknown'}",
        f"ICAO address:  {alert.icao}",
        f"Registration:  {_registration_line(alert)}",
    ]
    if alert.geofence:
        lines.append(f"Geofence:      {alert.geofence}")
    if alert.airport:
        lines.append(f"Airport:       {alert.airport}")
    if alert.evidence:
        lines.append(f"How known:     {alert.evidence} ({EXPLAINED.get(alert.evidence, '')})")
        when = estimate(alert)
        if when:
            lines.append(f"Estimated:     {when}")
    reason = alert.details.get("reason")
    if reason:
        lines.append(f"Why:           {reason}")
    lines += [
        "",
        f"Why it matched: {alert.matched_by or 'unknown'} (confidence {alert.confidence})",
    ]
    lines += [f"  {key}: {value}" for key, value in sorted(alert.details.items()) if value != ""]
    lines += [
        f"Sources:       {', '.join(alert.sources) or 'unknown'}",
        "",
        "On a map:",
    ]
    lines += [f"  {link.format(icao=alert.icao.lower())}" for link in MAP_LINKS]
    return "\n".join(lines) + "\n"


def _registration_line(alert: Alert) -> str:
    listed, reported = alert.registrations()
    if reported:
        return f"{listed} (watchlist); its sources report {reported}"
    return listed or "unknown"


def message_id(alert: Alert, sender: str) -> str:
    """The same Message-ID for the same alert, every time it is built."""
    digest = hashlib.sha256(dedupe_key(alert).encode()).hexdigest()[:32]
    domain = sender.rpartition("@")[2] or "flightwatch.invalid"
    return f"<{digest}.alert@{domain}>"


def plain_mail(
    *, subject_line: str, sender: str, recipients: Sequence[str], date: datetime,
    message_id_header: str, text: str,
) -> EmailMessage:
    """A plain-text mail with the headers every flightwatch mail (alert, digest) carries."""
    message = EmailMessage()
    message["Subject"] = printable(subject_line)  # never a CR/LF: no header injection
    message["From"] = sender
    if recipients:
        message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id_header
    message.set_content(text)
    return message


def build_message(alert: Alert, sender: str, recipients: Sequence[str],
                  picture: bytes | None = None) -> EmailMessage:
    """The alert mail; with ``picture``, the map attached as an inline PNG after the text."""
    shown = alert.for_display()
    message = plain_mail(
        subject_line=subject(shown), sender=sender, recipients=recipients, date=alert.time,
        message_id_header=message_id(alert, sender), text=body(shown),
    )
    if picture is not None:
        message.add_attachment(picture, maintype="image", subtype="png",
                               disposition="inline", filename=picture_name(alert))
    return message


def picture_name(alert: Alert) -> str:
    """``flightwatch-157710-landed-20200819T101445Z.png``: the attachment's file name."""
    return f"flightwatch-{alert.icao}-{alert.kind}-{alert.time:%Y%m%dT%H%M%SZ}.png"


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """The ``[alerts.email]`` section, with the password taken from the environment."""

    host: str
    port: int = 25
    security: str = "none"  # none | starttls | ssl
    username: str | None = None
    password: str | None = None
    sender: str = "flightwatch@localhost"
    recipients: tuple[str, ...] = ()
    timeout: float = 20.0
    allow_plaintext_auth: bool = False

    def plaintext_auth_problem(self) -> str | None:
        """Why these settings would send the password in clear (a login without TLS,
        not explicitly allowed); None when they would not."""
        if not self.username or self.security != "none" or self.allow_plaintext_auth:
            return None
        return ("alerts.email.username is set with security = \"none\": the SMTP password "
                "would cross the network in clear (AUTH PLAIN); set security = \"starttls\" "
                "or \"ssl\", or alerts.email.allow_plaintext_auth = true for a server on "
                "this machine")


class EmailNotifier:
    """Sends each alert as one mail over SMTP (plain, STARTTLS or implicit TLS)."""

    channel = "email"
    takes_pictures = True

    def __init__(self, settings: SmtpSettings, *, ssl_context: ssl.SSLContext | None = None):
        self.settings = settings
        # The context is a seam for tests (a self-signed server); default: system CAs.
        self._ssl_context = ssl_context or ssl.create_default_context()

    def send(self, alert: Alert) -> None:
        s = self.settings
        self.send_message(build_message(alert, s.sender, s.recipients))

    def send_with_picture(self, alert: Alert, picture: bytes) -> None:
        s = self.settings
        self.send_message(build_message(alert, s.sender, s.recipients, picture))

    def send_mail(self, _name: str, message: bytes) -> None:
        """A ready-made mail from the outbox (the daily digest), as it was stored."""
        self.send_message(message_from_bytes(message, _class=EmailMessage,
                                             policy=mail_policy.default))

    def send_message(self, message: EmailMessage) -> None:
        """Deliver a ready-made mail (an alert, the daily digest) over the configured SMTP."""
        s = self.settings
        try:
            smtp = self._connect()
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {s.host}:{s.port}: {exc}") from exc
        try:
            refused = smtp.send_message(message, s.sender, list(s.recipients))
        except smtplib.SMTPRecipientsRefused as exc:
            raise _refused(exc.recipients) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {s.host}:{s.port}: {exc}") from exc
        finally:
            # The message is accepted once send_message returns: a failing QUIT
            # must not turn that into a retry (a duplicate).
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()
            smtp.close()
        if refused:
            log.warning("mail %r not accepted for %s", message["Subject"],
                        ", ".join(f"{r} ({code} {text!r})" for r, (code, text) in refused.items()))

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        smtp: smtplib.SMTP
        if s.security == "ssl":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._ssl_context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            if s.security == "starttls":
                smtp.starttls(context=self._ssl_context)
            if s.username:
                problem = s.plaintext_auth_problem()
                if problem is not None:
                    raise PermanentDeliveryError(problem)
                smtp.login(s.username, s.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp


def _refused(recipients: dict[str, Any]) -> DeliveryError:
    """Every recipient refused: permanent if every refusal is a 5xx, else retry."""
    text = ", ".join(f"{r} ({code} {msg!r})" for r, (code, msg) in recipients.items())
    if all(500 <= code < 600 for code, _msg in recipients.values()):
        return PermanentDeliveryError(f"all recipients refused: {text}")
    return DeliveryError(f"recipients refused for now: {text}")
