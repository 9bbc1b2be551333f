"""The pipeline listener that keeps the ``flights`` table up to date as positions are stored.

It feeds :class:`db.flights.FlightSegmenter` with exactly the positions the store
keeps (``update.store``), so a flight's track is its stored positions, and lets
the segmenter write its own batches (every ``database.batch_seconds``), never
one transaction per position. Call :meth:`FlightTracker.flush` once the pipeline
is closed so the last batch is written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import fields
from datetime import datetime

from sqlalchemy import Engine

from flightwatch.airports import airport_index
from flightwatch.alerts.engine import load_fences, rule_config
from flightwatch.db.airport_queries import stored_airports
from flightwatch.db.airport_table import sync_configured_airports
from flightwatch.db.airports import AirportIndex, read_airports
from flightwatch.db.flights import FlightRules, FlightSegmenter
from flightwatch.decoder import Observation
from flightwatch.decoder.tracker import AircraftState, TrackUpdate
from flightwatch.settings import Settings

log = logging.getLogger(__name__)

# Pressure altitude strays from height above sea level by up to about 1,000 ft with the
# weather: the margin over the airport thresholds within which an aircraft counts as
# near the ground.
BAROMETRIC_MARGIN_FT = 1500.0


class FlightTracker:
    """A ``TrackListener``: stored positions in, flights out."""

    def __init__(self, segmenter: FlightSegmenter) -> None:
        self.segmenter = segmenter
        rules = segmenter.rules
        # Below this over the highest field around (``AirportIndex.ceiling_ft``) an
        # aircraft may be landing: every position of it is decoded, so its touchdown and
        # where it was lost are as heard. Around, not the world's highest: that is Daocheng
        # Yading at 14,472 ft, and every position below 17,000 ft would be decoded.
        self.near_ground_margin_ft = (max(rules.landed_below_ft, rules.inferred_below_ft)
                                      + BAROMETRIC_MARGIN_FT)

    def on_update(self, update: TrackUpdate, obs: Observation) -> None:
        if update.store and update.position is not None:
            self.segmenter.add(update.position, update.state.registration)
            self.segmenter.maybe_flush()

    def on_unverified(self, obs: Observation) -> None:
        return None

    def wants_replies(self, icao: str) -> bool:
        return False  # an aircraft's replies add no position

    def follows(self, state: AircraftState) -> bool:
        """Flights are made of stored positions, but where one ends (a landing, heard or
        inferred) is judged from every position near the ground."""
        if state.altitude_ft is None or state.position is None:
            return True
        position = state.position
        ceiling = self.segmenter.airports.ceiling_ft(position.lat, position.lon)
        return state.altitude_ft < ceiling + self.near_ground_margin_ft

    def on_lost(self, state: AircraftState, now: datetime) -> None:
        # Lost on an approach: landed (inferred). Otherwise its flight stays open: it may
        # come back within the gap.
        self.segmenter.lost(state.position)
        self.segmenter.maybe_flush()

    def flush(self) -> bool:
        """Write what is buffered; False when the database refused (it is kept)."""
        return self.segmenter.flush()


def fence_reloader(flights: FlightTracker, settings: Settings) -> Callable[[], None]:
    """For SIGHUP: the geofence files behind the flights' time-inside figures, read again.
    Time already counted for a fence stays with its flight."""

    def reload() -> None:
        flights.segmenter.fences = list(load_fences(settings.geofences))
        log.info("flights: geofences reloaded")

    return reload


def flight_rules(settings: Settings) -> FlightRules:
    """``[flights]`` and the airport thresholds of ``[alerts]`` (landed/took_off mean the same):
    every ``FlightRules`` field the alert rules also have takes their configured value."""
    gap = settings["flights"]["gap"]
    alerts = rule_config(settings["alerts"], gap)
    shared = {f.name: getattr(alerts, f.name) for f in fields(FlightRules)
              if hasattr(alerts, f.name)}
    return FlightRules(gap_s=gap, **shared)


def airports_at_start(settings: Settings, engine: Engine) -> AirportIndex:
    """The ``alerts.airports`` files synced into the ``airports`` table (only what
    differs is written), then the one index of bundled, configured and imported
    airports (``flightwatch.airports.airport_index``)."""
    configured = [a for path in settings["alerts"]["airports"] or [] for a in read_airports(path)]
    synced = sync_configured_airports(engine, configured)
    if synced.wrote:
        log.info("airports table: %d configured airports added, %d changed, %d removed",
                 synced.added, synced.changed, synced.removed)
    index = airport_index(settings, stored_airports(engine))
    log.info("flights: %d airports for takeoff and landing detection", len(index))
    return index


def build_flight_tracker(settings: Settings, engine: Engine,
                         airports: AirportIndex | None = None) -> FlightTracker:
    """The flight listener a configuration describes (fences, airports, thresholds);
    ``airports`` when the caller has loaded them already (the alert rules share them)."""
    segmenter = FlightSegmenter(
        engine,
        airports if airports is not None else airports_at_start(settings, engine),
        load_fences(settings.geofences),
        flight_rules(settings),
        # At most one changed flight per tracked aircraft is buffered, so the commit
        # cadence of positions suits flights too; 500 meant a commit every few seconds
        # with a thousand aircraft in range (SD-card writes, and 8 % of replay time).
        batch_seconds=settings["database"]["batch_seconds"],
        batch_flights=settings["database"]["batch_rows"],
    )
    return FlightTracker(segmenter)
