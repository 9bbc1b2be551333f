"""``flightwatch alerts`` on alerts recorded through db.alerts: filters and the field contract."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_helpers import run

from flightwatch.cli import main
from flightwatch.db import alerts as db_alerts
from flightwatch.db import connect
from flightwatch.db.alert_record import Alert

T = datetime(2020, 8, 19, 10, 0, tzinfo=UTC)
# ARCHITECTURE.md, command-line contract: the alerts fields, in this order; then the added
# ``evidence`` (how a landing or takeoff was known).
CONTRACT = ["time", "icao", "registration", "callsign", "kind", "geofence", "airport", "lat",
            "lon", "altitude_ft", "matched_by", "sources", "evidence",
            "retrospective", "id"]


@pytest.fixture
def recorded(config_file: Path) -> Path:
    """Three alerts in the database the config points at; returns the config file."""
    engine = connect(f"sqlite:///{config_file.parent / 'fw.db'}")
    alerts = [
        Alert(time=T, icao="157710", kind="enter", registration="RA-96016", callsign="RSD016",
              geofence="belarus", lat=53.9, lon=27.55, altitude_ft=12000.0, matched_by="icao",
              sources=("beast:127.0.0.1:30005", "adsbx")),
        Alert(time=T + timedelta(minutes=40), icao="157710", kind="landed",
              registration="RA-96016", callsign="RSD016", geofence="belarus", airport="UMMS",
              evidence="inferred",
              lat=53.888, lon=28.04, altitude_ft=None, matched_by="icao",
              sources=("beast:127.0.0.1:30005",)),
        Alert(time=T + timedelta(hours=2), icao="51003A", kind="first_seen_inside",
              geofence="belarus", lat=53.5, lon=27.0, altitude_ft=3000.0,
              matched_by="address_block", confidence="low", sources=("opensky",)),
    ]
    for alert in alerts:
        assert db_alerts.record_alert(engine, alert, channels=()) is not None
    engine.dispose()
    return config_file


def test_json_lines_carry_the_contract_fields(
    capsys: pytest.CaptureFixture[str], recorded: Path
) -> None:
    code, out, _ = run(capsys, "alerts", "--format", "json", "--config", str(recorded))
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [list(r) for r in rows] == [CONTRACT] * 3
    assert rows[0] == {
        "time": "2020-08-19T10:00:00Z", "icao": "157710", "registration": "RA-96016",
        "callsign": "RSD016", "kind": "enter", "geofence": "belarus", "airport": None,
        "lat": 53.9, "lon": 27.55, "altitude_ft": 12000.0, "matched_by": "icao",
        "sources": ["beast:127.0.0.1:30005", "adsbx"], "evidence": None,
        "retrospective": False, "id": 1,
    }
    assert [(r["kind"], r["airport"], r["evidence"]) for r in rows] == [
        ("enter", None, None), ("landed", "UMMS", "inferred"), ("first_seen_inside", None, None)]


def test_csv_and_table_render_sources_as_text(
    capsys: pytest.CaptureFixture[str], recorded: Path
) -> None:
    _, out, _ = run(capsys, "alerts", "--format", "csv", "--config", str(recorded))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == CONTRACT
    assert rows[0]["sources"] == "beast:127.0.0.1:30005,adsbx"
    assert rows[1]["altitude_ft"] == ""

    _, out, _ = run(capsys, "alerts", "--wide", "--config", str(recorded))
    lines = out.splitlines()
    assert lines[0].split() == CONTRACT
    assert lines[1].split()[-4:] == ["beast:127.0.0.1:30005,adsbx", "-", "no", "1"]
    assert lines[2].split()[-3:] == ["inferred", "no", "2"]
    assert lines[3].split()[:5] == ["2020-08-19T12:00:00Z", "51003A", "-", "-",
                                    "first_seen_inside"]


@pytest.mark.parametrize(
    ("argv", "kinds"),
    [
        (("--since", "2020-08-19T10:30Z"), ["landed", "first_seen_inside"]),
        (("--until", "2020-08-19T10:40Z"), ["enter"]),  # until is exclusive
        (("--icao", "157710"), ["enter", "landed"]),
        (("--icao", "51003A", "--kind", "enter"), []),
        (("--kind", "landed"), ["landed"]),
        (("--since", "1h"), []),  # relative to now: these alerts are older
    ],
)
def test_filters(
    capsys: pytest.CaptureFixture[str], recorded: Path, argv: tuple[str, ...], kinds: list[str]
) -> None:
    code, out, _ = run(capsys, "alerts", *argv, "--format", "json", "--config", str(recorded))
    assert code == 0
    assert [json.loads(line)["kind"] for line in out.splitlines()] == kinds


def test_lower_case_icao_is_accepted_and_a_bad_one_exits_2(
    capsys: pytest.CaptureFixture[str], recorded: Path
) -> None:
    _, out, _ = run(capsys, "alerts", "--icao", "51003a", "--format", "csv",
                    "--config", str(recorded))
    assert [row["icao"] for row in csv.DictReader(io.StringIO(out))] == ["51003A"]
    code, out, err = run(capsys, "alerts", "--icao", "RA-96016", "--config", str(recorded))
    assert code == 2 and "--icao 'RA-96016'" in err and out == ""


@pytest.mark.parametrize("argv", [("--kind", "arrived"), ("--since", "yesterday")])
def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["alerts", *argv])
    assert exc.value.code == 2
    assert argv[1] in capsys.readouterr().err


def test_empty_database_says_so(capsys: pytest.CaptureFixture[str], config_file: Path) -> None:
    assert run(capsys, "db", "upgrade", "--config", str(config_file))[0] == 0
    code, out, _ = run(capsys, "alerts", "--config", str(config_file))
    assert code == 0 and out.splitlines()[-1] == "(no rows)"
