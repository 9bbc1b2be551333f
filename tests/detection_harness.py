"""The detector with the flights behind it, fed stored positions as the pipeline feeds it:
for tests that judge a handful of positions without encoding frames."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine

from flightwatch.alerts.detect import DetectionConfig, DetectionEvent, Detector
from flightwatch.daemon.flights import FlightRecorder
from flightwatch.db.airports import AirportIndex
from flightwatch.db.flights import FenceLike, FlightSegmenter
from flightwatch.decoder.tracker import AircraftState, Position


@dataclass
class Judged:
    """Positions in, events and flights out; ``lost`` ends an aircraft's track."""

    engine: Engine
    airports: AirportIndex
    config: DetectionConfig = field(default_factory=DetectionConfig)
    fences: Sequence[FenceLike] = ()
    events: list[DetectionEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.segmenter = FlightSegmenter(self.engine, self.fences,
                                         gap_s=self.config.flights_gap_s)
        self.detector = Detector(self.airports, self.config)
        self.detector.subscribers += [FlightRecorder(self.segmenter), self]
        self._states: dict[str, AircraftState] = {}

    def on_position(self, position: Position, registration: str | None, airborne: bool) -> None:
        return None

    def on_event(self, event: DetectionEvent) -> None:
        self.events.append(event)

    def add(self, position: Position) -> None:
        state = self._states.get(position.icao)
        if state is None:
            state = self._states[position.icao] = AircraftState(
                position.icao, position.time, position.time, sources={position.source})
        state.last_seen = position.time
        state.position = state.stored = position
        state.altitude_ft = position.altitude_ft
        state.on_ground = position.on_ground
        self.detector.judge(state, position)

    def lost(self, icao: str) -> None:
        state = self._states.pop(icao)
        self.detector.on_lost(state, state.last_seen + timedelta(seconds=61))

    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self.events]

    def flush(self) -> bool:
        return self.segmenter.flush()
