"""The pyModeS adapter, checked against the worked examples of "The 1090 Megahertz Riddle"
(Junzi Sun, 2nd ed., the independent reference for these messages) and real captures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from flightwatch.decoder import Frame
from flightwatch.decoder.modes import ModeSDecoder

T0 = 1_600_000_000.0


def frame(hex_: str, t: float = T0) -> Frame:
    return Frame(hex=hex_, time=t, source="test")


def test_identification_gives_the_callsign() -> None:
    obs = ModeSDecoder().decode(frame("8D4840D6202CC371C32CE0576098"))
    assert obs is not None
    assert obs.icao == "4840D6"
    assert obs.callsign == "KLM1023"
    assert obs.verified


def test_even_odd_pair_gives_the_book_position() -> None:
    """The Riddle's airborne position example (ICAO 40621D): 52.2572 N, 3.9194 E when the
    newest frame of the pair is the even one."""
    even, odd = "8D40621D58C382D690C8AC2863A7", "8D40621D58C386435CC412692AD6"
    decoder = ModeSDecoder()
    # pyModeS holds a new track's first positions until three agree, so the same
    # pair is repeated; the even frame's position is the book's answer.
    decoded = [
        (i % 2 == 0, decoder.decode(frame(even if i % 2 == 0 else odd, T0 + i))) for i in range(8)
    ]
    evens = [o for is_even, o in decoded if is_even and o is not None and o.has_position]
    assert evens, decoder.pipe_stats
    assert evens[-1].lat == pytest.approx(52.2572, abs=1e-4)
    assert evens[-1].lon == pytest.approx(3.9194, abs=1e-4)
    assert evens[-1].altitude_ft == 38000
    assert evens[-1].on_ground is False


def test_airborne_velocity_in_knots_degrees_and_feet_per_minute() -> None:
    obs = ModeSDecoder().decode(frame("8D485020994409940838175B284F"))
    assert obs is not None
    assert obs.ground_speed_kt == pytest.approx(159, abs=1)
    assert obs.track_deg == pytest.approx(182.88, abs=0.1)
    assert obs.vertical_rate_fpm == -832


def test_a_frame_failing_crc_is_counted_and_dropped() -> None:
    decoder = ModeSDecoder()
    good = "8D485020994409940838175B284F"
    flipped = good[:10] + format(int(good[10], 16) ^ 0x4, "X") + good[11:]
    assert decoder.decode(frame(flipped)) is None
    assert decoder.stats.bad_crc == 1
    assert decoder.stats.observations == 0


@pytest.mark.parametrize("junk", ["", "8D4850", "ZZ485020994409940838175B284F", "8D48502099440"])
def test_malformed_hex_is_counted_not_raised(junk: str) -> None:
    decoder = ModeSDecoder()
    assert decoder.decode(frame(junk)) is None
    assert decoder.stats.malformed == 1


def test_replies_are_unverified_until_the_address_is_heard_in_clear() -> None:
    decoder = ModeSDecoder()
    # A DF20 reply of 40621D from the Delft capture.
    reply = decoder.decode(frame("A0001838CA38000000000027B5CB", T0))
    assert reply is not None and reply.downlink_format == 20
    assert reply.verified is False
    decoder.decode(frame("8D40621D58C382D690C8AC2863A7", T0 + 1))  # DF17: address in clear
    again = decoder.decode(frame("A0001838CA38000000000027B5CB", T0 + 2))
    assert again is not None and again.verified is True


def test_the_shared_beast_capture_decodes_without_crc_failures(
    capture: Callable[[str], Path],
) -> None:
    from flightwatch.collector import open_capture

    decoder = ModeSDecoder()
    observations = [decoder.decode(f) for f in open_capture(capture("one_aircraft_71be34.beast"))]
    kept = [o for o in observations if o is not None]
    assert decoder.stats.frames == 1004
    assert decoder.stats.bad_crc == 0
    assert {o.icao for o in kept if o.verified} == {"71BE34"}
    assert any(o.callsign == "AAR542" for o in kept)
