"""Airports: the shipped Belarus list, the OurAirports format, and nearest-airport lookups."""

from __future__ import annotations

import csv
import math
import random
import re
from pathlib import Path

import pytest

from flightwatch.db.airports import (
    Airport,
    AirportIndex,
    AirportsError,
    haversine_km,
    read_airports,
    write_airports,
)

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config" / "airports.csv"
DATA = Path(__file__).resolve().parents[1] / "alerts" / "data"
OURAIRPORTS = ROOT / "tests" / "data" / "geo" / "belarus_airports_ourairports.csv"


@pytest.fixture(scope="module")
def index() -> AirportIndex:
    return AirportIndex(read_airports(SHIPPED))


def test_nearest_to_minsk_national_is_umms(index: AirportIndex) -> None:
    found = index.nearest(53.89, 28.03, max_km=10)
    assert found is not None
    assert (found.code, found.iata, found.type) == ("UMMS", "MSQ", "large_airport")
    assert found.longest_runway_ft == 12139


def test_nearest_respects_max_km(index: AirportIndex) -> None:
    assert index.nearest(53.89, 28.03, max_km=0.5) is None  # UMMS is ~0.7 km away
    assert index.nearest(48.0, 10.0, max_km=50) is None  # southern Germany


def test_machulishchy_and_regional_airports(index: AirportIndex) -> None:
    lat, lon = 53.77344, 27.577411
    found = index.nearest(lat + 0.01, lon, max_km=5)
    assert found is not None and found.code == "UMLI"
    for code in ("UMGG", "UMBB", "UMII", "UMOO", "UMMG"):
        airport = index.get(code)
        assert airport is not None, code
        assert index.nearest(airport.lat, airport.lon, 3) == airport


def test_shipped_file_has_no_closed_airports() -> None:
    airports = read_airports(SHIPPED)
    assert airports and all(a.type != "closed" for a in airports)
    assert all(51 < a.lat < 56.5 and 23 < a.lon < 33 for a in airports)


def test_ourairports_import_drops_closed_unless_asked() -> None:
    with OURAIRPORTS.open(newline="", encoding="utf-8") as src:
        types = [row["type"] for row in csv.DictReader(src)]
    open_ones = read_airports(OURAIRPORTS)
    assert len(open_ones) == sum(t != "closed" for t in types)
    assert len(read_airports(OURAIRPORTS, include_closed=True)) == len(types)
    lida = next(a for a in open_ones if a.ident == "BY-0009")
    assert lida.icao == "UMDD"  # from gps_code: OurAirports has no icao_code for it


def test_write_then_read_round_trips(tmp_path: Path) -> None:
    airports = read_airports(SHIPPED)
    write_airports(tmp_path / "a.csv", airports)
    assert sorted(read_airports(tmp_path / "a.csv"), key=lambda a: a.ident) == sorted(
        airports, key=lambda a: a.ident
    )


def test_bad_rows_are_skipped_bad_files_refused(tmp_path: Path) -> None:
    good = tmp_path / "a.csv"
    good.write_text(
        "ident,icao,name,type,lat,lon\nUMMS,UMMS,Minsk,large_airport,53.888,28.04\n"
        "XX,,No position,small_airport,,\nYY,,Bad lat,small_airport,north,28\n",
        encoding="utf-8",
    )
    assert [a.ident for a in read_airports(good)] == ["UMMS"]
    with pytest.raises(AirportsError, match=re.escape("bad_rows.csv")):
        read_airports(DATA / "bad_rows.csv")  # a watchlist, not airports
    with pytest.raises(AirportsError, match=re.escape("missing.csv")):
        read_airports(tmp_path / "missing.csv")


def test_grid_lookup_agrees_with_brute_force() -> None:
    rng = random.Random(20240601)
    airports = [
        Airport(f"A{i}", "", f"a{i}", "small_airport", rng.uniform(-80, 80), rng.uniform(-180, 180))
        for i in range(400)
    ]
    index = AirportIndex(airports)
    for _ in range(300):
        lat, lon, max_km = rng.uniform(-85, 85), rng.uniform(-180, 180), rng.uniform(10, 900)
        within = [
            (haversine_km(lat, lon, a.lat, a.lon), a)
            for a in airports
            if haversine_km(lat, lon, a.lat, a.lon) <= max_km
        ]
        expected = min(within, key=lambda t: t[0])[1] if within else None
        assert index.nearest(lat, lon, max_km) == expected


def test_nearest_across_the_antimeridian() -> None:
    index = AirportIndex([Airport("E", "", "east", "small_airport", 65.0, 179.95)])
    assert index.nearest(65.0, -179.95, max_km=10) is not None


def test_haversine_one_degree_of_latitude() -> None:
    assert haversine_km(53.0, 28.0, 54.0, 28.0) == pytest.approx(
        6371.0088 * math.pi / 180, rel=1e-9
    )
