"""The phone-sized alert text: local time of the fence, nearest known airport, track link.

Distances checked by hand from the shipped airports.csv coordinates (equirectangular
approximation): UMMS 53.888071 N 28.039964 E to 53.90123 N 27.55 E is 32.1 km, heading
west from the airport; UMBB 52.108138 N 23.89676 E to 52.2 N 23.5 E is 28.9 km, bearing
291 degrees (W on an eight-point compass).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from flightwatch.airports import airport_index
from flightwatch.alerts.notify.phone import PhoneFormat, zones_of
from flightwatch.settings import load_settings

MINSK = {"belarus": ZoneInfo("Europe/Minsk")}


@pytest.fixture(scope="module")
def airports():
    return airport_index()  # the shipped world and Belarus airports


def test_the_body_a_phone_shows(make_alert, airports):
    phone = PhoneFormat("https://globe.adsbexchange.com/?icao={icao}&showTrace={date}",
                        MINSK, airports)
    alert = make_alert()
    assert phone.title(alert) == "RA-96016 Il-96-300PU (Rossiya) entered Belarus"
    assert phone.body(alert).splitlines() == [
        "When: 2026-11-25 10:15 UTC (13:15 Minsk)",
        "Where: Belarus, 32 km W of UMMS Minsk National Airport (53.9012, 27.5500)",
        "FL120, 432 kt, callsign RSD016, ICAO 157710",
        "Track: https://globe.adsbexchange.com/?icao=157710&showTrace=2026-11-25",
    ]


def test_the_local_date_is_shown_when_it_differs(make_alert, airports):
    phone = PhoneFormat("", MINSK, airports)
    late = make_alert(time=datetime(2026, 11, 25, 22, 30, tzinfo=UTC), lat=52.2, lon=23.5)
    assert phone.when(late) == "2026-11-25 22:30 UTC (2026-11-26 01:30 Minsk)"
    assert phone.where(late) == "Belarus, 29 km W of UMBB Brest International Airport " \
                                "(52.2000, 23.5000)"
    landed = make_alert(kind="landed", airport="UMMS", lat=53.888, lon=28.04)
    assert phone.where(landed) == "Belarus, at UMMS Minsk National Airport (53.8880, 28.0400)"
    assert "Track" not in phone.body(late)


def test_a_world_airport_with_an_iata_code_is_a_landmark(make_alert, airports):
    """Outside Belarus the bundled world set names the place: Vilnius (VNO) 12 km S of
    the point, not the nearer heliports or strips without scheduled service."""
    phone = PhoneFormat("", MINSK, airports)
    north = make_alert(geofence=None, lat=54.7420, lon=25.2858)
    assert phone.where(north) == "12 km N of EYVI Vilnius International Airport " \
                                 "(54.7420, 25.2858)"
    landed = make_alert(kind="landed", airport="UUWW", geofence=None, lat=55.59, lon=37.26)
    assert phone.where(landed) == "at UUWW Vnukovo International Airport (55.5900, 37.2600)"


def test_a_retracted_landing_says_which_alert_was_wrong(make_alert, airports):
    """Where it was heard again, not "at UMMS": 6.08 km S and 4.15 km E of UMMS's
    reference point, 7.4 km bearing 146 degrees (SE)."""
    phone = PhoneFormat("", MINSK, airports)
    alert = make_alert(
        kind="landing_retracted", airport="UMMS", evidence="inferred", lat=53.8334,
        lon=28.1032, altitude_ft=1650.0,
        ground_speed_kt=149.0, details={**make_alert().details,
                                        "landed_at": "2026-11-25T10:14:04.365957+00:00",
                                        "heard_again": "2026-11-25T10:15:30+00:00",
                                        "silent_for_s": 92})
    assert phone.title(alert) == ("RA-96016 Il-96-300PU (Rossiya) did not land at UMMS "
                                  "(Belarus): the landed alert was wrong")
    assert phone.body(alert).splitlines() == [
        'Correction: the alert "landed at UMMS (inferred)" of 2026-11-25 10:14:04 UTC was '
        "wrong. The aircraft was heard again at 2026-11-25 10:15:30 UTC, 92 s after it fell "
        "silent, in the air and not climbing: it had only dropped below the receiver's "
        "coverage on the approach (or went around).",
        "When: 2026-11-25 10:15 UTC (13:15 Minsk)",
        "Where: Belarus, 7 km SE of UMMS Minsk National Airport (53.8334, 28.1032)",
        "FL016, 149 kt, callsign RSD016, ICAO 157710",
    ]


def test_what_is_unknown_is_left_out(make_alert):
    phone = PhoneFormat()
    alert = make_alert(geofence=None, lat=None, lon=None, altitude_ft=None,
                       ground_speed_kt=None, callsign=None, confidence="low",
                       matched_by="address_block")
    assert phone.body(alert).splitlines() == [
        "When: 2026-11-25 10:15 UTC",
        "ICAO 157710",
        "Confidence: low (matched by address_block)",
    ]


def test_fence_time_zones_from_the_settings(tmp_path):
    assert zones_of(load_settings(None, env={}).geofences) == {"belarus":
                                                               ZoneInfo("Europe/Minsk")}
    config = tmp_path / "fw.toml"
    config.write_text('[[geofences]]\nname = "x"\nfile = "x.geojson"\ntimezone = "Mars/Olympus"\n',
                      encoding="utf-8")
    from flightwatch.settings import ConfigError

    with pytest.raises(ConfigError, match=r"geofences\[0\]\.timezone: 'Mars/Olympus' is not a"):
        load_settings(config, env={})
