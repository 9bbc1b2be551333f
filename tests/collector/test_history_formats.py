"""The import readers on their own: trace points, OpenSky rows, archive members, and
format detection, with golden values from the published format descriptions."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from flightwatch.collector.archive import READ_ERRORS, members
from flightwatch.collector.history import NotImportable, member_format
from flightwatch.collector.opensky_dataset import DatasetError, RowErrors, read_states_csv
from flightwatch.collector.trace import NEW_LEG, STALE, TraceError, parse_trace
from tools.history_writer import json_bytes, write_tarball

# A readsb trace as documented in readsb's README-json.md (2022+ layout: 14 fields).
TRACE = {
    "icao": "157710", "r": "RA-96016", "t": "IL96", "timestamp": 1597829400.25,
    "trace": [
        [0.0, 54.3, 32.3, 33000, 450.2, 265.1, 0, -64,
         {"flight": "RSD016  ", "squawk": "4521", "category": "A5", "alt_geom": 33475,
          "seen_pos": 9.9}, "adsb_icao", 33475, -64, 280, 0.5],
        [30.5, 54.29, 32.2, 32900, 450.0, 265.0, STALE, -1024, None, "adsb_icao",
         None, None, None, None],
        [20.0, 54.295, 32.25, 32950, 450.0, 265.0, 0, None, None],  # out of order
        [900.0, 53.89, 28.04, "ground", 12.0, 318.0, NEW_LEG, None, None],
        [950.0, "x", 28.04, "ground", 12.0, 318.0, 0, None, None],  # malformed
        [960.0, 53.89, 28.04],  # too short
    ],
}


def test_trace_points_times_ground_details_and_flags() -> None:
    trace = parse_trace(TRACE, "import/t")
    assert trace.icao == "157710" and trace.malformed == 2
    obs = trace.observations
    assert [o.time.timestamp() for o in obs] == [1597829400.25, 1597829420.25, 1597829430.75,
                                                 1597830300.25]
    first = obs[0]
    assert (first.callsign, first.squawk, first.registration, first.aircraft_type) == (
        "RSD016", "4521", "RA-96016", "IL96")
    assert first.time.timestamp() == 1597829400.25  # seen_pos in details is not an age here
    assert (first.altitude_ft, first.on_ground, first.vertical_rate_fpm) == (33000, False, -64)
    assert (obs[2].vertical_rate_fpm, obs[2].ground_speed_kt) == (-1024, 450.0)
    assert (obs[3].on_ground, obs[3].altitude_ft) == (True, None)
    assert trace.silences == {2, 3}  # the stale point and the new leg, after sorting


@pytest.mark.parametrize("doc", [
    {"icao": "157710", "timestamp": 1.0},
    {"icao": "~2a0001", "timestamp": 1.0, "trace": []},
    {"icao": "157710", "timestamp": "noon", "trace": []},
    [1, 2],
])
def test_not_a_trace(doc: object) -> None:
    with pytest.raises(TraceError):
        parse_trace(doc, "import/t")


def test_impossible_trace_values_are_refused_point_by_point() -> None:
    """A file is as hostile as an aggregator: values no aircraft has (and that SQLite
    cannot even store) cost their point, never the import."""
    good = [0.0, 53.9, 27.5, 30000, 450.0, 90.0, 0, 0, None]
    doc = {"icao": "157710", "timestamp": 1597829400.0, "r": "RA-\ud800", "t": "X" * 500,
           "trace": [good,
                     [10.0, 53.9, 27.6, 1e999, 450.0, 90.0, 0, 0, None],
                     [20.0, 53.9, 27.7, 10**30, 450.0, 90.0, 0, 0, None],
                     [30.0, 53.9, 27.8, 30000, 1e300, 90.0, 0, 0, None],
                     [40.0, float("nan"), 27.9, 30000, 450.0, 90.0, 0, 0, None],
                     [1e300, 53.9, 28.0, 30000, 450.0, 90.0, 0, 0, None],
                     [50.0, 53.9, 28.1, 30000, 450.0, 90.0, 0, 99_999, None]]}
    trace = parse_trace(json.loads(json.dumps(doc)), "import/t")
    assert [o.time.timestamp() for o in trace.observations] == [1597829400.0]
    assert trace.malformed == 6 and "point 1: altitude out of range" in trace.example
    first = trace.observations[0]
    assert (first.registration, first.aircraft_type) == (None, None)


@pytest.mark.parametrize("timestamp", [1e300, 4102444800.0 * 10, 1.0])
def test_a_trace_from_an_impossible_year_is_not_a_trace(timestamp: float) -> None:
    with pytest.raises(TraceError, match="time out of range"):
        parse_trace({"icao": "157710", "timestamp": timestamp, "trace": []}, "import/t")


STATES = (
    "time,icao24,lat,lon,velocity,heading,vertrate,callsign,onground,alert,spi,squawk,"
    "baroaltitude,geoaltitude,lastposupdate,lastcontact\n"
    "1597831200,157710,53.9,27.55,128.6,90.0,-5.08,RSD016  ,False,False,False,4521,"
    "3657.6,3700.0,1597831199.5,1597831199.9\n"
    "1597831200,3c6dd4,,,,,,DLH1447 ,False,False,False,,,,,1597831195.0\n"
    "1597831200,4b1814,53.0,27.0,100.0,0.0,0.0,SWR1,maybe,False,False,,1000,,1597831190,1597831199\n"
    "1597831210,157710,53.9,27.6,0.0,90.0,0.0,RSD016,True,False,False,4521,,,1597831209.0,1597831209.5\n"
)


def test_opensky_rows_in_the_live_api_units() -> None:
    errors = RowErrors()
    obs = list(read_states_csv(io.BytesIO(STATES.encode()), "import/s", errors))
    assert errors.malformed == 1 and "onground" in errors.example
    first, no_position, ground = obs
    assert first.icao == "157710" and first.time.timestamp() == 1597831199.5
    assert first.altitude_ft == pytest.approx(12000, abs=0.1)  # 3657.6 m
    assert first.ground_speed_kt == pytest.approx(250.0, abs=0.1)  # 128.6 m/s
    assert first.vertical_rate_fpm == pytest.approx(-1000, abs=0.5)  # -5.08 m/s
    assert (first.callsign, first.squawk, first.on_ground) == ("RSD016", "4521", False)
    assert no_position.lat is None and no_position.time.timestamp() == 1597831195.0
    assert ground.on_ground is True


def test_a_bad_byte_costs_its_opensky_row_not_the_file() -> None:
    broken = STATES.encode().replace(b"3657.6", b"36\xff7.6")  # in the first row's altitude
    errors = RowErrors()
    obs = list(read_states_csv(io.BytesIO(broken), "import/s", errors))
    assert errors.malformed == 2  # the broken row and the 'maybe' one
    assert [o.time.timestamp() for o in obs] == [1597831195.0, 1597831209.0]


def test_opensky_csv_without_its_columns() -> None:
    with pytest.raises(DatasetError, match="icao24"):
        list(read_states_csv(io.BytesIO(b"time,lat,lon,onground\n1,2,3,True\n"), "s",
                             RowErrors()))


def test_gzip_is_recognised_by_its_bytes_not_its_name(tmp_path: Path) -> None:
    path = tmp_path / "trace_full_157710.json"  # readsb's name for a gzip file
    path.write_bytes(json_bytes(TRACE, gzipped=True))
    (member,) = members(path)
    head, stream = member.open()
    assert member_format(member, head, "auto") == "trace"
    assert json.load(stream)["icao"] == "157710"


def test_formats_sniffed_from_the_head(tmp_path: Path) -> None:
    samples = {
        "a.json": (b'{"now": 1.0, "messages": 5, "aircraft": []}', "aircraft-json"),
        "b.json": (json.dumps(TRACE).encode(), "trace"),
        "c.csv": (STATES.encode(), "opensky-csv"),
        "c.parquet": (b"PAR1\x15\x04" + b"\x00" * 64, "opensky-parquet"),
        "d.txt": (b"MSG,3,1,1,4CA2D6,1,2016/03/14,23:00:00.000,2016/03/14,23:00:00.000,,"
                  b"35000,,,53.1,-2.3,,,0,0,0,0\n" * 3, "sbs"),
    }
    for name, (data, _) in samples.items():
        (tmp_path / name).write_bytes(gzip.compress(data))
    for member in members(tmp_path):
        head, _ = member.open()
        assert member_format(member, head, "auto") == samples[member.name][1]
    (tmp_path / "e.bin").write_bytes(b"\x00garbage" * 100)
    (member,) = [m for m in members(tmp_path) if m.name == "e.bin"]
    with pytest.raises(NotImportable, match=r"e\.bin"):
        member_format(member, member.open()[0], "auto")


def test_a_tarball_cut_short_hands_out_the_members_before_the_damage(tmp_path: Path) -> None:
    path = write_tarball(tmp_path / "day.tar.gz",
                         [(f"traces/{i:02x}/trace_full_0000{i:02x}.json",
                           json_bytes({**TRACE, "icao": f"0000{i:02x}"}) * 50)
                          for i in range(20)], mode="w:gz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    seen = []
    with pytest.raises(READ_ERRORS):
        for member in members(path):
            seen.append(member.name)
            member.open()[1].read()
    assert 0 < len(seen) < 20


def test_the_cli_offers_what_the_readers_read() -> None:
    from flightwatch.cli import imports
    from flightwatch.collector.history import IMPORT_FORMATS
    from flightwatch.daemon.importer import ALERT_MODES

    assert sorted(imports.FORMATS) == sorted(IMPORT_FORMATS)
    assert imports.ALERT_MODES == ALERT_MODES
