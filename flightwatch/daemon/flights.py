"""Detection wired into the pipeline: the detector, the flights it keeps up to date, and
the receiver's coverage it learns.

:func:`build_detection` makes the :class:`~flightwatch.alerts.detect.Detector` (a
pipeline listener) with its first subscriber, :class:`FlightRecorder`, which feeds
:class:`db.flights.FlightSegmenter` with exactly the positions the store keeps and the
detector's judgements about where flights began and ended. The segmenter writes its
own batches (every ``database.batch_seconds``), never one transaction per position;
the learned coverage is written every ten minutes when it grew. Call
:meth:`Detection.flush` once the pipeline is closed so the last batch is written.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from sqlalchemy import Engine

from flightwatch.airports import airport_index
from flightwatch.alerts.detect import (
    Arrival,
    Confirmation,
    CoverageMap,
    Departure,
    DetectionConfig,
    DetectionEvent,
    Detector,
    Retraction,
)
from flightwatch.alerts.engine import load_fences
from flightwatch.db.airport_queries import stored_airports
from flightwatch.db.airport_table import sync_configured_airports
from flightwatch.db.airports import AirportIndex, read_airports
from flightwatch.db.coverage import load_cells, save_coverage
from flightwatch.db.flights import FlightSegmenter, open_arrivals
from flightwatch.decoder.keys import from_section
from flightwatch.decoder.tracker import Position
from flightwatch.settings import LOCAL_SOURCE_TYPES, Settings

log = logging.getLogger(__name__)

_COVERAGE_EVERY_S = 600.0


class FlightRecorder:
    """A detection subscriber: stored positions and judgements in, flights out."""

    def __init__(self, segmenter: FlightSegmenter) -> None:
        self.segmenter = segmenter

    def on_position(self, position: Position, registration: str | None, airborne: bool) -> None:
        self.segmenter.add(position, registration, airborne)
        self.segmenter.maybe_flush()

    def on_event(self, event: DetectionEvent) -> None:
        segmenter, icao = self.segmenter, event.state.icao
        if isinstance(event, Arrival) and event.position is not None:
            segmenter.arrived(icao, event.fix, event.position)
        elif isinstance(event, Departure):
            segmenter.departed(icao, event.fix, event.position, event.starts_flight)
        elif isinstance(event, Confirmation) and event.arrival.last_heard is not None:
            segmenter.confirm_arrival(icao, event.arrival.last_heard, event.arrival.fix)
        elif isinstance(event, Retraction):
            segmenter.withdraw_arrival(icao, event.lost_at, event.reason)
        segmenter.maybe_flush()  # a loss may be the last thing heard for a while


@dataclass
class Detection:
    """The detector and what it keeps: flights, and (with a receiver position) coverage."""

    detector: Detector
    recorder: FlightRecorder
    engine: Engine
    clock: Callable[[], float] = time.monotonic
    _coverage_saved: float = 0.0

    @property
    def segmenter(self) -> FlightSegmenter:
        return self.recorder.segmenter

    def flush(self) -> bool:
        """Write what is buffered; False when the database refused (it is kept)."""
        ok = self.segmenter.flush()
        coverage = self.detector.coverage
        now = self.clock()
        if coverage is not None and coverage.changed and (
                now - self._coverage_saved >= _COVERAGE_EVERY_S or not self._coverage_saved):
            try:
                save_coverage(self.engine, coverage)
            except Exception:  # coverage is learned again; flights and positions come first
                log.exception("could not store the receiver's coverage")
                return ok
            coverage.changed = False
            self._coverage_saved = now
        return ok

    def close(self) -> bool:
        """The data ended: settle what waits for more (dark candidates), write everything."""
        self.detector.close()
        self._coverage_saved = 0.0
        return self.flush()


def detection_config(settings: Settings) -> DetectionConfig:
    """``[detection]`` (and ``flights.gap``) as the detector's thresholds: the keys
    DetectionConfig declares itself."""
    return from_section(DetectionConfig, settings["detection"],
                        flights_gap_s=settings["flights"]["gap"])


def fence_reloader(detection: Detection, settings: Settings) -> Callable[[], None]:
    """For SIGHUP: the geofence files behind the flights' time-inside figures, read again.
    Time already counted for a fence stays with its flight."""

    def reload() -> None:
        detection.segmenter.fences = list(load_fences(settings.geofences))
        log.info("flights: geofences reloaded")

    return reload


def airports_at_start(settings: Settings, engine: Engine) -> AirportIndex:
    """The ``[detection] airports`` files synced into the ``airports`` table (only what
    differs is written), then the one index of bundled, configured and imported
    airports (``flightwatch.airports.airport_index``)."""
    configured = [a for path in settings["detection"]["airports"] or []
                  for a in read_airports(path)]
    synced = sync_configured_airports(engine, configured)
    if synced.wrote:
        log.info("airports table: %d configured airports added, %d changed, %d removed",
                 synced.added, synced.changed, synced.removed)
    index = airport_index(settings, stored_airports(engine))
    log.info("detection: %d airports for landings and take-offs", len(index))
    return index


def local_sources(settings: Settings) -> Callable[[str], bool]:
    """Whether a source name is one of this receiver's own (its positions teach the
    coverage): the configured receiver feeds, and captures replayed from it."""
    names = frozenset(s["name"] for s in settings.enabled_sources(LOCAL_SOURCE_TYPES))
    return lambda name: name in names or name.startswith("replay:")


def build_detection(settings: Settings, engine: Engine, *, local: bool = True,
                    airports: AirportIndex | None = None) -> Detection:
    """The detector and the flights a configuration describes. ``local``: the data is this
    receiver's (run, replay), so it learns the coverage; an import of someone else's
    history is not. ``airports`` when the caller loaded them already."""
    receiver = settings["receiver"]
    coverage = None
    if local and receiver["lat"] is not None:
        coverage = CoverageMap(receiver["name"], receiver["lat"], receiver["lon"],
                               settings["detection"]["coverage_min_positions"])
        coverage.load(load_cells(engine, receiver["name"]))
    config = detection_config(settings)
    detector = Detector(
        airports if airports is not None else airports_at_start(settings, engine), config,
        coverage=coverage,
        is_local=local_sources(settings) if local else (lambda _name: False),
        remembered=partial(open_arrivals, engine),
    )
    segmenter = FlightSegmenter(
        engine, load_fences(settings.geofences), gap_s=config.flights_gap_s,
        # At most one changed flight per tracked aircraft is buffered, so the commit
        # cadence of positions suits flights too; 500 meant a commit every few seconds
        # with a thousand aircraft in range (SD-card writes, and 8 % of replay time).
        batch_seconds=settings["database"]["batch_seconds"],
        batch_flights=settings["database"]["batch_rows"],
    )
    recorder = FlightRecorder(segmenter)
    detector.subscribers.append(recorder)
    return Detection(detector, recorder, engine)
