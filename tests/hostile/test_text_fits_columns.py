"""Text from the air that does not fit its column (a 10-character callsign where ICAO
allows 8, a NUL) loses nothing else: every position of every aircraft is stored, on
SQLite and on PostgreSQL, and the text is stored cut, with a marker, the same on both.

The feed is a BaseStation (SBS) capture replayed by the ``replay`` command, as
dump1090's port 30003 would deliver it.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from stored_positions import stored_rows

from flightwatch.cli import main

WHEN = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
CALLSIGNS = ["SWR123", "DLH4AB", "AFR1", "BAW22"]
POSITIONS = 30  # per aircraft, 10 s apart: each is stored (store_interval is 5 s)
#: (first address, callsign as heard, as its 8-character column keeps it): cut to 7
#: and a marker; NUL (which PostgreSQL cannot store) as U+FFFD.
HOSTILE = [(0x4B1800, "LONGCALL9X", "LONGCAL\u2026"), (0x4B1900, "AB\x00CD", "AB\ufffdCD")]


def sbs_line(icao: str, when: datetime, lat: float, callsign: str) -> str:
    day, clock = when.strftime("%Y/%m/%d"), when.strftime("%H:%M:%S.000")
    return ",".join(["MSG", "3", "1", "1", icao, "1", day, clock, day, clock, callsign,
                     "30000", "450", "90", f"{lat:.5f}", "27.50000", "0", "", "", "", "",
                     "0"]) + "\n"


def write_capture(path: Path, callsigns: dict[str, str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        for i in range(POSITIONS):
            for n, (icao, callsign) in enumerate(sorted(callsigns.items())):
                out.write(sbs_line(icao, WHEN + timedelta(seconds=10 * i), 53.0 + n + i / 1000,
                                   callsign))


def stored(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


@pytest.mark.parametrize(("first", "heard", "kept"), HOSTILE, ids=["too-long", "nul"])
def test_one_callsign_too_long_for_its_column_costs_no_position(
        database_url: str, tmp_path: Path, first: int, heard: str, kept: str,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLIGHTWATCH_DATABASE_URL", raising=False)
    hostile = f"{first + len(CALLSIGNS):06X}"
    callsigns = {f"{first + n:06X}": c for n, c in enumerate(CALLSIGNS)} | {hostile: heard}
    capture = tmp_path / "feed.sbs"
    write_capture(capture, callsigns)
    config = tmp_path / "fw.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n', encoding="utf-8")

    code = main(["replay", "--config", str(config), "--format", "sbs", "--no-progress",
                 str(capture)])

    assert code == 0, capsys.readouterr().err[-2000:]
    engine = create_engine(database_url)
    try:
        counts = Counter(f"{row[0]:06X}" for row in stored_rows(engine))
    finally:
        engine.dispose()
    assert {icao: counts.get(icao, 0) for icao in callsigns} == {
        icao: POSITIONS for icao in callsigns}
    assert stored(database_url, f"SELECT callsign FROM aircraft WHERE icao = '{hostile}'") == [
        (kept,)]
    assert (hostile, kept) in stored(database_url, "SELECT icao, callsign FROM callsigns")
