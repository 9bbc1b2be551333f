"""Tracker: merging, thinning, plausibility, expiry and bounds."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from flightwatch.decoder import Observation
from flightwatch.decoder.geodesy import distance_nm
from flightwatch.decoder.tracker import Tracker, TrackerConfig
from tools.simulate import destination

T0 = datetime(2020, 8, 19, 9, 0, tzinfo=UTC)


def obs(t: float, **fields: object) -> Observation:
    return Observation(
        icao=str(fields.pop("icao", "157710")),
        time=T0 + timedelta(seconds=t),
        source=str(fields.pop("source", "test")),
        **fields,
    )  # type: ignore[arg-type]


def fly(
    tracker: Tracker,
    seconds: int,
    step: float = 0.5,
    lat0: float = 54.0,
    knots: float = 450.0,
    **fields: object,
) -> list[bool]:
    """Due-north flight; returns the store decision of each position."""
    decisions = []
    for i in range(int(seconds / step)):
        t = i * step
        lat = lat0 + knots * t / 3600.0 / 60.0
        update = tracker.update(obs(t, lat=lat, lon=27.0, **fields))
        assert update is not None
        decisions.append(update.store)
    return decisions


def test_distance_matches_a_known_value() -> None:
    # One degree of latitude is 60 NM by definition of the nautical mile (to 0.2 %).
    assert abs(distance_nm(54.0, 27.0, 55.0, 27.0) - 60.0) < 0.15


def test_one_position_per_store_interval_on_a_steady_track() -> None:
    tracker = Tracker(TrackerConfig(store_interval_s=5.0))
    tracker.update(obs(0, track_deg=0.0, ground_speed_kt=450.0, vertical_rate_fpm=0.0))
    decisions = fly(tracker, 60)
    assert sum(decisions) == 12  # t = 0, 5, ..., 55
    assert decisions[0] and decisions[10] and not any(decisions[1:10])


def test_a_turn_a_climb_and_touchdown_are_stored_between_intervals() -> None:
    tracker = Tracker(TrackerConfig(store_interval_s=60.0))
    assert tracker.update(obs(0, lat=54.0, lon=27.0, track_deg=90.0)).store  # type: ignore[union-attr]
    assert not tracker.update(obs(1, lat=54.0, lon=27.002, track_deg=95.0)).store  # type: ignore[union-attr]
    tracker.update(obs(1.5, track_deg=120.0))
    assert tracker.update(obs(2, lat=54.0, lon=27.004)).store  # type: ignore[union-attr]
    tracker.update(obs(2.5, vertical_rate_fpm=-1200.0))
    assert tracker.update(obs(3, lat=54.0, lon=27.006)).store  # type: ignore[union-attr]
    tracker.update(obs(3.5, on_ground=True))
    assert tracker.update(obs(4, lat=54.0, lon=27.008)).store  # type: ignore[union-attr]


def test_an_impossible_jump_is_rejected_then_reanchored_if_it_persists() -> None:
    tracker = Tracker(TrackerConfig(reanchor_after=3))
    tracker.update(obs(0, lat=54.0, lon=27.0))
    # 10 s later 300 NM away would be 108,000 kt.
    results = [tracker.update(obs(10 + i, lat=59.0, lon=27.0)) for i in range(3)]
    assert [r.position is None for r in results] == [True, True, False]  # type: ignore[union-attr]
    state = tracker.get("157710")
    assert state is not None and state.positions_rejected == 2
    assert state.lat == 59.0


def test_jumps_just_within_reach_pass_and_just_beyond_fail() -> None:
    """Along meridians and parallels (where a cheap bound would be tightest), anywhere
    else, across the antimeridian and near the poles."""
    rng = random.Random(7)
    config = TrackerConfig(max_speed_kt=1200.0, reanchor_after=99)
    for _ in range(2000):
        lat0 = rng.choice([0.0, 53.9, -70.0, 89.5, rng.uniform(-89.0, 89.0)])
        lon0 = rng.choice([27.5, 179.99, -179.99, rng.uniform(-180.0, 180.0)])
        bearing = rng.choice([0.0, 90.0, 180.0, 270.0, rng.uniform(0.0, 360.0)])
        seconds = rng.choice([0.5, 1.0, 10.0, 60.0])
        reach = 1200.0 * max(seconds, 1.0) / 3600.0 + 1.0
        factor = rng.choice([0.9, 0.99, 1.01, 1.1])
        lat1, lon1 = destination(lat0, lon0, bearing, reach * factor)
        tracker = Tracker(config)
        tracker.update(obs(0, lat=lat0, lon=lon0))
        update = tracker.update(obs(seconds, lat=lat1, lon=lon1))
        assert update is not None
        assert (update.position is not None) == (factor < 1), (lat0, lon0, bearing, factor)


def test_merged_fields_ride_along_with_the_next_position() -> None:
    tracker = Tracker()
    tracker.update(obs(0, callsign="RSD016"))
    tracker.update(obs(0.2, altitude_ft=12000.0))
    tracker.update(obs(0.4, ground_speed_kt=300.0, track_deg=270.0, vertical_rate_fpm=-800.0))
    update = tracker.update(obs(0.6, lat=54.0, lon=27.0))
    assert update is not None and update.position is not None
    p = update.position
    assert (p.callsign, p.altitude_ft, p.ground_speed_kt, p.track_deg, p.vertical_rate_fpm) == (
        "RSD016",
        12000.0,
        300.0,
        270.0,
        -800.0,
    )


def test_unverified_replies_only_add_to_known_aircraft() -> None:
    tracker = Tracker()
    assert tracker.update(obs(0, altitude_ft=9000.0, verified=False)) is None
    assert len(tracker) == 0
    tracker.update(obs(1, callsign="RSD016"))
    update = tracker.update(obs(2, altitude_ft=9000.0, verified=False))
    assert update is not None and update.state.altitude_ft == 9000.0


def test_silent_aircraft_expire_and_memory_is_bounded() -> None:
    tracker = Tracker(TrackerConfig(expire_after_s=60.0, max_aircraft=3))
    for i, icao in enumerate(["000001", "000002", "000003", "000004"]):
        tracker.update(obs(i, icao=icao))
    assert len(tracker) == 3 and "000001" not in tracker  # oldest evicted
    tracker.update(obs(70, icao="000004"))
    lost = tracker.expire(T0 + timedelta(seconds=70))
    # the evicted one is handed out as lost too, so nothing keeps memory of it
    assert sorted(s.icao for s in lost) == ["000001", "000002", "000003"]
    assert len(tracker) == 1


def test_sources_accumulate_on_one_state() -> None:
    tracker = Tracker()
    tracker.update(obs(0, source="beast:127.0.0.1:30005"))
    tracker.update(obs(1, source="opensky"))
    state = tracker.get("157710")
    assert state is not None and state.sources == {"beast:127.0.0.1:30005", "opensky"}


def test_aircraft_heard_only_through_a_slow_aggregator_outlive_its_poll_interval() -> None:
    tracker = Tracker(TrackerConfig(expire_after_s=60.0))
    tracker.set_source_silence("opensky", 2 * 60 + 30)
    tracker.update(obs(0, icao="000001", source="opensky"))
    tracker.update(obs(0, icao="000002", source="beast"))
    tracker.update(obs(0, icao="000003", source="beast"))
    tracker.update(obs(1, icao="000003", source="opensky"))
    lost = tracker.expire(T0 + timedelta(seconds=100))
    assert [s.icao for s in lost] == ["000002"]  # the receiver's own aircraft: 60 s
    lost = tracker.expire(T0 + timedelta(seconds=160))
    assert sorted(s.icao for s in lost) == ["000001", "000003"]
