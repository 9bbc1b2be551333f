"""The alert rules as one pipeline listener and one detection subscriber.

:class:`AlertRules` matches each aircraft against the watchlist (again when its
callsign or registration changes, or the watchlist is reloaded) and hands what it
hears to the rule of each kind: positions to the fence, approach and squawk rules,
replies without a position to the heard-nearby rule, and the detector's events to
the landing and silence rules. Every rule raises through one :class:`Raiser`
sharing one :class:`Cooldown`.

*Stale positions.* The same aircraft from the local receiver and a delayed
aggregator is one ``AircraftState``; positions older than the last one judged are
skipped, so interleaved sources cannot walk a track back across a border.

*Not identified yet.* A take-off is judged from the first positions heard, often
before the identification that matches a callsign prefix: what the detector says of
an aircraft with neither callsign nor registration yet is held until its identity is
heard (then told, with its own times) or for ``_HOLD_S`` at most.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from flightwatch.alerts.detect.events import (
    Arrival,
    Confirmation,
    Dark,
    Departure,
    DetectionEvent,
    Retraction,
    Silence,
)
from flightwatch.alerts.geofence import Geofence
from flightwatch.alerts.recent_track import RecentTracks
from flightwatch.alerts.rules.config import RuleConfig
from flightwatch.alerts.rules.cooldown import Cooldown, RecordedLookup
from flightwatch.alerts.rules.fences import ApproachingRule, FenceRule
from flightwatch.alerts.rules.identity import IdentityRule
from flightwatch.alerts.rules.landings import LandingRules
from flightwatch.alerts.rules.nearby import HeardNearbyRule
from flightwatch.alerts.rules.raising import AlertSinkLike, Raiser
from flightwatch.alerts.rules.silence import SilenceRules
from flightwatch.alerts.rules.squawk import SquawkRule
from flightwatch.alerts.rules.tracked import EXTRA_KEY, Latch, Tracked, tracked_of
from flightwatch.alerts.watchlist import Match, Watchlist
from flightwatch.decoder import Observation
from flightwatch.decoder.tracker import AircraftState, Position, TrackUpdate

_HOLD_S = 600.0
_HOLD_AT_MOST = 8
_HELD_AIRCRAFT_AT_MOST = 1024


class AlertRules:
    """The alert rules; alerts go to ``sink``."""

    def __init__(
        self,
        watchlist: Watchlist,
        fences: Sequence[Geofence],
        sink: AlertSinkLike,
        config: RuleConfig | None = None,
        *,
        receiver: str | None = None,
        recorded: RecordedLookup | None = None,
    ) -> None:
        self.config = cfg = config or RuleConfig()
        self.watchlist = watchlist
        self.fences = list(fences)
        self.sink = sink
        self._generation = 0
        self.cooldown = Cooldown(cfg.cooldown_s, recorded)
        self.raise_ = Raiser(sink, cfg.events, self.cooldown, receiver)
        self._fence = FenceRule(self.raise_, cfg)
        self._approach = ApproachingRule(self.raise_, cfg)
        self._squawk = SquawkRule(self.raise_, cfg.squawks)
        self._nearby = HeardNearbyRule(self.raise_, cfg)
        self._identity = IdentityRule(self.raise_)
        self._landings = LandingRules(self.raise_, self.match_of)
        self._silence = SilenceRules(self.raise_, self.match_of)
        self._held: dict[str, list[DetectionEvent]] = {}  # icao -> told once identified

    @property
    def alerts_raised(self) -> int:
        return self.raise_.raised

    @property
    def recent_tracks(self) -> RecentTracks | None:
        """The recent tracks the alerts carry for their pictures (set by the wiring)."""
        return self.raise_.recent_tracks

    @recent_tracks.setter
    def recent_tracks(self, tracks: RecentTracks | None) -> None:
        self.raise_.recent_tracks = tracks

    def watches(self, state: AircraftState) -> bool:
        """Whether the aircraft matched the watchlist when last judged."""
        tracked = tracked_of(state)
        return tracked is not None and tracked.match is not None

    def remember(self, raised: Iterable[tuple[str, str | None, str, datetime]]) -> None:
        """Alerts raised before this process started: their cooldowns still run."""
        self.cooldown.remember(raised)

    def reload(self, watchlist: Watchlist, fences: Sequence[Geofence]) -> None:
        """Swap the watchlist and fences (SIGHUP); every aircraft is matched and judged anew."""
        self.watchlist = watchlist
        self.fences = list(fences)
        self._generation += 1

    # --- TrackListener ------------------------------------------------------------

    def on_update(self, update: TrackUpdate, obs: Observation) -> None:
        state = update.state
        tracked = tracked_of(state)
        if (tracked is None or update.callsign_changed
                or (obs.registration is not None and obs.registration != tracked.registration)
                or tracked.generation != self._generation):
            tracked = self._rematch(state, tracked, obs.time)
        if self._held and (state.callsign is not None or state.registration is not None):
            self._release(state, tracked, obs.time)
        if tracked.match is not None:
            position = update.position
            if position is not None:
                self._judge_position(state, tracked, position)
            elif not obs.verified and state.position is None:
                self._nearby.heard(obs, tracked.match)
        self._squawk.judge(self.fences, state, tracked.match, obs.time)

    def wants_replies(self, icao: str) -> bool:
        """Replies of a watched address, to tell that it is heard nearby."""
        return icao in self.watchlist

    def follows(self, state: AircraftState) -> bool:
        """Every position of a watched aircraft is judged (a fence crossed between two
        stored positions still raises its alert on time); so is every position of an
        aircraft not matched yet against the current watchlist, of one whose callsign is
        not known yet (it may reveal an identity anomaly, reported where it was heard),
        and of one squawking a code alerted on (inside a fence, any aircraft)."""
        tracked = tracked_of(state)
        if (tracked is None or tracked.match is not None
                or tracked.generation != self._generation or state.callsign is None):
            return True
        return self._squawk.alerted(state) is not None

    def on_unverified(self, obs: Observation) -> None:
        if obs.icao not in self.watchlist:
            return
        match = self.watchlist.match(obs.icao)
        if match is not None and match.matched_by == "icao":
            self._nearby.heard(obs, match)

    def on_lost(self, state: AircraftState, now: datetime) -> None:
        return None  # the detector says what a loss was (a Silence, a Dark, an Arrival)

    # --- detection Subscriber -----------------------------------------------------

    def on_position(self, position: Position, registration: str | None, airborne: bool) -> None:
        return None  # positions are judged as they are heard (on_update), not as stored

    def on_event(self, event: DetectionEvent) -> None:
        state = event.state
        if (state.callsign is None and state.registration is None
                and self.match_of(state) is None and not isinstance(event, Silence | Dark)):
            self._hold(event)
            return
        self._tell(event)

    def _hold(self, event: DetectionEvent) -> None:
        icao = event.state.icao
        if icao not in self._held and len(self._held) >= _HELD_AIRCRAFT_AT_MOST:
            del self._held[next(iter(self._held))]  # the longest unidentified
        held = self._held.setdefault(icao, [])
        if len(held) < _HOLD_AT_MOST:
            held.append(event)

    def _release(self, state: AircraftState, tracked: Tracked, time: datetime) -> None:
        """The aircraft is identified: tell what was held for it, if it is watched."""
        held = self._held.pop(state.icao, None)
        if not held or tracked.match is None:
            return
        for event in held:
            if (time - event.state.last_seen).total_seconds() <= _HOLD_S:
                self._tell(event)

    def _tell(self, event: DetectionEvent) -> None:
        fences = self.fences
        if isinstance(event, Arrival):
            self._landings.arrival(fences, event)
        elif isinstance(event, Departure):
            self._landings.departure(fences, event)
        elif isinstance(event, Confirmation):
            self._landings.confirmation(fences, event)
        elif isinstance(event, Retraction):
            self._landings.retraction(fences, event)
        elif isinstance(event, Silence):
            self._silence.silence(fences, event)
        elif isinstance(event, Dark):
            self._silence.dark(fences, event)

    # --- matching -----------------------------------------------------------------

    def match_of(self, state: AircraftState) -> Match | None:
        """The watchlist match of an aircraft the detector speaks of (matched now if the
        rules have not heard it yet: the detector listens first)."""
        tracked = tracked_of(state)
        if tracked is None or tracked.generation != self._generation:
            return self.watchlist.match(state.icao, state.registration, state.callsign)
        return tracked.match

    def _rematch(self, state: AircraftState, tracked: Tracked | None,
                 time: datetime) -> Tracked:
        """Match again (new aircraft, new callsign or registration, reloaded watchlist)."""
        match = self.watchlist.match(state.icao, state.registration, state.callsign)
        if tracked is None or tracked.generation != self._generation:
            tracked = Tracked(match, state.registration, self._generation)
            state.extra[EXTRA_KEY] = tracked
        else:
            tracked.match, tracked.registration = match, state.registration
        if state.registration or state.callsign:
            self._identity.judge(self.watchlist, state, time)
        return tracked

    def _judge_position(self, state: AircraftState, tracked: Tracked, position: Position) -> None:
        if tracked.last_time is not None and position.time <= tracked.last_time:
            return  # older than what was judged already: a delayed second source
        tracked.last_time = position.time
        if len(tracked.fences) != len(self.fences):
            tracked.fences = [Latch() for _ in self.fences]
        self._fence.judge(self.fences, state, tracked, position)
        if state.on_ground is not True:
            self._approach.judge(self.fences, state, tracked, position)
