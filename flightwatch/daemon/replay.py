"""``flightwatch replay``: captures through the live pipeline, with progress and a summary."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType

from flightwatch.collector import ReplaySource, open_capture
from flightwatch.daemon.alerting import Alerting, build_alerting
from flightwatch.daemon.pipeline import (
    Pipeline,
    build_pipeline,
    freeze_startup_objects,
    not_stored_line,
)
from flightwatch.db import close, connect
from flightwatch.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class ReplaySummary:
    files: int = 0
    frames: int = 0
    bad_frames: int = 0
    bad_crc: int = 0
    observations: int = 0
    aircraft: int = 0
    positions_stored: int = 0
    positions_rejected: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    saved: bool = True  # everything read is in the database
    positions_not_stored: int = 0
    alerts: int = 0
    notifications_sent: int = 0
    notifications_pending: int = 0
    per_file: list[str] = field(default_factory=list)

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def render(self) -> str:
        lines = list(self.per_file)
        lines.append(
            f"{'interrupted after ' if self.interrupted else ''}"
            f"{self.files} file(s): {self.frames:,} frames read, {self.bad_frames:,} bad frames, "
            f"{self.bad_crc:,} failed CRC, {self.aircraft:,} aircraft, "
            f"{self.positions_stored:,} positions stored "
            f"({self.positions_rejected:,} implausible rejected), "
            f"{self.frames_per_second:,.0f} messages/s in {self.seconds:.1f} s"
        )
        if self.alerts or self.notifications_sent or self.notifications_pending:
            lines.append(
                f"{self.alerts:,} alert(s) raised; {self.notifications_sent:,} notification(s) "
                f"sent, {self.notifications_pending:,} pending"
            )
        if not self.saved:
            lines.append(not_stored_line(self.positions_not_stored))
        return "\n".join(lines)


class StopOnSignal:
    """SIGTERM/SIGINT stop the current source; the replay then flushes and exits cleanly."""

    def __init__(self) -> None:
        self.source: ReplaySource | None = None
        self.stopped = threading.Event()
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.stopped.set()
        if self.source is not None:
            self.source.stop()

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]


def _with_progress(source: ReplaySource, show: bool) -> Iterator[object]:
    if not show:
        yield from source
        return
    from tqdm import tqdm

    with tqdm(total=source.total_bytes, unit="B", unit_scale=True, desc=source.path.name,
              leave=False) as bar:
        last = 0
        for i, item in enumerate(source):
            yield item
            if i & 0x3FF == 0:
                now = source.bytes_read
                bar.update(now - last)
                last = now
        bar.update(source.total_bytes - last)


def replay_files(
    settings: Settings,
    files: Sequence[Path],
    *,
    fmt: str = "auto",
    start: datetime | None = None,
    realtime: bool = False,
    progress: bool = False,
    pipeline: Pipeline | None = None,
) -> ReplaySummary:
    """Replay each file in order through one pipeline; positions are flushed at the end.

    Without a ``pipeline`` given, the database is opened here and closed cleanly at the
    end, interrupted or not: no WAL is left beside it.
    """
    sources = [open_capture(path, fmt, start=start, realtime=realtime) for path in files]
    if pipeline is not None:
        return _replay(sources, pipeline, None, progress)
    engine = connect(settings.database_url)
    try:
        alerting = build_alerting(settings, engine)
        pipeline = build_pipeline(settings, engine, alerting=alerting)
        return _replay(sources, pipeline, alerting, progress)
    finally:
        close(engine)


def _replay(
    sources: Sequence[ReplaySource], pipeline: Pipeline, alerting: Alerting | None,
    progress: bool,
) -> ReplaySummary:
    summary = ReplaySummary()
    pipeline.aircraft_seen = set()
    freeze_startup_objects()
    began = time.perf_counter()
    with StopOnSignal() as stopper:
        for source in sources:
            if stopper.stopped.is_set():
                break
            stopper.source = source
            feed = pipeline.feed
            for item in _with_progress(source, progress):
                feed(item)  # type: ignore[arg-type]
            stats = source.stats
            summary.files += 1
            summary.frames += stats.get("frames", 0)
            summary.bad_frames += stats.get("bad_frames", 0)
            summary.per_file.append(
                f"{source.path}: {source.fmt}, {stats.get('frames', 0):,} frames, "
                f"{stats.get('bad_frames', 0):,} bad"
            )
        summary.interrupted = stopper.stopped.is_set()
        # The capture's end is the receiver's last word: aircraft still tracked are lost
        # then (went silent, or landed if they were on an approach), as the live daemon
        # would find them a minute later. An interrupted replay stops mid-story: no verdict.
        summary.saved = pipeline.close(expire_all=not summary.interrupted, settle=True)
        if not summary.saved:
            log.error("could not write the last batch to the database")
    summary.alerts = sum(getattr(listener, "alerts_raised", 0) for listener in pipeline.listeners)
    if alerting is not None:
        summary.notifications_sent, _failed = alerting.deliver()
        summary.notifications_pending = alerting.pending()
    summary.seconds = time.perf_counter() - began
    decode = pipeline.decode_stats
    summary.bad_crc = decode["bad_crc"]
    summary.observations = pipeline.stats.observations
    summary.aircraft = len(pipeline.aircraft_seen)
    summary.positions_stored = pipeline.store.stats.positions_written
    summary.positions_not_stored = pipeline.positions_not_stored
    summary.saved = summary.saved and summary.positions_not_stored == 0
    summary.positions_rejected = pipeline.stats.positions_rejected
    return summary
