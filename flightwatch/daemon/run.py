"""``flightwatch run``: every enabled source feeding one pipeline until SIGTERM.

Local receivers run in threads, aggregators as APScheduler jobs; all of them
put frames and observations on one bounded queue, and this thread alone
decodes, tracks and writes, so the database has a single writer. SIGTERM and
SIGINT stop the sources, drain the queue, flush, and exit within 5 s whatever the
sources, the mail server or the database do (jobs run in daemon threads,
:mod:`flightwatch.daemon.jobs`; aggregator polls are cancelled): 0 when the last batch
was written, 1 when it could not be (a database locked by another process), saying what
was lost. SIGHUP reloads the watchlist and geofences.
"""

from __future__ import annotations

import functools
import logging
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType
from typing import cast

import shapely
from apscheduler.schedulers.background import BackgroundScheduler
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine

from flightwatch.collector import Source
from flightwatch.collector.aggregators import AggregatorError, AggregatorSource
from flightwatch.collector.registry import source_types
from flightwatch.daemon.alerting import build_alerting
from flightwatch.daemon.jobs import DaemonThreadExecutor
from flightwatch.daemon.pipeline import (
    Pipeline,
    build_pipeline,
    freeze_startup_objects,
    not_stored_line,
)
from flightwatch.daemon.status import StatusCollector, snapshot_path
from flightwatch.db import close, connect
from flightwatch.db.engine import set_busy_timeout
from flightwatch.db.retention import Retention
from flightwatch.decoder import Frame, Observation
from flightwatch.output.digest import build_digest_job
from flightwatch.settings import Settings, secrets_readable_by_others

log = logging.getLogger(__name__)

QUEUE_SIZE = 50_000
OUTBOX_INTERVAL_S = 5.0
#: The README promises an exit within this long of SIGTERM; the unit's TimeoutStopSec
#: (15 s) is well above it. The stop's steps end at these times after the signal:
STOP_WITHIN_S = 5.0
SOURCES_END_S = 1.0  # reader threads, their sockets closed by stop()
JOBS_END_S = 1.5  # jobs under way (a mail being sent, a poll being cancelled)
DRAIN_END_S = 2.5  # frames read before the signal are decoded until then
FLUSH_END_S = 3.0  # the last batch is retried until then (another process's lock)
#: Once stopping, a write waits this long for another process's lock (2 s before), so a
#: locked database costs the drain and the last batch's retries a moment each.
STOPPING_BUSY_S = 0.2
#: A database write waits this long for another process's lock, then keeps its batch
#: in memory and retries later (one log line): the decode loop never stalls longer.
DB_BUSY_TIMEOUT_S = 2.0
_STOP = object()


def fences_union(settings: Settings) -> BaseGeometry | None:
    """All configured fences as one shape: what aggregators must cover."""
    from flightwatch.alerts.geofence import Geofence

    shapes = [
        Geofence.from_file(spec["file"], spec["name"], spec["buffer_km"]).geometry
        for spec in settings.geofences
    ]
    return shapely.union_all(shapes) if shapes else None


@dataclass
class Housekeeping:
    """A periodic job run by the scheduler: name, interval in seconds, function."""

    name: str
    interval_s: float
    run: Callable[[], object]


@dataclass
class Daemon:
    settings: Settings
    pipeline: Pipeline
    local_sources: list[Source] = field(default_factory=list)
    aggregators: list[AggregatorSource] = field(default_factory=list)
    housekeeping: list[Housekeeping] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.items: queue.Queue[Frame | Observation | object] = queue.Queue(QUEUE_SIZE)
        self.stopping = threading.Event()
        self.stop_requested: float | None = None  # time.monotonic() of the signal
        self.flushed = True  # whether the last batch was written at the stop
        # A merge of the position log under way when SIGTERM comes stops between buckets:
        # the rest of the log stays for the next start, and the stop is not held up.
        self.pipeline.store.should_stop = self.stopping.is_set
        self.reload_requested = threading.Event()
        self._threads: list[threading.Thread] = []
        self._jobs = DaemonThreadExecutor()
        self._scheduler = BackgroundScheduler(timezone=UTC, executors={"default": self._jobs})
        self.reloaders: list[Callable[[], None]] = []
        self.feed_errors = 0
        self._next_error_log = 0.0
        self.saved = True  # at the stop: everything read is in the database

    # --- producers -------------------------------------------------------------------
    def _put(self, item: Frame | Observation | object) -> bool:
        while not self.stopping.is_set():
            try:
                self.items.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def _read(self, source: Source) -> None:
        try:
            for item in source:
                if not self._put(item):
                    break
        except Exception:
            log.exception("source %s failed; the other sources go on", source.name)

    def _poll(self, aggregator: AggregatorSource) -> None:
        try:
            observations = aggregator.poll()
        except AggregatorError as exc:  # the source logs its own failing/recovered lines
            log.debug("%s: poll failed: %s", aggregator.name, exc)
            return
        except Exception:
            log.exception("%s: poll failed unexpectedly; will try again", aggregator.name)
            return
        for obs in observations:
            if not self._put(obs):
                return

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        for source in self.local_sources:
            thread = threading.Thread(target=self._read, args=(source,), name=source.name,
                                      daemon=True)
            thread.start()
            self._threads.append(thread)
        for aggregator in self.aggregators:
            self._scheduler.add_job(
                self._poll, "interval", args=(aggregator,), seconds=aggregator.interval,
                jitter=min(5.0, aggregator.interval / 10), max_instances=1, coalesce=True,
                next_run_time=datetime.now(UTC), id=f"poll:{aggregator.name}",
            )
        for job in self.housekeeping:
            self._scheduler.add_job(
                _contained(job), "interval", seconds=job.interval_s, max_instances=1,
                coalesce=True, id=job.name,
            )
        self._scheduler.start()
        names = [s.name for s in self.local_sources] + [a.name for a in self.aggregators]
        log.info("flightwatch running: %s", ", ".join(names) or "no sources configured")

    def stop(self) -> None:
        if self.stop_requested is None:
            self.stop_requested = time.monotonic()
            set_busy_timeout(self.pipeline.store.engine, STOPPING_BUSY_S)
        self.stopping.set()
        for source in self.local_sources:
            source.stop()
        for aggregator in self.aggregators:
            aggregator.cancel()

    def _until(self, seconds_after_stop: float) -> float:
        """Seconds left until ``seconds_after_stop`` after the stop was asked for."""
        if self.stop_requested is None:
            self.stop_requested = time.monotonic()
        return max(0.0, self.stop_requested + seconds_after_stop - time.monotonic())

    def run_forever(self) -> None:
        """Consume the queue until stopped, then drain it and flush (whatever happened)."""
        next_tick = time.monotonic() + 1.0
        try:
            while not self.stopping.is_set():
                try:
                    item = self.items.get(timeout=0.5)
                except queue.Empty:
                    item = None
                if item is not None and item is not _STOP:
                    self._feed(item)
                if time.monotonic() >= next_tick:
                    next_tick = time.monotonic() + 1.0
                    self._tick()
        finally:
            self._shutdown()

    def _feed(self, item: object) -> None:
        """One item; an error costs that item, never the daemon (logged once a minute)."""
        try:
            self.pipeline.feed(item)  # type: ignore[arg-type]
        except Exception:
            self.feed_errors += 1
            now = time.monotonic()
            if now >= self._next_error_log:
                self._next_error_log = now + 60.0
                log.exception("could not process an item (%d so far); going on",
                              self.feed_errors)

    def _tick(self) -> None:
        try:
            self.pipeline.expire(self.pipeline.now())
            self.pipeline.store.maybe_flush()
        except Exception:
            log.exception("periodic expiry or flush failed; will retry")
        if self.reload_requested.is_set():
            self.reload_requested.clear()
            for reload in self.reloaders:
                try:
                    reload()
                except Exception:
                    log.exception("reload failed; keeping the previous watchlist and fences")

    def _shutdown(self) -> None:
        """Stop everything within :data:`STOP_WITHIN_S` of the signal, each step by its
        time: sources, jobs under way, the queue, then the last batch."""
        self.stop()
        self._scheduler.shutdown(wait=False)
        for thread in self._threads:
            thread.join(timeout=self._until(SOURCES_END_S))
        still = self._jobs.join(self._until(JOBS_END_S))
        if still:
            log.info("%d job(s) still under way are left behind (the outbox keeps what "
                     "was not sent)", still)
        drained = left = 0
        while True:
            try:
                item = self.items.get_nowait()
            except queue.Empty:
                break
            if not self._until(DRAIN_END_S):
                left = self.items.qsize() + 1
                break
            if item is not _STOP:
                self._feed(item)
                drained += 1
        ok = self.pipeline.close()
        while not ok and self._until(FLUSH_END_S):  # e.g. another process holds a lock
            time.sleep(min(0.5, self._until(FLUSH_END_S)))
            ok = self.pipeline.close()
        self.flushed = ok
        lost = self.pipeline.positions_not_stored
        self.saved = ok and not lost
        store = self.pipeline.store
        log.log(
            logging.INFO if self.saved else logging.ERROR,
            "flightwatch stopped: %d queued items decoded at shutdown, %d positions written%s%s",
            drained, store.stats.positions_written,
            f"; {left:,} items read but not decoded in time" if left else "",
            "" if self.saved else f"; {not_stored_line(lost)}",
        )
        if not ok:
            detection = self.pipeline.detection
            log.error("the last batch could NOT be written (the database refused it): "
                      "%d positions and %d flight updates are lost", lost,
                      0 if detection is None else detection.segmenter.pending)


def _contained(job: Housekeeping) -> Callable[[], None]:
    """A failing housekeeping job logs and tries again next time; it never stops the daemon."""

    def run() -> None:
        try:
            job.run()
        except Exception:
            log.exception("housekeeping job %s failed; will retry", job.name)

    return run


def build_daemon(settings: Settings, pipeline: Pipeline) -> Daemon:
    declared = source_types()
    fences = functools.cache(lambda: fences_union(settings))  # read once, if a source asks
    local: list[Source] = []
    aggregators: list[AggregatorSource] = []
    for spec in settings.enabled_sources():
        kind = declared[spec["type"]]
        source = kind.build(spec, fences)
        if kind.role == "receiver":
            local.append(cast("Source", source))
        else:
            aggregators.append(cast("AggregatorSource", source))
    for aggregator in aggregators:
        # Two missed polls (a 429, a timeout) before its aircraft count as lost.
        pipeline.tracker.set_source_silence(aggregator.name, 2 * aggregator.interval + 30)
    return Daemon(settings, pipeline, local, aggregators)


def install_signal_handlers(daemon: Daemon) -> None:
    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        daemon.stop()

    def reload(_signum: int, _frame: FrameType | None) -> None:
        log.info("received SIGHUP: reloading watchlist and geofences")
        daemon.reload_requested.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, reload)


#: Started beside the daemon once its pipeline runs (the web server); returns its stop.
Companion = Callable[[Pipeline, Engine], Callable[[], None]]


def run_daemon(
    settings: Settings, extra_jobs: Iterable[Housekeeping] = (),
    companions: Iterable[Companion] = (),
) -> int:
    exposed = secrets_readable_by_others(settings)
    if exposed is not None:
        log.warning("%s", exposed)
    engine = connect(settings.database_url, busy_timeout_s=DB_BUSY_TIMEOUT_S)
    alerting = build_alerting(settings, engine)
    pipeline = build_pipeline(settings, engine, alerting=alerting)
    daemon = build_daemon(settings, pipeline)
    # Notifications left undelivered by the last run (a crash, a dead SMTP server) go first.
    alerting.worker.resume()
    daemon.housekeeping.append(Housekeeping("outbox", OUTBOX_INTERVAL_S, alerting.deliver))
    status = StatusCollector(engine, pipeline, sources=[*daemon.local_sources, *daemon.aggregators],
                             queued=daemon.items.qsize, snapshot_file=snapshot_path(settings))
    section = settings["status"]
    daemon.housekeeping.append(Housekeeping("status", section["interval"], status.report))
    retention = settings["retention"]
    daemon.housekeeping.append(
        Housekeeping("retention", retention["interval"], Retention(engine, retention).run))
    digest = build_digest_job(settings, engine)
    if digest is not None:
        daemon.housekeeping.append(Housekeeping("digest", 60.0, digest.tick))
    daemon.housekeeping.extend(extra_jobs)
    daemon.reloaders.extend(pipeline.reloaders)
    metrics = None
    if section["metrics_port"]:  # prometheus-client loads only when the endpoint is on
        from flightwatch.daemon.metrics import start_metrics

        metrics = start_metrics(section["metrics_host"], section["metrics_port"],
                                lambda: status.latest)
    install_signal_handlers(daemon)
    freeze_startup_objects()
    daemon.start()
    stops = [start(pipeline, engine) for start in companions]
    status.report()  # the first snapshot now, not one interval later
    try:
        daemon.run_forever()
    finally:
        for stop in stops:
            stop()
        if metrics is not None:
            metrics.stop()
        close(engine, checkpoint=daemon.flushed)
    # Undelivered notifications wait in the outbox for the next start (resume above):
    # a slow SMTP server must not hold up a stop that systemd times out after 15 s.
    return 0 if daemon.saved else 1
