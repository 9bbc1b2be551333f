"""The rule engine: watched aircraft against geofences and airports, turned into alerts.

:class:`AlertRules` is a pipeline ``TrackListener``. It keeps its per-aircraft
memory in ``AircraftState.extra`` so it lives and dies with the tracker's state:
an unwatched aircraft costs one dictionary lookup per observation (plus the
squawk rule when ``squawks`` are configured), and only watched aircraft are
ever tested against a fence.

Why each guard exists:

- *Hysteresis.* A track along the border must not flap. A side change counts
  only once the new side has held for ``confirm_positions`` consecutive
  positions **and** either ``border_hold_s`` seconds or ``border_margin_km``
  from the border. So a single position can never raise an enter/exit pair.
- *Stale positions.* The same aircraft from the local receiver and a delayed
  aggregator is one ``AircraftState``; positions older than the last one judged
  are skipped, so interleaved sources cannot walk a track back across a border.
- *Cooldown.* One alert per (aircraft, fence, kind) per ``cooldown_s`` on the
  observation clock, so a replay alerts exactly as the live run would have. Memory
  holds the newest alert per key; an alert older than that (an import of history)
  asks the database, via ``recorded``, whether a stored one is within its cooldown.
- *Retraction.* A ``landed`` alert inferred at a track's loss is remembered (apart from
  the tracker's state, which goes with the loss) for ``flights_gap_s``: heard again within
  it, airborne and not climbing, the aircraft had only dropped below coverage, and a
  ``landing_retracted`` alert corrects the one sent (the flights segmenter undoes the
  arrival on the same test). The landing's cooldown is lifted, so its real landing alerts.
  An aircraft first heard within a gap of the process's start asks the database, via
  ``landings``, for such a landing raised before a restart (once per aircraft).
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any, Protocol

from flightwatch.alerts.geofence import Geofence
from flightwatch.alerts.recent_track import RecentTracks
from flightwatch.alerts.watchlist import Match, Watchlist
from flightwatch.db.airports import Airport, AirportIndex, on_the_ground
from flightwatch.db.alert_record import Alert
from flightwatch.db.landing import (
    INFERRED,
    OBSERVED,
    inferred_arrival,
    inferred_departure,
    not_climbing,
)
from flightwatch.db.store import source_name
from flightwatch.decoder import Observation
from flightwatch.decoder.geodesy import destination
from flightwatch.decoder.tracker import AircraftState, Position, TrackUpdate

log = logging.getLogger(__name__)

# Kinds that say the same thing for cooldown purposes: "it is inside the fence". After a
# restart or a reload, an aircraft already reported entering is not reported again as
# first seen inside.
_COOLDOWN_FAMILY = {"enter": "inside", "first_seen_inside": "inside"}

_NO_AIRPORTS = AirportIndex(())

KINDS = (
    "enter", "first_seen_inside", "landed", "took_off", "exit", "went_silent",
    "approaching", "heard_nearby", "squawk", "identity_anomaly", "landing_retracted",
)  # fmt: skip
_FAMILY_KINDS = {
    family: tuple(k for k in KINDS if _COOLDOWN_FAMILY.get(k, k) == family)
    for family in {_COOLDOWN_FAMILY.get(k, k) for k in KINDS}
}

_EXTRA_KEY = "alerts"
_APPROACH_EVERY = timedelta(seconds=10)  # re-project a watched track at most this often
_APPROACH_STEP_NM = 1.0  # fences are tested every nautical mile along the projection
_APPROACH_MAX_STEPS = 240
_APPROACH_MIN_SPEED_KT = 30.0  # slower than this, a projection says nothing
_PRUNE_COOLDOWNS_AT = 4096
_INFERRED_LANDINGS_AT_MOST = 1024  # remembered for a retraction; more within a gap is absurd

# (icao, fence or None, kinds, time, cooldown) -> whether such an alert is stored
# within the cooldown of that time (``db.alerts.alert_near`` bound to an engine).
RecordedLookup = Callable[[str, str | None, tuple[str, ...], datetime, timedelta], bool]
# (icao, time, gap) -> the inferred landed alerts stored before this process that an
# aircraft heard again at that time may retract (``db.alerts.open_inferred_landing``).
LandingLookup = Callable[[str, datetime, timedelta], list[Alert]]


class AlertSinkLike(Protocol):
    """Where alerts go (``alerts.notify.AlertSink``: log line, alerts table, outbox)."""

    def raise_alert(self, alert: Alert) -> object: ...


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """Rule tuning; each field has an ``[alerts]`` key of the same meaning."""

    cooldown_s: float = 6 * 3600.0
    events: frozenset[str] = frozenset(KINDS)
    approach_within_s: float = 15 * 60.0
    squawks: tuple[str, ...] = ()
    border_margin_km: float = 0.5
    border_hold_s: float = 20.0
    confirm_positions: int = 2
    heard_nearby_replies: int = 5
    heard_nearby_window_s: float = 60.0
    airport_radius_km: float = 5.0
    landed_below_ft: float = 1500.0  # above field elevation
    landed_slower_kt: float = 80.0
    inferred_below_ft: float = 700.0  # above field elevation
    approach_km: float = 10.0
    approach_deg: float = 20.0
    approach_slower_kt: float = 200.0
    flights_gap_s: float = 30 * 60.0  # ``flights.gap``: an inferred landing retracted within


@dataclass(frozen=True, slots=True)
class _InferredLanding:
    """A ``landed`` alert inferred at a track's loss, which hearing it again may retract."""

    alert_time: datetime
    last_heard: datetime
    airport: Airport
    runway: str | None
    fences: tuple[str, ...]  # the fences it was raised in
    match: Match | None


@dataclass(slots=True)
class _Latch:
    """A yes/no (inside a fence, on the ground) that flips only once the new value holds."""

    value: bool | None = None
    pending: bool | None = None
    count: int = 0
    since: datetime | None = None

    def propose(self, value: bool, time: datetime) -> float | None:
        """Seconds a value differing from the current one has held; None if it is the same."""
        if value == self.value:
            self.pending = None
            return None
        if value != self.pending or self.since is None:
            self.pending, self.count, self.since = value, 0, time
        self.count += 1
        return (time - self.since).total_seconds()

    def settle(self) -> bool | None:
        """Adopt the pending value; return the previous one (None: first judgement)."""
        previous = self.value
        self.value, self.pending, self.count, self.since = self.pending, None, 0, None
        return previous


@dataclass(slots=True, eq=False)
class _Tracked:
    """What the rules remember of one aircraft (kept in ``AircraftState.extra``)."""

    match: Match | None
    registration: str | None
    generation: int
    fences: list[_Latch] = field(default_factory=list)
    ground: _Latch = field(default_factory=_Latch)
    airport: Airport | None = None  # where it is (or last was) on the ground
    last_time: datetime | None = None
    next_approach: datetime | None = None


def squawk_matcher(patterns: Iterable[str]) -> dict[str, bool] | None:
    """Every squawk (4 octal digits) that one of the fnmatch ``patterns`` covers; None if none.

    There are only 4,096 codes, so the wildcards are expanded once and the hot
    path is a dictionary lookup.
    """
    chosen = [p.strip() for p in patterns if p.strip()]
    if not chosen:
        return None
    codes = (f"{n:04o}" for n in range(0o10000))
    return {code: True for code in codes if any(fnmatchcase(code, p) for p in chosen)}


def first_crossing_s(
    fence: Geofence, lat: float, lon: float, track_deg: float, speed_kt: float, within_s: float
) -> tuple[float, float, float] | None:
    """(seconds, lat, lon) of the first point inside ``fence`` on the projected great circle.

    The path is walked in steps of about a nautical mile up to ``within_s`` ahead.
    """
    total_nm = speed_kt * within_s / 3600.0
    steps = max(1, min(_APPROACH_MAX_STEPS, math.ceil(total_nm / _APPROACH_STEP_NM)))
    for i in range(1, steps + 1):
        distance = total_nm * i / steps
        plat, plon = destination(lat, lon, track_deg, distance)
        if fence.contains(plat, plon):
            return distance / speed_kt * 3600.0, plat, plon
    return None


def _entry_details(match: Match | None) -> dict[str, Any]:
    """The watchlist row behind a match, empty fields left out."""
    if match is None:
        return {}
    e = match.entry
    values = {
        "operator": e.operator,
        "aircraft_type": e.aircraft_type,
        "category": e.category,
        "group": e.group,
        "watchlist_icao": e.icao,
        "watchlist_registration": e.registration,
    }
    return {k: v for k, v in values.items() if v}


class AlertRules:
    """The alert rules as a pipeline ``TrackListener``; alerts go to ``sink``."""

    def __init__(
        self,
        watchlist: Watchlist,
        fences: Sequence[Geofence],
        sink: AlertSinkLike,
        airports: AirportIndex | None = None,
        config: RuleConfig | None = None,
        *,
        receiver: str | None = None,
        recorded: RecordedLookup | None = None,
        landings: LandingLookup | None = None,
    ) -> None:
        self.config = config or RuleConfig()
        self.receiver = receiver  # alerts name their sources as positions do
        self.sink = sink
        self.recorded = recorded
        self.landings = landings
        self.watchlist = watchlist
        self.fences = list(fences)
        self.airports = airports
        self._generation = 0
        cfg = self.config
        self._events = cfg.events
        self._cooldown = timedelta(seconds=cfg.cooldown_s)
        self._squawks = squawk_matcher(cfg.squawks) if "squawk" in cfg.events else None
        self._approach = cfg.approach_within_s > 0 and "approaching" in cfg.events
        self._heard_window = timedelta(seconds=cfg.heard_nearby_window_s)
        self._last_alert: dict[tuple[str, str, str, str], datetime] = {}
        self._newest: dict[tuple[str, str, str, str], datetime] = {}  # stored or raised
        self._forgotten: datetime | None = None  # the newest alert pruned from _newest
        self._replies: dict[str, deque[tuple[datetime, str, int | None]]] = {}
        self._gap = timedelta(seconds=cfg.flights_gap_s)
        self._inferred: dict[str, _InferredLanding] = {}  # icao -> landing to retract
        self._lookups_until: datetime | None = None  # a gap after the first position judged
        self._looked_up: set[str] = set()
        self.alerts_raised = 0
        # The recent tracks the alerts carry for their pictures (set by the wiring).
        self.recent_tracks: RecentTracks | None = None

    def remember(self, raised: Iterable[tuple[str, str | None, str, datetime]]) -> None:
        """Alerts raised before this process started, as (icao, fence, kind, time): their
        cooldowns still run, so a restart does not repeat them."""
        for icao, fence, kind, time in raised:
            key = (icao, fence or "", _COOLDOWN_FAMILY.get(kind, kind), "")
            if key not in self._last_alert or self._last_alert[key] < time:
                self._last_alert[key] = time
            if key not in self._newest or self._newest[key] < time:
                self._newest[key] = time

    def reload(self, watchlist: Watchlist, fences: Sequence[Geofence]) -> None:
        """Swap the watchlist and fences (SIGHUP); every aircraft is matched and judged anew."""
        self.watchlist = watchlist
        self.fences = list(fences)
        self._generation += 1

    # --- TrackListener ------------------------------------------------------------

    def on_update(self, update: TrackUpdate, obs: Observation) -> None:
        state = update.state
        tracked: _Tracked | None = state.extra.get(_EXTRA_KEY)  # type: ignore[assignment]
        if (
            tracked is None
            or update.callsign_changed
            or (obs.registration is not None and obs.registration != tracked.registration)
            or tracked.generation != self._generation
        ):
            tracked = self._rematch(state, tracked, obs.time)
        if tracked.match is not None:
            position = update.position
            if position is not None:
                self._judge_position(state, tracked, position)
            elif not obs.verified and state.position is None:
                self._heard(obs, tracked.match)
        code = self._alerted_squawk(state)
        if code is not None and state.position is not None:
            self._check_squawk(state, tracked, code, obs.time)

    def watches(self, state: AircraftState) -> bool:
        """Whether the aircraft matched the watchlist when last judged."""
        tracked = state.extra.get(_EXTRA_KEY)
        return isinstance(tracked, _Tracked) and tracked.match is not None

    def wants_replies(self, icao: str) -> bool:
        """Replies of a watched address, to tell that it is heard nearby."""
        return icao in self.watchlist

    def follows(self, state: AircraftState) -> bool:
        """Every position of a watched aircraft is judged (a fence crossed between two
        stored positions still raises its alert on time); so is every position of an
        aircraft not matched yet against the current watchlist, of one whose callsign is
        not known yet (it may reveal an identity anomaly, reported where it was heard),
        and of one squawking a code alerted on (inside a fence, any aircraft)."""
        tracked = state.extra.get(_EXTRA_KEY)
        if (not isinstance(tracked, _Tracked) or tracked.match is not None
                or tracked.generation != self._generation or state.callsign is None):
            return True
        return self._alerted_squawk(state) is not None

    def _alerted_squawk(self, state: AircraftState) -> str | None:
        """The aircraft's squawk when ``alerts.squawks`` alerts on it, else None."""
        code = state.squawk
        if code is None or self._squawks is None or not self._squawks.get(code):
            return None
        return code

    def on_unverified(self, obs: Observation) -> None:
        if obs.icao not in self.watchlist:
            return
        match = self.watchlist.match(obs.icao)
        if match is not None and match.matched_by == "icao":
            self._heard(obs, match)

    def on_lost(self, state: AircraftState, now: datetime) -> None:
        """Silent in the air: landed (inferred) when it was on an approach, else went silent."""
        tracked = state.extra.get(_EXTRA_KEY)
        if not isinstance(tracked, _Tracked) or tracked.match is None:
            return
        if tracked.ground.value or state.on_ground:
            return
        position = state.position
        arrival = None
        if position is not None and self.airports is not None:
            arrival = inferred_arrival(position, self.airports, self.config)
        if position is not None and arrival is not None:
            details = {"airport_name": arrival.airport.name,
                       "last_heard": position.time.isoformat()}
            if arrival.runway:
                details["runway"] = arrival.runway
            fences = self._raise_at_airport("landed", arrival.time, state, tracked,
                                            arrival.airport, INFERRED, details, position)
            if fences and "landing_retracted" in self._events:
                self._remember_landing(state.icao, _InferredLanding(
                    arrival.time, position.time, arrival.airport, arrival.runway, fences,
                    tracked.match))
            return
        for fence, latch in zip(self.fences, tracked.fences, strict=False):
            if latch.value:
                self._raise(
                    "went_silent", state.last_seen, state.icao, tracked.match, fence=fence.name,
                    details={"silent_for_s": round((now - state.last_seen).total_seconds())},
                    **_state_fields(state, state.position),
                )

    # --- matching -----------------------------------------------------------------

    def _rematch(
        self, state: AircraftState, tracked: _Tracked | None, time: datetime
    ) -> _Tracked:
        """Match again (new aircraft, new callsign or registration, reloaded watchlist)."""
        match = self.watchlist.match(state.icao, state.registration, state.callsign)
        if tracked is None or tracked.generation != self._generation:
            tracked = _Tracked(match, state.registration, self._generation)
            state.extra[_EXTRA_KEY] = tracked
        else:
            tracked.match, tracked.registration = match, state.registration
        if state.registration or state.callsign:
            self._check_identity(state, time)
        return tracked

    def _check_identity(self, state: AircraftState, time: datetime) -> None:
        anomaly = self.watchlist.identity_anomaly(state.icao, state.registration, state.callsign)
        if anomaly is None:
            return
        log.warning(
            "identity anomaly: watched %s heard as %s from %s, the watchlist has %s; "
            "a candidate for the watchlist",
            anomaly.registration, anomaly.seen_as, anomaly.seen_icao,
            ", ".join(anomaly.expected_icaos),
        )
        match = Match("registration", anomaly.entry, "low")
        details = {
            "seen_as": anomaly.seen_as,
            "expected_icaos": list(anomaly.expected_icaos),
        }
        fields = _state_fields(state, state.position)
        fields["registration"] = state.registration or anomaly.registration
        self._raise("identity_anomaly", time, state.icao, match, details=details, **fields)

    # --- position rules -----------------------------------------------------------

    def _judge_position(self, state: AircraftState, tracked: _Tracked, position: Position) -> None:
        time = position.time
        if tracked.last_time is not None and time <= tracked.last_time:
            return  # older than what was judged already: a delayed second source
        if tracked.last_time is None and self.landings is not None:
            self._stored_landing(state.icao, time, tracked.match)
        tracked.last_time = time
        if len(tracked.fences) != len(self.fences):
            tracked.fences = [_Latch() for _ in self.fences]
        self._judge_fences(state, tracked, position)
        if self._inferred:
            self._judge_reacquired(state, tracked, position)
        self._judge_ground(state, tracked, position)
        if self._approach and not tracked.ground.value:
            self._judge_approach(state, tracked, position)

    def _judge_fences(self, state: AircraftState, tracked: _Tracked, position: Position) -> None:
        cfg = self.config
        lat, lon, time = position.lat, position.lon, position.time
        for fence, latch in zip(self.fences, tracked.fences, strict=True):
            inside = fence.contains(lat, lon)
            held = latch.propose(inside, time)
            if held is None or latch.count < cfg.confirm_positions:
                continue
            if held < cfg.border_hold_s and fence.distance_km(lat, lon) < cfg.border_margin_km:
                continue
            previous = latch.settle()
            if inside:
                kind = "first_seen_inside" if previous is None else "enter"
            elif previous:
                kind = "exit"
            else:
                continue
            self._raise(
                kind, time, state.icao, tracked.match, fence=fence.name,
                **_state_fields(state, position),
            )

    def _judge_ground(self, state: AircraftState, tracked: _Tracked, position: Position) -> None:
        down, airport = self._on_the_ground(position)
        latch = tracked.ground
        held = latch.propose(down, position.time)
        if held is None or latch.count < self.config.confirm_positions:
            return
        previous = latch.settle()
        place = (airport if down else tracked.airport) or position
        tracked.airport = airport if down else None
        evidence = OBSERVED
        if previous is None:  # first judgement: only a climb-out says it just took off
            departed = None if down else inferred_departure(
                position, self.airports or _NO_AIRPORTS, self.config)
            if departed is None:
                return
            place, evidence = departed, INFERRED
        kind = "landed" if down else "took_off"
        details = {"airport_name": place.name} if isinstance(place, Airport) else {}
        self._raise_at_airport(kind, position.time, state, tracked, place, evidence, details,
                               position)

    def _raise_at_airport(
        self, kind: str, time: datetime, state: AircraftState, tracked: _Tracked,
        place: Airport | Position, evidence: str, details: dict[str, Any],
        position: Position | None,
    ) -> tuple[str, ...]:
        """A landing or takeoff, once per fence the airport (or the position) is in; the
        fences it was raised in (none: kind off, or in its cooldown)."""
        return tuple(
            fence.name for fence in self.fences
            if fence.contains(place.lat, place.lon) and self._raise(
                kind, time, state.icao, tracked.match, fence=fence.name,
                airport=place.code if isinstance(place, Airport) else None,
                details=details, evidence=evidence, **_state_fields(state, position),
            )
        )

    # --- retracting an inferred landing -------------------------------------------

    def _remember_landing(self, icao: str, landing: _InferredLanding) -> None:
        """Keep ``landing`` for the gap (the tracker's state of the aircraft is gone)."""
        cutoff = landing.last_heard - self._gap
        self._inferred = {k: v for k, v in self._inferred.items() if v.last_heard >= cutoff}
        if len(self._inferred) >= _INFERRED_LANDINGS_AT_MOST:
            del self._inferred[next(iter(self._inferred))]  # the oldest remembered
        self._inferred[icao] = landing

    def _stored_landing(self, icao: str, time: datetime, match: Match | None) -> None:
        """A new track, within a gap of this process's start: an inferred landing raised
        before it (a restart, an earlier replay) may be retracted too. Once per aircraft."""
        if self._lookups_until is None:
            self._lookups_until = time + self._gap
        if time > self._lookups_until:
            self._looked_up.clear()
            return
        if (icao in self._looked_up or icao in self._inferred
                or "landing_retracted" not in self._events or self.landings is None):
            return
        self._looked_up.add(icao)
        try:
            stored = self.landings(icao, time, self._gap)
        except Exception:  # the database is down: nothing to retract, decoding goes on
            log.exception("could not look up %s's last inferred landing", icao)
            return
        airport = self.airports.get(stored[0].airport or "") if stored and self.airports else None
        last_heard = stored[0].details.get("last_heard") if stored else None
        if airport is None or not isinstance(last_heard, str):
            return
        self._remember_landing(icao, _InferredLanding(
            stored[0].time, datetime.fromisoformat(last_heard), airport,
            stored[0].details.get("runway"), tuple(a.geofence for a in stored if a.geofence),
            match))

    def _judge_reacquired(
        self, state: AircraftState, tracked: _Tracked, position: Position
    ) -> None:
        """Heard again after a landing inferred at its loss: airborne and not climbing (the
        flights segmenter's test), it had not landed. Its first ground judgement (or the
        end of the gap) settles the question either way."""
        landing = self._inferred.get(state.icao)
        if landing is None:
            return
        silent = position.time - landing.last_heard
        if tracked.ground.value is not None or not timedelta(0) < silent <= self._gap:
            del self._inferred[state.icao]  # settled, too late, or older history (an import)
            return
        down, _airport = self._on_the_ground(position)
        if down or not not_climbing(position):
            return
        del self._inferred[state.icao]
        details = {
            "airport_name": landing.airport.name,
            "landed_at": landing.alert_time.isoformat(),
            "last_heard": landing.last_heard.isoformat(),
            "heard_again": position.time.isoformat(),
            "silent_for_s": round(silent.total_seconds()),
        }
        if landing.runway:
            details["runway"] = landing.runway
        for fence in landing.fences:
            self._raise(
                "landing_retracted", position.time, state.icao, landing.match, fence=fence,
                airport=landing.airport.code, key_extra=landing.alert_time.isoformat(),
                details=details, **_state_fields(state, position),
            )
            self._lift_cooldown((state.icao, fence, "landed", ""), landing.alert_time)

    def _lift_cooldown(self, key: tuple[str, str, str, str], time: datetime) -> None:
        """Forget the alert of ``key`` raised at ``time``: it was wrong, the next may come."""
        if self._last_alert.get(key) == time:
            del self._last_alert[key]
        if self._newest.get(key) == time:
            del self._newest[key]

    def _on_the_ground(self, position: Position) -> tuple[bool, Airport | None]:
        """On the ground (surface messages), or low and slow near an airport (aggregators)."""
        return on_the_ground(position, self.airports or _NO_AIRPORTS, self.config)

    def _judge_approach(self, state: AircraftState, tracked: _Tracked, position: Position) -> None:
        time = position.time
        if tracked.next_approach is not None and time < tracked.next_approach:
            return
        if not any(latch.value is False for latch in tracked.fences):
            return  # inside, or not judged yet
        tracked.next_approach = time + _APPROACH_EVERY
        speed, track = position.ground_speed_kt, position.track_deg
        if speed is None or track is None or speed < _APPROACH_MIN_SPEED_KT:
            return
        for fence, latch in zip(self.fences, tracked.fences, strict=True):
            if latch.value is not False:
                continue
            crossing = first_crossing_s(
                fence, position.lat, position.lon, track, speed, self.config.approach_within_s
            )
            if crossing is None:
                continue
            seconds, lat, lon = crossing
            details = {
                "eta_s": round(seconds),
                "expected_at": (time + timedelta(seconds=seconds)).isoformat(),
                "crossing_lat": round(lat, 4),
                "crossing_lon": round(lon, 4),
            }
            self._raise(
                "approaching", time, state.icao, tracked.match, fence=fence.name,
                details=details, **_state_fields(state, position),
            )

    # --- rules without a track ----------------------------------------------------

    def _heard(self, obs: Observation, match: Match) -> None:
        """Count replies from a watched address; enough in the window rule out chance parity."""
        window = self._replies.get(obs.icao)
        if window is None:
            window = self._replies[obs.icao] = deque()
        window.append((obs.time, obs.source, obs.downlink_format))
        cutoff = obs.time - self._heard_window
        while window and window[0][0] < cutoff:
            window.popleft()
        if len(window) < self.config.heard_nearby_replies:
            return
        details = {
            "replies": len(window),
            "window_s": self.config.heard_nearby_window_s,
            "downlink_formats": sorted({df for _, _, df in window if df is not None}),
        }
        if obs.squawk is not None:
            details["squawk"] = obs.squawk
        self._raise(
            "heard_nearby", obs.time, obs.icao, match, confidence="low", details=details,
            registration=match.entry.registration or None, altitude_ft=obs.altitude_ft,
            sources=tuple(sorted({source for _, source, _ in window})),
        )

    def _check_squawk(
        self, state: AircraftState, tracked: _Tracked, code: str, time: datetime
    ) -> None:
        assert state.position is not None
        for fence in self.fences:
            if fence.contains(state.position.lat, state.position.lon):
                self._raise(
                    "squawk", time, state.icao, tracked.match, fence=fence.name, key_extra=code,
                    details={"squawk": code}, **_state_fields(state, state.position),
                )

    # --- raising ------------------------------------------------------------------

    def _raise(
        self,
        kind: str,
        time: datetime,
        icao: str,
        match: Match | None,
        *,
        fence: str | None = None,
        airport: str | None = None,
        confidence: str | None = None,
        details: dict[str, Any] | None = None,
        key_extra: str = "",
        **fields: Any,
    ) -> bool:
        """Hand one alert to the sink unless its kind is off or its cooldown runs; whether
        it was handed."""
        if kind not in self._events:
            return False
        key = (icao, fence or "", _COOLDOWN_FAMILY.get(kind, kind), key_extra)
        last = self._last_alert.get(key)
        # Both ways: an import of older history must not repeat what was raised later.
        if last is not None and abs(time - last) < self._cooldown:
            return False
        if self._stored_near(key, time):
            return False
        self._remember(key, time)
        if fields.get("registration") is None and match is not None:
            fields["registration"] = match.entry.registration or None
        if self.receiver and fields.get("sources"):
            fields["sources"] = tuple(source_name(self.receiver, s) for s in fields["sources"])
        alert = Alert(
            time=time, icao=icao, kind=kind, geofence=fence, airport=airport,
            matched_by=match.matched_by if match else None,
            confidence=confidence or (match.confidence if match else "high"),
            details={**_entry_details(match), **(details or {})},
            track=self.recent_tracks.track(icao, time) if self.recent_tracks else (),
            **fields,
        )
        self.alerts_raised += 1
        try:
            self.sink.raise_alert(alert)
        except Exception:  # a failing sink must not stop decoding; the sink logs its own
            log.exception("could not hand over the %s alert for %s", kind, icao)
        return True

    def _stored_near(self, key: tuple[str, str, str, str], time: datetime) -> bool:
        """Whether a stored or raised alert of ``key`` is within the cooldown of ``time``
        though not the last one remembered: only an alert older than the newest (history
        imported after later alerts) costs a database lookup; a live one never does."""
        newest = self._newest.get(key)
        if newest is not None:
            if time >= newest + self._cooldown:
                return False
            if time > newest - self._cooldown:
                return True
        elif self._forgotten is None or time >= self._forgotten + self._cooldown:
            return False
        icao, fence, family, extra = key
        if self.recorded is None or extra:  # a squawk code is not a stored column
            return False
        return self.recorded(icao, fence or None, _FAMILY_KINDS[family], time, self._cooldown)

    def _remember(self, key: tuple[str, str, str, str], time: datetime) -> None:
        if len(self._newest) >= _PRUNE_COOLDOWNS_AT:
            self._forget_before(time - self._cooldown)
        newest = self._newest.get(key)
        if newest is None or newest < time:
            self._newest[key] = time
        last = self._last_alert
        if len(last) >= _PRUNE_COOLDOWNS_AT:
            self._last_alert = last = {
                k: t for k, t in last.items() if abs(time - t) < self._cooldown
            }
        last[key] = time

    def _forget_before(self, cutoff: datetime) -> None:
        """Drop newest times not after ``cutoff``, keeping the latest of them: an alert of a
        forgotten key that could be near one of them still asks the database."""
        dropped = [t for t in self._newest.values() if t <= cutoff]
        if not dropped:
            return
        latest = max(dropped)
        self._forgotten = latest if self._forgotten is None else max(self._forgotten, latest)
        self._newest = {k: t for k, t in self._newest.items() if t > cutoff}


def _state_fields(state: AircraftState, position: Position | None) -> dict[str, Any]:
    """The Alert fields an aircraft's state fills in: identity, position, provenance."""
    fields: dict[str, Any] = {
        "registration": state.registration,
        "callsign": state.callsign,
        "sources": tuple(sorted(state.sources)),
    }
    if position is not None:
        fields.update(
            lat=position.lat, lon=position.lon, altitude_ft=position.altitude_ft,
            ground_speed_kt=position.ground_speed_kt, track_deg=position.track_deg,
        )
    return fields
