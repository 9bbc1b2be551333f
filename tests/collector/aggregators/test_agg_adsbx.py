"""ADS-B Exchange v2 family and aircraft.json against a local server and local files."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from flightwatch.collector.aggregators import make_aggregator
from flightwatch.collector.aggregators.adsbx import PROVIDERS, AdsbxSource, provider_for
from flightwatch.collector.aggregators.aircraft_json import AircraftJsonSource
from flightwatch.collector.aggregators.errors import AuthError, BadResponse, SourceUnavailable
from flightwatch.collector.aggregators.http import HttpClient

NOW = datetime(2024, 6, 3, 16, 0, tzinfo=UTC)  # "now": 1717430400000 ms


def client(clock, name: str = "test", min_interval: float = 0.0, **kwargs) -> HttpClient:
    return HttpClient(name=name, clock=clock, sleep=clock.sleep, wall_clock=clock.wall,
                      timeout=(1.0, 2.0), retries=1, backoff=0.1, min_interval=min_interval,
                      **kwargs)


def source(httpserver, clock, provider: str = "adsb.lol", **kwargs) -> AdsbxSource:
    preset = replace(PROVIDERS[provider], base_url=httpserver.url_for("/").rstrip("/"))
    kwargs.setdefault("circles", [(53.5, 27.9, 250)])
    return AdsbxSource(preset, client=client(clock, min_interval=preset.min_interval),
                       clock=clock, wall_clock=clock.wall, **kwargs)


def test_point_query_maps_every_documented_field(httpserver, clock, recorded):
    httpserver.expect_request("/v2/point/53.5000/27.9000/250").respond_with_json(
        recorded("adsbx_point.json"))

    swiss, belavia, mode_s = source(httpserver, clock).poll()

    assert swiss.icao == "4B1805"
    assert swiss.source == "adsb.lol"
    assert swiss.time == datetime(2024, 6, 3, 15, 59, 58, 800000, tzinfo=UTC)  # now - seen_pos
    assert (swiss.lat, swiss.lon) == (53.512345, 27.123456)
    assert swiss.callsign == "SWR1376"
    assert swiss.altitude_ft == 37000
    assert swiss.extra["alt_geom_ft"] == 37650
    assert swiss.ground_speed_kt == 452.3
    assert swiss.track_deg == 78.42
    assert swiss.vertical_rate_fpm == -64
    assert swiss.squawk == "2235"
    assert swiss.on_ground is False
    assert (swiss.registration, swiss.aircraft_type) == ("HB-JCA", "BCS3")
    assert swiss.extra["db_flags"] == 0

    assert belavia.on_ground is True
    assert belavia.altitude_ft is None
    assert belavia.time == datetime(2024, 6, 3, 15, 59, 57, tzinfo=UTC)

    # no position: still an observation, timed by "seen"; geom_rate when no baro_rate
    assert not mode_s.has_position
    assert mode_s.time == datetime(2024, 6, 3, 15, 59, 54, 500000, tzinfo=UTC)
    assert mode_s.vertical_rate_fpm == 1216
    assert mode_s.extra["db_flags"] == 1
    assert mode_s.callsign is None


def test_repeats_within_a_poll_and_across_polls_are_dropped(httpserver, clock, recorded):
    body = recorded("adsbx_point.json")
    httpserver.expect_request("/v2/point/53.5000/27.9000/250").respond_with_json(body)
    httpserver.expect_request("/v2/point/52.0000/24.0000/200").respond_with_json(body)
    src = source(httpserver, clock, circles=[(53.5, 27.9, 250), (52.0, 24.0, 200)])

    assert len(src.poll()) == 3  # the overlap of both circles counted once
    assert src.poll() == []  # nothing new: same now - seen_pos

    body["now"] += 1000  # a second later:
    body["ac"][0]["seen_pos"] = 0.1  # a new position for the first aircraft,
    body["ac"][1]["seen_pos"] += 1  # the same old one for the second
    httpserver.clear()
    httpserver.expect_request("/v2/point/53.5000/27.9000/250").respond_with_json(body)
    httpserver.expect_request("/v2/point/52.0000/24.0000/200").respond_with_json(body)
    fresh = src.poll()
    assert [o.icao for o in fresh] == ["4B1805", "15148F"]  # mode-S 'seen' advanced too


@pytest.mark.parametrize("body", [
    {"ac": None, "msg": "No error", "now": 1717430400000, "total": 0},
    {"msg": "No error", "now": 1717430400000, "total": 0},
    {"ac": [], "msg": "No error", "now": 1717430400000, "total": 0},
])
def test_empty_answers(httpserver, clock, body):
    httpserver.expect_request("/v2/point/53.5000/27.9000/250").respond_with_json(body)
    assert source(httpserver, clock).poll() == []


def test_error_message_without_aircraft_is_a_failure(httpserver, clock):
    httpserver.expect_request("/v2/point/53.5000/27.9000/250").respond_with_json(
        {"msg": "You need a key. Get a feeder key by feeding"})
    with pytest.raises(BadResponse, match="You need a key"):
        source(httpserver, clock).poll()


def test_garbage_entries_are_logged_once_and_the_rest_kept(httpserver, clock, recorded, caplog):
    httpserver.expect_request("/v2/point/53.5000/27.9000/250").respond_with_json(
        recorded("adsbx_garbage.json"))
    caplog.set_level(logging.WARNING)

    observations = source(httpserver, clock).poll()

    assert [o.icao for o in observations] == ["4B1805", "3C6444"]
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1
    assert lines[0].startswith("adsb.lol: skipped 7 aircraft entries: 5 malformed, "
                               "1 not a 24-bit address, 1 position out of range")
    assert lines[0].endswith("kept 2")


def test_malformed_json_fails_the_poll(httpserver, clock):
    httpserver.expect_request("/v2/point/53.5000/27.9000/250").respond_with_data(
        '{"ac": [{"hex": "4b18', content_type="application/json")
    with pytest.raises(BadResponse):
        source(httpserver, clock).poll()


def test_adsb_fi_paths_one_hex_per_request_one_request_a_second(httpserver, clock, recorded):
    body = recorded("adsbx_point.json")
    httpserver.expect_request("/api/v2/lat/53.5000/lon/27.9000/dist/250").respond_with_json(body)
    for hex_ in ("15148f", "510021"):
        httpserver.expect_request(f"/api/v2/hex/{hex_}").respond_with_json(
            {"ac": [a for a in body["ac"] if a["hex"] == hex_], "now": body["now"]})
    src = source(httpserver, clock, provider="adsb.fi", hexes=["510021", "15148F"])

    assert len(src.poll()) == 3
    assert [r.path for r, _ in httpserver.log] == [
        "/api/v2/lat/53.5000/lon/27.9000/dist/250", "/api/v2/hex/15148f", "/api/v2/hex/510021"]
    assert clock.sleeps == [1.0, 1.0]


def test_airplanes_live_batches_hexes_in_one_request(httpserver, clock, recorded):
    httpserver.expect_request("/v2/hex/15148f,4b1805,510021").respond_with_json(
        recorded("adsbx_point.json"))
    src = source(httpserver, clock, provider="airplanes.live", circles=[],
                 hexes=["4b1805", "510021", "15148f"])
    assert len(src.poll()) == 3
    assert len(httpserver.log) == 1


def test_rapidapi_headers_come_from_the_environment(httpserver, recorded):
    httpserver.expect_request(
        "/v2/lat/53.9000/lon/27.5000/dist/19/",
        headers={"X-RapidAPI-Key": "k-123",
                 "X-RapidAPI-Host": f"{httpserver.host}:{httpserver.port}"},
    ).respond_with_json(recorded("adsbx_point.json"))
    from shapely.geometry import Point
    src = make_aggregator(
        {"type": "adsbx", "provider": "adsbexchange", "base_url": httpserver.url_for("/"),
         "margin_nm": 0},
        Point(27.5, 53.9).buffer(0.3), environ={"ADSBX_RAPIDAPI_KEY": "k-123"})
    assert len(src.poll()) == 3


def test_rapidapi_refusal_names_the_variable(httpserver, clock):
    httpserver.expect_request("/v2/lat/53.5000/lon/27.9000/dist/250/").respond_with_json(
        {"message": "You are not subscribed to this API."}, status=403)
    with pytest.raises(AuthError, match="check ADSBX_RAPIDAPI_KEY"):
        source(httpserver, clock, provider="adsbexchange").poll()


def test_missing_rapidapi_key_is_a_configuration_error():
    with pytest.raises(ValueError, match="ADSBX_RAPIDAPI_KEY"):
        make_aggregator({"type": "adsbx", "provider": "adsbexchange"}, (23, 51, 33, 56),
                        environ={})


def test_provider_is_guessed_from_the_base_url():
    assert provider_for(None, "https://opendata.adsb.fi").name == "adsb.fi"
    assert provider_for(None, "https://api.airplanes.live/").name == "airplanes.live"
    assert provider_for(None, "http://127.0.0.1:8080").name == "adsb.lol"
    assert provider_for("adsb.fi", None).base_url == "https://opendata.adsb.fi"
    with pytest.raises(ValueError, match="unknown provider"):
        provider_for("flightradar", None)


def test_server_errors_then_success(httpserver, clock, recorded):
    httpserver.expect_ordered_request("/v2/point/53.5000/27.9000/250").respond_with_data(
        "", status=502)
    httpserver.expect_ordered_request("/v2/point/53.5000/27.9000/250").respond_with_json(
        recorded("adsbx_point.json"))
    assert len(source(httpserver, clock).poll()) == 3
    # 0.1 s backoff, then the rest of adsb.lol's 0.5 s spacing between requests
    assert clock.sleeps == pytest.approx([0.1, 0.4])


# --- aircraft.json ------------------------------------------------------------------


def test_aircraft_json_over_http(httpserver, clock, recorded):
    httpserver.expect_request("/tar1090/data/aircraft.json").respond_with_json(
        recorded("aircraft_readsb.json"))
    src = AircraftJsonSource(url=httpserver.url_for("/tar1090/data/aircraft.json"),
                             client=client(clock), clock=clock)
    swiss, mode_s = src.poll()  # the ~ TIS-B target is not an airframe: skipped
    assert swiss.time == datetime(2024, 6, 3, 15, 59, 59, 300000, tzinfo=UTC)  # now in seconds
    assert swiss.source == "aircraft_json"
    assert swiss.altitude_ft == 37000
    assert mode_s.time == datetime(2024, 6, 3, 15, 59, 55, tzinfo=UTC)
    assert src.poll() == []


def test_aircraft_json_from_a_file_with_old_dump1090_names(tmp_path, clock, recorded):
    path = tmp_path / "aircraft.json"
    path.write_text(json.dumps(recorded("aircraft_mutability.json")))
    swiss, ground = AircraftJsonSource(path=path, clock=clock).poll()
    assert swiss.altitude_ft == 37000
    assert swiss.ground_speed_kt == 452
    assert swiss.vertical_rate_fpm == -64
    assert swiss.time == datetime(2024, 6, 3, 15, 59, 58, 800000, tzinfo=UTC)
    assert ground.on_ground is True
    assert ground.ground_speed_kt == 12


def test_aircraft_json_file_problems_say_what_to_check(tmp_path, clock):
    missing = AircraftJsonSource(path=tmp_path / "nope.json", clock=clock)
    with pytest.raises(SourceUnavailable, match="--write-json"):
        missing.poll()
    broken = tmp_path / "aircraft.json"
    broken.write_text('{"now": 1717430400, "aircraft": [')
    with pytest.raises(BadResponse, match="not valid JSON"):
        AircraftJsonSource(path=broken, clock=clock).poll()
