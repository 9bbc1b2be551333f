"""make_aggregator: config keys, defaults, and errors that name the key."""

from __future__ import annotations

import pytest
from shapely.geometry import box

from flightwatch.collector.aggregators import (
    AdsbxSource,
    AircraftJsonSource,
    OpenSkySource,
    make_aggregator,
    opensky_credit_line,
)

BELARUS_BOUNDS = (23.17, 51.24, 32.72, 56.16)
CREDS = {"OPENSKY_CLIENT_ID": "me", "OPENSKY_CLIENT_SECRET": "s3cret"}


def test_opensky_box_from_the_fences_with_margin():
    src = make_aggregator({"type": "opensky"}, box(*BELARUS_BOUNDS), environ={})
    assert isinstance(src, OpenSkySource)
    assert src.bbox == pytest.approx((50.74, 22.67, 56.66, 33.22))
    assert src.interval == 60
    assert src.name == "opensky"
    assert not src.authenticated
    line = opensky_credit_line(src)
    assert line is not None
    assert "anonymous" in line
    assert "WARNING" in line  # 2 credits a minute is far over 400 a day


def test_opensky_credentials_and_account_from_config():
    src = make_aggregator({"type": "opensky", "interval": 90, "account": "feeder",
                           "margin_deg": 0, "name": "os"}, BELARUS_BOUNDS, environ=CREDS)
    assert isinstance(src, OpenSkySource)
    assert src.authenticated
    assert src.name == "os"
    assert src.credit_estimate().allowance == 8000
    assert src.credit_estimate().warning is None
    assert opensky_credit_line(make_aggregator({"type": "aircraft_json", "path": "x"})) is None


def test_opensky_explicit_bbox_needs_no_fence():
    src = make_aggregator({"type": "opensky", "bbox": [51, 23, 57, 33]}, None, environ={})
    assert isinstance(src, OpenSkySource)
    assert src.bbox == (51, 23, 57, 33)


@pytest.mark.parametrize(("config", "fences", "environ", "message"), [
    ({"type": "opensky"}, None, {}, "no geofence"),
    ({"type": "opensky"}, BELARUS_BOUNDS, {"OPENSKY_CLIENT_ID": "me"}, "set both"),
    ({"type": "opensky", "acount": "feeder"}, BELARUS_BOUNDS, {}, "unknown key.*acount"),
    ({"type": "opensky", "account": "gold"}, BELARUS_BOUNDS, {}, "account 'gold'"),
    ({"type": "opensky", "interval": "60s"}, BELARUS_BOUNDS, {}, "interval must be"),
    ({"type": "opensky", "interval": 0}, BELARUS_BOUNDS, {}, "interval must be"),
    ({"type": "beast"}, None, {}, "not an aggregator"),
    ({"type": "adsbx", "hexes": ["4b1805", "RA-96016"]}, BELARUS_BOUNDS, {}, "RA-96016"),
    ({"type": "adsbx", "area": False}, BELARUS_BOUNDS, {}, "nothing to poll"),
    ({"type": "adsbx", "provider": "fr24"}, BELARUS_BOUNDS, {}, "unknown provider"),
    ({"type": "aircraft_json"}, None, {}, "exactly one of 'url' or 'path'"),
    ({"type": "aircraft_json", "url": "http://x/a.json", "path": "/a.json"}, None, {},
     "exactly one"),
])
def test_bad_configuration_names_the_problem(config, fences, environ, message):
    with pytest.raises(ValueError, match=message):
        make_aggregator(config, fences, environ=environ)


def test_adsbx_defaults_cover_the_fence_and_take_hexes():
    src = make_aggregator({"type": "adsbx", "hexes": ["15148f"]}, box(*BELARUS_BOUNDS))
    assert isinstance(src, AdsbxSource)
    assert src.name == "adsb.lol"
    assert src.interval == 15
    assert src.provider.base_url == "https://api.adsb.lol"
    urls = src.urls()
    assert len(urls) == 3  # the box plus 25 NM is a little too big for one 250 NM circle
    assert all(u.startswith("https://api.adsb.lol/v2/point/") for u in urls[:2])
    assert all(u.endswith("/250") for u in urls[:2])
    assert urls[2] == "https://api.adsb.lol/v2/hex/15148f"


def test_adsbx_overrides_for_an_unlisted_compatible_api():
    src = make_aggregator(
        {"type": "adsbx", "base_url": "http://127.0.0.1:9/re", "area": False,
         "hexes": ["4b1805", "510021"], "hex_batch": 1, "min_interval": 2,
         "hex_path": "/hex/{hex}", "auth_headers": {"X-Api-Key": "MY_KEY"}},
        None, environ={"MY_KEY": "abc"})
    assert isinstance(src, AdsbxSource)
    assert src.urls() == ["http://127.0.0.1:9/re/hex/4b1805", "http://127.0.0.1:9/re/hex/510021"]
    assert src.provider.min_interval == 2


def test_aircraft_json_from_path():
    src = make_aggregator({"type": "aircraft_json", "path": "/run/readsb/aircraft.json",
                           "interval": 2})
    assert isinstance(src, AircraftJsonSource)
    assert (src.name, src.interval) == ("aircraft_json", 2)
