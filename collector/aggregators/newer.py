"""Newer-only filtering: an aggregator says each position once, however often it is polled.

Aggregators answer with the latest state of every aircraft, changed or not; passing
those on as they come would store and judge the same position again on every poll.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from flightwatch.collector.plausible import MAX_AIRCRAFT
from flightwatch.decoder import Observation


class NewerOnly:
    """Passes an observation only when it is newer than the last one of that aircraft.

    Consecutive polls of an aggregator repeat aircraft whose data has not changed
    (same ``now - seen_pos``); overlapping query circles repeat them within a poll.
    Memory stays bounded: aircraft silent for ``forget_after`` are forgotten, and past
    ``max_aircraft`` (a source inventing new addresses every poll) the oldest half is.
    """

    def __init__(self, forget_after: timedelta = timedelta(minutes=15),
                 max_aircraft: int = 4 * MAX_AIRCRAFT) -> None:
        self._last: dict[str, datetime] = {}
        self._forget_after = forget_after
        self._max_aircraft = max_aircraft

    def __call__(self, observations: Iterable[Observation]) -> list[Observation]:
        fresh: list[Observation] = []
        for obs in observations:
            last = self._last.get(obs.icao)
            if last is None or obs.time > last:
                self._last[obs.icao] = obs.time
                fresh.append(obs)
        if self._last:
            horizon = max(self._last.values()) - self._forget_after
            self._last = {icao: t for icao, t in self._last.items() if t >= horizon}
        if len(self._last) > self._max_aircraft:
            newest = sorted(self._last.items(), key=lambda item: item[1])
            self._last = dict(newest[len(newest) - self._max_aircraft // 2:])
        return fresh

    def __len__(self) -> int:
        return len(self._last)
