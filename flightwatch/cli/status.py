"""``flightwatch status``: what the running daemon is doing, or what the database says.

With a daemon running, its latest snapshot: from the metrics endpoint when that
is on, else from the snapshot file the daemon rewrites every status interval.
Without one (no snapshot, a stale one, or its process gone) the figures come
from the database alone, opened read-only: this command never migrates or
creates a database.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from flightwatch.cli.common import EXIT_OK, settings_from

if TYPE_CHECKING:
    from flightwatch.daemon.status import StatusSnapshot
    from flightwatch.settings import Settings

ENDPOINT_TIMEOUT_S = 2.0


def register(commands: Any) -> None:
    """Add the ``status`` command to the CLI's subparsers."""
    status = commands.add_parser("status", help="is the daemon running, and how it is doing")
    status.add_argument("--format", default="table", choices=("table", "json"))
    status.set_defaults(handler=cmd_status)


@dataclass(frozen=True)
class StatusReport:
    """A snapshot and where it came from: ``endpoint``, ``snapshot`` or ``database``."""

    snapshot: StatusSnapshot | None
    running: bool
    origin: str
    note: str
    coverage: tuple[tuple[str, str], ...] = ()  # (receiver, learned coverage in words)

    def to_dict(self, now: datetime) -> dict[str, Any]:
        data = self.snapshot.to_dict() if self.snapshot is not None else {}
        data.update(running=self.running, origin=self.origin, note=self.note,
                    coverage=dict(self.coverage))
        if self.snapshot is not None and self.origin != "database":
            data["snapshot_age_s"] = round(self.snapshot.age_s(now), 1)
        return data


def cmd_status(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    now = datetime.now(UTC)
    report = replace(gather(settings, now), coverage=_coverage(settings))
    if args.format == "json":
        sys.stdout.write(json.dumps(report.to_dict(now), ensure_ascii=False) + "\n")
    else:
        write_table(report, now, sys.stdout)
    return EXIT_OK


def gather(settings: Settings, now: datetime) -> StatusReport:
    """The freshest account available: live endpoint, snapshot file, then the database."""
    from flightwatch.daemon.status import (
        format_duration,
        process_alive,
        read_snapshot,
        snapshot_path,
        stale_after_s,
    )

    section = settings["status"]
    if section["metrics_port"]:
        live = fetch_endpoint(section["metrics_host"], section["metrics_port"])
        if live is not None:
            return StatusReport(live, True, "endpoint", f"running (pid {live.pid})")
    path = snapshot_path(settings)
    saved = read_snapshot(path)
    if saved is not None and saved.daemon:
        age = saved.age_s(now)
        if age > stale_after_s(settings):
            note = (f"not running: its last snapshot ({path}) is "
                    f"{format_duration(age)} old")
        elif not process_alive(saved.pid):
            note = f"not running: process {saved.pid} is gone (snapshot {age:.0f} s old)"
        else:
            return StatusReport(saved, True, "snapshot", f"running (pid {saved.pid})")
    else:
        note = f"not running (no status snapshot at {path})"
    snapshot, problem = _from_database(settings, now)
    return StatusReport(snapshot, False, "database", f"{note}; {problem}" if problem else note)


def fetch_endpoint(host: str, port: int) -> StatusSnapshot | None:
    """The daemon's snapshot from its metrics endpoint; None if nothing answers."""
    import urllib.request  # loads ssl: ~4 MB that only this path needs

    from flightwatch.daemon.status import StatusSnapshot

    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        with urllib.request.urlopen(f"http://{netloc}/status.json",
                                    timeout=ENDPOINT_TIMEOUT_S) as reply:
            return StatusSnapshot.from_dict(json.load(reply))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _from_database(settings: Settings, now: datetime) -> tuple[StatusSnapshot | None, str]:
    from flightwatch.daemon.status import database_status
    from flightwatch.db.reader import SchemaNotCurrent, open_reader, sqlite_file

    url = settings.database_url
    database = sqlite_file(url)
    if database is not None and not Path(database).is_file():
        return None, f"no database at {database} yet"
    try:
        reader = open_reader(url, upgrade=False)
    except SchemaNotCurrent as exc:
        return None, str(exc)
    with reader:
        return database_status(reader, now), ""


def _coverage(settings: Settings) -> tuple[tuple[str, str], ...]:
    """What each receiver has learned of its coverage, from the database (if there is one)."""
    from flightwatch.db.coverage import coverage_summaries
    from flightwatch.db.reader import SchemaNotCurrent, open_reader, sqlite_file

    database = sqlite_file(settings.database_url)
    if database is not None and not Path(database).is_file():
        return ()
    try:
        with open_reader(settings.database_url, upgrade=False) as reader:
            return tuple((s.receiver, s.text()) for s in coverage_summaries(reader))
    except SchemaNotCurrent:
        return ()


def _number(value: float | None, suffix: str = "") -> str:
    return "unknown" if value is None else f"{value:,.0f}{suffix}"


def _time(value: datetime | None) -> str:
    return "never" if value is None else value.isoformat(timespec="seconds").replace("+00:00", "Z")


def write_table(report: StatusReport, now: datetime, out: TextIO) -> None:
    from flightwatch.daemon.status import format_duration
    from flightwatch.output.formats import format_size

    snap = report.snapshot
    rows: list[tuple[str, str]] = [("daemon", report.note)]
    if snap is not None:
        if report.running:
            rows += [
                ("snapshot taken", f"{_time(snap.time)} ({snap.age_s(now):.0f} s ago)"),
                ("uptime", format_duration(snap.uptime_s)),
                ("frames/s", _number(snap.frames_per_s)),
                ("frames", f"{_number(snap.frames)} ({_number(snap.bad_frames)} bad)"),
                ("aircraft tracked", _number(snap.aircraft_tracked)),
                ("positions stored", f"{_number(snap.positions_stored)} since start"),
                ("queued", _number(snap.queued)),
            ]
        rows += [
            ("positions in database", _number(snap.positions_total)),
            ("last position", _time(snap.last_position)),
            ("aircraft seen (24 h)", _number(snap.aircraft_24h)),
            ("alerts (24 h)", _number(snap.alerts_24h)),
            ("notifications pending", _number(snap.outbox_pending)),
            ("database size", format_size(snap.db_size_bytes)),
        ]
        rows += [
            (f"source {s.name}", f"{s.frames:,} frames, {s.frames_per_s:,.0f}/s, "
                                 f"{s.bad_frames:,} bad, {s.reconnects} reconnects"
                                 + (f", {format_size(s.garbage_bytes)} of garbage"
                                    if s.garbage_bytes else "")
                                 + "".join(f"; {n:,} {reason}" for reason, n
                                           in sorted(s.rejected.items())))
            for s in snap.sources
        ]
    rows += [(f"coverage {receiver}", text) for receiver, text in report.coverage]
    width = max(len(label) for label, _value in rows)
    for label, value in rows:
        out.write(f"{label + ':':<{width + 2}}{value}\n")
