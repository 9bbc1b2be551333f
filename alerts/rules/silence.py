"""``went_silent`` and ``went_dark``: a watched aircraft lost in the air with no landing.

``went_silent`` is told in each fence the aircraft was inside, saying whether it left
the receiver's coverage (lost near its edge for that height) or why that is not known.
``went_dark`` is lost well inside coverage, in level flight, away from airports, and
still silent minutes later: the transponder was likely switched off. It is told in
each fence it was inside, or once with no fence.
"""

from __future__ import annotations

from collections.abc import Sequence

from flightwatch.alerts.detect.events import Dark, Silence
from flightwatch.alerts.geofence import Geofence
from flightwatch.alerts.rules import details
from flightwatch.alerts.rules.landings import MatchOf
from flightwatch.alerts.rules.raising import Raiser, state_fields
from flightwatch.alerts.rules.tracked import tracked_of


class SilenceRules:
    def __init__(self, raise_: Raiser, match_of: MatchOf) -> None:
        self.raise_ = raise_
        self.match_of = match_of

    def silence(self, fences: Sequence[Geofence], event: Silence) -> None:
        tracked = tracked_of(event.state)
        match = self.match_of(event.state)
        if tracked is None or match is None:
            return
        state = event.state
        silent = round((event.lost_at - state.last_seen).total_seconds())
        self.raise_.in_fences(
            tracked.inside([f.name for f in fences]), "went_silent", state.last_seen,
            state.icao, match, details=details.Silent(silent, event.reason, event.left_coverage),
            **state_fields(state, state.position),
        )

    def dark(self, fences: Sequence[Geofence], event: Dark) -> None:
        match = self.match_of(event.state)
        if match is None:
            return
        tracked = tracked_of(event.state)
        inside = tracked.inside([f.name for f in fences]) if tracked is not None else []
        facts = details.Dark(event.silent_s, round(event.distance_km, 1),
                             round(event.edge_km, 1), event.reason)
        state = event.state
        told: list[str | None] = [*inside] or [None]
        for fence in told:
            self.raise_("went_dark", state.last_seen, state.icao, match, fence=fence,
                        details=facts, **state_fields(state, event.position))
