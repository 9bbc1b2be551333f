"""Per-aircraft state: merges observations, rejects impossible positions, thins storage.

An SD card wears out with writes, so the tracker decides which positions are
worth keeping: one per aircraft every few seconds, plus any that mark a
change a track would otherwise hide (a turn, the start of a climb or descent,
touchdown or lift-off).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flightwatch.decoder import keys as parse
from flightwatch.decoder.geodesy import EARTH_RADIUS_NM, distance_nm
from flightwatch.decoder.keys import setting
from flightwatch.decoder.observation import Observation, emitter_category

_NM_PER_DEGREE = math.radians(EARTH_RADIUS_NM)  # of a great circle
_LEVEL_FPM = 300.0  # below this vertical rate an aircraft counts as level


@dataclass(slots=True, frozen=True)
class TrackerConfig:
    """Tuning knobs; the defaults suit a single receiver on a Raspberry Pi.

    The ``[tracker]`` section: each field that is a key declares it here (default,
    parser, help), and the settings table takes its keys from this class.
    """

    expire_after_s: float = setting(60.0, parse.duration,
                                    "forget an aircraft after this much silence",
                                    key="expire_after")
    store_interval_s: float = setting(5.0, parse.duration,
                                      "store at most one position per aircraft this often",
                                      key="store_interval")
    #: Read by the pipeline, which leaves the velocities in between undecoded.
    velocity_interval_s: float = setting(
        1.0, parse.duration,
        "decode an aircraft's velocity squitters at most this often (0: all); longer is "
        "faster but notices turns and climbs later", key="velocity_interval")
    max_speed_kt: float = setting(1200.0, parse.number,
                                  "reject positions implying a faster speed")
    turn_deg: float = 10.0
    max_aircraft: int = setting(10_000, parse.whole, "bound on aircraft tracked at once")
    reanchor_after: int = 3  # consecutive rejections that move the anchor


@dataclass(slots=True)
class Position:
    """A position worth keeping, with the latest kinematics merged in."""

    icao: str
    time: datetime
    lat: float
    lon: float
    altitude_ft: float | None
    ground_speed_kt: float | None
    track_deg: float | None
    vertical_rate_fpm: float | None
    on_ground: bool | None
    callsign: str | None
    source: str


@dataclass(slots=True)
class AircraftState:
    """What is known of one aircraft right now."""

    icao: str
    first_seen: datetime
    last_seen: datetime
    sources: set[str] = field(default_factory=set)
    callsign: str | None = None
    squawk: str | None = None
    registration: str | None = None
    aircraft_type: str | None = None
    category: str | None = None  # ADS-B emitter category, e.g. A5 (heavy)
    altitude_ft: float | None = None
    ground_speed_kt: float | None = None
    track_deg: float | None = None
    vertical_rate_fpm: float | None = None
    on_ground: bool | None = None
    position: Position | None = None
    stored: Position | None = None
    rejected_in_row: int = 0
    positions_rejected: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def lat(self) -> float | None:
        return self.position.lat if self.position else None

    @property
    def lon(self) -> float | None:
        return self.position.lon if self.position else None


@dataclass(slots=True)
class TrackUpdate:
    """The tracker's verdict on one observation."""

    state: AircraftState
    is_new: bool
    position: Position | None  # accepted position carried by the observation
    store: bool  # the position should be written to the database
    callsign_changed: bool


class Tracker:
    """Keeps ``AircraftState`` per ICAO address, bounded in time and count."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self._aircraft: dict[str, AircraftState] = {}
        self._expire_after = timedelta(seconds=self.config.expire_after_s)
        self._store_interval = timedelta(seconds=self.config.store_interval_s)
        self._source_expiry: dict[str, timedelta] = {}
        self._evicted: list[AircraftState] = []

    def __len__(self) -> int:
        return len(self._aircraft)

    @property
    def expire_after(self) -> timedelta:
        return self._expire_after

    def __contains__(self, icao: str) -> bool:
        return icao in self._aircraft

    def get(self, icao: str) -> AircraftState | None:
        return self._aircraft.get(icao)

    def states(self) -> list[AircraftState]:
        return list(self._aircraft.values())

    def update(self, obs: Observation) -> TrackUpdate | None:
        """Merge one observation; None for an unverified address not tracked yet.

        A DF4/5/20/21 reply's address comes from its parity, so a corrupted
        reply invents one: such a reply only adds to an aircraft already known.
        """
        state = self._aircraft.get(obs.icao)
        is_new = state is None
        if state is None:
            if not obs.verified:
                return None
            if len(self._aircraft) >= self.config.max_aircraft:
                self._evict_oldest()
            state = AircraftState(icao=obs.icao, first_seen=obs.time, last_seen=obs.time)
            self._aircraft[obs.icao] = state
        if obs.time > state.last_seen:
            state.last_seen = obs.time
        state.sources.add(obs.source)
        callsign_changed = _merge_fields(state, obs)
        position: Position | None = None
        store = False
        if obs.lat is not None and obs.lon is not None:
            position = self._accept_position(state, obs)
            if position is not None:
                store = self._worth_storing(state, position)
                state.position = position
                if store:
                    state.stored = position
        return TrackUpdate(state, is_new, position, store, callsign_changed)

    def set_source_silence(self, source: str, seconds: float) -> None:
        """Let aircraft heard only through ``source`` stay this long between reports.

        An aggregator polled every minute reports each aircraft once a minute; with the
        receiver's 60 s its tracks would be lost (and 'went silent') between polls.
        """
        self._source_expiry[source] = timedelta(seconds=max(seconds, self.config.expire_after_s))

    def silence_allowed(self, state: AircraftState) -> timedelta:
        """How long this aircraft may be silent before it is lost (its slowest source's)."""
        if not self._source_expiry:
            return self._expire_after
        return max(self._source_expiry.get(s, self._expire_after) for s in state.sources)

    def expire(self, now: datetime) -> list[AircraftState]:
        """Forget aircraft silent for longer than their sources allow; return them."""
        lost = [s for s in self._aircraft.values()
                if now - s.last_seen > self.silence_allowed(s)]
        for state in lost:
            del self._aircraft[state.icao]
        if self._evicted:
            lost.extend(self._evicted)
            self._evicted.clear()
        return lost

    def silent_too_long(self, icao: str, now: datetime) -> bool:
        """Whether a tracked aircraft has been silent longer than allowed at ``now``."""
        state = self._aircraft.get(icao)
        return state is not None and now - state.last_seen > self.silence_allowed(state)

    def _evict_oldest(self) -> None:
        """Make room; the evicted aircraft is handed out as lost at the next ``expire``."""
        oldest = min(self._aircraft.values(), key=lambda s: s.last_seen)
        del self._aircraft[oldest.icao]
        self._evicted.append(oldest)

    def _accept_position(self, state: AircraftState, obs: Observation) -> Position | None:
        assert obs.lat is not None and obs.lon is not None
        last = state.position
        if last is not None and not self._plausible(last, obs.lat, obs.lon, obs.time):
            state.rejected_in_row += 1
            if state.rejected_in_row < self.config.reanchor_after:
                state.positions_rejected += 1
                return None
        state.rejected_in_row = 0
        return Position(
            icao=state.icao,
            time=obs.time,
            lat=obs.lat,
            lon=obs.lon,
            altitude_ft=state.altitude_ft,
            ground_speed_kt=state.ground_speed_kt,
            track_deg=state.track_deg,
            vertical_rate_fpm=state.vertical_rate_fpm,
            on_ground=state.on_ground,
            callsign=state.callsign,
            source=obs.source,
        )

    def _plausible(self, last: Position, lat: float, lon: float, time: datetime) -> bool:
        """Reject a jump faster than ``max_speed_kt`` (with 1 s and 1 NM of slack)."""
        seconds = max(abs((time - last.time).total_seconds()), 1.0)
        reach_nm = self.config.max_speed_kt * seconds / 3600.0 + 1.0
        # No great circle is longer than going along the meridian, then along the
        # parallel (at most a degree of the equator per degree of longitude): most
        # positions pass on this bound without trigonometry.
        if (abs(lat - last.lat) + abs(lon - last.lon)) * _NM_PER_DEGREE <= reach_nm:
            return True
        return distance_nm(last.lat, last.lon, lat, lon) <= reach_nm

    def _worth_storing(self, state: AircraftState, position: Position) -> bool:
        stored = state.stored
        if stored is None:
            return True
        return self._changed_since(stored, position.time, position.on_ground,
                                   position.vertical_rate_fpm, position.track_deg)

    def _changed_since(
        self, stored: Position, time: datetime, on_ground: bool | None,
        vertical_rate_fpm: float | None, track_deg: float | None,
    ) -> bool:
        """Whether a position with these fields is worth storing after ``stored``."""
        if time - stored.time >= self._store_interval:
            return True
        if on_ground != stored.on_ground:
            return True
        if _vertical_phase(vertical_rate_fpm) != _vertical_phase(stored.vertical_rate_fpm):
            return True
        if track_deg is not None and stored.track_deg is not None:
            turn = abs((track_deg - stored.track_deg + 180.0) % 360.0 - 180.0)
            if turn >= self.config.turn_deg:
                return True
        return False

    def would_store_airborne(self, state: AircraftState, time: datetime) -> bool:
        """Whether an airborne position of this aircraft heard at ``time`` would be stored,
        known before the frame is decoded: a position takes its kinematics from the
        aircraft's state, so only the time and "airborne" are new. Also True while the
        aircraft has no position, is rejecting positions (its anchor may move), or has
        been heard in nothing decoded for half the silence that loses it (a frame left
        undecoded may be a corrupted one, so only decoded frames say it is still there)."""
        stored = state.stored
        if stored is None or state.position is None or state.rejected_in_row:
            return True
        if time - state.last_seen >= self._expire_after / 2:
            return True
        return self._changed_since(stored, time, False, state.vertical_rate_fpm,
                                   state.track_deg)


def _merge_fields(state: AircraftState, obs: Observation) -> bool:
    """Copy the fields an observation carries onto the state; True if the callsign changed."""
    if obs.altitude_ft is not None:
        state.altitude_ft = obs.altitude_ft
    if obs.ground_speed_kt is not None:
        state.ground_speed_kt = obs.ground_speed_kt
    if obs.track_deg is not None:
        state.track_deg = obs.track_deg
    if obs.vertical_rate_fpm is not None:
        state.vertical_rate_fpm = obs.vertical_rate_fpm
    if obs.on_ground is not None:
        state.on_ground = obs.on_ground
        if obs.on_ground:
            state.vertical_rate_fpm = 0.0  # not the last airborne value
    if obs.squawk is not None:
        state.squawk = obs.squawk
    if obs.registration is not None:
        state.registration = obs.registration
    if obs.aircraft_type is not None:
        state.aircraft_type = obs.aircraft_type
    if obs.extra is not None and "category" in obs.extra:
        state.category = emitter_category(obs.extra["category"]) or state.category
    if obs.callsign is not None and obs.callsign != state.callsign:
        state.callsign = obs.callsign
        return True
    return False


def _vertical_phase(rate_fpm: float | None) -> int:
    if rate_fpm is None or abs(rate_fpm) < _LEVEL_FPM:
        return 0
    return 1 if rate_fpm > 0 else -1
