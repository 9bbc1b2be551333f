"""``landed``, ``took_off`` and ``landing_retracted``: the detector's judgements, told.

The detector (:mod:`flightwatch.alerts.detect`) decides; these rules say it once per
fence the airport is in, with the grade (``evidence``), the estimated time and its
uncertainty, and the reason. A landing is told once: at the loss when it is already
judged (probable, inferred), or at the turnaround when only the take-off reveals it
(``confirmed``, saying when it landed). A wrong one is corrected
(``landing_retracted``) and its cooldown lifted, so the real landing still alerts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flightwatch.alerts.detect.events import Arrival, Confirmation, Departure, Retraction
from flightwatch.alerts.detect.reasons import duration
from flightwatch.alerts.geofence import Geofence
from flightwatch.alerts.rules import details
from flightwatch.alerts.rules.cooldown import key
from flightwatch.alerts.rules.raising import Raiser, state_fields
from flightwatch.alerts.watchlist import Match
from flightwatch.db.airports import Airport
from flightwatch.db.evidence import AirportFix
from flightwatch.decoder.tracker import AircraftState, Position

MatchOf = Callable[[AircraftState], Match | None]


def fences_at(fences: Sequence[Geofence], airports: Sequence[Airport],
              position: Position | None) -> list[str]:
    """The fences an airport (any of several candidates; none: the position) lies in."""
    points = [(a.lat, a.lon) for a in airports] or (
        [(position.lat, position.lon)] if position is not None else [])
    return [f.name for f in fences if any(f.contains(lat, lon) for lat, lon in points)]


def _landing(fix: AirportFix, airports: Sequence[Airport], runway: str | None = None,
             **extra: object) -> details.Landing:
    return details.Landing(
        airport_name=airports[0].name if len(airports) == 1 else None,
        runway=runway, reason=fix.reason, uncertainty_s=fix.uncertainty_s or None,
        candidates=fix.candidates, **extra,  # type: ignore[arg-type]
    )


def _fields(state: AircraftState, position: Position | None,
            airports: Sequence[Airport]) -> dict[str, object]:
    """The alert's identity and position: the position heard, else the airport's."""
    out = state_fields(state, position)
    if position is None and len(airports) == 1:
        out.update(lat=airports[0].lat, lon=airports[0].lon)
    return out


class LandingRules:
    def __init__(self, raise_: Raiser, match_of: MatchOf) -> None:
        self.raise_ = raise_
        self.match_of = match_of

    def arrival(self, fences: Sequence[Geofence], event: Arrival,
                confirmed_by: str | None = None) -> None:
        self._tell("landed", fences, event, event.fix,
                   _landing(event.fix, event.airports, event.runway,
                            last_heard=event.last_heard, confirmed_by=confirmed_by),
                   _fields(event.state, event.position, event.airports))

    def confirmation(self, fences: Sequence[Geofence], event: Confirmation) -> None:
        """Only a landing the loss did not already tell is told now."""
        if not event.revealed:
            return
        departure = event.departure
        if departure is not None:
            silent = (departure.position.time - (event.arrival.last_heard or
                                                 departure.position.time)).total_seconds()
            why = f"its take-off from {departure.fix.airport} {duration(silent)} after the loss"
        else:
            why = f"heard on the ground at {event.arrival.fix.airport}"
        self.arrival(fences, event.arrival, confirmed_by=why)

    def departure(self, fences: Sequence[Geofence], event: Departure) -> None:
        self._tell("took_off", fences, event, event.fix,
                   _landing(event.fix, event.airports, event.runway, ground_s=event.ground_s),
                   state_fields(event.state, event.position))

    def _tell(self, kind: str, fences: Sequence[Geofence], event: Arrival | Departure,
              fix: AirportFix, facts: details.Landing, fields: dict[str, object]) -> None:
        """A landing or a take-off of a watched aircraft, once per fence its airport is in."""
        match = self.match_of(event.state)
        if match is None:
            return
        self.raise_.in_fences(
            fences_at(fences, event.airports, event.position), kind, fix.time,
            event.state.icao, match, airport=fix.airport, evidence=fix.evidence,
            details=facts, **fields,
        )

    def retraction(self, fences: Sequence[Geofence], event: Retraction) -> None:
        match = self.match_of(event.state)
        if match is None:
            return
        fix = event.fix
        told = fences_at(fences, event.airports, None)
        facts = details.Retracted(
            event.airports[0].name if len(event.airports) == 1 else None, fix.time,
            event.lost_at, event.position.time, event.silent_s, event.reason, event.runway)
        if not self.raise_.on("landing_retracted"):
            return  # no correction told: the wrong landing's cooldown runs on
        for fence in told:
            self.raise_("landing_retracted", event.position.time, event.state.icao, match,
                        fence=fence, airport=fix.airport, key_extra=fix.time.isoformat(),
                        evidence=fix.evidence,
                        details=facts, **state_fields(event.state, event.position))
            self.raise_.cooldown.lift(key(event.state.icao, fence, "landed"), fix.time)
