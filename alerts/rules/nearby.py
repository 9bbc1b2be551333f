"""``heard_nearby``: Mode-S replies from a watched address, with no position.

A DF4/5/20/21 reply's address comes from its parity, so a corrupted reply invents
one: enough replies within the window rule out chance.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from flightwatch.alerts.rules import details
from flightwatch.alerts.rules.config import RuleConfig
from flightwatch.alerts.rules.raising import Raiser
from flightwatch.alerts.watchlist import Match
from flightwatch.decoder import Observation


class HeardNearbyRule:
    def __init__(self, raise_: Raiser, config: RuleConfig) -> None:
        self.raise_ = raise_
        self.replies = config.heard_nearby_replies
        self.window_s = config.heard_nearby_window_s
        self._window = timedelta(seconds=config.heard_nearby_window_s)
        self._heard: dict[str, deque[tuple[datetime, str, int | None]]] = {}

    def heard(self, obs: Observation, match: Match) -> None:
        """Count a reply; enough within the window raise the alert."""
        window = self._heard.get(obs.icao)
        if window is None:
            window = self._heard[obs.icao] = deque()
        window.append((obs.time, obs.source, obs.downlink_format))
        cutoff = obs.time - self._window
        while window and window[0][0] < cutoff:
            window.popleft()
        if len(window) < self.replies:
            return
        self.raise_(
            "heard_nearby", obs.time, obs.icao, match, confidence="low",
            details=details.HeardNearby(
                len(window), self.window_s,
                tuple(sorted({df for _, _, df in window if df is not None})), obs.squawk),
            registration=match.entry.registration or None, altitude_ft=obs.altitude_ft,
            sources=tuple(sorted({source for _, source, _ in window})),
        )
