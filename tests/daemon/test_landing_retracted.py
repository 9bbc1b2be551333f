"""An inferred landing that did not happen: the aircraft, lost low on final into Minsk, is
heard again still on the approach. Replayed through the real pipeline with a real SMTP
server (aiosmtpd): the landed alert is followed by a ``landing_retracted`` alert, the
flights row has no arrival; a turnaround, a return after the flights gap, or the kind
switched off raise none. Times from the simulator (tests/landing_scenarios.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from landing_scenarios import Scenario, merged, retraction_scenarios
from status_helpers import Mailbox, smtp_server

from flightwatch.alerts.engine import load_fences
from flightwatch.daemon.replay import replay_files
from flightwatch.db import connect
from flightwatch.db.alert_queries import query_alerts
from flightwatch.db.alert_record import Alert
from flightwatch.db.flight_queries import FlightRow, query_flights
from flightwatch.output.digest import body, build_digest
from flightwatch.settings import ALERT_KINDS, load_settings
from tools.capture_writer import write_tsv

FIRST_POSITION_S = 15  # pyModeS pairs CPR frames and waits for three to agree


def at(t: float | None) -> datetime:
    assert t is not None
    return datetime.fromtimestamp(t, UTC)


def write_capture(folder: Path, chosen: dict[str, Scenario]) -> Path:
    capture = folder / "retractions.tsv"
    with capture.open("w", encoding="ascii", newline="\n") as out:
        write_tsv(merged(chosen), out)
    return capture


def write_config(folder: Path, extra: str = "") -> Path:
    config = folder / "flightwatch.toml"
    config.write_text(
        '[database]\nurl = "sqlite:///fw.db"\n\n'
        "[receiver]\nlat = 53.93\nlon = 27.60\n\n" + extra,
        encoding="utf-8",
    )
    return config


class Replayed:
    """The capture replayed once, its database and the mails the SMTP server received."""

    def __init__(self, config: Path, capture: Path, chosen: dict[str, Scenario],
                 mailbox: Mailbox) -> None:
        self.config, self.capture, self.chosen, self.mailbox = config, capture, chosen, mailbox

    def rows(self, story: str) -> tuple[list[FlightRow], list[Alert]]:
        engine = connect(load_settings(self.config).database_url)
        try:
            icao = self.chosen[story].icao
            return query_flights(engine, icaos=[icao]), query_alerts(engine, icao=icao)
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replayed]:
    folder = tmp_path_factory.mktemp("retractions")
    chosen = retraction_scenarios()
    capture = write_capture(folder, chosen)
    with smtp_server() as (port, mailbox):
        config = write_config(
            folder,
            f'[alerts.email]\nhost = "127.0.0.1"\nport = {port}\n'
            'sender = "flightwatch@example.org"\nrecipients = ["desk@example.org"]\n',
        )
        summary = replay_files(load_settings(config), [capture])
        assert summary.aircraft == len(chosen) and summary.bad_crc == 0
        yield Replayed(config, capture, chosen, mailbox)


def kinds(alerts: list[Alert]) -> list[str]:
    return [a.kind for a in alerts]


def test_heard_again_descending_on_the_approach_retracts_the_landing(
    replayed: Replayed,
) -> None:
    """Then it is lost again, 750 ft above the field 2 NM out on final, when the capture
    ends: that landing is probable, and the one wrongly inferred is corrected."""
    truth = replayed.chosen["reheard"]
    (flight,), alerts = replayed.rows("reheard")
    assert (flight.arrival_airport, flight.arrival_evidence) == ("UMMS", "probable")
    assert kinds(alerts) == ["first_seen_inside", "landed", "landing_retracted", "landed"]
    landed, retracted = alerts[1], alerts[2]
    assert (landed.airport, landed.evidence) == ("UMMS", "inferred")
    assert (retracted.airport, retracted.evidence, retracted.geofence) == (
        "UMMS", "inferred", "belarus")
    assert alerts[3].evidence == "probable"
    first_heard = at(truth.first_heard)
    assert first_heard <= retracted.time <= first_heard + timedelta(seconds=FIRST_POSITION_S)
    details = retracted.details
    assert datetime.fromisoformat(details["landed_at"]) == landed.time
    assert datetime.fromisoformat(details["heard_again"]) == retracted.time
    last_position = datetime.fromisoformat(details["last_heard"])  # the last frame may be
    assert at(truth.last_heard) - timedelta(seconds=1) <= last_position  # a velocity
    assert last_position <= at(truth.last_heard)
    assert details["silent_for_s"] == round((retracted.time - last_position).total_seconds())
    assert 90 <= details["silent_for_s"] <= 90 + FIRST_POSITION_S
    assert details["runway"] == "31L"
    # Where it was heard again: 2-3 NM before 31L, 750-1,000 ft above the 669 ft field.
    assert retracted.altitude_ft is not None and 1400 <= retracted.altitude_ft <= 1700
    assert retracted.lat is not None and 53.82 < retracted.lat < 53.85


def test_retracted_then_heard_landing_alerts_the_landing(replayed: Replayed) -> None:
    """The wrong landing's cooldown is lifted: the real one, minutes later, is alerted."""
    truth = replayed.chosen["reheard_lands"]
    (flight,), alerts = replayed.rows("reheard_lands")
    assert (flight.arrival_airport, flight.arrival_evidence) == ("UMMS", "observed")
    assert [(a.kind, a.evidence) for a in alerts] == [
        ("first_seen_inside", None), ("landed", "inferred"), ("landing_retracted", "inferred"),
        ("landed", "observed"),
    ]
    assert alerts[3].time > at(truth.first_heard) + timedelta(seconds=60)


@pytest.mark.parametrize("story", ["quick_turnaround", "turnaround"])
def test_heard_again_climbing_out_is_a_turnaround(replayed: Replayed, story: str) -> None:
    """Climbing out 10 or 40 minutes later: it had landed (confirmed), and took off again."""
    (arrived, left), alerts = replayed.rows(story)
    assert (arrived.arrival_airport, arrived.arrival_evidence) == ("UMMS", "confirmed")
    assert (left.departure_airport, left.departure_evidence) == ("UMMS", "inferred")
    assert kinds(alerts) == ["first_seen_inside", "landed", "took_off", "went_silent"]


def test_heard_again_after_the_flights_gap_retracts_nothing(replayed: Replayed) -> None:
    """Heard again on final 31 minutes later: it may have landed and come back unheard, so
    the first landing stands; the second approach, lost 2 NM out, is a probable one."""
    (arrived, again), alerts = replayed.rows("late")
    assert (arrived.arrival_airport, arrived.arrival_evidence) == ("UMMS", "inferred")
    assert again.departure_airport is None
    assert (again.arrival_airport, again.arrival_evidence) == ("UMMS", "probable")
    assert "landing_retracted" not in kinds(alerts)
    assert kinds(alerts)[:2] == ["first_seen_inside", "landed"]


def test_the_mail_says_the_landing_alert_was_wrong(replayed: Replayed) -> None:
    _flights, alerts = replayed.rows("reheard")
    landed, retracted = alerts[1], alerts[2]
    name = retracted.registration or retracted.icao  # RA-64524 on the shipped watchlist
    mails: list[EmailMessage] = replayed.mailbox.messages(f"[flightwatch] {name} ")
    assert [m["Subject"].split(") ", 1)[1] for m in mails] == [
        "seen inside Belarus",
        f"landed at UMMS (Belarus), inferred, {landed.time:%H:%MZ} ± 2 min",
        "did not land at UMMS (Belarus): the landed alert was wrong",
        f"landed at UMMS (Belarus), probable, {alerts[3].time:%H:%MZ} ± 2 min",
    ]
    text = mails[2].get_body(("plain",)).get_content()
    assert (f'Correction: the alert "landed at UMMS (inferred)" of '
            f'{landed.time:%Y-%m-%d %H:%M:%S} UTC was wrong: heard again 1 min later at ') in text
    assert "in the air and not climbing: it had only dropped below coverage." in text
    assert "Airport:       UMMS" in text
    assert f"ICAO address:  {retracted.icao}" in text


def test_replaying_again_stores_and_mails_nothing_new(replayed: Replayed) -> None:
    engine = connect(load_settings(replayed.config).database_url)
    before = query_alerts(engine)
    mailed = len(replayed.mailbox.envelopes)
    replay_files(load_settings(replayed.config), [replayed.capture])
    assert query_alerts(engine) == before
    assert sum(a.kind == "landing_retracted" for a in before) == 2  # reheard, reheard_lands
    engine.dispose()
    assert len(replayed.mailbox.envelopes) == mailed


def test_switched_off_in_alerts_events_raises_none(tmp_path: Path) -> None:
    chosen = {"reheard": retraction_scenarios()["reheard"]}
    events = ", ".join(f'"{k}"' for k in ALERT_KINDS if k != "landing_retracted")
    config = write_config(tmp_path, f"[alerts]\nevents = [{events}]\n")
    replay_files(load_settings(config), [write_capture(tmp_path, chosen)])
    engine = connect(load_settings(config).database_url)
    try:
        (flight,) = query_flights(engine)
        # the flights are corrected all the same: the arrival is the later, probable one
        assert flight.arrival_evidence == "probable"
        # no correction, and the wrong landing's cooldown holds the second one back
        assert kinds(query_alerts(engine)) == ["first_seen_inside", "landed"]
    finally:
        engine.dispose()


def test_the_digest_says_which_landing_was_wrong(replayed: Replayed) -> None:
    _flights, alerts = replayed.rows("reheard")
    landed, retracted = alerts[1], alerts[2]
    settings = load_settings(replayed.config)
    engine = connect(settings.database_url)
    try:
        digest = build_digest(engine, load_fences(settings.geofences),
                              landed.time - timedelta(hours=1), landed.time + timedelta(hours=2))
    finally:
        engine.dispose()
    text = body(digest)
    assert (f"Landed:   UMMS (Minsk National Airport) at {landed.time:%Y-%m-%d %H:%M} UTC "
            f"(inferred, ± 2 min), wrong: heard again in the air at "
            f"{retracted.time:%H:%M} UTC") in text
    # The real landing of the aircraft that was heard landing afterwards is not marked.
    (_f, lands_alerts) = replayed.rows("reheard_lands")
    observed = lands_alerts[3]
    assert (f"Landed:   UMMS (Minsk National Airport) at {observed.time:%Y-%m-%d %H:%M} UTC\n"
            in text)


@pytest.mark.parametrize(("story", "expected"), [
    ("reheard", ["first_seen_inside", "landed", "landing_retracted", "landed"]),
    ("quick_turnaround", ["first_seen_inside", "landed", "took_off", "went_silent"]),
])
def test_a_restart_between_the_loss_and_hearing_it_again(
    tmp_path: Path, story: str, expected: list[str],
) -> None:
    """The loss in one replay, the rest of the capture in the next (a daemon restarted in
    the silence): the landing raised before the restart is retracted all the same, and a
    turnaround is still none."""
    truth = retraction_scenarios()[story]
    assert truth.last_heard is not None
    config = write_config(tmp_path)
    before = tmp_path / "before.tsv"
    after = tmp_path / "after.tsv"
    for path, frames in ((before, [f for f in truth.timed if f[0] <= truth.last_heard]),
                         (after, [f for f in truth.timed if f[0] > truth.last_heard])):
        with path.open("w", encoding="ascii", newline="\n") as out:
            write_tsv(frames, out)
    replay_files(load_settings(config), [before])
    replay_files(load_settings(config), [after])
    engine = connect(load_settings(config).database_url)
    try:
        flights = query_flights(engine)
        alerts = query_alerts(engine)
    finally:
        engine.dispose()
    assert kinds(alerts) == expected
    if story == "quick_turnaround":
        assert [f.departure_evidence for f in flights] == [None, "inferred"]
        return
    (flight,) = flights
    assert flight.arrival_evidence == "probable"  # lost again 2 NM out, at the end
    landed, retracted = alerts[1], alerts[2]
    # remembered across the restart by the flights table, which keeps whole seconds
    landed_at = datetime.fromisoformat(retracted.details["landed_at"])
    assert abs(landed_at - landed.time) < timedelta(seconds=1)
    assert retracted.airport == "UMMS"
    first_heard = at(truth.first_heard)
    assert first_heard <= retracted.time <= first_heard + timedelta(seconds=FIRST_POSITION_S)
