"""``flightwatch airports list``: what flightwatch knows, all of it or near a point."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from cli_helpers import run

from flightwatch.cli.airports import NEAR_FIELDS
from flightwatch.db.airports import haversine_km


def test_near_a_point_closest_first_with_what_landing_needs(
    capsys: pytest.CaptureFixture[str], config_file: Path
) -> None:
    code, out, err = run(capsys, "airports", "list", "--near", "54.63,25.29", "--within", "30",
                         "--format", "json", "--config", str(config_file))
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert list(rows[0]) == list(NEAR_FIELDS)
    vilnius = rows[0]
    assert (vilnius["ident"], vilnius["iata"], vilnius["tz"], vilnius["country"]) == (
        "EYVI", "VNO", "Europe/Vilnius", "LT")
    assert vilnius["elevation_ft"] == 646 and vilnius["longest_runway_ft"] == 8251
    assert vilnius["distance_km"] == round(haversine_km(54.63, 25.29, vilnius["lat"],
                                                        vilnius["lon"]), 1)
    distances = [r["distance_km"] for r in rows]
    assert distances == sorted(distances) and distances[-1] <= 30
    assert len(rows) > 1  # the fields around Vilnius too


def test_the_default_reach_and_the_other_formats(
    capsys: pytest.CaptureFixture[str], config_file: Path
) -> None:
    code, out, _ = run(capsys, "airports", "list", "--near", "53.88,28.03", "--format", "csv",
                       "--config", str(config_file))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and rows[0]["ident"] == "UMMS" and rows[0]["type"] == "large_airport"
    assert max(float(r["distance_km"]) for r in rows) <= 50  # the default --within
    assert "UMLI" in {r["ident"] for r in rows}  # Machulishchy, 32 km
    code, out, _ = run(capsys, "airports", "list", "--near", "53.88, 28.03", "--within", "5",
                       "--config", str(config_file))
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:2] == ["distance_km", "ident"]
    assert lines[1].split()[1] == "UMMS" and len(lines) == 2


def test_nothing_near_the_middle_of_the_pacific(
    capsys: pytest.CaptureFixture[str], config_file: Path
) -> None:
    code, out, _ = run(capsys, "airports", "list", "--near=-40,-130",  # "=": a minus first
                       "--config", str(config_file))
    assert code == 0 and out.splitlines()[-1] == "(no rows)"


@pytest.mark.parametrize(("argv", "message"), [
    (["--near", "53.88"], "expected LAT,LON"),
    (["--near", "north,east"], "expected LAT,LON"),
    (["--near", "95,28"], "latitude must be within -90..90"),
    (["--near", "53.88,28.03", "--within", "-5"], "more than 0"),
    (["--within", "lots", "--near", "1,1"], "expected kilometres"),
])
def test_a_bad_point_exits_2_saying_why(
    capsys: pytest.CaptureFixture[str], config_file: Path, argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        run(capsys, "airports", "list", *argv, "--config", str(config_file))
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_the_whole_list_has_the_world_and_yours(
    capsys: pytest.CaptureFixture[str], config_file: Path, tmp_path: Path
) -> None:
    mine = tmp_path / "mine.csv"
    mine.write_text("ident,icao,iata,name,type,lat,lon,elevation_ft,municipality\n"
                    "UUWW,UUWW,VKO,Vnukovo (mine),large_airport,55.5915,37.2615,685,Moscow\n"
                    "XX-0001,,,My strip,small_airport,54.4,25.9,500,Ashmyany\n",
                    encoding="utf-8")
    config_file.write_text(config_file.read_text(encoding="utf-8")
                           + f'\n[alerts]\nairports = ["{mine}"]\n', encoding="utf-8")
    code, out, _ = run(capsys, "airports", "list", "--format", "csv",
                       "--config", str(config_file))
    rows = list(csv.DictReader(io.StringIO(out)))
    by_ident = {r["ident"]: r for r in rows}
    assert code == 0 and len(rows) > 28_000
    assert by_ident["UUWW"]["name"] == "Vnukovo (mine)"
    assert by_ident["UUWW"]["tz"] == "Europe/Moscow"  # from the world row it replaces
    assert by_ident["XX-0001"]["name"] == "My strip" and "BY-0022" in by_ident
    codes = [r["icao"] or r["ident"] for r in rows]
    assert codes == sorted(codes)


def test_flights_at_a_world_airport_is_no_unknown_code(
    capsys: pytest.CaptureFixture[str], config_file: Path
) -> None:
    assert run(capsys, "db", "upgrade", "--config", str(config_file))[0] == 0  # flights reads it
    code, _, err = run(capsys, "flights", "--airport", "UUWW", "--config", str(config_file))
    assert code == 0 and "not a known airport" not in err
    code, _, err = run(capsys, "flights", "--airport", "QQQQ", "--config", str(config_file))
    assert code == 0 and "QQQQ is not a known airport code" in err
