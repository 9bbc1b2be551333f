"""The recent track of each watched aircraft, for the picture an alert carries.

Positions reach the database in batches (a minute or more apart), so when an alert is
raised the aircraft's newest positions exist only in memory: a picture drawn from the
database would end short of the event. This keeps them, for watched aircraft only, one
point every few seconds over the last half hour: a few hundred small tuples each.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from flightwatch.db.alert_record import TrackPoint
from flightwatch.decoder import Observation
from flightwatch.decoder.tracker import AircraftState, TrackUpdate


class RecentTracks:
    """A pipeline ``TrackListener`` that remembers the aircraft ``watched`` says yes to.

    Placed before the alert rules, so an alert raised on a position has that position
    in its track. A track outlives the tracker's state by ``window_s``: the alert raised
    when an aircraft is lost (landed, went silent), and the retraction raised when it
    is heard again, still get the track. At most ``max_aircraft`` tracks are kept; past
    that the one heard longest ago is dropped.
    """

    def __init__(
        self, watched: Callable[[AircraftState], bool], *, window_s: float = 1800.0,
        every_s: float = 5.0, max_aircraft: int = 256,
    ) -> None:
        self.watched = watched
        self.window = timedelta(seconds=window_s)
        self.every = timedelta(seconds=every_s)
        self.max_aircraft = max_aircraft
        self._tracks: dict[str, deque[TrackPoint]] = {}

    def track(self, icao: str, until: datetime) -> tuple[TrackPoint, ...]:
        """The points of ``icao`` in the window before ``until``, oldest first."""
        points = self._tracks.get(icao)
        if not points:
            return ()
        since = until - self.window
        return tuple(p for p in points if since <= p.time <= until)

    def __len__(self) -> int:
        return len(self._tracks)

    # --- TrackListener ---------------------------------------------------------------

    def on_update(self, update: TrackUpdate, obs: Observation) -> None:
        position = update.position
        if position is None or not self.watched(update.state):
            return
        point = TrackPoint(position.time, position.lat, position.lon, position.altitude_ft)
        points = self._tracks.get(position.icao)
        if points is None:
            self._make_room(position.time)
            points = self._tracks[position.icao] = deque()
        elif point.time < points[-1].time:
            return  # a late aggregator position: the track only moves forward
        # The newest position is always the last point; the others are ``every`` apart:
        # the last one is kept once it is ``every`` after the one before, else replaced.
        if len(points) >= 2 and points[-1].time - points[-2].time < self.every:
            points[-1] = point
        else:
            points.append(point)
        cutoff = point.time - self.window
        while points[0].time < cutoff:
            points.popleft()

    def on_unverified(self, obs: Observation) -> None:
        return None

    def on_lost(self, state: AircraftState, now: datetime) -> None:
        """Forget the tracks last heard more than a window ago (the lost one stays)."""
        self._forget_before(now - self.window)

    def wants_replies(self, icao: str) -> bool:
        return False

    def follows(self, state: AircraftState) -> bool:
        return False  # the rules already follow every watched aircraft

    def _make_room(self, now: datetime) -> None:
        if len(self._tracks) < self.max_aircraft:
            return
        self._forget_before(now - self.window)
        if len(self._tracks) >= self.max_aircraft:
            oldest = min(self._tracks, key=lambda icao: self._tracks[icao][-1].time)
            del self._tracks[oldest]

    def _forget_before(self, cutoff: datetime) -> None:
        for icao in [i for i, points in self._tracks.items() if points[-1].time < cutoff]:
            del self._tracks[icao]
