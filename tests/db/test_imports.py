"""What an import relies on in the database, on SQLite and PostgreSQL: finished members,
retrospective alerts, and an aircraft row that older history widens but never rewinds."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select

from flightwatch.db.alert_queries import query_alerts
from flightwatch.db.alert_record import Alert
from flightwatch.db.alerts import record_alert
from flightwatch.db.imports import Finished, finished_members, record_finished
from flightwatch.db.models import Aircraft
from flightwatch.db.store import Store
from flightwatch.decoder.tracker import AircraftState


def test_finished_members_by_source_and_window(engine: Engine) -> None:
    record_finished(engine, "import/day.tar", "", "store",
                    [Finished("traces/10/trace_full_157710.json", 2048, 286),
                     Finished("traces/d4/trace_full_3c6dd4.json", 1024, 178)])
    record_finished(engine, "import/day.tar", "2020-08-19T00:00:00+00:00/", "none",
                    [Finished("traces/10/trace_full_157710.json", 2048, 40)])
    # the same member again (a re-run after it changed) replaces its row
    record_finished(engine, "import/day.tar", "", "notify",
                    [Finished("traces/10/trace_full_157710.json", 4096, 300)])
    assert finished_members(engine, "import/day.tar", "") == {
        "traces/10/trace_full_157710.json": (4096, "notify"),
        "traces/d4/trace_full_3c6dd4.json": (1024, "store"),
    }
    assert finished_members(engine, "import/day.tar", "2020-08-19T00:00:00+00:00/") == {
        "traces/10/trace_full_157710.json": (2048, "none")}
    assert finished_members(engine, "import/other.tar", "") == {}


def test_retrospective_alerts_are_stored_as_such(engine: Engine) -> None:
    when = datetime(2020, 8, 19, 10, 11, 24, tzinfo=UTC)
    live = Alert(time=when, icao="157710", kind="enter", geofence="belarus")
    imported = Alert(time=when, icao="157710", kind="landed", geofence="belarus",
                     airport="UMMS", retrospective=True)
    assert record_alert(engine, live, ()) is not None
    assert record_alert(engine, imported, ()) is not None
    assert [(a.kind, a.retrospective) for a in query_alerts(engine)] == [
        ("enter", False), ("landed", True)]


def test_older_history_widens_the_aircraft_span_but_keeps_its_latest_callsign(
    engine: Engine,
) -> None:
    def note(first: datetime, last: datetime, callsign: str, registration: str | None) -> None:
        store = Store(engine)
        store.note_aircraft(AircraftState(icao="157710", first_seen=first, last_seen=last,
                                          callsign=callsign, registration=registration))
        assert store.flush(all_aircraft=True)

    live = (datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 1, 11, tzinfo=UTC))
    note(*live, "RSD161", None)
    note(datetime(2020, 8, 19, 9, 40, tzinfo=UTC), datetime(2020, 8, 19, 10, 17, tzinfo=UTC),
         "RSD016", "RA-96016")  # an import of 2020
    with engine.connect() as conn:
        row = conn.execute(select(Aircraft)).one()
    assert (row.last_seen, row.callsign) == (live[1], "RSD161")
    note(datetime(2026, 12, 2, 8, tzinfo=UTC), datetime(2026, 12, 2, 9, tzinfo=UTC),
         "RSD200", None)  # live again, later
    with engine.connect() as conn:
        row = conn.execute(select(Aircraft)).one()
    assert row.first_seen == datetime(2020, 8, 19, 9, 40, tzinfo=UTC)
    assert row.last_seen == datetime(2026, 12, 2, 9, tzinfo=UTC)
    assert (row.callsign, row.registration) == ("RSD200", "RA-96016")
