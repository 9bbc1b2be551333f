"""db.watchlist on SQLite (and PostgreSQL when available): sync, import, add, remove.

Golden values come from the shared plane-alert-db files, read independently here.
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from flightwatch.alerts.watchlist import Watchlist
from flightwatch.db.watchlist import (
    IMPORT_PREFIX,
    MANUAL,
    add,
    entries,
    import_file,
    remove,
    sync_files,
)
from flightwatch.db.watchlist_file import WatchlistError, read_watchlist
from flightwatch.db.watchlist_queries import get, stored_entries

HEADER = "icao,registration,operator,type,category,group\n"
HEX6 = re.compile(r"^[0-9A-Fa-f]{6}$")



def csv_file(path: Path, *rows: str) -> Path:
    path.write_text(HEADER + "".join(f"{r}\n" for r in rows), encoding="utf-8")
    return path


def by_icao(engine: Engine) -> dict[str, tuple[str | None, str | None, str | None]]:
    return {s.icao: (s.registration, s.group, s.origin) for s in stored_entries(engine)}


def test_sync_follows_the_files_but_never_overwrites_hand_made_rows(
    engine: Engine, tmp_path: Path
) -> None:
    a = csv_file(tmp_path / "a.csv", "157710,RA-96016,Rossiya,Il-96,,RU_STATE",
                 "15002B,RF-85155,Russian AF,Tu-154,,RU_MOD", "151D9C,RA-64524,,Tu-214,,")
    b = csv_file(tmp_path / "b.csv", "15002B,,,,Transport,B_GROUP", "510030,EW-001PA,,,,BY_GOV")
    report = sync_files(engine, [a, b])
    assert (report.added, report.updated, report.removed, report.kept) == (4, 0, 0, 0)
    rows = by_icao(engine)
    assert rows["15002B"] == ("RF-85155", "RU_MOD", str(a.resolve()))  # first file wins
    merged = get(engine, "15002b")
    assert merged is not None and merged.category == "Transport"  # a gap filled from b
    assert get(engine, "151D9C").operator is None  # type: ignore[union-attr]  # "" -> NULL

    add(engine, "157710", group="HAND")  # now hand-made: files leave it alone
    csv_file(a, "157710,RA-96016,Rossiya,Il-96,,CHANGED", "151D9C,RA-64524,,Tu-214,,RU_NEW")
    report = sync_files(engine, [a, b])
    rows = by_icao(engine)
    assert rows["157710"] == ("RA-96016", "HAND", MANUAL)
    assert rows["151D9C"] == ("RA-64524", "RU_NEW", str(a.resolve()))
    # 15002B left file a but b still lists it: it moves to b instead of going away.
    assert rows["15002B"] == (None, "B_GROUP", str(b.resolve()))
    assert (report.added, report.updated, report.unchanged, report.kept, report.removed) == (
        0, 2, 1, 1, 0)

    report = sync_files(engine, [a])  # b taken out of the configuration
    assert report.removed == 2
    assert set(by_icao(engine)) == {"157710", "151D9C"}
    assert sync_files(engine, []).removed == 1  # the hand-made row stays
    assert set(by_icao(engine)) == {"157710"}


def test_sync_of_an_unusable_file_raises_and_changes_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    good = csv_file(tmp_path / "good.csv", "157710,RA-96016,,,,")
    sync_files(engine, [good])
    bad = tmp_path / "bad.csv"
    bad.write_text("name,value\nx,1\n", encoding="utf-8")
    with pytest.raises(WatchlistError, match=re.escape("bad.csv")):
        sync_files(engine, [bad])
    assert set(by_icao(engine)) == {"157710"}


def test_imported_rows_are_kept_by_sync_and_fill_gaps_from_what_is_stored(
    engine: Engine, tmp_path: Path
) -> None:
    configured = csv_file(tmp_path / "conf.csv", "157710,RA-96016,Rossiya,Il-96,VIP,RU_STATE")
    sync_files(engine, [configured])
    extra = tmp_path / "extra.csv"
    extra.write_text(
        "$ICAO,$Registration,$Operator,$Type,$ICAO Type,#CMPG,$Tag 1,$#Tag 2,$#Tag 3,Category\n"
        "157710,RA-96016,Special Flight Squadron,Ilyushin Il-96-300,IL96,Gov,,,,\n"
        "1A2B3C,RF-99999,,,,,,,,Other\n",
        encoding="utf-8",
    )
    report = import_file(engine, extra)
    assert (report.added, report.updated, report.unchanged, report.kept) == (1, 1, 0, 0)
    stored = get(engine, "157710")
    assert stored is not None
    assert stored.origin == IMPORT_PREFIX + str(extra.resolve())
    assert stored.operator == "Special Flight Squadron"  # the import's value wins
    assert (stored.category, stored.group) == ("VIP", "RU_STATE")  # its gaps keep stored ones

    csv_file(configured)  # the configured file drops it: the imported row stays
    assert sync_files(engine, [configured]).removed == 0
    assert set(by_icao(engine)) == {"157710", "1A2B3C"}
    again = import_file(engine, extra)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)


def test_import_leaves_hand_made_rows(engine: Engine, tmp_path: Path) -> None:
    add(engine, "157710", registration="RA-96016", operator="mine")
    report = import_file(engine, csv_file(tmp_path / "w.csv", "157710,RA-96016,theirs,,,"))
    assert (report.imported, report.kept) == (0, 1)
    assert get(engine, "157710").operator == "mine"  # type: ignore[union-attr]


def malformed_lines(path: Path) -> list[int]:
    """Line numbers of rows whose ICAO cell is not 6 hex digits, read without flightwatch."""
    with path.open(encoding="utf-8-sig", newline="") as src:
        reader = csv.reader(src)
        next(reader)
        return [reader.line_num for row in reader if row and not HEX6.match(row[0].strip())]


def test_wip_file_imports_all_but_its_malformed_rows(
    engine: Engine, watchlist_data: Callable[[str], Path]
) -> None:
    path = watchlist_data("plane-alert-wip_ru-by-state.csv")
    bad_lines = malformed_lines(path)
    assert bad_lines[:3] == [96, 107, 146]  # as the file itself shows
    report = import_file(engine, path)
    assert [p.line for p in report.problems] == bad_lines
    assert all(str(p).startswith(f"{path}:{p.line}: ") for p in report.problems)
    with path.open(encoding="utf-8", newline="") as src:
        data_rows = sum(1 for row in csv.reader(src) if row) - 1
    assert report.format == "plane-alert-db"
    assert (report.added, report.updated, report.unchanged) == (data_rows - len(bad_lines), 0, 0)
    stored = by_icao(engine)
    assert stored["142EFF"] == ("RF-12031", "RU_MOD", IMPORT_PREFIX + str(path.resolve()))


def test_raw_plane_alert_db_imports_in_seconds_with_progress(
    engine: Engine, watchlist_data: Callable[[str], Path]
) -> None:
    path = watchlist_data("raw/plane-alert-db.csv")
    calls: list[tuple[int, int]] = []
    started = time.monotonic()
    report = import_file(engine, path, progress=lambda done, total: calls.append((done, total)))
    elapsed = time.monotonic() - started
    # A row-at-a-time import takes minutes; bulk upserts take about a second. The bound is
    # loose so a slow CI machine passes, tight enough to catch a per-row regression.
    assert elapsed < 30, f"importing 17,198 rows took {elapsed:.1f}s"
    assert [p.line for p in report.problems] == malformed_lines(path) == [537, 538]
    assert report.added == 17_198 - 2
    assert calls[-1] == (report.added, report.added) and len(calls) > 1
    # One category is a URL longer than the column: cut, and said so.
    assert [c.split(":")[0] for c in report.clipped] == ["C03121"]

    loaded = {e.icao: e for e in entries(engine)}
    expected = {e.icao: e for e in read_watchlist(path).entries}
    assert loaded.keys() == expected.keys()
    differing = [icao for icao in expected if loaded[icao] != expected[icao]]
    assert differing == ["C03121"]


def test_entries_feed_the_matcher(engine: Engine) -> None:
    add(engine, "157710", registration="RA-96016", operator="Rossiya", group="RU_STATE")
    watchlist = Watchlist(entries(engine), ["RSD"])
    match = watchlist.match("157710")
    assert match is not None and match.entry.group == "RU_STATE" and match.entry.category == ""
    by_reg = watchlist.match("ABCDEF", registration="RA96016")
    assert by_reg is not None and by_reg.matched_by == "registration"


def test_add_keeps_fields_not_given_and_remove_reports_absence(engine: Engine) -> None:
    when = datetime.now(UTC) - timedelta(hours=1)  # the second add stamps "now"
    assert add(engine, "15002b", registration="RF-85155", group="RU_MOD", now=when) is True
    assert add(engine, "15002B", operator="Russian AF") is False
    stored = get(engine, "15002B")
    assert stored is not None
    assert (stored.registration, stored.operator, stored.group) == (
        "RF-85155", "Russian AF", "RU_MOD")
    assert stored.updated > when
    with pytest.raises(ValueError, match="'15002Z'"):
        add(engine, "15002Z")
    assert remove(engine, "15002b") is True
    assert remove(engine, "15002B") is False
    assert stored_entries(engine) == []
