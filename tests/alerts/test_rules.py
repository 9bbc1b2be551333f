"""The alert rules, fed observations through the real tracker, with the shipped
watchlist, Belarus border and airports."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flightwatch.alerts.detect import Detector
from flightwatch.alerts.engine import callsign_prefixes
from flightwatch.alerts.geofence import Geofence
from flightwatch.alerts.rules import KINDS, AlertRules, RuleConfig, first_crossing_s, squawk_matcher
from flightwatch.alerts.watchlist import load_watchlist
from flightwatch.db.airports import AirportIndex, read_airports
from flightwatch.db.alert_record import Alert
from flightwatch.decoder import Observation
from flightwatch.decoder.tracker import Tracker
from tools.simulate import destination

CONFIG = Path(__file__).resolve().parents[2] / "config"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
RA96016 = "157710"  # config/watchlist.csv: RA-96016, Il-96-300PU, Russia Special Flight Detachment
UNWATCHED = "4CA123"  # an Irish address, not on the watchlist
UMMS = (53.888071, 28.040)  # Minsk National, field elevation 670 ft
MINSK = (53.95, 27.60)
# Where the Belarus-Russia border crosses 54 N (found by bisection on the shipped border;
# the border runs nearly north-south there, checked in test_border_geometry).
BORDER_LAT, BORDER_LON = 54.0, 31.8432
KM_PER_DEG_LON = 111.195 * math.cos(math.radians(BORDER_LAT))


def east_of_border(km: float) -> tuple[float, float]:
    """A point ``km`` east (outside Belarus) of the border at 54 N; negative is inside."""
    return BORDER_LAT, BORDER_LON + km / KM_PER_DEG_LON


@pytest.fixture(scope="module")
def belarus() -> Geofence:
    return Geofence.from_file(CONFIG / "geofences" / "belarus.geojson", "belarus")


@pytest.fixture(scope="module")
def airports() -> AirportIndex:
    return AirportIndex(read_airports(CONFIG / "airports.csv"))


@pytest.fixture(scope="module")
def watchlist():  # type: ignore[no-untyped-def]
    prefixes = callsign_prefixes(None, CONFIG / "callsign_prefixes.csv")
    return load_watchlist([CONFIG / "watchlist.csv"], prefixes)[0]


@dataclass
class ListSink:
    alerts: list[Alert] = field(default_factory=list)

    def raise_alert(self, alert: Alert) -> None:
        self.alerts.append(alert)

    def kinds(self, icao: str | None = None) -> list[str]:
        return [a.kind for a in self.alerts if icao is None or a.icao == icao]


class Feed:
    """The tracker, the detector and the rules wired as the pipeline wires them: the
    detector listens first and tells the rules what it judged."""

    def __init__(self, rules: AlertRules, sink: ListSink,
                 airports: AirportIndex | None = None) -> None:
        self.tracker = Tracker()
        self.rules = rules
        self.sink = sink
        self.detector = Detector(airports or AirportIndex(()))
        self.detector.subscribers.append(rules)

    def __call__(self, observations: Iterable[Observation]) -> None:
        for o in observations:
            update = self.tracker.update(o)
            if update is None:
                self.rules.on_unverified(o)
            else:
                self.detector.on_update(update, o)
                self.rules.on_update(update, o)

    def lose(self, icao: str, now: datetime) -> None:
        state = self.tracker.get(icao)
        assert state is not None
        self.detector.on_lost(state, now)
        self.rules.on_lost(state, now)


@pytest.fixture
def make(belarus, airports, watchlist):  # type: ignore[no-untyped-def]
    def build(**config: object) -> Feed:
        sink = ListSink()
        rules = AlertRules(watchlist, [belarus], sink, RuleConfig(**config))  # type: ignore[arg-type]
        return Feed(rules, sink, airports)

    return build


def obs(
    seconds: float,
    where: tuple[float, float] | None,
    icao: str = RA96016,
    *,
    altitude_ft: float | None = 30000.0,
    speed_kt: float | None = 450.0,
    track_deg: float | None = None,
    on_ground: bool | None = False,
    source: str = "local",
    **fields: object,
) -> Observation:
    lat, lon = where if where is not None else (None, None)
    return Observation(
        icao=icao, time=T0 + timedelta(seconds=seconds), source=source, lat=lat, lon=lon,
        altitude_ft=altitude_ft, ground_speed_kt=speed_kt, track_deg=track_deg,
        on_ground=on_ground, **fields,  # type: ignore[arg-type]
    )


def track(points: Iterable[tuple[float, float]], start_s: float = 0.0, every_s: float = 2.0,
          **kwargs: object) -> list[Observation]:
    return [obs(start_s + i * every_s, p, **kwargs) for i, p in enumerate(points)]  # type: ignore[arg-type]


# --- geometry the tests rely on ---------------------------------------------------------


def test_border_geometry(belarus: Geofence) -> None:
    for km in (0.2, 0.4, 1.0, 5.0):
        assert not belarus.contains(*east_of_border(km))
        assert belarus.contains(*east_of_border(-km))
        assert belarus.distance_km(*east_of_border(km)) == pytest.approx(km, rel=0.1, abs=0.03)
        assert belarus.distance_km(*east_of_border(-km)) == pytest.approx(km, rel=0.1, abs=0.03)


# --- enter / exit with hysteresis ---------------------------------------------------------


def test_jittering_border_track_enters_and_exits_once(make) -> None:  # type: ignore[no-untyped-def]
    feed = make()
    outside = [east_of_border(5.0)] * 5
    jitter = [east_of_border(0.2 if i % 2 else -0.2) for i in range(40)]
    hold_inside = [east_of_border(-0.2)] * 15  # 30 s just inside: held long enough
    deep_out = [east_of_border(5.0)] * 3
    feed(track(outside + jitter))
    assert feed.sink.kinds() == []
    feed(track(hold_inside + jitter + [east_of_border(-0.2)], start_s=90))
    assert feed.sink.kinds() == ["enter"]
    entered = feed.sink.alerts[0]
    # the 11th position just inside is the first held for >= 20 s
    assert entered.time == T0 + timedelta(seconds=90 + 10 * 2)
    assert entered.geofence == "belarus" and entered.registration == "RA-96016"
    feed(track(deep_out, start_s=300))
    assert feed.sink.kinds() == ["enter", "exit"]
    assert feed.sink.alerts[1].time == T0 + timedelta(seconds=302)  # two positions, deep


def test_one_stray_position_never_makes_an_enter_exit_pair(make) -> None:  # type: ignore[no-untyped-def]
    feed = make()
    points = [east_of_border(0.3)] * 5 + [east_of_border(-0.9)] + [east_of_border(0.3)] * 20
    feed(track(points))
    assert feed.sink.kinds() == []


def test_deep_side_change_needs_two_positions_not_the_hold(make) -> None:  # type: ignore[no-untyped-def]
    feed = make()
    feed(track([east_of_border(3.0)] * 3 + [east_of_border(-3.0)] * 2, every_s=10.0))
    assert feed.sink.kinds() == ["enter"]
    assert feed.sink.alerts[0].time == T0 + timedelta(seconds=40)  # held 10 s, 3 km deep


# --- first seen inside ----------------------------------------------------------------------


def test_first_seen_inside_once_and_only_for_watched(make) -> None:  # type: ignore[no-untyped-def]
    feed = make()
    feed(track([MINSK] * 10))
    feed(track([MINSK] * 10, icao=UNWATCHED))
    assert feed.sink.kinds() == ["first_seen_inside"]
    alert = feed.sink.alerts[0]
    assert (alert.icao, alert.matched_by, alert.confidence) == (RA96016, "icao", "high")
    assert alert.details["operator"] == "Russia Special Flight Detachment"
    assert alert.details["group"] == "RU_STATE_TRANSPORT_RSD"
    assert alert.sources == ("local",)


def test_callsign_prefix_match_arrives_after_positions(make) -> None:  # type: ignore[no-untyped-def]
    feed = make()
    feed(track([MINSK] * 3, icao="4B1234"))
    assert feed.sink.kinds() == []
    feed([obs(7, None, "4B1234", callsign="RSD123")])
    feed(track([MINSK] * 2, start_s=8, icao="4B1234"))
    assert feed.sink.kinds() == ["first_seen_inside"]
    assert feed.sink.alerts[0].matched_by == "callsign_prefix"


# --- landed / took off --------------------------------------------------------------------------


def approach_to_umms(n: int, start_s: float = 0.0) -> list[Observation]:
    """Airborne positions on final from the north-west, ending 1.5 km short of UMMS."""
    return [
        obs(start_s + 2 * i, destination(*UMMS, 310.0, (n - i) * 0.3 + 0.8),
            altitude_ft=670 + (n - i) * 120, speed_kt=140.0, track_deg=130.0)
        for i in range(n)
    ]


def test_landed_and_took_off_at_umms_by_surface_messages(make) -> None:  # type: ignore[no-untyped-def]
    feed = make()
    feed(approach_to_umms(10))
    roll = [obs(20 + 2 * i, destination(*UMMS, 130.0, 0.1 * i), on_ground=True,
                speed_kt=100.0 - 8 * i, altitude_ft=None) for i in range(10)]
    feed(roll)
    assert feed.sink.kinds() == ["first_seen_inside", "landed"]
    landed = feed.sink.alerts[1]
    assert (landed.airport, landed.geofence) == ("UMMS", "belarus")
    assert landed.time == T0 + timedelta(seconds=20)  # the first surface position
    assert landed.details["airport_name"] == "Minsk National Airport"
    departure = [obs(200 + 2 * i, destination(*UMMS, 130.0, 2.0 + 0.4 * i), speed_kt=160.0,
                     altitude_ft=900 + 200 * i, track_deg=130.0) for i in range(5)]
    feed(departure)
    assert feed.sink.kinds() == ["first_seen_inside", "landed", "took_off"]
    assert feed.sink.alerts[2].airport == "UMMS"


def test_landed_low_and_slow_without_surface_messages(make) -> None:  # type: ignore[no-untyped-def]
    feed = make()
    # an aggregator that reports neither on_ground nor surface positions
    fast_and_low = [obs(10 * i, destination(*UMMS, 310.0, 4.0 - 0.2 * i), altitude_ft=1000.0,
                        speed_kt=140.0, on_ground=None, source="opensky") for i in range(5)]
    feed(fast_and_low)
    assert feed.sink.kinds() == ["first_seen_inside"]
    slow = [obs(60 + 10 * i, destination(*UMMS, 130.0, 0.2 * i), altitude_ft=700.0,
                speed_kt=40.0 - 5 * i, on_ground=None, source="opensky") for i in range(4)]
    feed(slow)
    assert feed.sink.kinds() == ["first_seen_inside", "landed"]
    assert feed.sink.alerts[1].airport == "UMMS"
    assert feed.sink.alerts[1].sources == ("opensky",)


def test_low_and_slow_away_from_airports_is_not_a_landing(make) -> None:  # type: ignore[no-untyped-def]
    feed = make()
    far = destination(*UMMS, 0.0, 20.0)  # 37 km north of UMMS, no airport within 5 km
    feed(track([far] * 6, altitude_ft=700.0, speed_kt=40.0, on_ground=None))
    assert feed.sink.kinds() == ["first_seen_inside"]


# --- went silent ----------------------------------------------------------------------------------


def test_went_silent_inside_airborne(make) -> None:  # type: ignore[no-untyped-def]
    feed = make()
    feed(track([MINSK] * 4))
    feed.lose(RA96016, T0 + timedelta(seconds=70))
    assert feed.sink.kinds() == ["first_seen_inside", "went_silent"]
    silent = feed.sink.alerts[1]
    assert silent.time == T0 + timedelta(seconds=6)  # last heard
    assert silent.details["silent_for_s"] == 64


def test_no_went_silent_on_the_ground_or_outside(make) -> None:  # type: ignore[no-untyped-def]
    feed = make()
    feed(track([UMMS] * 4, on_ground=True, speed_kt=0.0, altitude_ft=None))
    feed(track([east_of_border(50.0)] * 4, icao="1400AA"))  # RF-00170, over Russia
    feed.lose(RA96016, T0 + timedelta(seconds=70))
    feed.lose("1400AA", T0 + timedelta(seconds=70))
    assert feed.sink.kinds() == ["first_seen_inside"]


def test_lost_low_near_an_airport_landed_there_instead(make) -> None:  # type: ignore[no-untyped-def]
    """Without runway ends (this index has none), low, slow enough for an approach and
    descending within 5 km of Minsk National: the silence is a landing, inferred."""
    feed = make()
    near = destination(*UMMS, 139.0, 1.5)  # on the south-east side, flying in
    feed(track([near] * 4, altitude_ft=950.0, speed_kt=140.0, track_deg=319.0,
                vertical_rate_fpm=-700.0))
    feed.lose(RA96016, T0 + timedelta(seconds=70))
    assert feed.sink.kinds() == ["first_seen_inside", "landed"]
    landed = feed.sink.alerts[1]
    assert (landed.airport, landed.evidence, landed.geofence) == ("UMMS", "inferred", "belarus")
    assert landed.time > T0 + timedelta(seconds=6)  # the distance left, at 140 kt


def test_lost_descending_over_the_airport_probably_landed(make) -> None:  # type: ignore[no-untyped-def]
    """1,830 ft above the field, over it, at approach speed and descending: a receiver
    that loses it there rarely hears any landing lower; probable, not inferred."""
    feed = make()
    feed(track([UMMS] * 4, altitude_ft=2500.0, speed_kt=140.0, track_deg=319.0,
                vertical_rate_fpm=-700.0))
    feed.lose(RA96016, T0 + timedelta(seconds=70))
    assert feed.sink.kinds() == ["first_seen_inside", "landed"]
    landed = feed.sink.alerts[1]
    assert (landed.airport, landed.evidence) == ("UMMS", "probable")


def test_lost_level_high_over_the_airport_went_silent(make) -> None:  # type: ignore[no-untyped-def]
    feed = make()
    feed(track([UMMS] * 4, altitude_ft=12000.0, speed_kt=300.0, track_deg=319.0,
                vertical_rate_fpm=0.0))
    feed.lose(RA96016, T0 + timedelta(seconds=70))
    assert feed.sink.kinds() == ["first_seen_inside", "went_silent"]


# --- heard nearby -----------------------------------------------------------------------------


def reply(seconds: float, icao: str = RA96016, df: int = 4) -> Observation:
    return Observation(icao=icao, time=T0 + timedelta(seconds=seconds), source="local",
                       altitude_ft=31000.0, downlink_format=df, verified=False)


def test_heard_nearby_needs_enough_replies_in_the_window(make) -> None:  # type: ignore[no-untyped-def]
    feed = make()
    feed([reply(s) for s in (0, 20, 40, 60)])  # four in a minute
    feed([reply(s) for s in (130, 200, 270)])  # more, but spread over minutes
    feed([reply(s, UNWATCHED) for s in range(0, 30, 2)])
    assert feed.sink.kinds() == []
    feed([reply(400 + s, df=5 if s % 20 else 4) for s in range(0, 50, 10)])  # five in 40 s
    assert feed.sink.kinds() == ["heard_nearby"]
    heard = feed.sink.alerts[0]
    assert heard.confidence == "low" and heard.registration == "RA-96016"
    assert heard.details["replies"] == 5 and heard.details["downlink_formats"] == [4, 5]
    assert heard.time == T0 + timedelta(seconds=440)


def test_heard_nearby_threshold_is_configurable(make) -> None:  # type: ignore[no-untyped-def]
    feed = make(heard_nearby_replies=3, heard_nearby_window_s=10.0)
    feed([reply(s) for s in (0, 6, 12, 18)])  # never three within 10 s
    assert feed.sink.kinds() == []
    feed([reply(30), reply(32), reply(34)])
    assert feed.sink.kinds() == ["heard_nearby"]


# --- approaching ------------------------------------------------------------------------------


def test_approaching_warns_with_the_crossing_time(make, belarus) -> None:  # type: ignore[no-untyped-def]
    feed = make()
    start = east_of_border(60.0)
    feed(track([start, destination(*start, 270.0, 0.25)], speed_kt=450.0, track_deg=270.0))
    assert feed.sink.kinds() == ["approaching"]
    alert = feed.sink.alerts[0]
    # 60 km less the 0.46 km flown, at 450 kt (833 km/h): about 257 s, to a step of 1 NM
    expected = (60.0 - 0.46) / (450 * 1.852) * 3600
    assert alert.details["eta_s"] == pytest.approx(expected, abs=10)
    assert belarus.contains(alert.details["crossing_lat"], alert.details["crossing_lon"])


def test_no_approach_when_heading_away_or_too_far(make) -> None:  # type: ignore[no-untyped-def]
    away = make()
    away(track([east_of_border(60.0)] * 3, track_deg=90.0))
    assert away.sink.kinds() == []
    soon = make(approach_within_s=120.0)  # 60 km is more than 2 minutes at 450 kt
    soon(track([east_of_border(60.0)] * 3))
    assert soon.sink.kinds() == []


def test_first_crossing_s_is_none_when_the_path_misses(belarus) -> None:  # type: ignore[no-untyped-def]
    assert first_crossing_s(belarus, *east_of_border(60.0), 90.0, 450.0, 3600.0) is None
    crossing = first_crossing_s(belarus, *east_of_border(10.0), 270.0, 360.0, 900.0)
    assert crossing is not None and crossing[0] == pytest.approx(10 / (360 * 1.852) * 3600, abs=11)


# --- squawk ---------------------------------------------------------------------------------


def test_squawk_matcher_wildcards() -> None:
    codes = squawk_matcher(["75*", "7[67]00"])
    assert codes is not None
    assert sorted(codes) == [f"75{n:o}{m:o}" for n in range(8) for m in range(8)] + [
        "7600", "7700"]
    assert squawk_matcher(["", " "]) is None


def test_squawk_alerts_any_aircraft_inside_only(make) -> None:  # type: ignore[no-untyped-def]
    feed = make(squawks=("75*", "7[67]00"))
    feed(track([MINSK] * 3, icao=UNWATCHED, squawk="7500"))
    feed(track([east_of_border(40.0)] * 3, icao="4CA999", squawk="7700"))  # outside
    feed(track([MINSK] * 3, icao="4CA777", squawk="1234"))
    assert feed.sink.kinds() == ["squawk"]
    alert = feed.sink.alerts[0]
    assert (alert.icao, alert.matched_by, alert.details["squawk"]) == (UNWATCHED, None, "7500")
    feed([obs(10, MINSK, UNWATCHED, squawk="7600")])  # a new code is a new alert
    assert feed.sink.kinds() == ["squawk", "squawk"]


def test_squawk_rule_is_off_without_codes(make) -> None:  # type: ignore[no-untyped-def]
    feed = make()
    feed(track([MINSK] * 3, icao=UNWATCHED, squawk="7500"))
    assert feed.sink.kinds() == []


# --- cooldown, events filter, sources --------------------------------------------------------


def crossing_in_and_out(start_s: float) -> list[Observation]:
    points = [east_of_border(3.0)] * 2 + [east_of_border(-3.0)] * 2 + [east_of_border(3.0)] * 2
    return track(points, start_s=start_s, every_s=10.0)


def test_cooldown_per_aircraft_fence_and_kind_on_the_observation_clock(make) -> None:  # type: ignore[no-untyped-def]
    feed = make(cooldown_s=3600.0)
    feed(crossing_in_and_out(0))
    feed(crossing_in_and_out(600))  # ten minutes later: inside the hour
    assert feed.sink.kinds() == ["enter", "exit"]
    feed(crossing_in_and_out(3700))
    assert feed.sink.kinds() == ["enter", "exit", "enter", "exit"]


def test_only_an_alert_older_than_the_newest_stored_asks_the_database(
    belarus, airports, watchlist  # type: ignore[no-untyped-def]
) -> None:
    asked: list[tuple[object, ...]] = []
    stored_near = {T0 + timedelta(seconds=30)}  # an enter stored 10 h before the newest

    def recorded(*call: object) -> bool:
        asked.append(call)
        return call[3] in stored_near

    sink = ListSink()
    rules = AlertRules(watchlist, [belarus], sink, RuleConfig(cooldown_s=3600.0),
                       recorded=recorded)
    rules.remember([(RA96016, "belarus", "enter", T0 + timedelta(hours=10))])
    feed = Feed(rules, sink)
    feed(crossing_in_and_out(0))  # the enter at 30 s: stored already, the exit is new
    assert sink.kinds() == ["exit"]
    assert asked == [(RA96016, "belarus", ("enter", "first_seen_inside"),
                      T0 + timedelta(seconds=30), timedelta(hours=1))]
    feed(crossing_in_and_out(4 * 3600))  # older than the newest, nothing stored near it
    feed(crossing_in_and_out(10 * 3600 + 600))  # near the newest enter: memory says no
    feed(crossing_in_and_out(12 * 3600))  # after the newest, as live: memory says yes
    assert sink.kinds() == ["exit", "enter", "exit", "exit", "enter", "exit"]
    assert len(asked) == 2  # the live path never asked


def test_a_key_pruned_from_memory_still_asks_the_database(
    belarus, airports, watchlist  # type: ignore[no-untyped-def]
) -> None:
    """Past 4,096 keys, old ones are forgotten; one near the newest forgotten time asks."""
    asked: list[object] = []

    def recorded(*call: object) -> bool:
        asked.append(call[3])
        return True  # the enter of 5 h ago is stored

    sink = ListSink()
    rules = AlertRules(watchlist, [belarus], sink,
                       RuleConfig(cooldown_s=3600.0, events=frozenset({"enter"})),
                       recorded=recorded)
    five_hours_ago = T0 - timedelta(hours=5)
    rules.remember([(f"{n:06X}", "belarus", "enter", five_hours_ago) for n in range(4096)])
    rules.remember([(RA96016, "belarus", "enter", five_hours_ago)])
    other_watched = "1400AA"  # its enter prunes every remembered key
    Feed(rules, sink)(track([east_of_border(3.0)] * 2 + [east_of_border(-3.0)] * 2,
                            every_s=10.0, icao=other_watched))
    assert sink.kinds() == ["enter"] and asked == []
    Feed(rules, sink)(crossing_in_and_out(-5 * 3600 + 600))  # near the forgotten ones
    assert sink.kinds() == ["enter"] and len(asked) == 1
    Feed(rules, sink)(crossing_in_and_out(-2 * 3600))  # past every forgotten cooldown
    assert sink.kinds() == ["enter", "enter"] and len(asked) == 1


def test_events_filter(make) -> None:  # type: ignore[no-untyped-def]
    feed = make(events=frozenset({"exit"}))
    feed(crossing_in_and_out(0))
    assert feed.sink.kinds() == ["exit"]


def test_two_sources_one_aircraft_one_alert(make) -> None:  # type: ignore[no-untyped-def]
    feed = make()
    points = [east_of_border(3.0)] * 4 + [east_of_border(-3.0)] * 6
    local = track(points, every_s=10.0)
    # an aggregator reports the same positions (with their own times) 40 s late
    aggregator = track(points, every_s=10.0, source="adsb.lol")
    interleaved = []
    for i, o in enumerate(local):
        interleaved.append(o)
        if i >= 4:
            interleaved.append(aggregator[i - 4])
    feed(interleaved)
    assert feed.sink.kinds() == ["enter"]
    assert feed.sink.alerts[0].sources == ("adsb.lol", "local")


# --- identity anomaly --------------------------------------------------------------------------


def test_identity_anomaly_from_callsign(make, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    feed = make()
    with caplog.at_level(logging.WARNING, logger="flightwatch.alerts.rules"):
        feed([obs(0, MINSK, "4CA555", callsign="RA96016")])
        feed([obs(2, MINSK, "4CA555", callsign="RA96016")])
    assert feed.sink.kinds() == ["identity_anomaly"]
    alert = feed.sink.alerts[0]
    assert alert.confidence == "low" and alert.details["expected_icaos"] == [RA96016]
    assert alert.details["seen_as"] == "callsign"
    assert "RA-96016" in caplog.text and "4CA555" in caplog.text
    feed([obs(4, MINSK, RA96016, callsign="RA96016")])  # the real one is no anomaly
    assert feed.sink.kinds() == ["identity_anomaly"]


def test_every_kind_is_known() -> None:
    from flightwatch.settings import ALERT_KINDS

    assert set(KINDS) == set(ALERT_KINDS)
