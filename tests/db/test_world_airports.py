"""The bundled world airports: facts against their sources' own rows, and the index.

Truth comes from the raw rows: airportsdata's ``airports.csv`` inside the package (the
version pinned in the test extra) and OurAirports' ``runways.csv`` rows copied into
tests/data/geo, read here with ``csv`` alone, never through flightwatch's readers.
Brute-force searches over the raw airportsdata rows check the index's grid answers.
"""

from __future__ import annotations

import csv
import gc
from pathlib import Path

import pytest

from flightwatch.airports import airport_index, world_paths
from flightwatch.db.airports import Airport, AirportIndex, haversine_km, world_airports
from flightwatch.db.world_airports import WorldAirports, WorldAirportsError

DATA = Path(__file__).resolve().parents[1] / "data" / "geo"


@pytest.fixture(scope="module")
def raw_airportsdata() -> dict[str, dict[str, str]]:
    airportsdata = pytest.importorskip("airportsdata")
    with (Path(airportsdata.__file__).parent / "airports.csv").open(encoding="utf-8") as src:
        return {row["icao"]: row for row in csv.DictReader(src)}


@pytest.fixture(scope="module")
def raw_runways() -> dict[str, list[dict[str, str]]]:
    """OurAirports' rows for UMMS, UUWW, EYVI, EBBR, UMLI, BY-0009, BY-0022, NZSP."""
    out: dict[str, list[dict[str, str]]] = {}
    with (DATA / "ourairports_runways_sample.csv").open(encoding="utf-8", newline="") as src:
        for row in csv.DictReader(src):
            out.setdefault(row["airport_ident"], []).append(row)
    return out


@pytest.fixture(scope="module")
def world() -> WorldAirports:
    return world_airports(*world_paths())


@pytest.fixture(scope="module")
def index() -> AirportIndex:
    return airport_index()


@pytest.mark.parametrize("code", ["UMMS", "UUWW", "EYVI"])
def test_airports_are_airportsdata_rows(code: str, raw_airportsdata: dict[str, dict[str, str]],
                                        world: WorldAirports) -> None:
    raw = raw_airportsdata[code]
    row = world.row(code)
    assert row is not None
    airport = world.airport(row)
    assert (airport.ident, airport.icao, airport.iata, airport.name, airport.country,
            airport.tz) == (code, code, raw["iata"], raw["name"], raw["country"], raw["tz"])
    assert airport.lat == pytest.approx(float(raw["lat"]), abs=5e-6)
    assert airport.lon == pytest.approx(float(raw["lon"]), abs=5e-6)
    assert airport.elevation_ft == pytest.approx(float(raw["elevation"]), abs=0.5)


def test_the_brief_s_figures_hold(index: AirportIndex) -> None:
    """Figures of the issue, from other references than the two sources."""
    minsk, vilnius = index.get("UMMS"), index.get("EYVI")
    assert minsk is not None and vilnius is not None
    assert (round(minsk.lat, 2), round(minsk.lon, 2), minsk.tz) == (53.89, 28.04, "Europe/Minsk")
    assert (round(vilnius.lat, 3), round(vilnius.lon, 3), vilnius.tz) == (
        54.634, 25.286, "Europe/Vilnius")
    lengths_m = sorted(round(float(r.split()[1][:-2]) * 0.3048) for r in minsk.runways.split(";"))
    assert lengths_m == [3641, 3700]  # two runways of ~3,600 m


@pytest.mark.parametrize("code", ["UMMS", "UUWW", "EYVI", "EBBR"])
def test_runway_ends_are_ourairports_rows(
    code: str, raw_runways: dict[str, list[dict[str, str]]], world: WorldAirports
) -> None:
    row = world.row(code)
    assert row is not None
    ends = {end.ident: end for end in world.runway_ends(row, code)}
    raw = raw_runways[code]
    assert len(ends) == 2 * len(raw)
    for runway in raw:
        for side in ("le", "he"):
            end = ends[runway[f"{side}_ident"]]
            assert end.airport == code
            assert end.lat == pytest.approx(float(runway[f"{side}_latitude_deg"]), abs=6e-6)
            assert end.lon == pytest.approx(float(runway[f"{side}_longitude_deg"]), abs=6e-6)
            assert end.heading_deg == pytest.approx(float(runway[f"{side}_heading_degT"]), abs=0.06)
            assert end.elevation_ft == pytest.approx(float(runway[f"{side}_elevation_ft"]),
                                                     abs=0.5)
    airport = world.airport(row)
    assert airport.longest_runway_ft == max(int(r["length_ft"]) for r in raw)
    assert airport.fixed_wing and airport.type == "airport"


def test_belgian_positions_written_as_dms_digits_are_corrected(
    raw_airportsdata: dict[str, dict[str, str]], raw_runways: dict[str, list[dict[str, str]]],
    index: AirportIndex,
) -> None:
    """airportsdata puts Brussels Airport at 50.5405, 4.2904: 50°54'05" 4°29'04" read as
    decimals, 41 km from its runways. The shipped position is the DMS reading, among the
    runway thresholds."""
    raw = raw_airportsdata["EBBR"]
    thresholds = [(float(r[f"{s}_latitude_deg"]), float(r[f"{s}_longitude_deg"]))
                  for r in raw_runways["EBBR"] for s in ("le", "he")]
    assert min(haversine_km(float(raw["lat"]), float(raw["lon"]), *t) for t in thresholds) > 40
    brussels = index.get("EBBR")
    assert brussels is not None
    assert (brussels.lat, brussels.lon) == pytest.approx((50 + 54 / 60 + 5 / 3600,
                                                          4 + 29 / 60 + 4 / 3600), abs=1e-5)
    assert max(haversine_km(brussels.lat, brussels.lon, *t) for t in thresholds) < 3


def test_belarus_fields_without_icao_code_are_kept(index: AirportIndex) -> None:
    """Today's Belarus set (OurAirports) refines the world: BY-0022 has no ICAO code."""
    strip = index.get("BY-0022")
    assert strip is not None and strip.icao == "" and strip.type == "small_airport"
    assert strip.tz == "Europe/Minsk" and strip.country == "BY"
    assert {e.ident for e in index.runway_ends(strip)} == {"07", "25"}
    lida = index.get("UMDD")  # OurAirports' BY-0009, its ICAO code from gps_code
    assert lida is not None and lida.ident == "BY-0009" and lida.tz == "Europe/Minsk"
    assert index.get("BY-0009") == lida
    assert sum(1 for _ in index.within(lida.lat, lida.lon, 1)) == 1  # not twice


def _brute_force(raw: dict[str, dict[str, str]], lat: float, lon: float,
                 km: float) -> set[str]:
    return {code for code, r in raw.items()
            if haversine_km(lat, lon, float(r["lat"]), float(r["lon"])) <= km}


@pytest.mark.parametrize(("lat", "lon", "km"), [
    (-16.8, 179.95, 250.0),  # Fiji, across the antimeridian
    (-16.8, -179.95, 250.0),
    (65.0, -179.9, 400.0),  # Chukotka and Alaska
    (89.5, 10.0, 1000.0),  # near the North Pole: every column
    (-89.9, 120.0, 300.0),  # the South Pole station
    (53.88, 28.03, 250.0),  # Minsk, the lead's candidate radius
])
def test_within_finds_what_a_brute_force_search_finds(
    lat: float, lon: float, km: float, raw_airportsdata: dict[str, dict[str, str]],
    world: WorldAirports,
) -> None:
    index = AirportIndex(world=world)  # the world alone, as the raw rows are
    found = index.within(lat, lon, km)
    expected = _brute_force(raw_airportsdata, lat, lon, km)
    moved = {"EBBR"}  # (none of these points is near a corrected position)
    assert {a.code for _km, a in found} - moved == expected - moved
    assert expected  # each point has airports around it
    assert [d for d, _ in found] == sorted(d for d, _ in found)
    assert index.nearest(lat, lon, km) == found[0][1]


def test_the_antimeridian_splits_no_search(world: WorldAirports) -> None:
    index = AirportIndex(world=world)
    west = {a.code for _km, a in index.within(-16.8, 179.99, 250)}
    east = {a.code for _km, a in index.within(-16.8, -179.99, 250)}
    assert west == east
    lons = [a.lon for _km, a in index.within(-16.8, 179.99, 250)]
    assert min(lons) < -179 and max(lons) > 177


def test_runway_length_filter_is_judged_before_objects_are_made(index: AirportIndex) -> None:
    around = index.within(53.88, 28.03, 120)
    long_enough = index.within(53.88, 28.03, 120, min_runway_ft=8000)
    assert {a.code for _km, a in long_enough} == {
        a.code for _km, a in around
        if a.fixed_wing and (a.longest_runway_ft is None or a.longest_runway_ft >= 8000)}
    assert "UMMS" in {a.code for _km, a in long_enough}
    assert len(long_enough) < len(around)
    heliports = [a for _km, a in around if not a.fixed_wing]
    assert heliports and all(a.type == "heliport" for a in heliports)  # Drozdy and others
    assert not {a.code for a in heliports} & {a.code for _km, a in long_enough}


def test_a_user_csv_overrides_a_world_airport_and_adds_one(tmp_path: Path) -> None:
    own = tmp_path / "mine.csv"
    own.write_text(
        "ident,icao,iata,name,type,lat,lon,elevation_ft,municipality\n"
        "EYVI,EYVI,VNO,Vilnius (my survey),large_airport,54.6345,25.2870,650,Vilnius\n"
        "XX-0001,,,Field near Ashmyany,small_airport,54.40,25.90,500,Ashmyany\n"
        "UUWW,UUWW,,Vnukovo (mine),large_airport,55.5915,37.2615,,\n",
        encoding="utf-8")
    bundled = airport_index()
    settings = {"detection": {"airports": [own], "runways": None}}
    index = airport_index(settings)  # type: ignore[arg-type]
    vilnius = index.get("eyvi")
    assert vilnius is not None and vilnius.name == "Vilnius (my survey)"
    assert vilnius.tz == "Europe/Vilnius" and vilnius.country == "LT"  # from the world row
    assert len(index.runway_ends(vilnius)) == 2  # the world's, none of its own
    found = [a for _km, a in index.within(54.63, 25.28, 5)]
    assert [a.name for a in found] == ["Vilnius (my survey)"]  # replaced, not doubled
    assert index.get("XX-0001") is not None
    vnukovo = index.get("UUWW")
    assert vnukovo is not None and vnukovo.name == "Vnukovo (mine)"
    assert (vnukovo.elevation_ft, vnukovo.iata, vnukovo.municipality) == (685, "VKO", "Moscow")
    assert len(index) == len(bundled) + 1


def test_loading_makes_no_airport_objects(world: WorldAirports) -> None:
    """~28,000 airports stay text and array columns: objects only for what is found."""
    fresh = WorldAirports(*world_paths())
    gc.collect()
    before = sum(isinstance(o, Airport) for o in gc.get_objects())
    index = AirportIndex(world=fresh)
    found = index.within(53.88, 28.03, 100)
    gc.collect()
    made = sum(isinstance(o, Airport) for o in gc.get_objects()) - before
    assert len(fresh) > 28_000 and 0 < made <= len(found)


def test_a_damaged_world_file_is_a_clear_error(tmp_path: Path) -> None:
    airports, runways = world_paths()
    broken = tmp_path / "world_airports.tsv.gz"
    broken.write_bytes(airports.read_bytes()[:1000])
    with pytest.raises(WorldAirportsError, match=r"world_airports\.tsv\.gz: cannot read"):
        WorldAirports(broken, runways)
