"""What the rules remember of one aircraft, kept in ``AircraftState.extra`` so it lives
and dies with the tracker's state: an unwatched aircraft costs one dictionary lookup
per observation, and only watched aircraft are ever tested against a fence."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flightwatch.alerts.watchlist import Match
from flightwatch.decoder.tracker import AircraftState

EXTRA_KEY = "alerts"


@dataclass(slots=True)
class Latch:
    """A yes/no (inside a fence) that flips only once the new value holds."""

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
class Tracked:
    """The rules' memory of one aircraft."""

    match: Match | None
    registration: str | None
    generation: int
    fences: list[Latch] = field(default_factory=list)
    last_time: datetime | None = None
    next_approach: datetime | None = None

    def inside(self, names: list[str]) -> list[str]:
        """The fences (of ``names``, in order) this aircraft was last judged inside."""
        return [name for name, latch in zip(names, self.fences, strict=False) if latch.value]


def tracked_of(state: AircraftState) -> Tracked | None:
    found = state.extra.get(EXTRA_KEY)
    return found if isinstance(found, Tracked) else None
