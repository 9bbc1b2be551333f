"""``flightwatch flights`` and ``flightwatch airports`` on a replayed simulated capture.

RA-96016 (watched) lands at Minsk National 40 days ago and again 2 days ago; an
unwatched airliner lands there too; a third aircraft lands at a field known only
from an imported OurAirports file. Times are relative to now so ``--since 30d``
means what a user means by it.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_helpers import run

from flightwatch.cli import main
from flightwatch.cli.flights import FLIGHT_FIELDS
from flightwatch.daemon.pipeline import build_pipeline
from flightwatch.daemon.replay import replay_files
from flightwatch.db import connect
from flightwatch.db.watchlist import sync_files
from flightwatch.settings import load_settings
from tools.capture_writer import write_tsv
from tools.simulate import Flight, Rates, destination, frames

CONFIG = Path(__file__).resolve().parents[2] / "config"
RATES = Rates(position_s=2.0, velocity_s=6.0, identification_s=12.0, surveillance_s=None)
UMMS = (53.888071, 28.039964)
FIELD = (53.30, 26.50)  # no airport in config/airports.csv within 20 km
NOW = datetime.now(UTC).replace(microsecond=0)
# ARCHITECTURE.md, command-line contract: the flights fields, in this order.
CONTRACT = ["icao", "registration", "callsign", "departure_airport", "departure_time",
            "arrival_airport", "arrival_time", "first_seen", "last_seen", "max_altitude_ft"]
OURAIRPORTS = (
    "id,ident,type,name,latitude_deg,longitude_deg,elevation_ft,continent,iso_country,"
    "iso_region,municipality,scheduled_service,icao_code,iata_code,gps_code,local_code,"
    "home_link,wikipedia_link,keywords\n"
    f'900001,BY-9999,small_airport,"Test Field, Nowhere",{FIELD[0]},{FIELD[1]},560,EU,BY,'
    "BY-MI,Nowhere,no,,,,,,,\n"
    "900002,BY-9998,closed,Old Strip,53.10,26.10,500,EU,BY,BY-MI,,no,,,,,,,\n"
    "900003,ZZZZ,small_airport,Gps Coded,53.20,26.20,510,EU,BY,BY-MI,,no,,,UMZZ,,,,\n"
)


def arrival(icao: str, callsign: str, airport: tuple[float, float], elevation_ft: float,
            start: datetime) -> Flight:
    final = 310.0
    return Flight(
        icao, callsign,
        [(*destination(*airport, final + 180, 15), 4500, 220),
         (*destination(*airport, final + 180, 0.5), elevation_ft, 135)],
        start, on_ground_at_end=True, parked_s=60.0,
    )


def simulated() -> list[Flight]:
    return [
        arrival("157710", "RSD016", UMMS, 670, NOW - timedelta(days=40)),
        arrival("157710", "RSD016", UMMS, 670, NOW - timedelta(days=2)),
        arrival("4CA853", "BRU869", UMMS, 670, NOW - timedelta(days=2, minutes=-3)),
        arrival("4CA854", "BRU871", FIELD, 560, NOW - timedelta(days=1)),
    ]


def ok(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the capture replayed, the imported airports and the watchlist."""
    folder = tmp_path_factory.mktemp("flights_cli")
    path = folder / "flightwatch.toml"
    path.write_text('[database]\nurl = "sqlite:///fw.db"\n\n[receiver]\nlat = 53.6\nlon = 27.3\n',
                    encoding="utf-8")
    (folder / "ourairports.csv").write_text(OURAIRPORTS, encoding="utf-8")
    assert main(["airports", "import", str(folder / "ourairports.csv"),
                 "--config", str(path)]) == 0
    capture = folder / "capture.tsv"
    with capture.open("w", encoding="ascii", newline="\n") as out:
        write_tsv(frames(simulated(), RATES, seed=11), out)
    settings = load_settings(path)
    engine = connect(settings.database_url)
    sync_files(engine, [CONFIG / "watchlist.csv"])
    pipeline = build_pipeline(settings, engine)
    replay_files(settings, [capture], pipeline=pipeline)
    assert pipeline.flush()
    engine.dispose()
    return path


def test_watched_flights_at_an_airport_in_the_last_30_days(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    out = ok(capsys, "flights", "--watched", "--airport", "UMMS", "--since", "30d",
                       "--format", "json", "--config", str(config))
    (record,) = [json.loads(line) for line in out.splitlines()]
    assert list(record)[:10] == CONTRACT
    assert (record["icao"], record["registration"], record["arrival_airport"]) == (
        "157710", "RA-96016", "UMMS")
    landed = datetime.fromisoformat(record["arrival_time"])
    assert abs(landed - (NOW - timedelta(days=2))) < timedelta(minutes=10)
    out = ok(capsys, "flights", "--airport", "UMMS", "--since", "30d",
                       "--format", "json", "--config", str(config))
    assert sorted(json.loads(line)["icao"] for line in out.splitlines()) == ["157710", "4CA853"]
    out = ok(capsys, "flights", "--registration", "RA-96016", "--format", "json",
                       "--config", str(config))
    assert len(out.splitlines()) == 2  # and the one 40 days ago


def test_csv_and_table(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    out = ok(capsys, "flights", "--format", "csv", "--config", str(config))
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == list(FLIGHT_FIELDS) and len(rows) == 5
    out = ok(capsys, "flights", "--callsign", "BRU*", "--wide", "--config", str(config))
    assert out.splitlines()[0].split() == list(FLIGHT_FIELDS)
    assert len(out.splitlines()) == 3


def test_an_imported_airport_is_used_for_landings(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    out = ok(capsys, "flights", "--airport", "by-9999", "--format", "json",
                       "--config", str(config))
    (record,) = [json.loads(line) for line in out.splitlines()]
    assert (record["icao"], record["arrival_airport"]) == ("4CA854", "BY-9999")
    out = ok(capsys, "airports", "list", "--format", "json", "--config", str(config))
    listed = {r["ident"]: r for r in map(json.loads, out.splitlines())}
    assert listed["BY-9999"]["name"] == "Test Field, Nowhere"
    assert listed["ZZZZ"]["icao"] == "UMZZ"  # OurAirports' gps_code
    assert "BY-9998" not in listed  # closed
    assert "UMMS" in listed  # the configured file, synced when the tracker was built


def test_geojson_has_a_linestring_per_flight(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    out = ok(capsys, "flights", "--icao", "157710", "--format", "geojson",
                       "--config", str(config))
    features = json.loads(out)["features"]
    rows = ok(capsys, "flights", "--icao", "157710", "--format", "json",
                        "--config", str(config))
    flights = [json.loads(line) for line in rows.splitlines()]
    assert len(features) == len(flights) == 2
    for feature, flight in zip(features, flights, strict=True):
        assert feature["geometry"]["type"] == "LineString"
        assert len(feature["geometry"]["coordinates"]) == flight["positions"]
        props = feature["properties"]
        assert props["arrival_airport"] == "UMMS"
        assert props["arrival_time"] == flight["arrival_time"]
        assert props["arrival_evidence"] == flight["arrival_evidence"] == "observed"
        assert props["turnaround_s"] == flight["turnaround_s"]
        assert props["times"][0] == flight["first_seen"]
        assert props["times"][-1] == flight["last_seen"]


def test_kml_has_a_timed_track_per_flight(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    out = ok(capsys, "flights", "--airport", "UMMS", "--format", "kml",
                       "--config", str(config))
    ns = {"k": "http://www.opengis.net/kml/2.2", "gx": "http://www.google.com/kml/ext/2.2"}
    placemarks = ET.fromstring(out).findall(".//k:Placemark", ns)
    assert len(placemarks) == 3
    for placemark in placemarks:
        track = placemark.find("gx:Track", ns)
        assert track is not None
        whens = track.findall("k:when", ns)
        assert len(whens) == len(track.findall("gx:coord", ns)) > 10
        data = {d.get("name"): d.findtext("k:value", namespaces=ns)
                for d in placemark.findall(".//k:Data", ns)}
        assert data["arrival_airport"] == "UMMS"
        assert data["arrival_evidence"] == "observed"
        assert whens[0].text == data["first_seen"]


@pytest.mark.parametrize("argv", [
    ["flights", "--icao", "XYZ"],
    ["flights", "--geofence", "atlantis"],
    ["airports", "import", __file__],
])
def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str], config: Path,
                           argv: list[str]) -> None:
    code, _, err = run(capsys, *argv, "--config", str(config))
    assert code == 2 and err.startswith("flightwatch: ")
