"""The encoder against an independent decoder (pyModeS 3) and real captures."""

from __future__ import annotations

import csv
from collections.abc import Callable
from math import cos, radians, sqrt
from pathlib import Path

import pyModeS
import pytest

from flightwatch.decoder.geodesy import distance_nm
from tools import encoder

ICAO = "4CA7E1"


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return distance_nm(lat1, lon1, lat2, lon2) * 1852


# --- CRC --------------------------------------------------------------------------


def test_crc_of_every_real_squitter_in_a_recorded_flight_is_zero(
    capture: Callable[[str], Path],
) -> None:
    with capture("single_aircraft_adsb.csv").open(newline="") as f:
        messages = [row[1] for row in csv.reader(f)]
    assert len(messages) > 1000
    assert all(encoder.crc24(m) == 0 for m in messages)
    assert encoder.crc24(bytes.fromhex(messages[0])) == 0


def test_crc_of_real_replies_is_the_address_pymodes_recovers(
    capture: Callable[[str], Path],
) -> None:
    lines = capture("delft_2015_mixed_modes.txt").read_text().split("\n")
    replies = [
        hx
        for hx in (line.split()[-1] for line in lines if line.strip())
        if pyModeS.decode(hx)["df"] in (4, 5, 20, 21)
    ]
    assert len(replies) > 50
    for hx in replies:
        assert f"{encoder.crc24(hx):06X}" == pyModeS.decode(hx)["icao"]


def test_a_flipped_bit_breaks_the_crc() -> None:
    good = encoder.identification(ICAO, "KLM1023")
    for bit in (0, 5, 40, 87, 100, 111):
        bad = encoder.corrupt(good, bit)
        assert bad != good
        assert encoder.crc24(bad) != 0
        if bit >= 5:  # the downlink format is intact, so pyModeS checks the parity
            assert pyModeS.decode(bad)["crc_valid"] is False
    assert encoder.corrupt(encoder.corrupt(good, 9), 9) == good
    with pytest.raises(ValueError):
        encoder.corrupt(good, 112)


def test_crc_rejects_messages_of_the_wrong_length() -> None:
    with pytest.raises(ValueError):
        encoder.crc24("8D4840D6")


# --- identification, altitude, velocity -----------------------------------------


@pytest.mark.parametrize("callsign", ["RSD016", "KLM1023", "A", "BAW9ZZ12", "EZY 12"])
def test_identification_round_trip(callsign: str) -> None:
    msg = encoder.identification(ICAO, callsign, category=5)
    assert msg == msg.upper() and len(msg) == 28
    decoded = pyModeS.decode(msg)
    assert decoded["crc_valid"] is True
    assert decoded["icao"] == ICAO
    assert decoded["typecode"] == 4
    assert decoded["category"] == 5
    assert decoded["callsign"] == callsign.strip()


@pytest.mark.parametrize("bad", ["TOOLONG123", "RSD-016", "rsd_1"])
def test_identification_refuses_characters_it_cannot_encode(bad: str) -> None:
    with pytest.raises(ValueError):
        encoder.identification(ICAO, bad)


@pytest.mark.parametrize("altitude", [-1000, 0, 25, 675, 12325, 33000, 41000, 50175])
def test_barometric_altitude_in_squitters_and_df4_replies(altitude: int) -> None:
    squitter = pyModeS.decode(encoder.airborne_position(ICAO, 53.9, 28.0, altitude, odd=False))
    assert squitter["crc_valid"] is True
    assert squitter["typecode"] == 11
    assert squitter["altitude"] == altitude
    reply = pyModeS.decode(encoder.df4_altitude(ICAO, altitude))
    assert (reply["df"], reply["icao"], reply["altitude"]) == (4, ICAO, altitude)


def test_altitude_is_rounded_to_25_ft_and_bounded() -> None:
    assert pyModeS.decode(encoder.df4_altitude(ICAO, 33012))["altitude"] == 33000
    with pytest.raises(ValueError):
        encoder.airborne_position(ICAO, 0, 0, 50200, odd=True)
    with pytest.raises(ValueError):
        encoder.airborne_position(ICAO, 0, 0, 30000, odd=True, typecode=19)


@pytest.mark.parametrize(
    ("speed", "track", "rate"),
    [(450, 270.0, 0), (137, 318.0, -704), (250, 0.0, 2500), (480, 123.4, -3008), (12, 45.0, 64)],
)
def test_velocity_round_trip_within_encoding_resolution(
    speed: float, track: float, rate: float
) -> None:
    decoded = pyModeS.decode(encoder.airborne_velocity(ICAO, speed, track, rate))
    assert decoded["crc_valid"] is True
    assert (decoded["typecode"], decoded["subtype"]) == (19, 1)
    # Components are whole knots and pyModeS truncates the speed: within 1.5 kt.
    assert abs(decoded["groundspeed"] - speed) <= 1.5
    # One knot per component is at most atan(0.71 / speed) off the track.
    assert abs((decoded["track"] - track + 180) % 360 - 180) <= max(0.2, 60 / speed)
    assert abs(decoded["vertical_rate"] - rate) <= 32
    assert decoded["vr_source"] == "BARO"


# --- CPR --------------------------------------------------------------------------


def test_number_of_longitude_zones_matches_the_do260b_table() -> None:
    # Transition latitudes from the NL table of DO-260B A.1.7.2 d.
    assert encoder.cpr_nl(0) == 59
    assert encoder.cpr_nl(10.47) == 59
    assert encoder.cpr_nl(10.48) == 58
    assert encoder.cpr_nl(53.09) == 36
    assert encoder.cpr_nl(-53.10) == 35
    assert encoder.cpr_nl(86.53) == 3
    assert encoder.cpr_nl(86.54) == 2
    assert encoder.cpr_nl(87.0) == 2
    assert encoder.cpr_nl(-87.01) == 1


def _resolution_m(lat: float) -> float:
    """Worst rounding error of one airborne CPR frame at ``lat`` (half a step each way)."""
    metres_per_degree = 1852 * 60
    lat_half_step = 360 / 59 / 2**17 / 2 * metres_per_degree
    zones = max(encoder.cpr_nl(lat) - 1, 1)
    lon_half_step = 360 / zones / 2**17 / 2 * metres_per_degree * cos(radians(lat))
    return sqrt(lat_half_step**2 + lon_half_step**2)


POSITIONS = [
    (0.0, 0.0),
    (0.00004, -0.00003),
    (-0.00004, 100.0),
    (53.0, 27.5),
    (-53.0, -70.25),
    (53.888, 28.040),
    (86.9, 12.0),
    (-86.9, -140.0),
    (87.5, 45.0),
    (10.0, 179.99995),
    (-45.0, -179.99995),
    (53.0, 179.999999),
]


@pytest.mark.parametrize(("lat", "lon"), POSITIONS)
@pytest.mark.parametrize("newer_odd", [False, True])
def test_global_decoding_of_even_odd_pairs(lat: float, lon: float, newer_odd: bool) -> None:
    even = encoder.airborne_position(ICAO, lat, lon, 30000, odd=False)
    odd = encoder.airborne_position(ICAO, lat, lon, 30000, odd=True)
    pair = [even, odd] if newer_odd else [odd, even]
    decoded = pyModeS.decode(pair, timestamps=[100.0, 101.0])[1]
    error = metres(lat, lon, decoded["latitude"], decoded["longitude"])
    assert error <= max(5.0, _resolution_m(lat)), (lat, lon, decoded)
    if abs(lat) < 80:
        assert error <= 5.0


@pytest.mark.parametrize(("lat", "lon"), POSITIONS)
def test_local_decoding_against_a_reference_within_180_nm(lat: float, lon: float) -> None:
    reference = (max(min(lat + 1.5, 89.0), -89.0), lon)
    for odd in (False, True):
        msg = encoder.airborne_position(ICAO, lat, lon, 30000, odd=odd)
        decoded = pyModeS.decode(msg, reference=reference)
        error = metres(lat, lon, decoded["latitude"], decoded["longitude"])
        assert error <= max(5.0, _resolution_m(lat)), (lat, lon, odd, decoded)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(53.8977, 28.0439), (-33.9461, 151.1772), (40.6398, -73.7789), (0.5, -0.5), (64.1, -21.9)],
)
def test_surface_positions_with_a_reference(lat: float, lon: float) -> None:
    reference = (lat + 0.3, lon - 0.3)  # the receiver, some 20 NM away
    for odd in (False, True):
        msg = encoder.surface_position(ICAO, lat, lon, 14.5, 318.0, odd=odd)
        decoded = pyModeS.decode(msg, surface_ref=reference)
        assert decoded["crc_valid"] is True
        assert decoded["bds"] == "0,6"
        # Surface zones are four times finer: better than 1.5 m.
        assert metres(lat, lon, decoded["latitude"], decoded["longitude"]) < 1.5
        assert decoded["groundspeed"] == 14.5
        assert abs(decoded["track"] - 318.0) <= 360 / 128 / 2


@pytest.mark.parametrize(
    ("speed", "step"),
    [(0.0, 0), (0.1, 0), (0.5, 0.125), (1.3, 0.25), (7.5, 0.5), (15.0, 1), (42.4, 1),
     (85.0, 2), (137.0, 5), (175.0, 0), (230.0, 0)],
)  # fmt: skip
def test_surface_movement_codes(speed: float, step: float) -> None:
    decoded = pyModeS.decode(encoder.surface_position(ICAO, 53.9, 28.0, speed, 0.0, odd=False))
    expected = min(speed, 175.0) if step else (0.0 if speed < 0.125 else 175.0)
    assert expected - step <= decoded["groundspeed"] <= expected


# --- surveillance replies ---------------------------------------------------------


@pytest.mark.parametrize("icao", ["157710", "000001", "FFFFFE", "3C6DD4"])
@pytest.mark.parametrize("squawk", ["7700", "1200", "0000", "7777", "4615", "2000"])
def test_df5_identity_reply_recovers_address_and_squawk(icao: str, squawk: str) -> None:
    msg = encoder.df5_identity(icao, squawk)
    assert len(msg) == 14
    decoded = pyModeS.decode(msg)
    assert (decoded["df"], decoded["icao"], decoded["squawk"]) == (5, icao, squawk)
    assert f"{encoder.crc24(msg):06X}" == icao


def test_replies_refuse_bad_squawks_and_addresses() -> None:
    with pytest.raises(ValueError):
        encoder.df5_identity(ICAO, "7800")
    with pytest.raises(ValueError):
        encoder.df5_identity(ICAO, "120")
    with pytest.raises(ValueError):
        encoder.df4_altitude("1234567", 1000)
