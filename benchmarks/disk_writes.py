"""Disk writes of a busy receiver on a database that already holds its history.

What a commit costs depends on what the file already holds, so each measurement
starts from a pre-filled database (``history_fill``: 1 hour, 1 day, or the default
retention's worth, 7 days at full rate plus 7 thinned days; cached with ``--keep``)
and then ingests ``--hours`` of live traffic: synthetic frames
(``tools.simulate.turnover_traffic``: 455 aircraft airborne at once, 2,000 frames per
second of capture time, each flight about an hour, so some 455 new flights an hour)
through the real pipeline (decoding, tracking, flights, the batched Store) with default
settings; ``--traffic fixed`` keeps the same 455 aircraft in the air for the whole hour
(``synthetic_traffic``, no new flights), as the benchmark did before. The capture's
clock drives everything, the Store's commit and merge timers included, so an hour of
capture writes what an hour of live running would, only faster. Closing the pipeline
writes the rest (as a replay does), and a final checkpoint counts the pages the WAL still
owes the file.

``--thinning`` then runs the retention job as the daemon does, every 10 minutes of a
simulated day, on the largest history: one day of full-rate positions crosses
``thin_after`` and is thinned.

Measured: bytes this process wrote to disk (``/proc/self/io`` write_bytes: pages
handed to the block layer, WAL and checkpoints included), database growth, positions
stored; per hour and per day. Prints figures only, asserts nothing. Targets (issue
"A year on an SD card"): <= 60 MB/h at steady state, flat as the history grows;
thinning's writes per day <= 5x the thinned data it keeps. Page-cache writeback runs on
the wall clock, so a page rewritten within seconds here may have been written twice
live: ``daemon_writes.py`` measures the daemon itself at the pace of the air.

    python benchmarks/disk_writes.py [--history 1h,1d,7d] [--hours 1] [--rate 2000]
        [--traffic turnover|fixed] [--keep DIR] [--thinning] [--batch-seconds S]
        [--batch-rows N]

Needs Linux (/proc/self/io) and a disk-backed folder (tmpfs counts no block writes);
building the 7-day history takes several minutes, each simulated hour about five.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from history_fill import HistoryPlan, fill  # noqa: E402

MB = 1e6
DAY = 86400
#: label -> (seconds of full-rate history, seconds of thinned history before it)
HISTORIES = {"1h": (3600, 0), "1d": (DAY, 0), "7d": (7 * DAY, 7 * DAY), "thinned": (0, DAY)}
LIVE_SEED = 7
LIVE_START = datetime(2020, 8, 19, 12, 0, tzinfo=UTC)  # synthetic_traffic's default start


def io_counters() -> dict[str, int]:
    """This process's I/O counters (rchar, wchar, read_bytes, write_bytes, ...)."""
    text = Path("/proc/self/io").read_text(encoding="ascii")
    return {key: int(value) for key, value in (line.split(": ") for line in text.splitlines())}


def io_delta(before: dict[str, int]) -> dict[str, int]:
    after = io_counters()
    return {key: after[key] - before[key] for key in before}


def file_sizes(path: Path) -> tuple[int, int]:
    """(file bytes, bytes in use) after a full checkpoint."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    return pages * size, (pages - free) * size


def position_bytes(path: Path) -> int:
    """Bytes of the pages that hold positions (their tables and indexes), from dbstat."""
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE "
                                "'%position%'").fetchone()[0])


def position_count(url: str) -> int:
    from flightwatch.daemon.status import count_positions
    from flightwatch.db import close, connect

    engine = connect(url)
    try:
        return count_positions(engine)
    finally:
        close(engine)


def n_aircraft_for(rate: float) -> int:
    from tools.simulate import Rates

    # synthetic_traffic's default rates: DO-260B nominal plus a DF4/DF5 reply every 5 s.
    return max(1, round(rate / Rates(surveillance_s=5.0).per_second()))


def write_config(folder: Path, db: Path, batch_seconds: float | None,
                 batch_rows: int | None) -> Path:
    config = folder / f"{db.stem}.toml"
    lines = ["[database]", f'url = "sqlite:///{db}"']
    if batch_seconds is not None:
        lines.append(f'batch_seconds = "{batch_seconds}s"')
    if batch_rows is not None:
        lines.append(f"batch_rows = {batch_rows}")
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def history_db(cache: Path, label: str, live_icaos: tuple[str, ...],
               concurrent: int) -> tuple[Path, dict[str, Any]]:
    """The pre-filled database for ``label``, ``concurrent`` aircraft in the air at once
    (built once per cache folder)."""
    from sqlalchemy import event

    from flightwatch.alerts.geofence import Geofence
    from flightwatch.db import close, connect

    # Its pool holds the live aircraft.
    path = cache / f"history-{label}-{concurrent}-{len(live_icaos)}.db"
    done = path.with_suffix(".done")
    if not (path.exists() and done.exists()):
        for stale in cache.glob(f"{path.name}*"):
            stale.unlink()
        full_s, thinned_s = HISTORIES[label]
        plan = HistoryPlan(end=int(LIVE_START.timestamp()), full_s=full_s, thinned_s=thinned_s,
                           concurrent=concurrent, live=live_icaos)
        fence = Geofence.from_file(REPO / "config" / "geofences" / "belarus.geojson", "belarus")
        engine = connect(f"sqlite:///{path}")
        engine.dispose()  # a bigger page cache and no syncs while building: faster, same file
        event.listen(engine, "connect", _fast_build)
        began = time.perf_counter()
        counts = fill(engine, plan, fence,
                      progress=lambda line: print(f"\r  building {label}: {line}", end="",
                                                  file=sys.stderr))
        close(engine)
        print(f"\r  built {label} in {time.perf_counter() - began:.0f} s: {counts}",
              file=sys.stderr)
        done.touch()
    size, used = file_sizes(path)
    positions = position_count(f"sqlite:///{path}")
    return path, {"positions": positions, "file_bytes": size, "used_bytes": used,
                  "position_bytes": position_bytes(path)}


def _fast_build(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA cache_size=-262144")
    dbapi_conn.execute("PRAGMA synchronous=OFF")


def live_traffic(kind: str, rate: float, hours: float) -> tuple[list[str], Any]:
    """The live hour's aircraft and frames: ``turnover`` (flights of about an hour, new
    ones coming) or ``fixed`` (the same aircraft throughout)."""
    from tools.simulate import (
        synthetic_flights,
        synthetic_traffic,
        turnover_flights,
        turnover_traffic,
    )

    n_aircraft = n_aircraft_for(rate)
    if kind == "fixed":
        n_frames = int(rate * hours * 3600)
        return ([f.icao for f in synthetic_flights(n_aircraft, n_frames, seed=LIVE_SEED,
                                                   start=LIVE_START)],
                synthetic_traffic(n_aircraft=n_aircraft, n_frames=n_frames, seed=LIVE_SEED,
                                  start=LIVE_START))
    return ([f.icao for f in turnover_flights(n_aircraft, hours * 3600, seed=LIVE_SEED,
                                              start=LIVE_START)],
            turnover_traffic(n_aircraft, hours * 3600, seed=LIVE_SEED, start=LIVE_START))


def ingest(config: Path, hours: float, rate: float, kind: str) -> dict[str, float]:
    """Feed the synthetic hour(s) through the pipeline; I/O and timing figures."""
    from flightwatch.daemon.pipeline import build_pipeline
    from flightwatch.db import Store, close, connect
    from flightwatch.decoder import Frame
    from flightwatch.settings import load_settings
    settings = load_settings(config, env={})
    database = settings["database"]
    engine = connect(settings.database_url)
    pipeline = build_pipeline(settings, engine)
    clock = [0.0]
    # The commit timer runs on the capture's clock, as it would on the wall clock live.
    pipeline.store = Store(engine, batch_rows=database["batch_rows"],
                           batch_seconds=database["batch_seconds"], clock=lambda: clock[0])
    n_aircraft = n_aircraft_for(rate)
    _addresses, traffic = live_traffic(kind, rate, hours)
    first = last = None
    began = time.perf_counter()
    os.sync()  # pages dirtied before (the copied history) must not absorb this run's writes
    before = io_counters()
    feed = pipeline.feed
    for t, hexstr in traffic:
        if first is None:
            first = t
            clock[0] = t
        last = t
        if t - clock[0] >= 1.0:  # the daemon's one-second tick
            clock[0] = t
            pipeline.store.maybe_flush()
        feed(Frame(hexstr, t, "beast:127.0.0.1:30005"))
    pipeline.close()
    with engine.connect() as conn:  # what the next checkpoint would write
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
    written = io_delta(before)
    close(engine)
    if first is None or last is None:
        raise SystemExit("the synthetic traffic produced no frames")
    return {
        "aircraft": n_aircraft,
        "frames": pipeline.stats.frames,
        "capture_s": last - first,
        "positions": pipeline.stats.positions_stored,
        "commits": pipeline.store.stats.commits,
        "seconds": time.perf_counter() - began,
        "write_bytes": written["write_bytes"],
        "wchar": written["wchar"],
    }


def thin_a_day(config: Path, after: datetime) -> dict[str, float]:
    """The retention job every 10 minutes of one simulated day from ``after``."""
    from flightwatch.db import close, connect
    from flightwatch.db.retention import Retention
    from flightwatch.settings import load_settings

    settings = load_settings(config, env={})
    section = settings["retention"]
    engine = connect(settings.database_url)
    retention = Retention(engine, section)
    # The first run catches up with history thinned before (as after a restart).
    retention.run(after)
    os.sync()
    before = io_counters()
    began = time.perf_counter()
    thinned = scanned = 0
    step = timedelta(seconds=section["interval"])
    now = after
    while now < after + timedelta(days=1):
        now += step
        report = retention.run(now)
        thinned += report.thinned
        scanned += report.scanned
    seconds = time.perf_counter() - began
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
    written = io_delta(before)
    close(engine)
    return {"thinned": thinned, "scanned": scanned, "seconds": seconds,
            "write_bytes": written["write_bytes"], "interval": section["thin_interval"]}


def report_history(label: str, stats: dict[str, Any]) -> None:
    positions = max(stats["positions"], 1)
    print(f"\nhistory {label}: {stats['positions']:,} positions, "
          f"{stats['used_bytes'] / MB:,.1f} MB in use "
          f"({stats['used_bytes'] / positions:.1f} bytes a position with every table; "
          f"positions' own tables and indexes {stats['position_bytes'] / positions:.1f})")


def report_run(run: dict[str, float], grown: int, stored: int) -> dict[str, float]:
    hours = run["capture_s"] / 3600
    per_h = {key: run[key] / hours for key in ("positions", "write_bytes", "wchar", "commits")}
    print(
        f"  ingest: {run['frames']:,.0f} frames from {run['aircraft']:.0f} aircraft over "
        f"{run['capture_s'] / 60:.1f} capture minutes "
        f"({run['frames'] / run['capture_s']:,.0f} frames/s), replayed in {run['seconds']:.0f} s"
    )
    print(f"  positions stored: {per_h['positions']:,.0f}/h, {per_h['commits']:,.0f} commits/h")
    print(f"  DISK WRITES (write_bytes): {per_h['write_bytes'] / MB:,.1f} MB/h = "
          f"{per_h['write_bytes'] * 24 / 1e9:,.2f} GB/day; "
          f"{run['write_bytes'] / max(stored, 1):,.0f} bytes per stored position "
          f"(write() calls: {per_h['wchar'] / MB:,.1f} MB/h)")
    print(f"  database growth: {grown / hours / MB:,.1f} MB/h, "
          f"{grown / max(stored, 1):.1f} bytes per stored position")
    return per_h


def report_thinning(workdir: Path, live: tuple[str, ...], concurrent: int, config: Path,
                    after: datetime, stored: int) -> None:
    """Thin a day; compare its writes with what a thinned day takes in the file (measured on
    a history holding thinned days only)."""
    _path, thinned_only = history_db(workdir, "thinned", live, concurrent)
    per_position = thinned_only["position_bytes"] / max(thinned_only["positions"], 1)
    thinned = thin_a_day(config, after)
    kept = stored - thinned["thinned"]
    day_kept = thinned_only["positions"]  # one day of thinned history, the same traffic
    kept_bytes = day_kept * per_position
    print(f"  thinning a day (retention every 10 min, one position per "
          f"{thinned['interval']:.0f} s): {thinned['thinned']:,} positions deleted "
          f"({thinned['scanned']:,} read, {kept:,} left) in {thinned['seconds']:.0f} s")
    print(f"  thinning's DISK WRITES {thinned['write_bytes'] / MB:,.1f} MB for the day; a "
          f"thinned day keeps {day_kept:,} positions in {kept_bytes / MB:,.2f} MB "
          f"({per_position:.1f} bytes each): {thinned['write_bytes'] / kept_bytes:.1f}x "
          "(target <= 5x)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--history", default="1h,1d,7d",
                        help=f"pre-filled histories to measure on ({', '.join(HISTORIES)})")
    parser.add_argument("--hours", type=float, default=1.0, help="live hours (default 1)")
    parser.add_argument("--rate", type=float, default=2000.0, help="frames per capture second")
    parser.add_argument("--traffic", choices=("turnover", "fixed"), default="turnover",
                        help="new flights coming (default), or the same aircraft all along")
    parser.add_argument("--keep", type=Path, help="cache the histories (and keep work) here")
    parser.add_argument("--thinning", action="store_true",
                        help="then thin a day on the largest history, as the daemon does")
    parser.add_argument("--batch-seconds", type=float, help="override database.batch_seconds")
    parser.add_argument("--batch-rows", type=int, help="override database.batch_rows")
    args = parser.parse_args()
    labels = [label.strip() for label in args.history.split(",") if label.strip()]
    unknown = [label for label in labels if label not in HISTORIES]
    if unknown:
        parser.error(f"unknown history {unknown}; choose from {', '.join(HISTORIES)}")
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="flightwatch-disk-", dir="/var/tmp"))
    workdir.mkdir(parents=True, exist_ok=True)

    live = tuple(live_traffic(args.traffic, args.rate, args.hours)[0])
    summary = []
    for label in labels:
        source, history = history_db(workdir, label, live, n_aircraft_for(args.rate))
        report_history(label, history)
        work = workdir / f"work-{label}.db"
        for stale in workdir.glob(f"{work.name}*"):
            stale.unlink()
        shutil.copyfile(source, work)
        config = write_config(workdir, work, args.batch_seconds, args.batch_rows)
        run = ingest(config, args.hours, args.rate, args.traffic)
        _size, used = file_sizes(work)
        stored = position_count(f"sqlite:///{work}")
        per_h = report_run(run, used - history["used_bytes"], stored - history["positions"])
        summary.append((label, per_h["write_bytes"] / MB))
        if args.thinning and label == labels[-1]:
            report_thinning(workdir, live, n_aircraft_for(args.rate), config,
                            LIVE_START + timedelta(hours=args.hours), stored)
        if not args.keep:
            for leftover in workdir.glob(f"{work.name}*"):
                leftover.unlink()
    print("\nsummary, disk writes per hour of live ingest by history held:")
    for label, mb in summary:
        print(f"  {label:>3}: {mb:,.1f} MB/h")
    if not args.keep:
        shutil.rmtree(workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
