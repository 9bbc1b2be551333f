"""Health of a running flightwatch: one snapshot for the log line, the snapshot file and metrics.

The daemon takes a :class:`StatusSnapshot` every ``status.interval`` (one log
line, one small JSON file written by rename), the metrics endpoint serves the
latest one, and ``flightwatch status`` reads the file or, with no daemon
running, computes the database part itself (:func:`database_status`).

Counting every stored position is a scan of the biggest table, so the daemon
counts at most every ``count_every_s`` and adds what it wrote since.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from flightwatch.db.alert_queries import pending_count
from flightwatch.db.encoding import epoch
from flightwatch.db.position_reader import count, latest_time
from flightwatch.db.reader import Reader, as_reader, sqlite_file
from flightwatch.output.files import write_atomically
from flightwatch.output.formats import format_size

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from flightwatch.daemon.pipeline import Pipeline
    from flightwatch.settings import Settings

log = logging.getLogger(__name__)

DAY = timedelta(hours=24)
COUNT_EVERY_S = 900.0
SNAPSHOT_NAME = "flightwatch-status.json"
REJECTED = "rejected:"  # an aggregator's stats key per refusal reason


class HasStats(Protocol):
    """A source with counters (``collector.Source``: frames, bad_frames, reconnects)."""

    name: str

    @property
    def stats(self) -> Mapping[str, int]: ...


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One source's counters; ``rejected`` counts an aggregator's refused items by reason,
    ``garbage_bytes`` what a receiver feed sent that was no frame (dropped, bounded)."""

    name: str
    frames: int
    frames_per_s: float
    bad_frames: int
    reconnects: int
    rejected: dict[str, int] = field(default_factory=dict)
    garbage_bytes: int = 0


@dataclass(frozen=True)
class StatusSnapshot:
    """What flightwatch is doing at ``time``. Daemon-only fields are None without a daemon."""

    time: datetime
    # From the database (also known without a daemon).
    positions_total: int | None = None
    last_position: datetime | None = None
    aircraft_24h: int | None = None
    alerts_24h: int | None = None
    outbox_pending: int | None = None
    db_size_bytes: int | None = None
    # From the running daemon.
    daemon: bool = False
    pid: int | None = None
    started: datetime | None = None
    frames: int | None = None
    frames_per_s: float | None = None
    bad_frames: int | None = None
    aircraft_tracked: int | None = None
    positions_stored: int | None = None
    queued: int | None = None
    sources: tuple[SourceStatus, ...] = field(default_factory=tuple)

    @property
    def uptime_s(self) -> float | None:
        return None if self.started is None else (self.time - self.started).total_seconds()

    def age_s(self, now: datetime) -> float:
        return (now - self.time).total_seconds()

    def line(self) -> str:
        """The periodic status log line."""
        parts: list[str] = []
        if self.daemon:
            parts += [
                f"{_num(self.frames_per_s)} frames/s",
                f"{_num(self.aircraft_tracked)} aircraft tracked",
                f"{_num(self.positions_stored)} positions stored "
                f"({_num(self.positions_total)} in the database)",
                f"{_num(self.queued)} queued",
            ]
        else:
            parts.append(f"{_num(self.positions_total)} positions in the database")
        parts += [
            f"last position {_when(self.last_position)}",
            f"{_num(self.outbox_pending)} notifications pending",
            f"database {format_size(self.db_size_bytes)}",
        ]
        if self.uptime_s is not None:
            parts.append(f"up {format_duration(self.uptime_s)}")
        per_source = "; ".join(
            f"{s.name} {s.frames_per_s:,.0f}/s, {s.bad_frames:,} bad, {s.reconnects} reconnects"
            for s in self.sources
        )
        return "status: " + ", ".join(parts) + (f"; {per_source}" if per_source else "")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ISO 8601 UTC times, sources as a list of objects, uptime added."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = _iso(value)
        data["sources"] = [asdict(s) for s in self.sources]
        data["uptime_s"] = self.uptime_s
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StatusSnapshot:
        """The inverse of :meth:`to_dict`; unknown keys (a newer writer) are ignored."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("time", "last_position", "started"):
            if values.get(key) is not None:
                values[key] = datetime.fromisoformat(values[key]).astimezone(UTC)
        source_keys = {f.name for f in fields(SourceStatus)}
        values["sources"] = tuple(
            SourceStatus(**{k: v for k, v in s.items() if k in source_keys})
            for s in values.get("sources") or ()
        )
        return cls(**values)


# --- the database part ------------------------------------------------------------------

def count_positions(source: Reader | Engine) -> int:
    return count(as_reader(source))


def database_status(
    source: Reader | Engine, now: datetime | None = None, *, positions_total: int | None = None
) -> StatusSnapshot:
    """What the database alone says; ``positions_total`` skips the count when known."""
    reader = as_reader(source)
    now = now or datetime.now(UTC)
    since = {"since": reader.time(now - DAY)}
    last = latest_time(reader)
    aircraft = reader.scalar("SELECT COUNT(*) FROM aircraft WHERE last_seen >= :since", since)
    alerts = reader.scalar("SELECT COUNT(*) FROM alerts WHERE time >= :since", since)
    return StatusSnapshot(
        time=now,
        positions_total=count_positions(reader) if positions_total is None else positions_total,
        last_position=epoch(last),
        aircraft_24h=int(aircraft),
        alerts_24h=int(alerts),
        outbox_pending=pending_count(reader),
        db_size_bytes=reader.size(),
    )


# --- the daemon part --------------------------------------------------------------------

class StatusCollector:
    """Takes snapshots of a running pipeline; keeps the latest for the metrics endpoint.

    Rates (frames/s) are over the time since the previous snapshot, so take
    snapshots from one place only (the status job).
    """

    def __init__(
        self,
        engine: Engine,
        pipeline: Pipeline,
        *,
        sources: Sequence[HasStats] = (),
        queued: Callable[[], int] = lambda: 0,
        snapshot_file: Path | None = None,
        count_every_s: float = COUNT_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.pipeline = pipeline
        self.sources = list(sources)
        self.queued = queued
        self.snapshot_file = snapshot_file
        self.count_every_s = count_every_s
        self.started = datetime.now(UTC).replace(microsecond=0)  # whole seconds, as written
        self.latest: StatusSnapshot | None = None
        self._clock = clock
        self._previous: tuple[float, int, dict[str, int]] = (clock(), 0, {})
        # (monotonic time of the last count, the count, positions written by then)
        self._counted: tuple[float, int, int] | None = None

    def take(self, now: datetime | None = None) -> StatusSnapshot:
        now = (now or datetime.now(UTC)).replace(microsecond=0)
        mono = self._clock()
        then, frames_then, per_source_then = self._previous
        elapsed = max(mono - then, 1e-6)
        frames = self.pipeline.stats.frames
        sources = []
        per_source: dict[str, int] = {}
        for source in self.sources:
            stats = source.stats
            count = int(stats.get("frames", 0))
            per_source[source.name] = count
            rate = (count - per_source_then.get(source.name, 0)) / elapsed
            rejected = {key.removeprefix(REJECTED): int(n) for key, n in stats.items()
                        if key.startswith(REJECTED)}
            sources.append(SourceStatus(source.name, count, rate, int(stats.get("bad_frames", 0)),
                                        int(stats.get("reconnects", 0)), rejected,
                                        int(stats.get("garbage_bytes", 0))))
        self._previous = (mono, frames, per_source)
        written = self.pipeline.store.stats.positions_written
        snapshot = replace(
            database_status(self.engine, now, positions_total=self._positions_total(mono, written)),
            daemon=True,
            pid=os.getpid(),
            started=self.started,
            frames=frames,
            frames_per_s=(frames - frames_then) / elapsed,
            bad_frames=sum(s.bad_frames for s in sources),
            aircraft_tracked=len(self.pipeline.tracker),
            positions_stored=written,
            queued=self.queued(),
            sources=tuple(sources),
        )
        self.latest = snapshot
        return snapshot

    def _positions_total(self, mono: float, written: int) -> int:
        if self._counted is None or mono - self._counted[0] >= self.count_every_s:
            self._counted = (mono, count_positions(self.engine), written)
        _at, counted, written_then = self._counted
        return counted + written - written_then

    def report(self) -> StatusSnapshot:
        """The status job: take a snapshot, log its line, write the snapshot file."""
        snapshot = self.take()
        log.info("%s", snapshot.line())
        if self.snapshot_file is not None:
            try:
                write_snapshot(snapshot, self.snapshot_file)
            except OSError as exc:
                log.warning("cannot write the status snapshot %s: %s", self.snapshot_file, exc)
        return snapshot


# --- the snapshot file ------------------------------------------------------------------

def snapshot_path(settings: Settings) -> Path:
    """``status.snapshot_file``, else beside the SQLite database, else the config folder."""
    configured = settings["status"]["snapshot_file"]
    if configured is not None:
        return Path(configured)
    database = sqlite_file(settings.database_url)
    if database is not None:
        return Path(database).with_name(SNAPSHOT_NAME)
    return settings.base / SNAPSHOT_NAME


def write_snapshot(snapshot: StatusSnapshot, path: Path) -> None:
    write_atomically(path, json.dumps(snapshot.to_dict(), indent=1).encode())


def read_snapshot(path: Path) -> StatusSnapshot | None:
    """The snapshot in ``path``; None if there is none or it cannot be read."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return StatusSnapshot.from_dict(data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError) as exc:
        log.warning("status snapshot %s unreadable: %s", path, exc)
        return None


def stale_after_s(settings: Settings) -> float:
    """A snapshot older than this means the daemon is gone (three missed intervals)."""
    return max(3 * settings["status"]["interval"], 180.0)


def process_alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, run by another user (the service account)
        return True
    return True


# --- formatting -------------------------------------------------------------------------

def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _num(value: float | None) -> str:
    return "?" if value is None else f"{value:,.0f}"


def _when(value: datetime | None) -> str:
    return "never" if value is None else _iso(value)


def format_duration(seconds: float | None) -> str:
    """``3d 04:12:09`` or ``04:12:09``."""
    if seconds is None:
        return "?"
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}d {clock}" if days else clock
