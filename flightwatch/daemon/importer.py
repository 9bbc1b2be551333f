"""``flightwatch import``: historical archives through the live pipeline.

Order, and why: the flights and the alert rules judge each aircraft on its own
clock, and nothing they decide depends on another aircraft. So

- a **trace file** (one aircraft's day) is fed on its own, and its track is ended
  when the file ends. An archive of traces is taken one aircraft at a time:
  memory holds one trace, never the whole day, and nothing has to be merged;
- a **stream** (aircraft.json snapshots, OpenSky state vectors, captures) already
  holds every aircraft in time order, like a live feed: it is fed as it comes and
  tracks run on from one member to the next. Input that goes back in time (the
  next file is older) ends the tracks first, as if the receiver had restarted.

Resuming: a member counts as imported once everything it produced (positions,
flights, alerts) is committed; it is then recorded in the ``imports`` table and
skipped by the next run. Positions are unique on (icao, second), flights on
(icao, first_seen) and alerts on their dedupe key, so a member read twice (cut
off by Ctrl-C) stores nothing twice.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Engine
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from flightwatch.alerts.notify import AlertSink
from flightwatch.collector.archive import READ_ERRORS, Member, input_name, members
from flightwatch.collector.history import (
    MEMBER_ERRORS,
    MemberStats,
    NotImportable,
    member_format,
    stream_records,
)
from flightwatch.collector.opensky_dataset import RowErrors
from flightwatch.collector.opensky_history import SOURCE as HISTORY_SOURCE
from flightwatch.collector.opensky_history import (
    Chunk,
    HistoryDatabase,
    HistoryError,
    day_chunks,
)
from flightwatch.collector.trace import TraceError, read_trace
from flightwatch.daemon.alerting import Alerting, build_alerting, pictures_of
from flightwatch.daemon.pipeline import (
    Pipeline,
    add_alert_rules,
    build_pipeline,
    freeze_startup_objects,
    not_stored_line,
)
from flightwatch.daemon.replay import StopOnSignal
from flightwatch.db import close, connect
from flightwatch.db.alert_record import Alert
from flightwatch.db.imports import Finished, finished_members, record_finished
from flightwatch.decoder import Frame, Observation
from flightwatch.settings import Settings

log = logging.getLogger(__name__)

ALERT_MODES = ("none", "store", "notify")
_DAY = timedelta(days=1)
MAX_BATCH_ROWS = 20_000  # positions a commit at most (database.batch_rows may be larger)
PARQUET_BATCH_ROWS = 5_000  # pyarrow's ~33 MB leave less room for buffered positions
_PROGRESS_EVERY = 4096  # observations between progress-bar refreshes
_SHOWN_BAD = 20


class RetrospectiveSink:
    """Marks what the rules raise as retrospective and counts what was new."""

    def __init__(self, sink: AlertSink) -> None:
        self.sink = sink
        self.stored = 0

    def raise_alert(self, alert: Alert) -> int | None:
        alert_id = self.sink.raise_alert(replace(alert, retrospective=True))
        if alert_id is not None:
            self.stored += 1
        return alert_id

    def flush(self) -> int:
        """Write the alerts held back (the wrapped sink's own flush); how many are left."""
        return self.sink.flush()


@dataclass
class ImportSummary:
    inputs: int = 0
    members: int = 0
    already_imported: int = 0
    not_importable: int = 0
    bad: list[str] = field(default_factory=list)
    malformed: int = 0
    outside_window: int = 0
    aircraft: int = 0
    observations: int = 0
    positions_stored: int = 0
    positions_rejected: int = 0
    alerts: int = 0
    notifications_sent: int = 0
    notifications_pending: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    saved: bool = True  # everything read is in the database
    positions_not_stored: int = 0
    unit: str = "file(s)"  # what ``members`` counts

    @property
    def positions_per_second(self) -> float:
        return self.positions_stored / self.seconds if self.seconds > 0 else 0.0

    def render(self) -> str:
        lines = [f"bad: {reason}" for reason in self.bad[:_SHOWN_BAD]]
        if len(self.bad) > _SHOWN_BAD:
            lines.append(f"bad: ... and {len(self.bad) - _SHOWN_BAD} more")
        stop = "interrupted (run the same command again to resume) after "
        lines.append(
            f"{stop if self.interrupted else ''}{self.inputs} input(s): "
            f"{self.members:,} {self.unit} imported, "
            f"{self.already_imported:,} already imported, {len(self.bad):,} bad, "
            f"{self.not_importable:,} not a track format; {self.aircraft:,} aircraft, "
            f"{self.positions_stored:,} positions stored "
            f"({self.positions_rejected:,} implausible rejected, {self.malformed:,} malformed, "
            f"{self.outside_window:,} outside --since/--until), "
            f"{self.positions_per_second:,.0f} positions/s in {self.seconds:.1f} s"
        )
        lines.append(
            f"{self.alerts:,} retrospective alert(s) stored; "
            f"{self.notifications_sent:,} notification(s) sent, "
            f"{self.notifications_pending:,} pending"
        )
        if not self.saved:
            lines.append(not_stored_line(self.positions_not_stored) + "; the files they came "
                         "from are not recorded as imported: run the same command again")
        return "\n".join(lines)


def window_key(since: datetime | None, until: datetime | None) -> str:
    """The ``--since``/``--until`` an import ran with, as recorded per member."""
    if since is None and until is None:
        return ""
    return f"{since.isoformat() if since else ''}/{until.isoformat() if until else ''}"


class Importer:
    """One import run: a pipeline with flights (and rules), fed member by member."""

    def __init__(
        self,
        pipeline: Pipeline,
        engine: Engine,
        *,
        fmt: str = "auto",
        since: datetime | None = None,
        until: datetime | None = None,
        start: datetime | None = None,
        alerts: str = "store",
        sink: RetrospectiveSink | None = None,
        stopper: StopOnSignal | None = None,
        checkpoint_s: float = 10.0,
    ) -> None:
        self.pipeline = pipeline
        self.engine = engine
        self.fmt = fmt
        self._since_s = since.timestamp() if since else None
        self._until_s = until.timestamp() if until else None
        self._windowed = since is not None or until is not None
        self.start = start
        self.alerts = alerts
        self.sink = sink
        self.stopper = stopper
        self.checkpoint_s = checkpoint_s  # commit and record finished members this often
        self.summary = ImportSummary()
        self.window = window_key(since, until)
        self._segmenters = [pipeline.detection.segmenter] if pipeline.detection else []
        # An import buffers as fast as it reads: its commits are capped to stay within
        # 150 MB (benchmarks/import_speed.py: 20,000 rows, 111 MB peak on traces).
        store = pipeline.store
        store.batch_rows = min(store.batch_rows, MAX_BATCH_ROWS)
        for segmenter in self._segmenters:
            segmenter.batch_flights = min(segmenter.batch_flights, MAX_BATCH_ROWS)
        self._expiry = pipeline.tracker.expire_after
        self._bar: tqdm | None = None
        self._last_snapshot: float | None = None
        self._cadence = float("inf")  # seconds between aircraft.json snapshots
        self._fed = 0

    # --- driving ----------------------------------------------------------------------

    def run(self, paths: Sequence[Path], progress: bool = False) -> ImportSummary:
        """Import files, folders and tarballs in order."""
        return self._run(lambda: self._import_inputs(paths), progress)

    def run_history(self, database: HistoryDatabase, chunks: Sequence[Chunk],
                    progress: bool = False) -> ImportSummary:
        """Import OpenSky's historical database, a chunk (a day) at a time."""
        self.summary.unit = "day(s)"
        return self._run(lambda: self._import_history(database, chunks), progress)

    def _run(self, body: Callable[[], None], progress: bool) -> ImportSummary:
        pipeline = self.pipeline
        pipeline.aircraft_seen = set()
        began = time.perf_counter()
        with logging_redirect_tqdm(), tqdm(
            unit=" obs", unit_scale=True, disable=not progress, desc="import", leave=False,
        ) as bar:
            self._bar = bar
            try:
                body()
            finally:  # what was fed stays, even when a missing library stops the import
                self.summary.saved = pipeline.flush()
                if not self.summary.saved:
                    log.error("could not write the last batch to the database")
        self.summary.interrupted = self._stopped()
        s = self.summary
        s.seconds = time.perf_counter() - began
        s.aircraft = len(pipeline.aircraft_seen)
        s.observations = pipeline.stats.observations
        s.positions_stored = pipeline.store.stats.positions_written
        s.positions_not_stored = pipeline.positions_not_stored
        s.saved = s.saved and s.positions_not_stored == 0
        s.positions_rejected = pipeline.stats.positions_rejected
        s.alerts = self.sink.stored if self.sink else 0
        return s

    def _import_inputs(self, paths: Sequence[Path]) -> None:
        for path in paths:
            if self._stopped():
                break
            self.summary.inputs += 1
            self._import_input(path)

    def _import_history(self, database: HistoryDatabase, chunks: Sequence[Chunk]) -> None:
        """Each chunk is committed and recorded before the next is asked for, so a failure
        or Ctrl-C loses nothing and the next run starts at the chunk it stopped in."""
        self.summary.inputs += 1
        done = finished_members(self.engine, HISTORY_SOURCE, self.window)
        pending: list[Finished] = []
        for chunk in chunks:
            if self._stopped():
                break
            if self._already_imported(done.get(chunk.name), 0):
                self.summary.already_imported += 1
                continue
            errors = RowErrors()
            stored_before = self.pipeline.stats.positions_stored
            try:
                complete = self._feed_stream(database.observations(chunk, errors))
            except HistoryError as exc:
                self.summary.bad.append(f"{chunk.name}: {exc}")
                break
            finally:
                self.summary.malformed += errors.malformed
            if not complete:
                break
            self.summary.members += 1
            self._show()
            positions = self.pipeline.stats.positions_stored - stored_before
            pending.append(Finished(chunk.name, 0, positions))
            self._checkpoint(HISTORY_SOURCE, pending)

    def _stopped(self) -> bool:
        return self.stopper is not None and self.stopper.stopped.is_set()

    def _import_input(self, path: Path) -> None:
        source = f"import/{input_name(path)}"
        self._last_snapshot, self._cadence = None, float("inf")
        done = finished_members(self.engine, source, self.window)
        pending: list[Finished] = []
        last_checkpoint = time.monotonic()
        iterator = members(path)
        previous = ""
        while not self._stopped():
            try:
                member = next(iterator)
            except StopIteration:
                break
            except READ_ERRORS as exc:
                after = f" after {previous}" if previous else ""
                self.summary.bad.append(f"{path}: damaged or cut short{after} ({exc})")
                break
            previous = member.name
            if self._already_imported(done.get(member.name), member.size):
                self.summary.already_imported += 1
                continue
            stored_before = self.pipeline.stats.positions_stored
            if self._import_member(path, member, source):
                positions = self.pipeline.stats.positions_stored - stored_before
                pending.append(Finished(member.name, member.size, positions))
            if time.monotonic() - last_checkpoint >= self.checkpoint_s:
                self._checkpoint(source, pending)
                last_checkpoint = time.monotonic()
        self._checkpoint(source, pending)

    def _already_imported(self, recorded: tuple[int, str] | None, size: int) -> bool:
        if recorded is None or recorded[0] != size:
            return False
        return self.alerts == "none" or recorded[1] != "none"

    def _import_member(self, path: Path, member: Member, source: str) -> bool:
        """Feed one member; False when it was bad, not importable or cut off by a signal."""
        stats = MemberStats()
        label = f"{path}:{member.name}" if path.is_dir() or path.name != member.name else str(path)
        try:
            head, stream = member.open()
            with stream:
                fmt = member_format(member, head, self.fmt)
                complete = self._feed_member(stream, fmt, source, member, stats)
        except NotImportable as exc:
            self.summary.not_importable += 1
            log.debug("skipped %s", exc)
            return False
        except MEMBER_ERRORS as exc:
            self.summary.bad.append(f"{label}: {_reason(exc)}")
            return False
        finally:
            self.summary.malformed += stats.malformed + stats.bad_frames
        if stats.malformed:
            log.warning("%s: %d malformed record(s) skipped (e.g. %s)", label, stats.malformed,
                        stats.example)
        if complete:
            self.summary.members += 1
            self._show()
        return complete

    def _feed_member(
        self, stream: BinaryIO, fmt: str, source: str, member: Member, stats: MemberStats
    ) -> bool:
        if fmt == "trace":
            try:
                trace = read_trace(stream, source)
            except TraceError as exc:
                raise ValueError(str(exc)) from exc
            stats.malformed += trace.malformed
            stats.example = stats.example or trace.example
            return self._feed_trace(trace.observations, trace.silences)
        if fmt == "opensky-parquet":
            self.pipeline.store.batch_rows = min(self.pipeline.store.batch_rows,
                                                 PARQUET_BATCH_ROWS)
        records = stream_records(stream, fmt, source, stats, start=self.start, member=member)
        complete = self._feed_stream(records)
        if stats.snapshot_time is not None:
            self._snapshot_cadence(source, stats.snapshot_time)
        return complete

    def _snapshot_cadence(self, source: str, now: float) -> None:
        """Snapshots taken every minute must not lose every aircraft between two of them:
        as for a polled aggregator, allow twice the archive's cadence plus 30 s."""
        previous, self._last_snapshot = self._last_snapshot, now
        if previous is None or not 0 < now - previous < self._cadence:
            return
        self._cadence = now - previous
        self.pipeline.tracker.set_source_silence(source, 2 * self._cadence + 30)

    # --- feeding ----------------------------------------------------------------------

    def _feed_trace(self, observations: list[Observation], silences: set[int]) -> bool:
        """One aircraft's points; its track ends with the file (or at a silence the
        trace's flags mark that is longer than the tracker's expiry).

        The end of a trace is the aircraft going silent (lost, as a receiver would have
        lost it: a ``went_silent`` alert inside a fence), except at the end of the UTC
        day a trace file covers: there the file ends, not the aircraft's track.
        """
        pipeline = self.pipeline
        pipeline.end_tracks(announce=False)
        previous: datetime | None = None
        for index, obs in enumerate(observations):
            if index in silences and previous is not None and (
                obs.time - previous > self._expiry
            ):
                pipeline.end_tracks()  # not heard in between: lost, as a receiver would
            previous = obs.time
            if not self._feed(obs):
                return False
        if previous is not None:
            midnight = (previous + _DAY).replace(hour=0, minute=0, second=0, microsecond=0)
            pipeline.end_tracks(announce=midnight - previous > self._expiry)
            for segmenter in self._segmenters:
                segmenter.forget(observations[0].icao)
        return True

    def _feed_stream(self, records: Iterable[Frame | Observation]) -> bool:
        pipeline = self.pipeline
        go_back = self._expiry
        for record in records:
            clock = pipeline.clock
            if clock is not None and isinstance(record, Observation) and (
                clock - record.time > go_back
            ):
                pipeline.end_tracks(announce=False)  # older data follows: start afresh
            if not self._feed(record):
                return False
        return True

    def _feed(self, record: Frame | Observation) -> bool:
        if self._windowed and not self._in_window(record):
            self.summary.outside_window += 1
            return True
        self.pipeline.feed(record)
        self._fed += 1
        if self._fed % _PROGRESS_EVERY == 0:
            self._show()
            return not self._stopped()
        return True

    def _in_window(self, record: Frame | Observation) -> bool:
        seconds = record.time if isinstance(record, Frame) else record.time.timestamp()
        return (self._since_s is None or seconds >= self._since_s) and (
            self._until_s is None or seconds < self._until_s)

    def _show(self) -> None:
        bar = self._bar
        if bar is None or bar.disable:
            return
        bar.update(self._fed - bar.n)
        seen = self.pipeline.aircraft_seen
        bar.set_postfix(files=self.summary.members, aircraft=len(seen) if seen else 0,
                        positions=self.pipeline.stats.positions_stored, refresh=False)

    def _checkpoint(self, source: str, pending: list[Finished]) -> None:
        """Commit what is buffered, then record the members it completes."""
        if not pending:
            return
        ok = self.pipeline.flush()
        if self.sink is not None:
            ok = self.sink.flush() == 0 and ok
        # Positions dropped from an overfull buffer are lost: no member counts as done.
        if not ok or self.pipeline.store.stats.positions_dropped:
            return  # kept: recorded at the next checkpoint that commits
        record_finished(self.engine, source, self.window, self.alerts, pending)
        pending.clear()


def _reason(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    if isinstance(exc, EOFError):
        return f"truncated ({text})"
    return text


def import_archives(
    settings: Settings,
    paths: Sequence[Path],
    *,
    fmt: str = "auto",
    since: datetime | None = None,
    until: datetime | None = None,
    start: datetime | None = None,
    alerts: str = "store",
    progress: bool = False,
) -> ImportSummary:
    """Import every path (file, folder or tarball) in order; Ctrl-C stops cleanly."""
    return _import(settings, alerts, lambda importer: importer.run(paths, progress=progress),
                   fmt=fmt, since=since, until=until, start=start)


def import_opensky_history(
    settings: Settings,
    icaos: Sequence[str],
    *,
    since: datetime,
    until: datetime,
    watched: bool = False,
    alerts: str = "store",
    progress: bool = False,
    env: Mapping[str, str] | None = None,
) -> ImportSummary:
    """Import these aircraft (and the watchlist's, with ``watched``) from OpenSky's
    historical database over [since, until), a UTC day per query.

    The query bounds the time itself, so positions are not filtered again: each day is
    recorded whole (window ""), and a later import of a longer window skips it.
    """
    database = HistoryDatabase.from_settings(settings["opensky_history"],
                                             os.environ if env is None else env)
    wanted = list(icaos)
    if watched:
        from flightwatch.db.watchlist import entries, sync_files

        engine = connect(settings.database_url)
        try:
            sync_files(engine, settings["watchlist"]["files"])
            wanted += [entry.icao for entry in entries(engine)]
        finally:
            close(engine)
    chunks = day_chunks(wanted, since, until)
    return _import(settings, alerts,
                   lambda importer: importer.run_history(database, chunks, progress=progress))


def _import(
    settings: Settings, alerts: str, run: Callable[[Importer], ImportSummary],
    **options: Any,
) -> ImportSummary:
    """A pipeline with flights and (per ``alerts``) the rules, run by ``run``."""
    if alerts not in ALERT_MODES:
        raise ValueError(f"alerts={alerts!r}; use one of {', '.join(ALERT_MODES)}")
    engine = connect(settings.database_url)
    try:
        return _import_into(engine, settings, alerts, run, options)
    finally:
        close(engine)  # checkpoint the WAL, interrupted or not, as replay does


def _import_into(
    engine: Engine, settings: Settings, alerts: str, run: Callable[[Importer], ImportSummary],
    options: dict[str, Any],
) -> ImportSummary:
    # History from an archive was not heard by this receiver: its sources are
    # ``import/<name>``, not ``<receiver>/import/<name>``, and it says nothing of coverage.
    pipeline = build_pipeline(settings, engine, local=False)
    alerting: Alerting | None = None
    sink: RetrospectiveSink | None = None
    if alerts == "notify":
        alerting = build_alerting(settings, engine)
        sink = RetrospectiveSink(alerting.sink)
    elif alerts == "store":
        # No channel: nothing is sent; the pictures are for the web page.
        sink = RetrospectiveSink(AlertSink(engine, (), picture=pictures_of(settings)))
    if sink is not None:
        add_alert_rules(pipeline, settings, engine, sink)
    freeze_startup_objects()
    with StopOnSignal() as stopper:
        importer = Importer(pipeline, engine, alerts=alerts, sink=sink, stopper=stopper,
                            checkpoint_s=settings["database"]["batch_seconds"], **options)
        summary = run(importer)
    # Every aircraft's summary row, and the imported positions folded into chunks.
    if not pipeline.close(settle=True):
        log.error("could not write the last batch to the database")
    if alerting is not None:
        summary.notifications_sent, _failed = alerting.deliver()
        summary.notifications_pending = alerting.pending()
    return summary
