"""Wiring of one pipeline: frames -> decoder -> tracker -> store, with listeners for alerts.

Live and replay use the same object, so a replay stores exactly what the
live run would have.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Engine

from flightwatch.daemon.flights import (
    Detection,
    airports_at_start,
    build_detection,
    fence_reloader,
)
from flightwatch.db.store import Store
from flightwatch.decoder import Frame, Observation
from flightwatch.decoder.keys import from_section
from flightwatch.decoder.modes import ModeSDecoder
from flightwatch.decoder.tracker import AircraftState, Tracker, TrackerConfig, TrackUpdate
from flightwatch.settings import Settings

if TYPE_CHECKING:
    from flightwatch.alerts.rules import AlertRules, AlertSinkLike
    from flightwatch.daemon.alerting import Alerting

log = logging.getLogger(__name__)

_EXPIRE_EVERY = timedelta(seconds=5)


class TrackListener(Protocol):
    """Something that judges tracks as they change (the alert rules)."""

    def on_update(self, update: TrackUpdate, obs: Observation) -> None: ...

    def on_unverified(self, obs: Observation) -> None: ...

    def on_lost(self, state: AircraftState, now: datetime) -> None: ...

    def wants_replies(self, icao: str) -> bool:
        """Whether this listener wants the DF4/5/20/21 replies of an aircraft not tracked
        (the alert rules, an address on the watchlist: it may be heard nearby)."""
        ...

    def follows(self, state: AircraftState) -> bool:
        """Whether this listener judges every position of the aircraft, not only the
        stored ones (the alert rules a watched aircraft's, the flights one near the
        ground's)."""
        ...


@dataclass(slots=True)
class PipelineStats:
    frames: int = 0
    observations: int = 0
    bad_frames: int = 0
    positions_accepted: int = 0
    positions_stored: int = 0
    positions_rejected: int = 0
    aircraft_lost: int = 0


class Pipeline:
    """Feeds frames and observations through decoding, tracking, storage and listeners."""

    def __init__(
        self,
        store: Store,
        tracker: Tracker | None = None,
        *,
        surface_ref: tuple[float, float] | str | None = None,
        listeners: Iterable[TrackListener] = (),
        velocity_every_s: float = 0.0,
        identification_every_s: float = 0.0,
        skip_unused: bool = False,
    ) -> None:
        self.store = store
        self.tracker = tracker if tracker is not None else Tracker()  # an empty Tracker is falsy
        self.listeners = list(listeners)
        self.detection: Detection | None = None  # arrivals, departures, flights, coverage
        self.reloaders: list[Callable[[], None]] = []  # what SIGHUP re-reads
        self.flushers: list[Callable[[], bool]] = []  # listeners' own batched writes
        self.stats = PipelineStats()
        # Distinct addresses, for a replay's summary; None in the daemon (it would only grow).
        self.aircraft_seen: set[str] | None = None
        self._surface_ref = surface_ref
        self._repeats = {"velocity_every_s": velocity_every_s,
                         "identification_every_s": identification_every_s}
        # Read when a source's decoder is made (its first frame).
        self.skip_unused = skip_unused
        self._decoders: dict[str, ModeSDecoder] = {}
        self._clock: datetime | None = None
        self._clock_read = 0.0  # time.monotonic() when _clock last moved on
        self._next_expiry: datetime | None = None

    def feed(self, item: Frame | Observation) -> None:
        if isinstance(item, Frame):
            self.stats.frames += 1
            decoder = self._decoders.get(item.source) or self._new_decoder(item.source)
            obs = decoder.decode(item)
            if obs is None:
                return
        else:
            obs = item
        self.observe(obs)

    def observe(self, obs: Observation) -> None:
        stats = self.stats
        stats.observations += 1
        # Expire first, on the observations' clock: an aircraft heard again after a long
        # silence was lost (and told to the listeners) before this observation revives it,
        # as the live daemon's wall-clock tick would have done in between.
        self._advance_clock(obs.time)
        if self.tracker.silent_too_long(obs.icao, obs.time):
            self.expire(obs.time)
        update = self.tracker.update(obs)
        if update is None:
            for listener in self.listeners:
                listener.on_unverified(obs)
        else:
            state = update.state
            if update.is_new and self.aircraft_seen is not None:
                self.aircraft_seen.add(state.icao)
            if update.position is not None:
                stats.positions_accepted += 1
                if update.store:
                    stats.positions_stored += 1
                    self.store.add_position(update.position)
                    self.store.maybe_flush()  # the daemon's tick flushes the rest
            elif obs.lat is not None:
                stats.positions_rejected += 1
            self.store.note_aircraft(state)
            for listener in self.listeners:
                listener.on_update(update, obs)

    def _new_decoder(self, source: str) -> ModeSDecoder:
        """One decoder per source: CPR pairs and clocks must not mix between receivers."""
        skip = self.skip_unused
        decoder = self._decoders[source] = ModeSDecoder(
            surface_ref=self._surface_ref,
            position_wanted=self._position_wanted if skip else None,
            reply_wanted=self._reply_wanted if skip else None, **self._repeats)
        return decoder

    def _reply_wanted(self, icao: str) -> bool:
        """Whether a DF4/5/20/21 reply is worth decoding: its aircraft is tracked, or a
        listener wants to hear of it (its address may be a corrupted frame's invention)."""
        if icao in self.tracker:
            return True
        return any(listener.wants_replies(icao) for listener in self.listeners)

    def _position_wanted(self, icao: str, time: datetime) -> bool:
        """Whether an airborne position heard at ``time`` is worth decoding: for an
        aircraft not tracked yet, one whose position the tracker would store, and one a
        listener follows closely."""
        state = self.tracker.get(icao)
        if state is None or self.tracker.would_store_airborne(state, time):
            return True
        return any(listener.follows(state) for listener in self.listeners)

    def _advance_clock(self, now: datetime) -> None:
        if self._clock is None or now > self._clock:
            self._clock = now
            self._clock_read = time.monotonic()
        if self._next_expiry is None:
            self._next_expiry = now + _EXPIRE_EVERY
        elif now >= self._next_expiry:
            self.expire(now)

    def expire(self, now: datetime) -> None:
        """Hand aircraft silent for too long to the listeners as lost."""
        self._next_expiry = now + _EXPIRE_EVERY
        lost = self.tracker.expire(now)
        if not lost:
            return
        self.stats.aircraft_lost += len(lost)
        self.store.forget(s.icao for s in lost)
        for state in lost:
            # Lost when its allowed silence ran out, however late this expiry runs (every
            # second live, every few seconds of capture time in a replay): both say the same.
            lost_at = min(now, state.last_seen + self.tracker.silence_allowed(state))
            for listener in self.listeners:
                listener.on_lost(state, lost_at)

    @property
    def decode_stats(self) -> dict[str, int]:
        """Decoder counters summed over sources."""
        total = {"frames": 0, "observations": 0, "bad_crc": 0, "malformed": 0, "ignored": 0,
                 "skipped": 0}
        for decoder in self._decoders.values():
            for key in total:
                total[key] += getattr(decoder.stats, key)
        return total

    def now(self) -> datetime:
        """The observations' clock, run on by the time elapsed since it last moved: what a
        daemon expires tracks by when nothing is heard (live, the wall clock; fed a
        recorded or time-compressed feed, that feed's time)."""
        if self._clock is None:
            return datetime.now(UTC)
        return self._clock + timedelta(seconds=time.monotonic() - self._clock_read)

    @property
    def clock(self) -> datetime | None:
        """The latest observation time fed so far (None before the first, or after
        :meth:`end_tracks`)."""
        return self._clock

    def end_tracks(self, *, announce: bool = True) -> None:
        """Forget every tracked aircraft and start the clock afresh.

        For input that goes back in time (an import taking one aircraft's trace after
        another): the next observations may be older than the last ones. With
        ``announce`` the aircraft are handed to the listeners as lost (they went
        silent); without, the data simply ended and nothing is said about them.
        """
        if self._clock is not None:
            now = self._clock + self.tracker.expire_after + timedelta(seconds=1)
            if announce:
                self.expire(now)
            else:
                self.store.forget(s.icao for s in self.tracker.expire(now))
        self._clock = self._next_expiry = None

    def flush(self) -> bool:
        """Write what the store and the listeners buffer; False when the database refused."""
        ok = self.store.flush()
        for flush in self.flushers:
            ok = flush() and ok
        return ok

    def close(self, *, expire_all: bool = False, settle: bool = False) -> bool:
        """Flush everything, every aircraft's summary row included; with ``expire_all`` the
        data ended (a replay's last frame): every tracked aircraft is lost, and judgements
        waiting for more data are settled; with ``settle`` (a replay or an import that
        ends, not a daemon that must stop within seconds) merge the position log too."""
        if expire_all and self._clock is not None:
            self.expire(self._clock + self.tracker.expire_after + timedelta(seconds=1))
            if self.detection is not None:
                self.detection.detector.close()
        ok = self.store.flush(all_aircraft=True)
        for flush in self.flushers:
            ok = flush() and ok
        if ok and settle:
            # Committed positions are stored whether or not they are merged yet: a merge
            # that fails (a full disk) says so in the log and the next one folds them in.
            self.store.merge()
        return ok

    @property
    def positions_not_stored(self) -> int:
        """Positions read but not in the database: still buffered after failed writes, or
        dropped when the buffer outgrew memory."""
        stats = self.store.stats
        return stats.positions_buffered + stats.positions_dropped


def not_stored_line(positions: int) -> str:
    """The summary line of a command that could not store everything it read."""
    return (f"NOT stored: {positions:,} positions (and any flights or alerts of the last "
            "batch): the database refused the writes (see the log above)")


def freeze_startup_objects() -> None:
    """Exempt what startup built (modules, SQLAlchemy metadata, geofences, the watchlist)
    from garbage collection before the hot path starts.

    It all lives as long as the process, yet every full collection walked it again:
    about a tenth of flightwatch's own time per frame on a busy replay.
    """
    gc.collect()
    gc.freeze()


def build_pipeline(
    settings: Settings, engine: Engine, *, alerting: Alerting | None = None,
    local: bool = True,
) -> Pipeline:
    """The pipeline a configuration describes: tracker tuning, batching, receiver, detection
    and flights, alerts. ``local``: what it is fed is this receiver's (run, replay); an
    import of history heard elsewhere is not (its sources carry no receiver name, and
    it teaches the coverage nothing)."""
    tracker_cfg = from_section(TrackerConfig, settings["tracker"])
    tracker = Tracker(tracker_cfg)
    database = settings["database"]
    receiver = settings["receiver"]
    store = Store(
        engine, batch_rows=database["batch_rows"], batch_seconds=database["batch_seconds"],
        merge_seconds=database["merge_interval"],
        receiver=receiver["name"] if local else None,
    )
    surface_ref = (receiver["lat"], receiver["lon"]) if receiver["lat"] is not None else None
    # Frames nothing would use go undecoded: a callsign is read once per store interval,
    # a velocity (which marks turns and climbs) once per velocity_interval, an airborne
    # position when it would be stored or a listener follows its aircraft, a reply when
    # its aircraft is tracked or watched.
    pipeline = Pipeline(
        store, tracker, surface_ref=surface_ref,
        velocity_every_s=tracker_cfg.velocity_interval_s,
        identification_every_s=tracker_cfg.store_interval_s,
        skip_unused=True,
    )
    airports = airports_at_start(settings, engine)  # one index: detection and alert rules
    detection = pipeline.detection = build_detection(settings, engine, local=local,
                                                     airports=airports)
    pipeline.listeners.append(detection.detector)
    pipeline.flushers.append(detection.flush)
    pipeline.reloaders.append(fence_reloader(detection, settings))
    if alerting is not None:
        add_alert_rules(pipeline, settings, engine, alerting.sink)
    return pipeline


def add_alert_rules(
    pipeline: Pipeline, settings: Settings, engine: Engine, sink: AlertSinkLike
) -> AlertRules:
    """Listen with the alert rules (and hear the detector); SIGHUP reloads their watchlist
    and fences."""
    from flightwatch.alerts.engine import build_rule_engine, reloader
    from flightwatch.alerts.recent_track import RecentTracks
    from flightwatch.settings import bundled

    prefixes = bundled("callsign_prefixes.csv")
    rules = build_rule_engine(settings, engine, prefix_table=prefixes, sink=sink,
                              receiver=pipeline.store.receiver)
    # First of all listeners: an alert raised on a position (by the rules, or by the
    # detector's judgement) has that position in its track.
    rules.recent_tracks = RecentTracks(rules.watches)
    pipeline.listeners.insert(0, rules.recent_tracks)
    pipeline.listeners.append(rules)
    if pipeline.detection is not None:
        pipeline.detection.detector.subscribers.append(rules)
    pipeline.reloaders.append(reloader(rules, settings, engine, prefixes))
    return rules
