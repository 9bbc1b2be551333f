"""``identity_anomaly``: a watched registration or callsign heard from another address."""

from __future__ import annotations

import logging
from datetime import datetime

from flightwatch.alerts.rules import details
from flightwatch.alerts.rules.raising import Raiser, state_fields
from flightwatch.alerts.watchlist import Match, Watchlist
from flightwatch.decoder.tracker import AircraftState

log = logging.getLogger("flightwatch.alerts.rules")


class IdentityRule:
    def __init__(self, raise_: Raiser) -> None:
        self.raise_ = raise_

    def judge(self, watchlist: Watchlist, state: AircraftState, time: datetime) -> None:
        anomaly = watchlist.identity_anomaly(state.icao, state.registration, state.callsign)
        if anomaly is None:
            return
        log.warning(
            "identity anomaly: watched %s heard as %s from %s, the watchlist has %s; "
            "a candidate for the watchlist",
            anomaly.registration, anomaly.seen_as, anomaly.seen_icao,
            ", ".join(anomaly.expected_icaos),
        )
        fields = state_fields(state, state.position)
        fields["registration"] = state.registration or anomaly.registration
        self.raise_("identity_anomaly", time, state.icao,
                    Match("registration", anomaly.entry, "low"),
                    details=details.IdentityAnomaly(anomaly.seen_as,
                                                    tuple(anomaly.expected_icaos)),
                    **fields)
