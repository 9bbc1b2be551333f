"""Tables that fit a terminal: 100 columns by default, ``--wide`` for every field,
``--columns`` to choose; CSV and JSON keep every field (issue 21: the demo's tables were
155 to 246 characters wide)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from cli_helpers import DEMO_CONFIG, Demo, run

from flightwatch.cli.airports import AIRPORT_FIELDS
from flightwatch.cli.alerts import ALERT_FIELDS
from flightwatch.cli.flights import FLIGHT_FIELDS
from flightwatch.cli.history import HISTORY_FIELDS
from flightwatch.cli.watchlist import LIST_FIELDS

Cap = pytest.CaptureFixture[str]
TABLES = {
    "history": HISTORY_FIELDS, "alerts": ALERT_FIELDS, "flights": FLIGHT_FIELDS,
    "watchlist list": LIST_FIELDS, "airports list": AIRPORT_FIELDS,
}


def ok(capsys: Cap, *argv: str) -> str:
    code, out, err = run(capsys, *argv, "--config", DEMO_CONFIG)
    assert code == 0, err
    return out


@pytest.mark.parametrize("command", TABLES)
def test_every_table_fits_100_columns(in_demo: Demo, capsys: Cap, command: str) -> None:
    lines = ok(capsys, *command.split()).splitlines()
    assert len(lines) > 1 and lines[1] != "(no rows)"
    assert max(len(line) for line in lines) <= 100


@pytest.mark.parametrize("command", TABLES)
def test_wide_shows_every_field_as_csv_has_it(in_demo: Demo, capsys: Cap, command: str) -> None:
    wide = ok(capsys, *command.split(), "--wide").splitlines()
    rows = list(csv.reader(io.StringIO(ok(capsys, *command.split(), "--format", "csv"))))
    assert wide[0].split() == list(TABLES[command]) == rows[0]
    assert len(wide) == len(rows)
    if "time" in rows[0]:  # times as CSV writes them, to the microsecond
        column = rows[0].index("time")
        assert [line.split()[column] for line in wide[1:]] == [r[column] for r in rows[1:]]


def test_flights_table_reads_as_a_journalist_needs_it(in_demo: Demo, capsys: Cap) -> None:
    # config/samples/README.md: RA-96016 (RSD016) first heard at 09:40, touchdown on 31R at
    # UMMS at 10:14:45; the other three only fly over.
    lines = ok(capsys, "flights", "--watched").splitlines()
    assert lines[0].split() == ["icao", "reg", "callsign", "first_seen", "from", "to",
                                "arrived", "landing"]
    assert lines[1].split() == ["157710", "RA-96016", "RSD016", "2020-08-19", "09:40Z", "-",
                                "UMMS", "2020-08-19", "10:14Z", "observed"]


def test_history_table_keeps_the_seconds(in_demo: Demo, capsys: Cap) -> None:
    lines = ok(capsys, "history", "--registration", "RA-96016", "--since",
               "2020-08-19T10:14:45Z", "--until", "2020-08-19T10:14:46Z").splitlines()
    assert lines[0].split() == ["icao", "time", "lat", "lon", "alt_ft", "speed_kt", "track",
                                "callsign", "ground"]
    assert lines[1].split()[:3] == ["157710", "2020-08-19", "10:14:45Z"]
    assert lines[1].split()[-1] == "yes"  # on the runway


def test_columns_choose_and_order_fields_in_every_tabular_format(
    in_demo: Demo, capsys: Cap
) -> None:
    table = ok(capsys, "flights", "--watched", "--columns", "arrival_time,reg,to")
    assert table.splitlines() == ["arrived            reg       to",
                                  "2020-08-19 10:14Z  RA-96016  UMMS"]
    assert ok(capsys, "flights", "--watched", "--columns", "arrival_time,registration",
              "--wide").splitlines()[1].split() == ["2020-08-19T10:14:45Z", "RA-96016"]
    assert ok(capsys, "flights", "--watched", "--format", "csv", "--columns",
              "arrived,icao") == "arrival_time,icao\n2020-08-19T10:14:45Z,157710\n"
    (record,) = map(json.loads, ok(capsys, "alerts", "--kind", "landed", "--format", "json",
                                   "--columns", "kind,airport,evidence").splitlines())
    assert record == {"kind": "landed", "airport": "UMMS", "evidence": "observed"}


def test_an_unknown_column_lists_the_valid_ones_and_touches_no_file(
    in_demo: Demo, capsys: Cap, tmp_path: Path
) -> None:
    kept = tmp_path / "flights.csv"
    kept.write_text("yesterday's export\n", encoding="utf-8")
    code, out, err = run(capsys, "flights", "--columns", "icao,landing_time", "--format",
                         "csv", "--out", str(kept), "--config", DEMO_CONFIG)
    assert (code, out) == (2, "")
    assert err == (f"flightwatch: --columns: no column 'landing_time'; choose from "
                   f"{', '.join(FLIGHT_FIELDS)}\n")
    assert kept.read_text(encoding="utf-8") == "yesterday's export\n"
    code, _, err = run(capsys, "history", "--format", "kml", "--columns", "icao",
                       "--config", DEMO_CONFIG)
    assert code == 2 and "--columns applies to --format table, csv or json" in err


def test_long_text_is_cut_to_fit_and_whole_in_wide(in_demo: Demo, capsys: Cap) -> None:
    # the shipped watchlist: RA-96016's operator is longer than the narrowed column
    compact = next(line for line in ok(capsys, "watchlist", "list").splitlines()
                   if line.startswith("157710"))
    wide = next(line for line in ok(capsys, "watchlist", "list", "--wide").splitlines()
                if line.startswith("157710"))
    assert "Russia Special Flight Detachment" in wide
    assert "Russia Special Flight" in compact and "…" in compact
    assert "Russia Special Flight Detachment" not in compact


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_wide_changes_nothing_outside_the_table(in_demo: Demo, capsys: Cap, fmt: str) -> None:
    plain = ok(capsys, "alerts", "--format", fmt)
    assert ok(capsys, "alerts", "--format", fmt, "--wide") == plain
    assert ok(capsys, "alerts", "--format", fmt, "--columns", ",".join(ALERT_FIELDS)) == plain
