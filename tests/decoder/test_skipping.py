"""Frames whose result would be thrown away are recognised before pyModeS decodes them.

Messages are the worked examples of "The 1090 Megahertz Riddle" (Junzi Sun, 2nd ed.).
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

from flightwatch.decoder import Frame
from flightwatch.decoder.geodesy import distance_nm
from flightwatch.decoder.modes import ModeSDecoder
from tools.simulate import Flight, Rates, frames

T0 = 1_600_000_000.0
VELOCITY = "8D485020994409940838175B284F"  # 485020: 159 kt, track 182.88
IDENTIFICATION = "8D4840D6202CC371C32CE0576098"  # 4840D6: KLM1023
ALL_CALL = "5D484FDEA248F5"  # DF11 all-call reply of 484FDE
EVEN = "8D40621D58C382D690C8AC2863A7"  # 40621D airborne position, even


def frame(hex_: str, dt: float = 0.0) -> Frame:
    return Frame(hex=hex_, time=T0 + dt, source="test")


def decoded_by_pymodes(decoder: ModeSDecoder) -> int:
    return decoder.pipe_stats["total"]


def test_repeated_velocity_is_skipped_within_the_interval_only() -> None:
    decoder = ModeSDecoder(velocity_every_s=1.0)
    first = decoder.decode(frame(VELOCITY))
    assert first is not None and first.ground_speed_kt == 159
    assert decoder.decode(frame(VELOCITY, 0.5)) is None
    assert decoder.stats.skipped == 1 and decoded_by_pymodes(decoder) == 1
    later = decoder.decode(frame(VELOCITY, 1.2))
    assert later is not None and later.ground_speed_kt == 159
    assert decoded_by_pymodes(decoder) == 2


def test_repeated_identification_is_skipped_within_its_interval() -> None:
    decoder = ModeSDecoder(identification_every_s=5.0)
    assert decoder.decode(frame(IDENTIFICATION)).callsign == "KLM1023"  # type: ignore[union-attr]
    assert decoder.decode(frame(IDENTIFICATION, 3.0)) is None
    assert decoder.decode(frame(VELOCITY, 3.0)) is not None  # another kind: not a repeat
    assert decoder.decode(frame(IDENTIFICATION, 6.0)).callsign == "KLM1023"  # type: ignore[union-attr]
    assert decoder.stats.skipped == 1


def test_a_frame_failing_its_crc_does_not_start_an_interval() -> None:
    decoder = ModeSDecoder(velocity_every_s=1.0)
    corrupted = VELOCITY[:12] + ("0" if VELOCITY[12] != "0" else "1") + VELOCITY[13:]
    assert decoder.decode(frame(corrupted)) is None
    assert decoder.stats.bad_crc == 1
    assert decoder.decode(frame(VELOCITY, 0.1)) is not None


def test_all_call_replies_never_reach_pymodes() -> None:
    decoder = ModeSDecoder()
    assert decoder.decode(frame(ALL_CALL)) is None
    assert decoder.decode(frame(ALL_CALL.lower())) is None
    assert decoder.stats.ignored == 2 and decoded_by_pymodes(decoder) == 0


def test_positions_and_the_default_decoder_skip_nothing() -> None:
    skipping = ModeSDecoder(velocity_every_s=10.0, identification_every_s=10.0)
    default = ModeSDecoder()
    for n in range(5):
        skipping.decode(frame(EVEN, n * 0.1))
        default.decode(frame(VELOCITY, n * 0.1))
    assert decoded_by_pymodes(skipping) == 5 and skipping.stats.skipped == 0
    assert decoded_by_pymodes(default) == 5 and default.stats.skipped == 0


def test_garbage_is_still_malformed_not_skipped() -> None:
    decoder = ModeSDecoder(velocity_every_s=1.0)
    assert decoder.decode(frame("8D4850ZZ994409940838175B284F")) is None
    assert decoder.stats.malformed == 1 and decoder.stats.skipped == 0



def cruise() -> tuple[Flight, list[Frame]]:
    """A minute of a simulated cruise: the truth every decoded position is checked against."""
    flight = Flight("4CA2D1", "RYR12", [(53.5, 26.5, 35000, 450), (53.6, 28.5, 35000, 450)],
                    datetime(2020, 8, 19, 12, 0, tzinfo=UTC))
    timed = [f for f in frames([flight], Rates(), seed=3) if f[0] < flight.start_time + 60]
    return flight, [Frame(hex=h, time=t, source="test") for t, h in timed]


def test_unwanted_positions_are_skipped_within_20_s_of_the_last_decoded() -> None:
    flight, stream = cruise()
    asked: list[float] = []

    def wanted(icao: str, when: datetime) -> bool:
        assert icao == "4CA2D1"
        asked.append(when.timestamp())
        return False  # asked only once the aircraft has a position

    decoder = ModeSDecoder(position_wanted=wanted)
    fixes = [obs for obs in map(decoder.decode, stream) if obs is not None and obs.lat is not None]
    assert asked and asked[0] > fixes[0].time.timestamp()
    assert decoder.stats.skipped == len(asked) > 100
    # One still decoded every 20 s keeps pyModeS' reference for local CPR (30 s) fresh:
    # each decodes alone, where the truth says.
    times = [obs.time.timestamp() for obs in fixes]
    gaps = [b - a for a, b in pairwise(times[1:])]
    assert gaps and all(20 <= gap < 21 for gap in gaps)
    for obs in fixes[2:]:
        assert obs.lat is not None and obs.lon is not None
        truth = flight.state_at(obs.time.timestamp())
        assert distance_nm(obs.lat, obs.lon, truth.lat, truth.lon) < 0.01  # CPR: ~5 m


def test_only_airborne_positions_are_offered_for_skipping() -> None:
    decoder = ModeSDecoder(position_wanted=lambda icao, when: False)
    for message in (VELOCITY, IDENTIFICATION, ALL_CALL):
        decoder.decode(frame(message))
    assert decoder.stats.skipped == 0 and decoded_by_pymodes(decoder) == 2


DF20 = "A0001838CA38000000000027B5CB"  # Delft capture: altitude reply, parity gives 40621D


def test_replies_of_unwanted_addresses_never_reach_pymodes() -> None:
    asked: list[str] = []

    def wanted(icao: str) -> bool:
        asked.append(icao)
        return icao == "40621D"

    decoder = ModeSDecoder(reply_wanted=wanted)
    assert decoder.decode(frame("20001838CA3800")) is None  # DF4 of DBBB5B: not wanted
    assert decoder.stats.skipped == 1 and decoded_by_pymodes(decoder) == 0
    obs = decoder.decode(frame(DF20))
    assert obs is not None and obs.icao == "40621D" and obs.altitude_ft == 38000
    assert asked == ["DBBB5B", "40621D"] and decoded_by_pymodes(decoder) == 1


def test_a_reply_that_is_not_hex_is_malformed_not_skipped() -> None:
    decoder = ModeSDecoder(reply_wanted=lambda icao: False)
    assert decoder.decode(frame("20001838CA38ZZ")) is None
    assert decoder.stats.malformed == 1 and decoder.stats.skipped == 0
