"""How an arrival or a departure is known: the grades stored with flights and alerts.

Most landings are never heard: a receiver 100 km away loses an aircraft thousands of
feet up. So every arrival and departure carries a grade, an estimated time with its
uncertainty and a reason a journalist can quote. The vocabulary lives here, with what
is stored, so that the store, the queries and every output agree on it; the judging
is :mod:`flightwatch.alerts.detect`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

OBSERVED = "observed"  # heard on the ground, or low and slow at the field
INFERRED = "inferred"  # lost (or first heard) low near the field
PROBABLE = "probable"  # lost on a descent towards an airport (first heard climbing from one)
CONFIRMED = "confirmed"  # a probable or inferred arrival followed by a departure from there

GRADES = (OBSERVED, CONFIRMED, INFERRED, PROBABLE)  # strongest first

EXPLAINED = {
    OBSERVED: "heard on the ground, or low and slow at the field",
    INFERRED: "not heard on the ground: lost (or first heard) low near the field",
    PROBABLE: "not heard near the field: lost on a descent towards it (or first heard "
              "climbing away from it), as a receiver far away loses every landing",
    CONFIRMED: "a probable or inferred landing followed by a take-off from the same "
               "airport: the turnaround",
}


def grade_rank(grade: str | None) -> int:
    """Smaller is stronger; unknown or missing grades rank last."""
    return GRADES.index(grade) if grade in GRADES else len(GRADES)


@dataclass(frozen=True, slots=True)
class AirportFix:
    """Where and when a flight arrived or departed, and how that is known: what the flights
    table stores of one end of a flight.

    ``airport`` is None when several candidates fit alike (``candidates``, best first,
    are then all of them: reported as such, never guessed). ``uncertainty_s`` is the
    plus-or-minus of ``time`` (0 when heard); ``reason`` is one quotable line.
    """

    airport: str | None
    time: datetime
    evidence: str
    uncertainty_s: int = 0
    reason: str | None = None
    candidates: tuple[str, ...] = ()

    @property
    def candidates_text(self) -> str | None:
        """As stored: codes separated by spaces, None when there is no choice to report."""
        return " ".join(self.candidates) if self.candidates else None


def parse_candidates(text: str | None) -> tuple[str, ...]:
    """The stored form of :attr:`AirportFix.candidates` read back."""
    return tuple(text.split()) if text else ()


@dataclass(frozen=True, slots=True)
class LostFlight:
    """A stored flight whose end was judged an arrival at its loss (``inferred`` or
    ``probable``): after a restart, a departure from there may still confirm it, or
    hearing the aircraft again withdraw it."""

    last_seen: datetime
    arrival: AirportFix
