"""What detection says, as typed events: the flights and the alert rules subscribe.

One detector judges each aircraft once; the flights table and the alerts are two
views of the same events, so they cannot disagree. Every arrival and departure
carries what the flights table stores of it (:class:`~flightwatch.db.evidence.AirportFix`:
airport, time, grade, uncertainty, reason, candidates) plus what an alert shows (the
airports themselves, the position behind the judgement, the tracker's state).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from flightwatch.db.airports import Airport
from flightwatch.db.evidence import AirportFix
from flightwatch.decoder.tracker import AircraftState, Position


@dataclass(frozen=True, slots=True)
class Arrival:
    """It landed (observed), or it is judged to have landed (inferred, probable, confirmed).

    ``airports`` holds the airport, or every candidate that fits alike (best first):
    then ``fix.airport`` is None. ``position`` is the touchdown heard, or the last
    position before the silence.
    """

    state: AircraftState
    position: Position | None  # None: a loss remembered from before a restart
    fix: AirportFix
    airports: tuple[Airport, ...]
    runway: str | None = None
    last_heard: datetime | None = None  # set when judged at a loss


@dataclass(frozen=True, slots=True)
class Departure:
    """It took off (observed), or it is judged to have just taken off (first heard climbing).

    ``starts_flight``: a take-off after the aircraft was (or was judged) on the
    ground: the flight it landed with ends and a new one starts. Otherwise the
    departure belongs to the flight that began with ``position`` (first heard).
    ``ground_s``: time on the ground since the arrival it follows, when known.
    """

    state: AircraftState
    position: Position
    fix: AirportFix
    airports: tuple[Airport, ...]
    starts_flight: bool
    ground_s: int | None = None
    runway: str | None = None


@dataclass(frozen=True, slots=True)
class Confirmation:
    """A silence that began descending towards an airport ended climbing away from it:
    the arrival before it is ``confirmed``. ``revealed``: the loss alone had not been
    judged a landing there (no single airport, or not probable), so this is the first
    word of it."""

    state: AircraftState
    arrival: Arrival
    departure: Departure | None  # None: heard on the ground there, not taking off yet
    revealed: bool


@dataclass(frozen=True, slots=True)
class Retraction:
    """An arrival judged at a loss was wrong: heard again in the air, not climbing away
    from where it was said to land (or too soon to have landed and taken off)."""

    state: AircraftState
    position: Position  # where it was heard again
    fix: AirportFix  # the arrival withdrawn
    airports: tuple[Airport, ...]
    lost_at: datetime
    silent_s: int
    reason: str
    runway: str | None = None  # the runway end it was said to land on


@dataclass(frozen=True, slots=True)
class Silence:
    """Lost in the air with no landing to explain it. ``left_coverage``: lost near the edge
    of the receiver's learned coverage for its height (None: no coverage known)."""

    state: AircraftState
    position: Position | None
    lost_at: datetime
    left_coverage: bool | None
    reason: str


@dataclass(frozen=True, slots=True)
class Dark:
    """Lost well inside the receiver's coverage, in level flight, away from any airport, and
    still silent ``dark_after`` later: the transponder was likely switched off."""

    state: AircraftState
    position: Position
    distance_km: float  # from the receiver
    edge_km: float  # the farthest this receiver hears at that height in that direction
    silent_s: int
    reason: str


DetectionEvent = Arrival | Departure | Confirmation | Retraction | Silence | Dark


class Subscriber(Protocol):
    """Hears every event and every position the detector judged, in order."""

    def on_position(self, position: Position, registration: str | None, airborne: bool) -> None:
        """A stored position, once the detector has judged it (positions held while a
        change of ground state is confirmed come after the event that change made)."""
        ...

    def on_event(self, event: DetectionEvent) -> None: ...
