"""``flightwatch import`` end to end: archives written from known flights, imported into
SQLite through the real pipeline, then the positions, flights and alerts checked
against the flights' truth."""

from __future__ import annotations

import gzip
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from stored_positions import stored_rows

from flightwatch.cli import main
from flightwatch.daemon.importer import ImportSummary, import_archives
from flightwatch.settings import load_settings
from tools.capture_writer import write_tsv
from tools.history_writer import (
    json_bytes,
    opensky_csv,
    snapshot_documents,
    trace_document,
    trace_path,
    write_files,
    write_opensky_parquet,
    write_tarball,
)
from tools.simulate import Flight, Rates, destination, frames

START = datetime(2020, 8, 19, 9, 40, tzinfo=UTC)
UMMS = (53.888071, 28.039964)
WATCHED = "157710"  # RA-96016 (config/watchlist.csv)
UNWATCHED = "3C6DD4"
REPO = Path(__file__).resolve().parents[2]


def on_final(distance_nm: float) -> tuple[float, float]:
    return destination(*UMMS, (318.0 + 180) % 360, distance_nm)


ARRIVAL_ROUTE = [
    (54.30, 32.30, 33000, 450),  # over Russia, west of Smolensk
    (54.10, 30.50, 25000, 400),  # inside Belarus, descending
    (*on_final(20), 4500, 220),
    (*on_final(8), 3200, 155),
    (*on_final(0.5), 670, 135),  # touchdown at Minsk National (670 ft)
]
ARRIVAL = Flight(WATCHED, "RSD016", ARRIVAL_ROUTE, START, on_ground_at_end=True, parked_s=300.0)
OVERFLIGHT = Flight(
    UNWATCHED, "DLH1447", [(54.55, 32.20, 38000, 470), (54.00, 27.00, 38000, 470)],
    START + timedelta(minutes=2),
)
FLIGHTS = (ARRIVAL, OVERFLIGHT)
assert ARRIVAL.touchdown_time is not None
TOUCHDOWN = datetime.fromtimestamp(ARRIVAL.touchdown_time, UTC)


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "flightwatch.toml"
    path.write_text(
        '[database]\nurl = "sqlite:///fw.db"\nbatch_seconds = "1s"\n'
        '[alerts]\noutbox_dir = "mail"\n'
        "[receiver]\nlat = 53.9\nlon = 28.0\n",  # surface positions in captures need it
        encoding="utf-8")
    return path


def fresh_config(folder: Path) -> Path:
    """Another database, in its own folder."""
    folder.mkdir()
    path = folder / "flightwatch.toml"
    path.write_text('[database]\nurl = "sqlite:///fw.db"\n', encoding="utf-8")
    return path


def run_import(config: Path, *paths: Path, **options: Any) -> ImportSummary:
    return import_archives(load_settings(config), list(paths), **options)


def query(config: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(config.parent / "fw.db") as db:
        return db.execute(sql).fetchall()


def positions(config: Path) -> list[tuple[Any, ...]]:
    """Every stored position as a row (stored_positions.Row)."""
    return stored_rows(config.parent / "fw.db")


def trace_archive(folder: Path) -> list[tuple[str, bytes]]:
    """A day of globe history: gzip traces (named .json, as readsb writes them), a
    heatmap that is not a track, a truncated trace and a garbage one."""
    files = [(trace_path(f.icao), json_bytes(trace_document(f, registration=None),
                                              gzipped=True)) for f in FLIGHTS]
    whole = json_bytes(trace_document(OVERFLIGHT), gzipped=True)
    files.append((trace_path("4B1814"), whole[: len(whole) // 2]))  # cut short
    files.append((trace_path("A0B1C2"), os.urandom(3000)))  # garbage
    files.append((trace_path("A0B1C3"), b"\x1f\x8b\x08\x00" + os.urandom(3000)))  # bad gzip
    files.append((trace_path("A0B1C4"), b"[" * 100_000))  # nested beyond any parser
    files.append(("heatmap/00.bin.ttf", b"\x00" * 100))
    return files


def assert_imported(config: Path, source: str, *, tolerance_s: float = 12.0) -> None:
    """The flights' truth: positions from ``source``, the arrival at UMMS, the alerts."""
    counts = Counter(f"{row[0]:06X}" for row in positions(config))
    assert set(counts) == {WATCHED, UNWATCHED}
    assert min(counts.values()) > 100
    sources = {name for (name,) in query(config, "SELECT name FROM sources")}
    assert sources == {source}
    flights = {row[0]: row for row in query(
        config, "SELECT icao, departure_airport, arrival_airport, arrival_time, first_seen "
                "FROM flights")}
    assert set(flights) == {WATCHED, UNWATCHED}
    _, departure, arrival, arrival_time, first_seen = flights[WATCHED]
    assert (departure, arrival) == (None, "UMMS")
    assert abs(arrival_time - TOUCHDOWN.timestamp()) <= tolerance_s
    assert abs(first_seen - ARRIVAL.start_time) <= tolerance_s
    assert flights[UNWATCHED][1:3] == (None, None)
    fence = dict(query(config, "SELECT icao, seconds FROM flight_geofences"))
    assert fence[WATCHED] > 1800 and fence[UNWATCHED] > 1000  # about 33 and 19 minutes
    alerts = query(config, "SELECT icao, kind, airport, retrospective FROM alerts ORDER BY time")
    assert [(a[0], a[1], a[2]) for a in alerts] == [
        (WATCHED, "approaching", None), (WATCHED, "enter", None), (WATCHED, "landed", "UMMS")]
    assert all(a[3] == 1 for a in alerts)


def test_globe_history_tarball_of_gzip_traces(settings_file: Path, tmp_path: Path) -> None:
    archive = write_tarball(tmp_path / "2020.08.19.tar", trace_archive(tmp_path))
    summary = run_import(settings_file, archive)
    wal = settings_file.parent / "fw.db-wal"  # closed cleanly: the WAL checkpointed
    assert not wal.exists() or wal.stat().st_size <= 4096
    assert summary.members == 2
    assert summary.not_importable == 1  # the heatmap
    assert len(summary.bad) == 4
    for name in ("14/trace_full_4b1814", "c2/trace_full_a0b1c2", "c3/trace_full_a0b1c3",
                 "c4/trace_full_a0b1c4"):
        assert sum(f"traces/{name}.json" in b for b in summary.bad) == 1, name
    assert summary.aircraft == 2 and summary.alerts == 3
    assert_imported(settings_file, "import/2020.08.19.tar", tolerance_s=8.0)
    # store (the default) sends nothing: no outbox rows, no mail files
    assert query(settings_file, "SELECT count(*) FROM outbox") == [(0,)]
    assert not (tmp_path / "mail").exists()


def test_importing_twice_stores_nothing_twice(settings_file: Path, tmp_path: Path) -> None:
    folder = write_files(tmp_path / "globe", trace_archive(tmp_path))
    run_import(settings_file, folder)
    tables = ("flights", "flight_geofences", "alerts", "callsigns", "aircraft")
    before = {t: query(settings_file, f"SELECT * FROM {t}") for t in tables}
    before["positions"] = positions(settings_file)
    again = run_import(settings_file, folder)
    assert (again.members, again.already_imported, again.positions_stored) == (0, 2, 0)
    # The same traces under another name are read again: the keys still hold.
    copy = write_tarball(tmp_path / "copy.tar.gz", trace_archive(tmp_path), mode="w:gz")
    third = run_import(settings_file, copy)
    assert third.members == 2 and third.positions_stored > 200 and third.alerts == 0
    after = {t: query(settings_file, f"SELECT * FROM {t}") for t in tables}
    after["positions"] = positions(settings_file)
    assert after == before


def test_snapshot_archives_folder_and_compressed_tarball(
    settings_file: Path, tmp_path: Path
) -> None:
    docs = snapshot_documents(FLIGHTS, every_s=5.0)
    names = [f"2020/08/19/{int(d['now']) % 86400:06d}Z.json.gz" for d in docs]
    gzipped = [(n, json_bytes(d, gzipped=True)) for n, d in zip(names, docs, strict=True)]
    folder = write_files(tmp_path / "readsb-hist", gzipped)
    summary = run_import(settings_file, folder)
    assert summary.members == len(docs) and not summary.bad
    assert_imported(settings_file, "import/readsb-hist")

    other = fresh_config(tmp_path / "other")
    tarball = write_tarball(tmp_path / "hist.tar.gz",
                            [(n, json_bytes(d)) for n, d in zip(names, docs, strict=True)],
                            mode="w:gz")
    assert run_import(other, tarball).members == len(docs)
    assert_imported(other, "import/hist.tar.gz")


def test_opensky_state_vectors_csv_gzip(settings_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "states_2020-08-19-09.csv.gz"
    path.write_bytes(gzip.compress(opensky_csv(FLIGHTS).encode()))
    summary = run_import(settings_file, path, fmt="opensky-csv")
    assert summary.members == 1 and summary.malformed == 0
    assert_imported(settings_file, "import/states_2020-08-19-09.csv.gz")
    # OpenSky's SI units come back as feet and knots
    unwatched = [row for row in positions(settings_file) if row[0] == int(UNWATCHED, 16)]
    altitude = max(row[4] for row in unwatched if row[4] is not None)
    speed = max(row[5] for row in unwatched if row[5] is not None)
    assert abs(altitude - 38000) <= 1 and abs(speed - 470) <= 1


def stored(config: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Everything an import stored but its source name and bookkeeping times."""
    return {
        "positions": positions(config),
        "flights": query(config, "SELECT icao, callsign, first_seen, last_seen, "
                                 "departure_airport, arrival_airport, arrival_time FROM flights "
                                 "ORDER BY icao, first_seen"),
        "fences": query(config, "SELECT icao, seconds FROM flight_geofences ORDER BY icao"),
        "alerts": query(config, "SELECT icao, kind, time, airport, retrospective FROM alerts "
                                "ORDER BY time, kind"),
    }


def test_opensky_parquet_stores_what_the_same_csv_stores(
    settings_file: Path, tmp_path: Path
) -> None:
    pytest.importorskip("pyarrow")
    rows = opensky_csv(FLIGHTS)
    csv_path = tmp_path / "states.csv"
    csv_path.write_text(rows, encoding="utf-8")
    run_import(settings_file, csv_path)
    parquet_dir = tmp_path / "parquet"
    parquet_dir.mkdir()
    parquet = write_opensky_parquet(parquet_dir / "states.parquet", rows)
    config = fresh_config(tmp_path / "other")
    summary = run_import(config, parquet)  # detected by its magic bytes
    assert summary.members == 1 and summary.malformed == 0 and not summary.bad
    assert_imported(config, "import/states.parquet")
    assert stored(config) == stored(settings_file)
    # in a gzip tarball (copied aside to be read), with a truncated one beside it
    whole = parquet.read_bytes()
    tarball = write_tarball(tmp_path / "states.tar.gz", [
        ("states/cut.parquet", whole[: len(whole) // 2]),
        ("states/good.parquet", whole),
    ], mode="w:gz")
    third = fresh_config(tmp_path / "third")
    summary = run_import(third, tarball, fmt="opensky-parquet")
    assert summary.members == 1
    assert len(summary.bad) == 1 and "states/cut.parquet" in summary.bad[0]
    assert stored(third) == stored(settings_file)


def test_parquet_without_pyarrow_names_the_extra(
    settings_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    pytest.importorskip("pyarrow")
    parquet = write_opensky_parquet(tmp_path / "states.parquet", opensky_csv(FLIGHTS))
    capture = tmp_path / "capture.tsv"
    with capture.open("w", encoding="utf-8") as out:
        write_tsv(frames([ARRIVAL], Rates(), seed=3), out)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # as if not installed
    code = main(["import", "--no-progress", "--config", str(settings_file), str(capture),
                 str(parquet)])
    assert code == 2
    assert "flightwatch[opensky]" in capsys.readouterr().err
    assert len(positions(settings_file)) > 100  # kept


def test_capture_through_the_decoder(settings_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "capture.tsv"
    rates = Rates(position_s=2.0, velocity_s=6.0, identification_s=12.0)
    with path.open("w", encoding="utf-8") as out:
        write_tsv(frames(list(FLIGHTS), rates, seed=3), out)
    summary = run_import(settings_file, path)
    assert summary.members == 1
    assert_imported(settings_file, "import/capture.tsv")


def test_since_until_keep_only_the_window(settings_file: Path, tmp_path: Path) -> None:
    folder = write_files(tmp_path / "g", trace_archive(tmp_path))
    since, until = START + timedelta(minutes=10), START + timedelta(minutes=20)
    summary = run_import(settings_file, folder, since=since, until=until, alerts="none")
    assert summary.outside_window > 0
    times = [row[1] for row in positions(settings_file)]
    low, high = min(times), max(times)
    assert since.timestamp() <= low and high < until.timestamp()
    assert query(settings_file, "SELECT count(*) FROM alerts") == [(0,)]
    # another window is another import: not skipped as already imported
    assert run_import(settings_file, folder, alerts="none").members == 2


def test_a_silence_in_the_trace_loses_the_aircraft(settings_file: Path, tmp_path: Path) -> None:
    """A stale-flagged point after ten minutes without positions, inside Belarus: the
    aircraft was lost in between, as a receiver would have lost it. It was lost
    descending towards Minsk, so a probable landing there is told; heard again ten minutes
    later still descending, it is withdrawn, and the landing heard later is told."""
    gap = (START.timestamp() + 15 * 60, START.timestamp() + 25 * 60)
    doc = trace_document(ARRIVAL, silences=[gap])
    path = tmp_path / f"trace_full_{WATCHED.lower()}.json"
    path.write_bytes(json_bytes(doc))
    run_import(settings_file, path)
    told = query(settings_file, "SELECT kind, evidence, details FROM alerts ORDER BY id")
    assert [(kind, evidence) for kind, evidence, _ in told] == [
        ("approaching", None), ("enter", None), ("landed", "probable"),
        ("landing_retracted", "probable"), ("landed", "observed")]
    assert json.loads(told[2][2])["last_heard"].startswith("2020-08-19T09:54:5")  # before the gap


def test_notify_sends_the_retrospective_alerts(settings_file: Path, tmp_path: Path) -> None:
    folder = write_files(tmp_path / "g", trace_archive(tmp_path))
    summary = run_import(settings_file, folder, alerts="notify")
    assert summary.alerts == 3 and summary.notifications_sent == 3
    assert len(list((tmp_path / "mail").iterdir())) == 3


def test_cli_summary_and_alerts_output(
    settings_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = write_tarball(tmp_path / "day.tar", trace_archive(tmp_path))
    assert main(["import", "--config", str(settings_file), str(archive)]) == 0
    out = capsys.readouterr().out
    assert "2 file(s) imported" in out and "4 bad" in out and "3 retrospective alert(s)" in out
    assert main(["alerts", "--config", str(settings_file), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith(",retrospective,id")
    assert all(line.split(",")[-2] == "True" for line in lines[1:]) and len(lines) == 4
    assert main(["import", "--config", str(settings_file), str(tmp_path / "nope")]) == 2


def test_resumes_after_sigint(settings_file: Path, tmp_path: Path) -> None:
    """Ctrl-C part-way: the finished traces are recorded; the second run imports the rest,
    and the database ends up as one uninterrupted import makes it."""
    flights = [
        Flight(f"{0x4B0000 + i:06X}", f"SWR{i}", [(47.0 + i * 0.01, 8.0, 30000, 420),
                                                  (48.0 + i * 0.01, 11.0, 30000, 420)], START)
        for i in range(400)
    ]
    folder = write_files(tmp_path / "many", [
        (trace_path(f.icao), json_bytes(trace_document(f, every_s=2.0), gzipped=True))
        for f in flights])
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "flightwatch", "import", "--no-progress", "--config",
         str(settings_file), str(folder)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    deadline = time.monotonic() + 60
    done: list[tuple[Any, ...]] = []
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        try:
            done = query(settings_file, "SELECT count(*) FROM imports")
        except sqlite3.OperationalError:
            continue
        if done and done[0][0] > 0:
            break
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1, out
    assert "interrupted" in out
    (finished,), = query(settings_file, "SELECT count(*) FROM imports")
    assert 0 < finished < 400

    second = run_import(settings_file, folder)
    assert second.already_imported == finished
    assert second.members == 400 - finished

    clean = fresh_config(tmp_path / "clean")
    run_import(clean, folder)
    assert positions(settings_file) == positions(clean)
    for table in ("flights", "flight_geofences"):
        sql = f"SELECT * FROM {table} ORDER BY 1, 2"
        assert query(settings_file, sql) == query(clean, sql), table


def test_a_trace_ending_in_the_air_went_silent_unless_its_day_ended(
    settings_file: Path, tmp_path: Path
) -> None:
    """Two days of the same aircraft over Belarus: on the 18th its trace stops at 15:00 in
    the air (it went silent), on the 19th 15 s before midnight (the file ended)."""
    waypoints = [(53.5, 26.0, 30000, 450), (54.5, 29.0, 30000, 450)]
    span = Flight(WATCHED, "RSD016", waypoints, START).end_time - START.timestamp()

    def ending_at(end: datetime) -> Flight:
        return Flight(WATCHED, "RSD016", waypoints, end - timedelta(seconds=span))

    afternoon = datetime(2020, 8, 18, 15, 0, tzinfo=UTC)
    late = datetime(2020, 8, 19, 23, 59, 45, tzinfo=UTC)
    folder = write_files(tmp_path / "globe_history", [
        (f"2020/08/{day}/{trace_path(WATCHED)}", json_bytes(trace_document(flight), gzipped=True))
        for day, flight in (("18", ending_at(afternoon)), ("19", ending_at(late)))])
    assert run_import(settings_file, folder).members == 2
    silent = query(settings_file, "SELECT time FROM alerts WHERE kind = 'went_silent'")
    assert [t[:15] for (t,) in silent] == ["2020-08-18 14:5"]
    kinds = [k for (k,) in query(settings_file, "SELECT kind FROM alerts ORDER BY time")]
    assert kinds == ["first_seen_inside", "went_silent", "first_seen_inside"]


def test_snapshots_minutes_apart_do_not_lose_every_aircraft(
    settings_file: Path, tmp_path: Path
) -> None:
    """As for a polled aggregator, silence is judged against the archive's cadence."""
    docs = snapshot_documents((OVERFLIGHT, ARRIVAL), every_s=90.0)
    folder = write_files(tmp_path / "sparse", [(f"{i:05d}.json", json_bytes(doc))
                                               for i, doc in enumerate(docs)])
    run_import(settings_file, folder)
    kinds = [k for (k,) in query(settings_file, "SELECT kind FROM alerts ORDER BY time")]
    assert "went_silent" not in kinds and {"enter", "landed"} <= set(kinds)
    assert query(settings_file, "SELECT count(*) FROM flights") == [(2,)]


def test_history_imported_after_later_alerts_does_not_repeat_its_own(
    settings_file: Path, tmp_path: Path
) -> None:
    """A day imported, then a later day (or the daemon ran), then the first day again from
    another archive (adsb.lol's and ADS-B Exchange's of the same day, 20 s apart): the
    stored alerts of the first day still hold their cooldowns, though not the newest."""

    def arrival_at(start: datetime, name: str) -> Path:
        flight = Flight(WATCHED, "RSD016", ARRIVAL_ROUTE, start, on_ground_at_end=True,
                        parked_s=300.0)
        return write_files(tmp_path / name, [(trace_path(WATCHED),
                                              json_bytes(trace_document(flight)))])

    def alerts() -> list[tuple[str, str]]:
        return query(settings_file, "SELECT kind, substr(time, 1, 16) FROM alerts ORDER BY time")

    assert run_import(settings_file, arrival_at(START, "lol")).alerts == 3
    assert run_import(settings_file, arrival_at(START + timedelta(days=400), "today")).alerts == 3
    stored = alerts()
    again = run_import(settings_file, arrival_at(START + timedelta(seconds=20), "adsbx"))
    assert again.positions_stored > 100 and again.alerts == 0
    assert alerts() == stored
    # The same day, a second arrival seven hours later (past the 6 h cooldown): new events.
    evening = run_import(settings_file, arrival_at(START + timedelta(hours=7), "evening"))
    assert evening.alerts == 3
    assert [kind for kind, at in alerts() if "2020-08-19 16" <= at < "2020-08-20"] == [
        "approaching", "enter", "landed"]
    assert len(alerts()) == 9
