"""tools/derive_airports.py: how the world file is judged from its sources, and that the
shipped files are what the derivation writes."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tools.derive_airports import (
    Report,
    Runway,
    as_dms,
    belarus_aliases,
    derive_airports,
    kind,
    longest_ft,
    open_runways,
    place,
)

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "tests" / "data" / "geo" / "ourairports_runways_sample.csv"


def test_dms_digits_read_as_degrees_minutes_seconds() -> None:
    assert as_dms(50.5405) == pytest.approx(50 + 54 / 60 + 5 / 3600)
    assert as_dms(-4.2904) == pytest.approx(-(4 + 29 / 60 + 4 / 3600))
    assert as_dms(53.8825) is None  # 88 minutes: not DMS digits


def _runway(le: str, he: str, surface: str = "ASP", length: str = "6000") -> Runway:
    return Runway(length, surface, (le, "", "", "", ""), (he, "", "", "", ""))


@pytest.mark.parametrize(("runways", "name", "expected"), [
    ([_runway("H1", "H1", "CON", "60")], "Some Field", "heliport"),
    ([_runway("18W", "36W", "WATER")], "Lake Base", "seaplane_base"),
    ([_runway("18W", "36W", "WATER"), _runway("H1", "H1")], "Lake Base", "seaplane_base"),
    ([_runway("13", "31"), _runway("H1", "H1")], "City Airport", "airport"),
    ([], "Hospital Heliport", "heliport"),
    ([], "Harbour Seaplane Base", "seaplane_base"),
    ([], "Farm Strip", "airport"),
])
def test_helipad_and_water_only_fields_are_marked(runways: list[Runway], name: str,
                                                  expected: str) -> None:
    assert kind(name, runways) == expected


def test_the_longest_runway_is_one_a_landplane_can_use() -> None:
    assert longest_ft([_runway("13", "31", length="5000"),
                       _runway("18W", "36W", "WATER", "9000"), _runway("H1", "H1")]) == "5000"
    assert longest_ft([_runway("H1", "H1", "CON", "60")]) == ""


def test_positions_are_checked_against_the_runways() -> None:
    runways = open_runways(SAMPLE)
    report = Report([], [])
    brussels = {"lat": 50.5405, "lon": 4.2904}  # airportsdata 20260905's row
    lat, lon, kept = place("EBBR", brussels, runways["EBBR"], report)
    assert (lat, lon) == pytest.approx((50.90139, 4.48444), abs=1e-5) and kept
    minsk = {"lat": 53.8825, "lon": 28.0307}
    assert place("UMMS", minsk, runways["UMMS"], report) == (53.8825, 28.0307,
                                                             runways["UMMS"])
    elsewhere = {"lat": 53.0, "lon": 20.0}  # runways filed under a reused ident
    assert place("XXXX", elsewhere, runways["UMMS"], report) == (53.0, 20.0, [])
    assert report.dms_fixed == ["EBBR"]
    assert report.runways_dropped == ["XXXX (540 km)"]  # 8.0 deg E, 0.9 deg N of UMMS 13R


def test_runway_rows_are_rounded_and_keep_both_ends() -> None:
    runways = open_runways(SAMPLE)
    minsk = runways["UMMS"]
    assert [(r.le[0], r.he[0], r.length_ft, r.surface) for r in minsk] == [
        ("13L", "31R", "12139", "CONC"), ("13R", "31L", "11946", "CON")]
    assert minsk[0].le == ("13L", "53.9053", "28.0333", "646", "138")
    lida = runways["BY-0009"]  # no thresholds: length and surface only
    assert lida[0].thresholds == [] and lida[0].le == ("15", "", "", "", "")


def test_belarus_fields_file_their_runways_under_ourairports_idents(
    geo_data: Callable[[str], Path],
) -> None:
    shared = geo_data("belarus_airports_ourairports.csv").parents[2]  # .../data/geo/file
    aliases = belarus_aliases(shared)
    assert aliases["UMDD"] == "BY-0009"  # Lida: OurAirports' gps_code
    assert "UMMS" not in aliases  # its ident is its ICAO code


def test_the_shipped_files_are_what_the_derivation_writes(
    geo_data: Callable[[str], Path], tmp_path: Path
) -> None:
    pytest.importorskip("airportsdata")
    shared = tmp_path / "shared"
    (shared / "data" / "geo").mkdir(parents=True)
    for name in ("ourairports_runways_world.csv", "belarus_airports_ourairports.csv",
                 "belarus_runways_ourairports.csv"):
        shutil.copyfile(geo_data(name), shared / "data" / "geo" / name)
    for run in ("first", "second"):
        out = tmp_path / run
        out.mkdir()
        derive_airports(shared, out)
    for name in ("world_airports.tsv.gz", "world_runways.tsv.gz", "airports.csv",
                 "runways.csv"):
        shipped = (REPO / "config" / name).read_bytes()
        assert (tmp_path / "first" / name).read_bytes() == shipped, name
        assert (tmp_path / "second" / name).read_bytes() == shipped, name
