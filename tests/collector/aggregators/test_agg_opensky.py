"""OpenSky source against a local server playing /api/states/all and the token endpoint."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from flightwatch.collector.aggregators.errors import AuthError, BackingOff, RateLimited
from flightwatch.collector.aggregators.http import HttpClient
from flightwatch.collector.aggregators.opensky import (
    OpenSkySource,
    bbox_with_margin,
    credits_per_call,
    estimate_daily_credits,
    observation_from_state,
)

STATES = "/api/states/all"
TOKEN = "/auth/realms/opensky-network/protocol/openid-connect/token"
BELARUS_BOX = (51.2, 23.2, 56.2, 32.8)  # FORMATS.md: about 47 sq°
FORM = "grant_type=client_credentials&client_id=me&client_secret=s3cret"


def make_source(httpserver, clock, *, credentials: bool = False, **kwargs) -> OpenSkySource:
    client = HttpClient(name="opensky", clock=clock, sleep=clock.sleep, wall_clock=clock.wall,
                        timeout=(1.0, 2.0), retries=1, backoff=0.1)
    creds = {"client_id": "me", "client_secret": "s3cret"} if credentials else {}
    return OpenSkySource(BELARUS_BOX, base_url=httpserver.url_for("/api"),
                         token_url=httpserver.url_for(TOKEN), client=client, clock=clock,
                         **creds, **kwargs)


def test_anonymous_poll_maps_state_vectors(httpserver, clock, recorded):
    httpserver.expect_request(
        STATES, query_string={"lamin": "51.2", "lomin": "23.2", "lamax": "56.2", "lomax": "32.8",
                      "extended": "1"},
    ).respond_with_json(recorded("opensky_states.json"),
                        headers={"X-Rate-Limit-Remaining": "398"})
    source = make_source(httpserver, clock)

    swiss, belavia, no_position = source.poll()

    assert "Authorization" not in httpserver.log[0][0].headers
    assert source.credits_remaining == 398
    assert swiss.icao == "4B1805"
    assert swiss.callsign == "SWR1376"
    assert swiss.source == "opensky"
    assert swiss.time == datetime(2024, 6, 3, 15, 59, 58, tzinfo=UTC)  # time_position
    assert (swiss.lat, swiss.lon) == (53.5123, 27.1235)
    assert swiss.altitude_ft == pytest.approx(37000.0)        # 11277.6 m / 0.3048
    assert swiss.extra["geo_altitude_ft"] == pytest.approx(37650.0)
    assert swiss.ground_speed_kt == pytest.approx(450.0, abs=0.01)  # 231.5 m/s
    assert swiss.vertical_rate_fpm == pytest.approx(-64.96, abs=0.01)
    assert swiss.track_deg == 78.42
    assert swiss.squawk == "2235"
    assert swiss.on_ground is False
    assert swiss.extra["category"] == 4

    assert belavia.on_ground is True
    assert belavia.altitude_ft is None
    assert belavia.ground_speed_kt == pytest.approx(11.99, abs=0.01)
    assert belavia.time.timestamp() == 1717430390

    assert not no_position.has_position
    assert no_position.callsign is None
    assert no_position.time.timestamp() == 1717430395  # last_contact: no time_position
    assert no_position.vertical_rate_fpm == pytest.approx(1000.0)  # 5.08 m/s
    assert no_position.altitude_ft == pytest.approx(24975.0)


def test_unchanged_states_are_not_emitted_twice(httpserver, clock, recorded):
    httpserver.expect_request(STATES).respond_with_json(recorded("opensky_states.json"))
    source = make_source(httpserver, clock)
    assert len(source.poll()) == 3
    assert source.poll() == []


@pytest.mark.parametrize("body", [{"time": 1717430400, "states": None}, {"time": 1717430400}])
def test_no_states_is_an_empty_poll(httpserver, clock, body):
    httpserver.expect_request(STATES).respond_with_json(body)
    assert make_source(httpserver, clock).poll() == []


def test_token_is_fetched_once_sent_and_refreshed_before_expiry(httpserver, clock, recorded):
    httpserver.expect_request(TOKEN, method="POST", data=FORM).respond_with_json(
        {"access_token": "tok-1", "expires_in": 1800, "token_type": "Bearer"})
    httpserver.expect_request(STATES, headers={"Authorization": "Bearer tok-1"}).respond_with_json(
        recorded("opensky_states.json"))
    source = make_source(httpserver, clock, credentials=True)

    source.poll()
    clock.advance(60)
    source.poll()
    token_calls = [r for r, _ in httpserver.log if r.path == TOKEN]
    assert len(token_calls) == 1

    clock.advance(1800 - 60 - 59)  # inside the last minute of the token's life
    source.poll()
    token_calls = [r for r, _ in httpserver.log if r.path == TOKEN]
    assert len(token_calls) == 2


def test_401_fetches_a_new_token_once(httpserver, clock, recorded):
    httpserver.expect_ordered_request(TOKEN, method="POST").respond_with_json(
        {"access_token": "stale", "expires_in": 1800})
    httpserver.expect_ordered_request(STATES, headers={"Authorization": "Bearer stale"}) \
        .respond_with_data("", status=401)
    httpserver.expect_ordered_request(TOKEN, method="POST").respond_with_json(
        {"access_token": "fresh", "expires_in": 1800})
    httpserver.expect_ordered_request(STATES, headers={"Authorization": "Bearer fresh"}) \
        .respond_with_json(recorded("opensky_states.json"))
    source = make_source(httpserver, clock, credentials=True)

    assert len(source.poll()) == 3
    httpserver.check_assertions()


def test_401_with_a_fresh_token_tells_what_to_check(httpserver, clock):
    httpserver.expect_request(TOKEN, method="POST").respond_with_json(
        {"access_token": "tok", "expires_in": 1800})
    httpserver.expect_request(STATES).respond_with_data("", status=401)
    source = make_source(httpserver, clock, credentials=True)
    with pytest.raises(AuthError, match="OPENSKY_CLIENT_ID/OPENSKY_CLIENT_SECRET"):
        source.poll()
    assert len([r for r, _ in httpserver.log if r.path == TOKEN]) == 2


def test_rejected_credentials_say_which_variables(httpserver, clock):
    httpserver.expect_request(TOKEN, method="POST").respond_with_json(
        {"error": "unauthorized_client"}, status=401)
    source = make_source(httpserver, clock, credentials=True)
    with pytest.raises(AuthError, match="check OPENSKY_CLIENT_ID/OPENSKY_CLIENT_SECRET"):
        source.poll()


def test_429_waits_the_advertised_time_before_calling_again(httpserver, clock, recorded):
    httpserver.expect_ordered_request(STATES).respond_with_data(
        "", status=429, headers={"X-Rate-Limit-Retry-After-Seconds": "3600"})
    httpserver.expect_ordered_request(STATES).respond_with_json(recorded("opensky_states.json"))
    source = make_source(httpserver, clock)

    with pytest.raises(RateLimited):
        source.poll()
    for _ in range(59):  # every scheduled poll within the hour is skipped, no request
        clock.advance(60)
        with pytest.raises((RateLimited, BackingOff)):
            source.poll()
    assert len(httpserver.log) == 1
    clock.advance(60)
    assert len(source.poll()) == 3
    assert clock.sleeps == []


def test_garbage_state_vectors_are_logged_once_and_the_rest_kept(httpserver, clock, recorded,
                                                                  caplog):
    body = recorded("opensky_states.json")
    good = body["states"][0]
    body["states"] = [good, "junk", [1, 2], ["zz1805", *good[1:]], [*good[:5], "27", *good[6:]],
                      [*good[:3], None, None, *good[5:]]]
    httpserver.expect_request(STATES).respond_with_json(body)
    caplog.set_level(logging.WARNING)

    observations = make_source(httpserver, clock).poll()

    assert [o.icao for o in observations] == ["4B1805"]
    summaries = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(summaries) == 1
    assert summaries[0].startswith(
        "opensky: skipped 5 state vectors: 4 malformed, 1 not a 24-bit address")


def test_state_time_is_never_the_poll_time():
    t = 1717430400
    state = ["4b1805", None, "CH", t, t + 5, 1.0, 2.0, None, False, None, None, None, None,
             None, None, False, 0]
    assert observation_from_state(state, "opensky", t + 10).time.timestamp() == t
    state[5] = state[6] = None
    assert observation_from_state(state, "opensky", t + 10).time.timestamp() == t + 5


def test_credits_by_area_boundaries():
    assert [credits_per_call(a) for a in (0.5, 25, 25.01, 100, 100.5, 400, 401)] == \
        [1, 1, 2, 2, 3, 3, 4]


def test_credit_estimate_matches_the_documented_belarus_figures():
    # FORMATS.md: Belarus' box costs 2 credits a call; registered ≈ every 45 s,
    # anonymous ≈ every 7 minutes.
    registered = estimate_daily_credits(BELARUS_BOX, 45, "registered")
    assert registered.credits_per_call == 2
    assert registered.credits_per_day == 1920 * 2
    assert registered.warning is None

    anonymous = estimate_daily_credits(BELARUS_BOX, 60, "anonymous")
    assert anonymous.credits_per_day == 2880
    assert anonymous.warning is not None
    assert "at least 432 s" in anonymous.warning
    assert "OPENSKY_CLIENT_ID" in anonymous.warning
    assert "WARNING" in anonymous.line
    assert estimate_daily_credits(BELARUS_BOX, 432, "anonymous").warning is None
    assert estimate_daily_credits(BELARUS_BOX, 30, "feeder").warning is None


def test_bbox_from_fence_bounds_with_margin():
    # shapely bounds of Belarus (Natural Earth 1:10m), rounded
    assert bbox_with_margin((23.17, 51.24, 32.72, 56.16), 0.5) == pytest.approx(
        (50.74, 22.67, 56.66, 33.22))
    assert bbox_with_margin((-179.8, -89.9, 179.9, 89.7), 1) == (-90, -180, 90, 180)
