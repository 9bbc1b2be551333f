"""``squawk``: any aircraft inside a fence squawking a code of ``alerts.squawks``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from fnmatch import fnmatchcase

from flightwatch.alerts.geofence import Geofence
from flightwatch.alerts.rules import details
from flightwatch.alerts.rules.raising import Raiser, state_fields
from flightwatch.alerts.watchlist import Match
from flightwatch.decoder.tracker import AircraftState


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


class SquawkRule:
    def __init__(self, raise_: Raiser, squawks: Iterable[str]) -> None:
        self.raise_ = raise_
        self._codes = squawk_matcher(squawks) if raise_.on("squawk") else None

    def alerted(self, state: AircraftState) -> str | None:
        """The aircraft's squawk when ``alerts.squawks`` alerts on it, else None."""
        code = state.squawk
        if code is None or self._codes is None or not self._codes.get(code):
            return None
        return code

    def judge(self, fences: Sequence[Geofence], state: AircraftState, match: Match | None,
              time: datetime) -> None:
        code = self.alerted(state)
        position = state.position
        if code is None or position is None:
            return
        for fence in fences:
            if fence.contains(position.lat, position.lon):
                self.raise_("squawk", time, state.icao, match, fence=fence.name,
                            key_extra=code, details=details.Squawk(code),
                            **state_fields(state, position))
