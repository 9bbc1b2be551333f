"""The detector: one state machine per aircraft, judging arrivals, departures and losses.

A pipeline ``TrackListener``. It judges the positions the store keeps (so a replay
judges exactly what the live run did, however many frames were left undecoded) and,
at a loss, the last position heard. It tells its subscribers (the flights, the alert
rules) what it decided, as :mod:`~flightwatch.alerts.detect.events`, each judgement
made once:

- **on the ground**, heard: surface messages, or low and slow at an airport; a change
  of ground state counts once it held for ``confirm_positions`` positions, its time
  the first of them (``observed`` landing or take-off);
- **lost**: low near a field (``inferred``, :mod:`.near_field`), on a descent that
  fits an airport (``probable``, :mod:`.trajectory`; the loss explained by the
  receiver's coverage), else a silence (at the edge of coverage, or unknown), or, well
  inside coverage in level flight away from airports and still silent ``dark_after``
  later, ``Dark``;
- **first heard** climbing: low near a field (``inferred``), or back-projected to a
  field the climb can have started from (``probable``);
- **heard again** after a loss that was (or could have been) an arrival: climbing away
  from the same airport, it is a turnaround (``Confirmation``: the arrival becomes
  ``confirmed``, the departure gets its time on the ground); in the air and not
  climbing within the flights gap, or in cruise far from the airport later, or too
  soon to have landed and taken off, the arrival was wrong (``Retraction``).

Losses are remembered apart from the tracker's state (which goes with the loss) for
``turnaround_s``; after a restart a loss stored before it is looked up once per aircraft
(``remembered``).
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flightwatch.alerts.detect import reasons
from flightwatch.alerts.detect.config import DetectionConfig
from flightwatch.alerts.detect.coverage import CoverageMap, Verdict
from flightwatch.alerts.detect.events import (
    Arrival,
    Confirmation,
    Dark,
    Departure,
    DetectionEvent,
    Retraction,
    Silence,
    Subscriber,
)
from flightwatch.alerts.detect.geometry import height_ft
from flightwatch.alerts.detect.ground import on_the_ground
from flightwatch.alerts.detect.near_field import (
    LEVEL_FPM,
    climbing,
    inferred_arrival,
    inferred_departure,
    not_climbing,
)
from flightwatch.alerts.detect.trajectory import (
    ACCEPT,
    Candidate,
    Fit,
    RecentTrack,
    arrival_fit,
    departure_fit,
    runway_needed_ft,
)
from flightwatch.db.airports import Airport, AirportIndex, haversine_km
from flightwatch.db.evidence import (
    CONFIRMED,
    INFERRED,
    OBSERVED,
    PROBABLE,
    AirportFix,
    LostFlight,
)
from flightwatch.decoder.tracker import AircraftState, Position

if TYPE_CHECKING:
    from flightwatch.decoder import Observation
    from flightwatch.decoder.tracker import TrackUpdate

log = logging.getLogger(__name__)

_EXTRA_KEY = "detect"
_DEPARTURE_WINDOW = timedelta(seconds=90)  # a climb-out is looked for this long
_RETRY_DEPARTURE = timedelta(seconds=20)
_TRACK_BELOW_FT = 26000.0  # recent samples are kept below this (descents worth projecting)
_NEAR_FIELD_UNCERTAINTY_S = 90
_LOSSES_AT_MOST = 4096
_FAR_KM = 100.0  # heard again this far from an arrival's airport, not climbing: withdrawn
_CRUISE_ABOVE_FT = 15000.0  # ... or this high above it
_DARK_ABOVE_FT = 5000.0  # a dark loss is above this height over the nearest field
_DARK_AIRPORT_KM = 30.0  # ... and no field this near
_LOST_AFTER = timedelta(seconds=60)  # the tracker's silence before a loss, by default
_STOP_S = 300.0  # a turnaround is at least this long on the ground, by the estimates

# (since, until) -> icao: the latest flight of each aircraft stored between those times
# whose end was judged an arrival at its loss: one that may still pair or be withdrawn
# (``db.flights.open_arrivals`` bound to an engine).
LossLookup = Callable[[datetime, datetime], dict[str, LostFlight]]


@dataclass(slots=True)
class _Loss:
    """A loss that was, or could have been, an arrival: kept for ``turnaround_s``."""

    at: datetime  # last heard
    position: Position | None  # None: remembered from before a restart
    fix: AirportFix | None  # the arrival told at the loss (None: only candidates)
    airports: tuple[Airport, ...]  # its airport, or the candidates that fit alike
    candidates: tuple[Candidate, ...]  # where the descent could have ended, best first
    reason: str
    runway: str | None = None

    def fits(self) -> list[tuple[Airport, float]]:
        """(airport, misfit) of every airport this loss may have been an arrival at."""
        if self.candidates:
            return [(c.airport, c.misfit) for c in self.candidates]
        return [(a, 0.0) for a in self.airports]


@dataclass(slots=True)
class _Pending:
    """A dark candidate waiting for ``dark_after`` of silence."""

    state: AircraftState
    position: Position
    verdict: Verdict
    cancelled: bool = False


@dataclass(slots=True, eq=False)
class _Aircraft:
    """What the detector remembers of one tracked aircraft (in ``AircraftState.extra``)."""

    track: RecentTrack = field(default_factory=RecentTrack)
    ground: bool | None = None  # settled ground state; None: not judged yet
    airport: Airport | None = None  # where it stands (or last stood)
    landed: AirportFix | None = None  # its last arrival, for the time on the ground
    pending: list[tuple[Position, bool, Airport | None]] = field(default_factory=list)
    window_until: datetime | None = None  # the departure is looked for until then
    next_try: datetime | None = None  # ... next at this time
    loss: _Loss | None = None  # the loss before this track, still to be settled


class Detector:
    """Arrivals, departures and losses of every aircraft, told to ``subscribers``."""

    def __init__(
        self,
        airports: AirportIndex,
        config: DetectionConfig | None = None,
        *,
        coverage: CoverageMap | None = None,
        is_local: Callable[[str], bool] = lambda _source: False,
        remembered: LossLookup | None = None,
    ) -> None:
        self.airports = airports
        self.config = config or DetectionConfig()
        self.coverage = coverage
        self.is_local = is_local
        self.remembered = remembered
        self.subscribers: list[Subscriber] = []
        self._losses: dict[str, _Loss] = {}
        self._dark: list[tuple[datetime, int, str]] = []  # (deadline, order, icao) heap
        self._pending_dark: dict[str, _Pending] = {}
        self._order = 0
        self._window = timedelta(seconds=self.config.turnaround_s)
        self._gap_s = self.config.flights_gap_s
        self._ground_margin_ft = (max(self.config.landed_below_ft,
                                      self.config.inferred_below_ft) + 1500.0)
        self._stored: dict[str, LostFlight] | None = None  # read once, at the first position
        self._stored_until: datetime | None = None

    # --- TrackListener ------------------------------------------------------------

    def on_update(self, update: TrackUpdate, obs: Observation) -> None:
        if self._dark:
            self._confirm_dark(obs.time)
        position = update.position
        if update.store and position is not None:
            self.judge(update.state, position)

    def on_unverified(self, obs: Observation) -> None:
        return None

    def wants_replies(self, icao: str) -> bool:
        return False

    def follows(self, state: AircraftState) -> bool:
        """Where a landing may be (near the ground), every position is decoded, so the
        last one heard before a loss is the one the live run heard."""
        altitude, position = state.altitude_ft, state.position
        if altitude is None or position is None:
            return True
        return altitude < self._near_ground_ft(position.lat, position.lon)

    def on_lost(self, state: AircraftState, now: datetime) -> None:
        memory = state.extra.get(_EXTRA_KEY)
        if not isinstance(memory, _Aircraft):
            return
        self._release(state, memory, None)
        if memory.loss is not None:  # heard again, never settled: decide with what was heard
            self._settle_without_departure(state, memory, state.position)
        if memory.ground or state.on_ground:
            if memory.landed is not None:  # parked: the next take-off says how long
                airports = (memory.airport,) if memory.airport is not None else ()
                self._remember(state.icao, _Loss(state.last_seen, state.position, memory.landed,
                                                 airports, (), memory.landed.reason or ""))
        else:
            self._judge_loss(state, memory, now)
        if self._dark:
            self._confirm_dark(now)

    def close(self) -> None:
        """The data ended (a replay's last frame): a dark candidate still waiting cannot be
        told from an aircraft the capture simply stopped hearing, so it is a silence."""
        for pending in sorted(self._pending_dark.values(), key=lambda p: p.position.time):
            if not pending.cancelled:
                lost = pending.state.last_seen + _LOST_AFTER
                reason = reasons.silence(pending.position, pending.verdict, False)
                self._emit(Silence(pending.state, pending.position, lost, False,
                                   f"{reason}; the data ended before it could be judged dark"))
        self._pending_dark.clear()
        self._dark.clear()

    # --- one stored position ------------------------------------------------------

    def judge(self, state: AircraftState, position: Position) -> None:
        """One stored position of a tracked aircraft, in time order."""
        memory = state.extra.get(_EXTRA_KEY)
        if not isinstance(memory, _Aircraft):
            memory = _Aircraft(loss=self._loss_before(state.icao, position.time))
            state.extra[_EXTRA_KEY] = memory
        if self.coverage is not None and self.is_local(position.source):
            self.coverage.observe(position.lat, position.lon, position.altitude_ft)
        if position.altitude_ft is not None and position.altitude_ft < _TRACK_BELOW_FT:
            memory.track.add(position)
        down, airport = on_the_ground(position, self.airports, self.config)
        if memory.ground is None:  # first judgement: nothing to confirm against
            memory.ground = down
            memory.airport = airport if down else None
            self._forward(position, state.registration, not down)
            if down:
                self._settle_on_ground(state, memory, position)
            else:
                memory.window_until = position.time + _DEPARTURE_WINDOW
                self._look_for_departure(state, memory, position)
        elif down == memory.ground:
            self._release(state, memory, not down)  # a blip: the held were no change
            if down and airport is not None:
                memory.airport = airport
            self._forward(position, state.registration, not down)
            if not down and memory.window_until is not None:
                self._look_for_departure(state, memory, position)
        else:
            memory.pending.append((position, down, airport))
            if len(memory.pending) >= self.config.confirm_positions:
                self._change(state, memory)

    def _loss_before(self, icao: str, time: datetime) -> _Loss | None:
        """The loss (within the turnaround window) a new track may settle."""
        pending = self._pending_dark.pop(icao, None)
        if pending is not None:
            pending.cancelled = True  # heard again before dark_after: a fade, not dark
        loss = self._losses.pop(icao, None) or self._stored_loss(icao, time)
        if loss is not None and timedelta(0) < time - loss.at <= self._window:
            return loss
        return None

    def _change(self, state: AircraftState, memory: _Aircraft) -> None:
        """The held positions confirmed a change of ground state: a landing or a take-off."""
        first, down, airport = memory.pending[0]
        memory.ground = down
        memory.window_until = None
        if down:
            touchdown = airport or next((a for _, _, a in memory.pending if a is not None), None)
            code = touchdown.code if touchdown is not None else None
            height = (height_ft(first.altitude_ft, touchdown)
                      if touchdown is not None and first.altitude_ft is not None else None)
            fix = AirportFix(code, first.time, OBSERVED, 0, reasons.observed(
                code, first.on_ground, height, first.ground_speed_kt))
            memory.airport, memory.landed = touchdown, fix
            self._emit(Arrival(state, first, fix, (touchdown,) if touchdown else ()))
        else:
            origin = memory.airport or self.airports.nearest(
                first.lat, first.lon, self.config.airport_radius_km)
            code = origin.code if origin is not None else None
            landed = memory.landed
            ground_s = (round((first.time - landed.time).total_seconds())
                        if landed is not None and landed.airport == code else None)
            fix = AirportFix(code, first.time, OBSERVED, 0, reasons.took_off(code))
            memory.airport, memory.landed = None, None
            self._emit(Departure(state, first, fix, (origin,) if origin else (), True, ground_s))
        self._release(state, memory, not down)

    def _release(self, state: AircraftState, memory: _Aircraft, airborne: bool | None) -> None:
        """Hand the held positions on (they were not a change, or the change is told)."""
        if not memory.pending:
            return
        held, memory.pending = memory.pending, []
        for position, down, _airport in held:
            self._forward(position, state.registration,
                          (not down) if airborne is None else airborne)

    # --- first heard: departures and turnarounds ----------------------------------

    def _look_for_departure(self, state: AircraftState, memory: _Aircraft,
                            position: Position) -> None:
        """During its first minute and a half airborne: did it just take off, and where?"""
        assert memory.window_until is not None
        over = position.time > memory.window_until
        if over or (position.vertical_rate_fpm is not None and not climbing(position)):
            memory.window_until = None
            self._settle_without_departure(state, memory, position)
            return
        if position.vertical_rate_fpm is None:
            return  # no velocity message yet
        if memory.next_try is not None and position.time < memory.next_try:
            return  # a climb's fit changes little within seconds: try again in a while
        memory.next_try = position.time + _RETRY_DEPARTURE
        departure, fit = self._departure(state, memory, position)
        loss = memory.loss
        if loss is not None:
            if self._pair(state, memory, loss, departure, fit, position):
                memory.window_until, memory.loss = None, None
        elif departure is not None:
            memory.window_until = None
            self._emit(departure)

    def _departure(self, state: AircraftState, memory: _Aircraft,
                   position: Position) -> tuple[Departure | None, Fit | None]:
        """First heard climbing at ``position``: from where (inferred, or probable), and the
        fit of the climb to every airport (a turnaround compares it with a loss)."""
        fit = departure_fit(position, memory.track, self.airports, self.config,
                            runway_needed_ft(state.category))
        near = inferred_departure(position, self.airports, self.config)
        if near is not None:
            fix = AirportFix(near.airport.code, near.time, INFERRED, _NEAR_FIELD_UNCERTAINTY_S,
                             reasons.near_field_departure(near))
            return Departure(state, position, fix, (near.airport,), False,
                             runway=near.runway), fit
        best = fit.best(self.config.alike) if fit is not None else ()
        if fit is None or not best:
            return None, fit
        top = best[0]
        fix = AirportFix(top.airport.code if len(best) == 1 else None, top.time, PROBABLE,
                         top.uncertainty_s,
                         reasons.probable_departure(position, fit.rate_fpm, best),
                         tuple(c.airport.code for c in best) if len(best) > 1 else ())
        return Departure(state, position, fix, tuple(c.airport for c in best), False), fit

    def _pair(self, state: AircraftState, memory: _Aircraft, loss: _Loss,
              departure: Departure | None, fit: Fit | None, position: Position) -> bool:
        """First heard climbing after a loss: a turnaround at an airport both fit, a
        go-around (climbing away too soon), or an unrelated departure. False: nothing
        decided yet (the climb fits nowhere so far)."""
        silent = (position.time - loss.at).total_seconds()
        pairs = []
        for airport, loss_misfit in loss.fits():
            climb = fit.get(airport.code) if fit is not None else None
            if departure is not None and departure.fix.airport == airport.code:
                climbed = climb.misfit if climb is not None else 0.0  # inferred: no fit
                pairs.append((loss_misfit + climbed, airport, departure.fix))
            elif climb is not None and climb.misfit <= ACCEPT:
                pairs.append((loss_misfit + climb.misfit, airport, AirportFix(
                    airport.code, climb.time, PROBABLE, climb.uncertainty_s,
                    reasons.probable_departure(position, fit.rate_fpm if fit else 0.0,
                                               [climb]))))
        if not pairs:
            if departure is None:
                return False
            self._emit(departure)
            if silent <= self._gap_s:
                self._retract(state, loss, position, silent,
                              "climbing, but not away from where it was said to land")
            return True
        _score, airport, lifted = min(pairs, key=lambda p: (p[0], p[1].ident))
        arrival = self._arrival_at(state, loss, airport)
        ground_s = (lifted.time - arrival.fix.time).total_seconds()
        if ground_s < _STOP_S:
            # It never stopped there: a go-around, or at most a touch-and-go. It did not
            # take off either: the flight goes on.
            self._retract(state, loss, position, silent,
                          f"climbing away {reasons.duration(silent)} after it was lost, too "
                          "soon to have stopped there (a go-around or a touch-and-go)")
            return True
        memory.landed = None
        starts = loss.fix is not None and silent <= self._gap_s
        runway = departure.runway if departure is not None else None
        took_off = Departure(state, position, lifted, (airport,), starts,
                             round(max(ground_s, 0.0)), runway)
        reason = reasons.turnaround(loss.reason, lifted.reason or "", silent)
        confirmed = replace(arrival, fix=replace(arrival.fix, evidence=CONFIRMED, reason=reason))
        revealed = loss.fix is None or loss.fix.airport != airport.code
        self._emit(Confirmation(state, confirmed, took_off, revealed))
        self._emit(took_off)
        return True

    def _arrival_at(self, state: AircraftState, loss: _Loss, airport: Airport) -> Arrival:
        """The loss's arrival at ``airport``: as judged then, or from its candidate there."""
        fix = loss.fix
        if fix is None or fix.airport != airport.code:
            candidate = next((c for c in loss.candidates if c.airport.code == airport.code),
                             None)
            if candidate is not None:
                fix = AirportFix(airport.code, candidate.time, PROBABLE,
                                 candidate.uncertainty_s, loss.reason)
            elif fix is not None:  # two fitted alike at the loss: its estimate stands
                fix = replace(fix, airport=airport.code, candidates=())
            else:
                fix = AirportFix(airport.code, loss.at, PROBABLE, 0, loss.reason)
        return Arrival(state, loss.position, fix, (airport,), loss.runway, loss.at)

    def _settle_without_departure(self, state: AircraftState, memory: _Aircraft,
                                  position: Position | None) -> None:
        """Heard again after a loss, and no take-off from there: withdraw the arrival when it
        cannot have happened (in the air within the flights gap; in cruise, far or high,
        later)."""
        loss, memory.loss = memory.loss, None
        if loss is None or loss.fix is None or position is None:
            return
        silent = (position.time - loss.at).total_seconds()
        if silent <= self._gap_s:
            why = ("climbing, but not away from where it was said to land" if climbing(position)
                   else "in the air and not climbing: it had only dropped below coverage")
            self._retract(state, loss, position, silent, why)
            return
        if not not_climbing(position) or position.altitude_ft is None:
            return
        for airport in loss.airports:
            km = haversine_km(position.lat, position.lon, airport.lat, airport.lon)
            if km > _FAR_KM or height_ft(position.altitude_ft, airport) > _CRUISE_ABOVE_FT:
                self._retract(state, loss, position, silent,
                              f"in cruise {km:,.0f} km from {airport.code}, not climbing")
                return

    def _settle_on_ground(self, state: AircraftState, memory: _Aircraft,
                          position: Position) -> None:
        """First heard on the ground after a loss: standing where the loss pointed confirms
        the arrival there (an observed one just gives the time on the ground)."""
        loss, memory.loss = memory.loss, None
        here = memory.airport
        if loss is None or here is None:
            return
        if loss.fix is not None and loss.fix.evidence == OBSERVED:
            memory.landed = loss.fix if loss.fix.airport == here.code else None
            return
        if all(airport.code != here.code for airport, _misfit in loss.fits()):
            return
        arrival = self._arrival_at(state, loss, here)
        silent = (position.time - loss.at).total_seconds()
        reason = reasons.turnaround(loss.reason, reasons.observed(here.code, True, None, None),
                                    silent)
        confirmed = replace(arrival, fix=replace(arrival.fix, evidence=CONFIRMED, reason=reason))
        memory.landed = confirmed.fix
        self._emit(Confirmation(state, confirmed, None,
                                loss.fix is None or loss.fix.airport != here.code))

    def _retract(self, state: AircraftState, loss: _Loss, position: Position, silent: float,
                 why: str) -> None:
        if loss.fix is None or loss.fix.evidence == OBSERVED:
            return
        self._emit(Retraction(state, position, loss.fix, loss.airports, loss.at, round(silent),
                              reasons.retraction(position, silent, why), loss.runway))

    # --- losses ---------------------------------------------------------------------

    def _judge_loss(self, state: AircraftState, memory: _Aircraft, now: datetime) -> None:
        position = self._last_heard(state)
        if position is None or position.altitude_ft is None:
            self._emit(Silence(state, position, now, None, reasons.silence(position, None, None)))
            return
        near = inferred_arrival(position, self.airports, self.config)
        if near is not None:
            reason = reasons.near_field_arrival(near, position.ground_speed_kt)
            fix = AirportFix(near.airport.code, near.time, INFERRED, _NEAR_FIELD_UNCERTAINTY_S,
                             reason)
            self._arrived_at_loss(state, position, _Loss(
                position.time, position, fix, (near.airport,), (), reason, near.runway))
            return
        verdict = self._verdict(state, position)
        fraction = verdict.fraction if verdict is not None else None
        inside = fraction is not None and fraction < self.config.dark_inside
        fit = arrival_fit(position, memory.track, self.airports, self.config,
                          runway_needed_ft(state.category))
        best = fit.best(self.config.alike) if fit is not None else ()
        if fit is not None and best and not inside:
            reason = reasons.probable_arrival(position, fit.rate_fpm, best)
            edge = reasons.coverage_edge(verdict, self.config.coverage_edge)
            reason = f"{reason}; {edge}" if edge else reason
            top = best[0]
            fix = AirportFix(top.airport.code if len(best) == 1 else None, top.time, PROBABLE,
                             top.uncertainty_s, reason,
                             tuple(c.airport.code for c in best) if len(best) > 1 else ())
            self._arrived_at_loss(state, position, _Loss(
                position.time, position, fix, tuple(c.airport for c in best), fit.candidates,
                reason))
            return
        if fit is not None:  # lost descending: a turnaround may still reveal a landing
            self._remember(state.icao, _Loss(
                position.time, position, None, (), fit.candidates,
                reasons.probable_arrival(position, fit.rate_fpm, fit.candidates[:1])))
        silence = self._silence(state, position, verdict, now)
        if silence is not None:
            self._emit(silence)

    def _last_heard(self, state: AircraftState) -> Position | None:
        """The position a loss is judged at: the last heard where every position is decoded
        (near the ground), else the last stored, so that leaving undecoded what nobody
        uses never changes a judgement."""
        if self.follows(state):
            return state.position
        return state.stored or state.position

    def _arrived_at_loss(self, state: AircraftState, position: Position, loss: _Loss) -> None:
        assert loss.fix is not None
        self._remember(state.icao, loss)
        self._emit(Arrival(state, position, loss.fix, loss.airports, loss.runway, loss.at))

    def _verdict(self, state: AircraftState, position: Position) -> Verdict | None:
        """The loss against this receiver's coverage, when a receiver of ours heard it."""
        if self.coverage is None or position.altitude_ft is None:
            return None
        if not any(self.is_local(source) for source in state.sources):
            return None
        return self.coverage.verdict(position.lat, position.lon, position.altitude_ft)

    def _silence(self, state: AircraftState, position: Position, verdict: Verdict | None,
                 now: datetime) -> Silence | None:
        """A loss with no landing: left coverage, unknown, or (held) a dark candidate."""
        fraction = verdict.fraction if verdict is not None else None
        if (verdict is not None and fraction is not None and fraction < self.config.dark_inside
                and self._level_and_away(state, position)):
            self._hold_dark(state, position, verdict)
            return None
        left = None if fraction is None else fraction >= self.config.coverage_edge
        return Silence(state, position, now, left,
                       reasons.silence(position, verdict, left))

    def _level_and_away(self, state: AircraftState, position: Position) -> bool:
        """Level (over the last minutes), well above the ground, no field within 30 km."""
        rate = state_track(state).vertical_rate_fpm(position)
        if rate is None or abs(rate) >= LEVEL_FPM or position.altitude_ft is None:
            return False
        if self.airports.within(position.lat, position.lon, _DARK_AIRPORT_KM):
            return False
        return position.altitude_ft > _DARK_ABOVE_FT + self._near_ground_ft(
            position.lat, position.lon)

    def _hold_dark(self, state: AircraftState, position: Position, verdict: Verdict) -> None:
        deadline = position.time + timedelta(seconds=self.config.dark_after_s)
        self._pending_dark[state.icao] = _Pending(state, position, verdict)
        self._order += 1
        heapq.heappush(self._dark, (deadline, self._order, state.icao))

    def _confirm_dark(self, now: datetime) -> None:
        while self._dark and self._dark[0][0] <= now:
            _deadline, _order, icao = heapq.heappop(self._dark)
            pending = self._pending_dark.pop(icao, None)
            if pending is None or pending.cancelled:
                continue
            silent = (now - pending.position.time).total_seconds()
            self._emit(Dark(pending.state, pending.position, pending.verdict.distance_km,
                            pending.verdict.edge_km or 0.0, round(silent),
                            reasons.dark(pending.position, pending.verdict, silent)))

    def _remember(self, icao: str, loss: _Loss) -> None:
        if len(self._losses) >= _LOSSES_AT_MOST:
            cutoff = loss.at - self._window
            self._losses = {k: v for k, v in self._losses.items() if v.at >= cutoff}
            if len(self._losses) >= _LOSSES_AT_MOST:
                del self._losses[next(iter(self._losses))]
        self._losses[icao] = loss

    def _stored_loss(self, icao: str, time: datetime) -> _Loss | None:
        """A loss stored before this process started (a restart) that a new track may settle:
        every such loss of the window before the first position judged is read at once (one
        query, not one per aircraft), and each is used once."""
        if self.remembered is None:
            return None
        if self._stored is None:
            self._stored_until = time
            try:
                self._stored = self.remembered(time - self._window, time)
            except Exception:  # the database is down: nothing to pair, decoding goes on
                log.exception("could not read the losses stored before this start")
                self._stored = {}
        stored = self._stored.pop(icao, None)
        if stored is None:
            return None
        fix = stored.arrival
        codes = (fix.airport,) if fix.airport else fix.candidates
        airports = tuple(a for a in map(self.airports.get, codes) if a is not None)
        return _Loss(stored.last_seen, None, fix, airports, (), fix.reason or "")

    # --- plumbing -------------------------------------------------------------------

    def _near_ground_ft(self, lat: float, lon: float) -> float:
        """Near the ground here: below the highest field around (runway ends included)
        plus the landing thresholds plus 1,500 ft of barometric margin. Around, not the
        world's highest (Daocheng Yading, 14,472 ft), or nearly every position below
        17,000 ft would be decoded everywhere."""
        return self.airports.ceiling_ft(lat, lon) + self._ground_margin_ft

    def _forward(self, position: Position, registration: str | None, airborne: bool) -> None:
        for subscriber in self.subscribers:
            subscriber.on_position(position, registration, airborne)

    def _emit(self, event: DetectionEvent) -> None:
        for subscriber in self.subscribers:
            try:
                subscriber.on_event(event)
            except Exception:  # one failing subscriber must not stop the others or decoding
                log.exception("detection: a subscriber failed on %s", type(event).__name__)


def state_track(state: AircraftState) -> RecentTrack:
    """The recent samples the detector keeps of a tracked aircraft (empty if none)."""
    memory = state.extra.get(_EXTRA_KEY)
    return memory.track if isinstance(memory, _Aircraft) else RecentTrack()
