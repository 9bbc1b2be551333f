"""The daily digest from a replay of the demo capture (RA-96016 lands at UMMS), delivered
to a real SMTP server on loopback, retried when that server is down, or written as a file.

Golden values from config/samples/README.md (the flight model): RA-96016 sends from
09:40:00 to 10:18:25 UTC, enters Belarus at 09:47:00, touches down at UMMS at 10:14:45.
"""

from __future__ import annotations

import email
import email.policy
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from status_helpers import free_port, replay_demo, smtp_server, write_config

from flightwatch.alerts.engine import load_fences
from flightwatch.alerts.notify import Backoff, build_notifiers
from flightwatch.alerts.notify.outbox import OutboxWorker
from flightwatch.db import connect
from flightwatch.output.digest import body, build_digest, build_digest_job, next_run
from flightwatch.settings import Settings, load_settings

SINCE = datetime(2020, 8, 19, 7, 0, tzinfo=UTC)
UNTIL = datetime(2020, 8, 20, 7, 0, tzinfo=UTC)
BEFORE = datetime(2020, 8, 20, 6, 0, tzinfo=UTC)  # when the daemon started
ENTERED = datetime(2020, 8, 19, 9, 47, 0, tzinfo=UTC)
LAST_FRAME = datetime(2020, 8, 19, 10, 18, 25, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Engine]:
    folder = tmp_path_factory.mktemp("digest")
    settings, summary = replay_demo(folder)
    assert summary.alerts == 3
    return folder / "demo.db", connect(settings.database_url)


def settings_for(db: Path, folder: Path, extra: str) -> Settings:
    return load_settings(write_config(folder, db, '[status]\ndigest_at = "07:00"\n\n' + extra,
                                      name="digest.toml"))


def test_digest_of_the_demo(demo: tuple[Path, Engine]) -> None:
    db, engine = demo
    settings = load_settings(write_config(db.parent, db, name="plain.toml"))
    digest = build_digest(engine, load_fences(settings.geofences), SINCE, UNTIL)
    (il96,) = digest.aircraft  # DLH1447, BTI5GW and LOT7TW are not watched
    assert (il96.icao, il96.registration, il96.callsign) == ("157710", "RA-96016", "RSD016")
    assert il96.first_seen is not None and il96.last_seen is not None
    assert abs((il96.first_seen - datetime(2020, 8, 19, 9, 40, tzinfo=UTC)).total_seconds()) < 10
    assert abs((il96.last_seen - LAST_FRAME).total_seconds()) < 3
    (belarus,) = il96.fences
    assert belarus.fence == "belarus"
    assert abs((belarus.first_inside - ENTERED).total_seconds()) < 10
    assert belarus.seconds_inside is not None
    assert belarus.seconds_inside == pytest.approx((LAST_FRAME - ENTERED).total_seconds(), abs=20)
    (landing,) = il96.airports
    assert (landing.kind, landing.airport, landing.evidence) == ("landed", "UMMS", "observed")
    assert abs((landing.time - datetime(2020, 8, 19, 10, 14, 45, tzinfo=UTC)).total_seconds()) < 30
    assert il96.alert_kinds == {"approaching": 1, "enter": 1, "landed": 1}
    assert digest.aircraft_seen == 4 and digest.positions_stored > 1000
    # The day before: nothing.
    empty = build_digest(engine, load_fences(settings.geofences), SINCE - timedelta(days=1),
                         SINCE)
    assert empty.aircraft == () and empty.positions_stored == 0


def test_time_inside_is_the_flights_own_figure(demo: tuple[Path, Engine]) -> None:
    """The digest and ``flights`` tell one story: the time inside a fence is the flight's
    stored figure, and a period that cuts the flight counts the share inside it."""
    db, engine = demo
    settings = load_settings(write_config(db.parent, db, name="plain.toml"))
    fences = load_fences(settings.geofences)
    with engine.connect() as conn:
        stored = conn.exec_driver_sql(
            "SELECT seconds FROM flight_geofences WHERE icao = '157710' "
            "AND geofence = 'belarus'").scalar_one()
    (whole,) = build_digest(engine, fences, SINCE, UNTIL).aircraft[0].fences
    assert whole.seconds_inside == stored

    cut = datetime(2020, 8, 19, 10, 0, tzinfo=UTC)  # 13 of the 31 minutes inside
    (part,) = build_digest(engine, fences, SINCE, cut).aircraft[0].fences
    assert (part.first_inside, part.last_inside) == (whole.first_inside, cut)
    share = (cut - whole.first_inside) / (whole.last_inside - whole.first_inside)
    assert part.seconds_inside == pytest.approx(stored * share)
    assert abs(part.seconds_inside - (cut - ENTERED).total_seconds()) < 30


def test_a_judged_landing_says_how_sure_in_the_digest(demo: tuple[Path, Engine]) -> None:
    db, engine = demo
    settings = load_settings(write_config(db.parent, db, name="plain.toml"))
    digest = build_digest(engine, load_fences(settings.geofences), SINCE, UNTIL)
    (il96,) = digest.aircraft
    inferred = replace(il96, airports=tuple(replace(a, evidence="probable", spread="± 6 min")
                                            for a in il96.airports))
    text = body(replace(digest, aircraft=(inferred,)))
    assert "UMMS (Minsk National Airport) at 2020-08-19 10:14 UTC (probable, ± 6 min)" in text
    assert "(inferred" not in body(digest)


@pytest.fixture
def copy(demo: tuple[Path, Engine], tmp_path: Path) -> Iterator[tuple[Path, Engine]]:
    """The demo's database copied for one test: its outbox is the test's own."""
    db, _engine = demo
    target = tmp_path / "demo.db"
    for suffix in ("", "-wal"):
        if Path(f"{db}{suffix}").exists():
            shutil.copyfile(f"{db}{suffix}", f"{target}{suffix}")
    engine = connect(f"sqlite:///{target}")
    yield target, engine
    engine.dispose()


def worker(settings: Settings, engine: Engine) -> OutboxWorker:
    """The daemon's outbox worker for these settings: what delivers the digest."""
    alerts = settings["alerts"]
    return OutboxWorker(engine, build_notifiers(settings),
                        backoff=Backoff(first=alerts["retry_first"], cap=alerts["retry_max"]))


def pending_mails(engine: Engine) -> list[tuple[str, str, str, str | None]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.exec_driver_sql(
            "SELECT mail_name, channel, status, last_error FROM outbox "
            "WHERE alert_id IS NULL ORDER BY id")]


def test_mailed_at_the_configured_time(copy: tuple[Path, Engine], tmp_path: Path) -> None:
    db, engine = copy
    with smtp_server() as (port, mailbox):
        settings = settings_for(db, tmp_path, (
            f'[alerts.email]\nhost = "127.0.0.1"\nport = {port}\n'
            'sender = "fw@pi.example"\nrecipients = ["me@example.org"]\n'))
        job = build_digest_job(settings, engine, now=BEFORE)
        outbox = worker(settings, engine)
        assert job is not None and job.next_due == UNTIL
        job.tick(UNTIL - timedelta(seconds=1))
        outbox.deliver_due(UNTIL - timedelta(seconds=1))
        assert mailbox.envelopes == [] and pending_mails(engine) == []
        job.tick(UNTIL + timedelta(seconds=40))
        outbox.deliver_due(UNTIL + timedelta(seconds=40))
        (message,) = mailbox.messages()
    assert mailbox.envelopes[0].rcpt_tos == ["me@example.org"]
    assert message["Subject"] == (
        "[flightwatch] daily digest 2020-08-20: 1 watched aircraft: RA-96016")
    assert message["From"] == "fw@pi.example" and message["Message-ID"].endswith("@pi.example>")
    text = message.get_content()
    assert "Watched aircraft seen from 2020-08-19 07:00 to 2020-08-20 07:00 UTC." in text
    assert "RA-96016 Ilyushin IL-96-300PU (Russia Special Flight Detachment)" in text
    assert "ICAO 157710, callsign RSD016, matched by icao" in text
    assert "Seen:     2020-08-19 09:40 to 10:18 UTC (38 min)" in text
    assert "Belarus:  31 min inside, 2020-08-19 09:47 to 10:18 UTC" in text
    assert "Landed:   UMMS (Minsk National Airport) at 2020-08-19 10:14 UTC" in text
    assert "DLH1447" not in text and "3C6DD4" not in text
    assert job.next_due == UNTIL + timedelta(days=1)
    assert pending_mails(engine) == [("digest-20200820T0700Z.eml", "email", "sent", None)]


def test_retried_by_the_outbox_until_the_smtp_server_answers(
        copy: tuple[Path, Engine], tmp_path: Path) -> None:
    db, engine = copy
    port = free_port()  # nothing listens yet
    settings = settings_for(db, tmp_path, (
        f'[alerts]\nretry_first = "30s"\n\n[alerts.email]\nhost = "127.0.0.1"\nport = {port}\n'
        'recipients = ["me@example.org"]\ntimeout = "2s"\n'))
    job = build_digest_job(settings, engine, now=BEFORE)
    outbox = worker(settings, engine)
    assert job is not None
    first = UNTIL + timedelta(seconds=5)
    job.tick(first)
    assert outbox.deliver_due(first) == (0, 1)
    ((_name, _channel, status, error),) = pending_mails(engine)
    assert status == "pending" and error is not None and "SMTP 127.0.0.1" in error
    with smtp_server(port) as (_port, mailbox):
        outbox.deliver_due(first + timedelta(seconds=20))  # not yet due
        assert mailbox.envelopes == []
        assert outbox.deliver_due(first + timedelta(seconds=31)) == (1, 0)
        assert outbox.deliver_due(first + timedelta(seconds=200)) == (0, 0)  # not again
    (message,) = mailbox.messages()
    assert "RA-96016" in message["Subject"]
    assert pending_mails(engine)[0][2] == "sent"


def test_written_to_the_mail_folder_without_smtp(copy: tuple[Path, Engine],
                                                 tmp_path: Path) -> None:
    db, engine = copy
    settings = settings_for(db, tmp_path, '[alerts]\noutbox_dir = "mail"\n')
    job = build_digest_job(settings, engine, now=BEFORE)
    assert job is not None
    job.tick(UNTIL)
    worker(settings, engine).deliver_due(UNTIL)
    written = tmp_path / "mail" / "digest-20200820T0700Z.eml"
    message = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
    assert "RA-96016" in message["Subject"]
    assert sorted(p.name for p in written.parent.iterdir()) == [written.name]


def test_off_unless_configured(demo: tuple[Path, Engine]) -> None:
    db, engine = demo
    assert build_digest_job(load_settings(write_config(db.parent, db, name="off.toml")),
                            engine) is None


def test_next_run_is_strictly_after_now() -> None:
    at = time(7, 0)
    assert next_run(at, datetime(2026, 1, 1, 6, 59, 59, tzinfo=UTC)) == datetime(
        2026, 1, 1, 7, 0, tzinfo=UTC)
    assert next_run(at, datetime(2026, 1, 1, 7, 0, tzinfo=UTC)) == datetime(
        2026, 1, 2, 7, 0, tzinfo=UTC)
    assert next_run(at, datetime(2026, 12, 31, 23, 0, tzinfo=UTC)) == datetime(
        2027, 1, 1, 7, 0, tzinfo=UTC)


def test_a_new_day_replaces_an_undelivered_digest(copy: tuple[Path, Engine],
                                                   tmp_path: Path) -> None:
    db, engine = copy
    settings = settings_for(db, tmp_path, (
        f'[alerts.email]\nhost = "127.0.0.1"\nport = {free_port()}\n'
        'recipients = ["me@example.org"]\ntimeout = "2s"\n'))
    job = build_digest_job(settings, engine, now=BEFORE)
    outbox = worker(settings, engine)
    assert job is not None
    job.tick(UNTIL)
    outbox.deliver_due(UNTIL)  # the server is down
    job.tick(UNTIL + timedelta(days=1))
    assert [(name, status, error) for name, _channel, status, error in pending_mails(engine)
            ] == [("digest-20200820T0700Z.eml", "failed",
                   "replaced by digest-20200821T0700Z.eml"),
                  ("digest-20200821T0700Z.eml", "pending", None)]
