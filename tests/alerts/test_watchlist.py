"""Watchlist reading (both formats, real upstream files) and the per-observation matcher."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from flightwatch.alerts.watchlist import (
    DEFAULT_ADDRESS_BLOCKS,
    Watchlist,
    default_prefixes,
    load_watchlist,
    read_callsign_prefixes,
)
from flightwatch.db.watchlist_file import (
    WatchlistEntry,
    WatchlistError,
    read_watchlist,
    write_watchlist,
)

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config"
DATA = Path(__file__).resolve().parent / "data"



@pytest.fixture(scope="module")
def shipped() -> Watchlist:
    result = read_watchlist(CONFIG / "watchlist.csv")
    table = read_callsign_prefixes(CONFIG / "callsign_prefixes.csv")
    return Watchlist(result.entries, [p for p in table if p.prefix in default_prefixes(table)])


def test_shipped_watchlist_parses_without_problems() -> None:
    result = read_watchlist(CONFIG / "watchlist.csv")
    assert result.format == "flightwatch"
    assert result.problems == []
    assert len(result.entries) == 763
    assert {e.group for e in result.entries} >= {"RU_MOD", "RU_STATE_TRANSPORT_RSD", "BY_GOV"}


def test_shipped_watchlist_is_what_the_source_says(watchlist_data: Callable[[str], Path]) -> None:
    """config/watchlist.csv holds exactly the source rows' fields (derivation kept honest)."""
    with watchlist_data("plane-alert-db_ru-by-state.csv").open(newline="", encoding="utf-8") as src:
        rows = list(csv.DictReader(src))
    expected = {
        r["$ICAO"]: (r["$Registration"], r["$Operator"], r["$Type"], r["Category"]) for r in rows
    }
    got = {
        e.icao: (e.registration, e.operator, e.aircraft_type, e.category)
        for e in read_watchlist(CONFIG / "watchlist.csv").entries
    }
    assert got == expected


def test_shipped_prefix_table_defaults_to_rsd_only() -> None:
    table = read_callsign_prefixes(CONFIG / "callsign_prefixes.csv")
    assert default_prefixes(table) == ["RSD"]
    assert {p.prefix for p in table} >= {"RSD", "RFF"}


def test_wip_file_reports_its_malformed_hex_rows_by_line(
    watchlist_data: Callable[[str], Path],
) -> None:
    result = read_watchlist(watchlist_data("plane-alert-wip_ru-by-state.csv"))
    assert result.format == "plane-alert-db"
    assert [(p.line, "spreadsheet" in p.reason) for p in result.problems] == [
        (96, True),
        (107, True),
        (146, True),
    ]
    assert "1.49E+08" in result.problems[0].reason
    assert len(result.entries) == 149 - 3
    assert all(p.file.endswith("plane-alert-wip_ru-by-state.csv") for p in result.problems)


def test_raw_plane_alert_db_imports_with_problems_reported(
    watchlist_data: Callable[[str], Path],
) -> None:
    result = read_watchlist(watchlist_data("raw/plane-alert-db.csv"))
    assert result.format == "plane-alert-db"
    assert [p.line for p in result.problems] == [537, 538]
    assert "010166" in result.problems[0].reason  # the likely lost leading zero is suggested
    assert len(result.entries) == 17_198 - 2
    assert all(e.group == "" for e in result.entries)  # no #watch_group column upstream


def test_headerless_file_is_refused_naming_it(watchlist_data: Callable[[str], Path]) -> None:
    path = watchlist_data("raw/plane-alert-wip.csv")  # upstream ships this one without a header
    with pytest.raises(WatchlistError, match=re.escape("plane-alert-wip.csv: no watchlist header")):
        read_watchlist(path)


@pytest.mark.parametrize("name", ["not_a_watchlist.csv", "not_utf8.csv", "missing.csv"])
def test_unusable_files_raise_naming_the_file(name: str) -> None:
    with pytest.raises(WatchlistError, match=re.escape(name)):
        read_watchlist(DATA / name)


def test_bad_rows_are_reported_and_skipped_duplicates_merged() -> None:
    result = read_watchlist(DATA / "bad_rows.csv")
    by_line = {p.line: p.reason for p in result.problems}
    assert sorted(by_line) == [3, 4, 5, 6, 9, 10]
    assert "spreadsheet" in by_line[3]
    assert "'ZZZZZZ'" in by_line[4]
    assert "empty" in by_line[5]
    assert "fields" in by_line[6]
    assert "000000" in by_line[9]
    assert "duplicate" in by_line[10] and "bad_rows.csv:2" in by_line[10]
    assert [e.icao for e in result.entries] == ["157710", "1A2B3C"]
    merged = result.entries[0]
    assert merged.operator == "Russia Special Flight Detachment"  # the first row wins
    assert merged.category == "Dictator Alert"  # a field it left empty is filled
    assert result.entries[1].registration == "rf-99999"


def test_written_file_reads_back_identically(tmp_path: Path) -> None:
    entries = read_watchlist(CONFIG / "watchlist.csv").entries
    write_watchlist(tmp_path / "w.csv", entries)
    assert read_watchlist(tmp_path / "w.csv").entries == sorted(entries, key=lambda e: e.icao)


def test_ra96016_matches_by_icao_and_by_registration(shipped: Watchlist) -> None:
    by_icao = shipped.match("157710")
    assert by_icao is not None
    assert (by_icao.matched_by, by_icao.confidence) == ("icao", "high")
    assert by_icao.entry.registration == "RA-96016"
    assert by_icao.entry.group == "RU_STATE_TRANSPORT_RSD"

    by_reg = shipped.match("ABCDEF", registration="ra96016")
    assert by_reg is not None
    assert (by_reg.matched_by, by_reg.entry.icao) == ("registration", "157710")
    assert shipped.match("ABCDEF", registration="ra-96-016") is not None
    assert shipped.match("ABCDEF", registration="RA96015") is None


def test_rsd_callsign_prefix(shipped: Watchlist) -> None:
    found = shipped.match("ABCDEF", callsign="RSD016")
    assert found is not None
    assert (found.matched_by, found.confidence) == ("callsign_prefix", "high")
    assert found.entry.icao == "ABCDEF"
    assert found.entry.group == "RU_STATE_TRANSPORT_RSD"
    padded = shipped.match("ABCDEF", callsign="rsd016__")
    assert padded is not None and padded.confidence == "high"
    letter = shipped.match("ABCDEF", callsign="RSDX")
    assert letter is not None and letter.confidence == "low"
    for callsign in ("RSD", "ARSD016", "RFF1234", "RS016", "RSD-016", "RSD0161234"):
        assert shipped.match("ABCDEF", callsign=callsign) is None, callsign


def test_prefix_not_in_table_matches_with_its_given_confidence() -> None:
    watchlist = Watchlist([], callsign_prefixes=["rff"])  # bare strings: user-configured
    found = watchlist.match("ABCDEF", callsign="RFF7091")
    assert found is not None and found.confidence == "high"


def test_address_block_rule_off_by_default_low_when_on(shipped: Watchlist) -> None:
    assert shipped.match("1A2B3C") is None
    blocks = Watchlist([], address_blocks=DEFAULT_ADDRESS_BLOCKS)
    for icao in ("100000", "1A2B3C", "1FFFFF", "510000", "5107FF"):
        found = blocks.match(icao)
        assert found is not None, icao
        assert (found.matched_by, found.confidence) == ("address_block", "low")
    assert blocks.match("5105FF").entry.group == "BY_ADDRESS_BLOCK"  # type: ignore[union-attr]
    for icao in ("0FFFFF", "200000", "510800", "4CA123"):
        assert blocks.match(icao) is None, icao


def test_identity_anomaly(shipped: Watchlist) -> None:
    anomaly = shipped.identity_anomaly("ABCDEF", "RA-96016", None)
    assert anomaly is not None
    assert (anomaly.seen_icao, anomaly.expected_icaos) == ("ABCDEF", ("157710",))
    assert anomaly.seen_as == "registration"
    assert shipped.identity_anomaly("157710", "RA-96016", "RSD016") is None
    by_callsign = shipped.identity_anomaly("ABCDEF", None, "RA96016 ")
    assert by_callsign is not None and by_callsign.seen_as == "callsign"
    # RF-78654 is listed under two addresses: either is consistent, a third is not
    assert shipped.identity_anomaly("15333E", "RF-78654", None) is None
    assert shipped.identity_anomaly("1C333A", "RF-78654", None) is None
    other = shipped.identity_anomaly("15333F", "RF-78654", None)
    assert other is not None and set(other.expected_icaos) == {"15333E", "1C333A"}
    assert shipped.identity_anomaly("ABCDEF", "D-ABCD", "DLH123") is None


def test_bare_numeric_serials_are_not_matched_by_registration() -> None:
    watchlist = Watchlist([WatchlistEntry("10A493", "927"), WatchlistEntry("0D82E8", "????")])
    assert watchlist.match("ABCDEF", registration="927") is None
    assert watchlist.match("ABCDEF", registration="????") is None
    assert watchlist.match("10A493") is not None


def test_load_watchlist_merges_files_first_wins(tmp_path: Path) -> None:
    override = tmp_path / "mine.csv"
    override.write_text(
        "icao,registration,operator,type,category,group\n157710,RA-96016,My label,,,MINE\n",
        encoding="utf-8",
    )
    watchlist, problems = load_watchlist(
        [override, CONFIG / "watchlist.csv", DATA / "bad_rows.csv"]
    )
    assert len(watchlist) == 764  # 763 shipped + 1A2B3C from bad_rows.csv
    entry = watchlist.get("157710")
    assert entry is not None
    assert (entry.operator, entry.group) == ("My label", "MINE")
    assert entry.aircraft_type == "Ilyushin IL-96-300PU"  # filled from the later file
    assert {p.line for p in problems} == {3, 4, 5, 6, 9, 10}
