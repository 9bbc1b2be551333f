"""The daily digest: which watched aircraft were seen in the last 24 h, where, and how long.

A watched aircraft is one the watchlist matches (the database's ``watchlist``
table, which the daemon syncs from the configured files, plus the configured
callsign prefixes and address blocks) or one an alert was raised for. For
each: who it is, first and last seen, time spent inside each geofence (the
flights' own figure, ``flight_geofences``: see :mod:`flightwatch.db.digest_queries`,
which holds every query of the digest), and the airports of its ``landed``/``took_off``
alerts (a landing a ``landing_retracted`` alert withdrew says so).

The mail is handed to the outbox for the alert channels that carry mail (SMTP,
``alerts.email``, or the mail folder, ``alerts.outbox_dir``), which delivers and
retries it as it does an alert's mail, until the next digest replaces it. The digest is sent even
when nothing was seen: it then says how many positions were stored, which tells
the reader flightwatch is alive.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from flightwatch.alerts.notify.email import (
    JUDGED,
    MAP_LINKS,
    airport_of,
    fence_title,
    plain_mail,
    plus_or_minus,
)
from flightwatch.db.alert_queries import query_alerts
from flightwatch.db.alert_record import Alert
from flightwatch.db.digest_queries import (
    FenceTime,
    aircraft_seen,
    fence_times,
    positions_stored,
    tracks,
)
from flightwatch.db.engine import database_size
from flightwatch.db.queries import HistoryRow
from flightwatch.decoder import shown
from flightwatch.output.formats import format_size

if TYPE_CHECKING:
    from flightwatch.alerts.geofence import Geofence
    from flightwatch.alerts.watchlist import Watchlist
    from flightwatch.settings import Settings

log = logging.getLogger(__name__)

DAY = timedelta(hours=24)
AIRPORT_KINDS = ("landed", "took_off")


# --- what the digest says ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FenceVisit:
    """Time inside one fence; ``seconds_inside`` is None when only alerts place it there."""

    fence: str
    first_inside: datetime
    last_inside: datetime
    seconds_inside: float | None


@dataclass(frozen=True, slots=True)
class AirportEvent:
    kind: str  # landed | took_off
    airport: str
    name: str | None
    time: datetime
    evidence: str | None = None  # observed | inferred | probable | confirmed
    retracted_at: datetime | None = None  # heard again in the air: it had not landed
    spread: str | None = None  # "± 6 min" of a judged time


@dataclass(frozen=True)
class AircraftDigest:
    icao: str
    registration: str | None
    aircraft_type: str | None
    operator: str | None
    callsign: str | None
    matched_by: str | None
    first_seen: datetime | None
    last_seen: datetime | None
    positions: int
    fences: tuple[FenceVisit, ...] = ()
    airports: tuple[AirportEvent, ...] = ()
    alert_kinds: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Digest:
    since: datetime
    until: datetime
    aircraft: tuple[AircraftDigest, ...]
    positions_stored: int
    aircraft_seen: int
    db_size_bytes: int | None = None


@dataclass
class _Identity:
    registration: str | None = None
    aircraft_type: str | None = None
    operator: str | None = None
    callsign: str | None = None
    matched_by: str | None = None

    def fill(self, **values: Any) -> None:
        """Keep what is known; take the rest from ``values``."""
        for key, value in values.items():
            if value and not getattr(self, key):
                setattr(self, key, value)


def build_digest(
    engine: Engine,
    fences: Sequence[Geofence],
    since: datetime,
    until: datetime,
    *,
    watchlist: Watchlist | None = None,
) -> Digest:
    """The digest of ``[since, until)`` from the database.

    ``watchlist`` defaults to the database's ``watchlist`` table (addresses and
    registrations; pass the daemon's to match callsign prefixes too).
    """
    if watchlist is None:
        from flightwatch.alerts.watchlist import Watchlist
        from flightwatch.db.watchlist import entries

        watchlist = Watchlist(entries(engine))
    alerts = query_alerts(engine, since=since, until=until)
    identities: dict[str, _Identity] = defaultdict(_Identity)
    seen_bounds: dict[str, tuple[datetime, datetime]] = {}
    seen = aircraft_seen(engine, since, until)
    for plane in seen:
        match = watchlist.match(plane.icao, plane.registration, plane.callsign)
        if match is None:
            continue
        ident = identities[plane.icao]
        entry = match.entry
        ident.fill(registration=entry.registration, aircraft_type=entry.aircraft_type,
                   operator=entry.operator, matched_by=match.matched_by)
        ident.fill(registration=plane.registration, aircraft_type=plane.aircraft_type,
                   operator=plane.operator, callsign=plane.callsign)
        seen_bounds[plane.icao] = (max(plane.first_seen, since), min(plane.last_seen, until))
    alerts_by_icao: dict[str, list[Alert]] = defaultdict(list)
    for alert in alerts:
        alerts_by_icao[alert.icao].append(alert)
        d = alert.details
        identities[alert.icao].fill(
            registration=alert.registrations()[0],
            aircraft_type=d.get("aircraft_type"), operator=d.get("operator"),
            callsign=alert.callsign, matched_by=alert.matched_by,
        )
    watched = sorted(identities)
    positions = tracks(engine, watched, since, until)
    inside = fence_times(engine, watched, since, until)
    digests = [
        _aircraft_digest(icao, identities[icao], positions.get(icao, []),
                         alerts_by_icao.get(icao, []), fences, inside.get(icao, []),
                         seen_bounds.get(icao))
        for icao in identities
    ]
    digests.sort(key=lambda a: (a.first_seen or until, a.icao))
    return Digest(since, until, tuple(digests), positions_stored(engine, since, until),
                  len(seen), database_size(engine))


def _aircraft_digest(
    icao: str,
    ident: _Identity,
    track: list[HistoryRow],
    alerts: list[Alert],
    fences: Sequence[Geofence],
    inside: list[FenceTime],
    seen_bounds: tuple[datetime, datetime] | None,
) -> AircraftDigest:
    times = [row.time for row in track] + [a.time for a in alerts]
    first: datetime | None = min(times) if times else None
    last: datetime | None = max(times) if times else None
    if first is None and seen_bounds is not None:
        first, last = seen_bounds
    visits = [v for v in (_visit(fence.name, inside, alerts) for fence in fences)
              if v is not None]
    retracted = _retracted_landings(alerts)
    airports = tuple(
        AirportEvent(a.kind, airport_of(a), a.details.get("airport_name"), a.time, a.evidence,
                     retracted.get(a.time) if a.kind == "landed" else None, plus_or_minus(a))
        for a in alerts if a.kind in AIRPORT_KINDS and airport_of(a) != "an airport"
    )
    return AircraftDigest(  # received texts made safe to show: this is a mail
        icao=icao, registration=shown(ident.registration),
        aircraft_type=shown(ident.aircraft_type), operator=shown(ident.operator),
        callsign=shown(ident.callsign), matched_by=ident.matched_by,
        first_seen=first, last_seen=last, positions=len(track), fences=tuple(visits),
        airports=airports, alert_kinds=dict(Counter(a.kind for a in alerts)),
    )


def _retracted_landings(alerts: list[Alert]) -> dict[datetime, datetime]:
    """The time of each landed alert a ``landing_retracted`` withdrew -> when it was heard
    again in the air."""
    out: dict[datetime, datetime] = {}
    for alert in alerts:
        landed_at = alert.details.get("landed_at") if alert.kind == "landing_retracted" else None
        if landed_at:
            try:
                out[datetime.fromisoformat(str(landed_at))] = alert.time
            except ValueError:
                log.warning("digest: %s's retraction names no landing time: %r", alert.icao,
                            landed_at)
    return out


def _visit(fence: str, inside: list[FenceTime], alerts: list[Alert]) -> FenceVisit | None:
    """Time inside ``fence`` as the flights keep it; where no flight has it (positions
    thinned or never decoded), where the aircraft's alerts place it."""
    for time_inside in inside:
        if time_inside.fence == fence:
            return FenceVisit(fence, time_inside.first_inside, time_inside.last_inside,
                              time_inside.seconds_inside)
    placed = [a.time for a in alerts if a.geofence == fence and a.kind != "approaching"]
    if placed:
        return FenceVisit(fence, min(placed), max(placed), None)
    return None


# --- the mail ---------------------------------------------------------------------------

def _time(value: datetime | None) -> str:
    return "unknown" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _range(first: datetime | None, last: datetime | None) -> str:
    """``2020-08-19 09:40 to 10:18 UTC``; the date again only when it changed."""
    if first is not None and last is not None and first.date() == last.date():
        return f"{_time(first)} to {last.astimezone(UTC):%H:%M} UTC"
    return f"{_time(first)} to {_time(last)} UTC"


def _span(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 1:
        return "under a minute"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def subject(digest: Digest) -> str:
    count = len(digest.aircraft)
    what = "no watched aircraft" if count == 0 else (
        f"{count} watched aircraft: " + ", ".join(a.registration or a.icao
                                                  for a in digest.aircraft[:5])
        + (", ..." if count > 5 else "")
    )
    return f"[flightwatch] daily digest {digest.until:%Y-%m-%d}: {what}"


def body(digest: Digest) -> str:
    lines = [
        f"Watched aircraft seen from {_time(digest.since)} to {_time(digest.until)} UTC.",
        "",
    ]
    if not digest.aircraft:
        lines += ["None was seen.", ""]
    for a in digest.aircraft:
        title = " ".join(p for p in (a.registration or a.icao, a.aircraft_type,
                                      f"({a.operator})" if a.operator else "") if p)
        lines.append(title)
        lines.append(f"  ICAO {a.icao}, callsign {a.callsign or 'unknown'}, "
                     f"matched by {a.matched_by or 'unknown'}")
        seen = _range(a.first_seen, a.last_seen)
        if a.first_seen is not None and a.last_seen is not None:
            seen += f" ({_span((a.last_seen - a.first_seen).total_seconds())})"
        lines.append(f"  Seen:     {seen}, {a.positions:,} positions stored")
        for visit in a.fences:
            inside = (f"{_span(visit.seconds_inside)} inside" if visit.seconds_inside is not None
                      else "inside (from alerts; no positions)")
            lines.append(f"  {fence_title(visit.fence) + ':':<9} {inside}, "
                         f"{_range(visit.first_inside, visit.last_inside)}")
        for event in a.airports:
            verb = "Landed:" if event.kind == "landed" else "Took off:"
            name = f" ({event.name})" if event.name else ""
            how = ""
            if event.evidence in JUDGED:
                how = f" ({', '.join(x for x in (event.evidence, event.spread) if x)})"
            if event.retracted_at is not None:
                how += (f", wrong: heard again in the air at "
                        f"{event.retracted_at.astimezone(UTC):%H:%M} UTC")
            lines.append(f"  {verb:<9} {event.airport}{name} at {_time(event.time)} UTC{how}")
        if a.alert_kinds:
            kinds = ", ".join(f"{kind} x{n}" if n > 1 else kind
                              for kind, n in sorted(a.alert_kinds.items()))
            lines.append(f"  Alerts:   {kinds}")
        lines.append(f"  Map:      {MAP_LINKS[0].format(icao=a.icao.lower())}")
        lines.append("")
    lines.append(f"Receiver: {digest.positions_stored:,} positions stored, "
                 f"{digest.aircraft_seen:,} aircraft seen in these 24 h; "
                 f"database {format_size(digest.db_size_bytes)}.")
    return "\n".join(lines) + "\n"


def digest_message(digest: Digest, sender: str, recipients: Sequence[str]) -> EmailMessage:
    """The mail; its Message-ID depends only on the period, so a resend is recognisably one."""
    stamp = digest.until.strftime("%Y%m%dT%H%MZ")
    digest_id = hashlib.sha256(f"digest|{digest.since.isoformat()}|{stamp}".encode())
    domain = sender.rpartition("@")[2] or "flightwatch.invalid"
    return plain_mail(
        subject_line=subject(digest), sender=sender, recipients=recipients, date=digest.until,
        message_id_header=f"<{digest_id.hexdigest()[:32]}.digest@{domain}>", text=body(digest),
    )


# --- delivery: through the outbox ---------------------------------------------------------

#: The outbox's name of a digest (and its file name in a mail folder): digest-<until>.eml.
DIGEST_PREFIX = "digest-"


def mail_channels(settings: Settings) -> list[str]:
    """The alert channels that carry mail: SMTP and the mail folder (not the webhook,
    chat or MQTT)."""
    from flightwatch.alerts.notify import build_notifiers
    from flightwatch.alerts.notify.outbox import MailNotifier

    return [name for name, notifier in build_notifiers(settings).items()
            if isinstance(notifier, MailNotifier)]


def next_run(at: dt_time, now: datetime) -> datetime:
    """The first ``at`` (UTC) strictly after ``now``."""
    candidate = now.astimezone(UTC).replace(hour=at.hour, minute=at.minute, second=0,
                                            microsecond=0)
    return candidate if candidate > now else candidate + DAY


class DigestJob:
    """Call :meth:`tick` every minute: at ``at`` it composes the digest and hands it to the
    outbox, which delivers, retries and gives up on it as on any alert's mail.

    A digest missed while the daemon was down is not made up at start (no second mail
    for one day after a restart); today's digest gives up on yesterday's if the outbox
    has not delivered it yet (it says less).
    """

    def __init__(self, at: dt_time, compose: Callable[[datetime], EmailMessage],
                 channels: Iterable[str],
                 record: Callable[[str, bytes, list[str], datetime], None],
                 *, now: datetime | None = None) -> None:
        self.at = at
        self.compose = compose
        self.channels = list(channels)
        self.record = record
        self.next_due = next_run(at, now or datetime.now(UTC))

    def tick(self, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        if now < self.next_due:
            return
        until = self.next_due
        message = self.compose(until)  # if composing fails, the next tick tries again
        self.next_due = next_run(self.at, now)
        if not self.channels:
            log.warning("daily digest not sent: no mail channel (set alerts.email.host or "
                        "alerts.outbox_dir): %s", message["Subject"])
            return
        name = f"{DIGEST_PREFIX}{until.astimezone(UTC):%Y%m%dT%H%MZ}.eml"
        self.record(name, message.as_bytes(), self.channels, now)
        log.info("daily digest handed to the outbox (%s): %s", ", ".join(self.channels),
                 message["Subject"])


def build_digest_job(
    settings: Settings, engine: Engine, *, now: datetime | None = None
) -> DigestJob | None:
    """The job ``status.digest_at`` asks for, or None when it is off.

    The watchlist and the fences are read again for every digest, so a changed
    configuration counts from the next one on.
    """
    at = settings["status"]["digest_at"]
    if at is None:
        return None
    from flightwatch.alerts.engine import address_blocks, callsign_prefixes, load_fences
    from flightwatch.alerts.watchlist import Watchlist
    from flightwatch.db.watchlist import entries
    from flightwatch.settings import bundled

    email = settings["alerts.email"]
    section = settings["watchlist"]

    def compose(until: datetime) -> EmailMessage:
        # The daemon has synced the configured files into the table: read, do not sync.
        watchlist = Watchlist(
            entries(engine),
            callsign_prefixes(section["callsign_prefixes"], bundled("callsign_prefixes.csv")),
            address_blocks(section["address_blocks"]),
        )
        digest = build_digest(engine, load_fences(settings.geofences), until - DAY, until,
                              watchlist=watchlist)
        return digest_message(digest, email["sender"], email["recipients"])

    from flightwatch.db.alerts import record_mail

    def record(name: str, message: bytes, channels: list[str], now: datetime) -> None:
        record_mail(engine, name, message, channels, now=now, replaces=DIGEST_PREFIX)

    return DigestJob(at, compose, mail_channels(settings), record, now=now)
