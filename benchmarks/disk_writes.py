"""Disk writes and database growth of a busy receiver, before and after retention thinning.

Synthetic traffic (tools.simulate.synthetic_traffic, 455 aircraft airborne at
once, whose frames arrive at 2,000 per second of capture time) goes through the
real pipeline (decoding, tracking, the batched Store) into SQLite with default
settings. The capture's clock drives everything, the Store's commit timer
included, so an hour of capture stores exactly what an hour of live running
would, only faster. It then thins that data with db.retention at the default
``thin_interval``, as the daemon would once the data is ``thin_after`` old.

Measured: bytes this process wrote to disk (``/proc/self/io`` write_bytes:
pages handed to the block layer, WAL and checkpoints included; wchar is every
write() call), database file growth, positions stored; extrapolated to an hour
and a day. Prints figures only, asserts nothing. Target (issue "Runs for months
on a Raspberry Pi"): under 50 MB a day of database growth at this rate once
thinned.

    python benchmarks/disk_writes.py [--hours 1] [--rate 2000] [--keep DIR]
        [--batch-seconds S] [--batch-rows N]

Needs Linux (/proc/self/io) and a disk-backed folder for --keep (tmpfs
counts no block writes); one simulated hour takes about three minutes.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MB = 1e6


def io_counters() -> dict[str, int]:
    """This process's I/O counters (rchar, wchar, read_bytes, write_bytes, ...)."""
    text = Path("/proc/self/io").read_text(encoding="ascii")
    return {key: int(value) for key, value in (line.split(": ") for line in text.splitlines())}


def io_delta(before: dict[str, int]) -> dict[str, int]:
    after = io_counters()
    return {key: after[key] - before[key] for key in before}


def file_sizes(path: Path) -> tuple[int, int, int]:
    """(file bytes, bytes in use, free-list bytes) after a full checkpoint."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    return pages * size, (pages - free) * size, free * size


def position_count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM positions").fetchone()[0])


def compact_bytes(path: Path, workdir: Path) -> int:
    """What the same rows take in a freshly vacuumed copy (no half-empty pages)."""
    target = workdir / "compact.db"
    target.unlink(missing_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("VACUUM INTO ?", (str(target),))
    size = target.stat().st_size
    target.unlink()
    return size


def n_aircraft_for(rate: float) -> int:
    from tools.simulate import Rates

    # synthetic_traffic's default rates: DO-260B nominal plus a DF4/DF5 reply every 5 s.
    return max(1, round(rate / Rates(surveillance_s=5.0).per_second()))


def ingest(db_path: Path, config: Path, hours: float, rate: float,
           batch_seconds: float | None, batch_rows: int | None) -> dict[str, float]:
    """Feed the synthetic hour(s) through the pipeline; I/O and timing figures."""
    from flightwatch.daemon.pipeline import build_pipeline
    from flightwatch.db import Store, connect
    from flightwatch.decoder import Frame
    from flightwatch.settings import load_settings
    from tools.simulate import synthetic_traffic

    settings = load_settings(config, env={})
    database = settings["database"]
    engine = connect(settings.database_url)
    pipeline = build_pipeline(settings, engine)
    clock = [0.0]
    # The commit timer runs on the capture's clock, as it would on the wall clock live.
    pipeline.store = Store(
        engine,
        batch_rows=batch_rows or database["batch_rows"],
        batch_seconds=batch_seconds if batch_seconds is not None else database["batch_seconds"],
        clock=lambda: clock[0],
    )
    n_frames = int(rate * hours * 3600)
    n_aircraft = n_aircraft_for(rate)
    traffic = synthetic_traffic(n_aircraft=n_aircraft, n_frames=n_frames, seed=7)
    first = last = None
    began = time.perf_counter()
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
    with engine.connect() as conn:  # what the daemon's checkpoints would have written by now
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
    written = io_delta(before)
    engine.dispose()
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
        "cancelled_write_bytes": written["cancelled_write_bytes"],
    }


def thin(db_path: Path, config: Path) -> dict[str, float]:
    """Thin everything stored, as the daemon does once it is ``thin_after`` old."""
    from flightwatch.db import connect
    from flightwatch.db.retention import thin_positions
    from flightwatch.settings import load_settings

    settings = load_settings(config, env={})
    retention = settings["retention"]
    engine = connect(settings.database_url)
    before = io_counters()
    began = time.perf_counter()
    far_future = datetime.now(UTC) + timedelta(days=365 * 100)
    progress = thin_positions(engine, far_future, retention["thin_interval"],
                              batch=retention["batch_rows"])
    seconds = time.perf_counter() - began
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
    written = io_delta(before)
    engine.dispose()
    return {
        "deleted": progress.deleted,
        "batches": progress.batches,
        "batch_rows": retention["batch_rows"],
        "seconds": seconds,
        "write_bytes": written["write_bytes"],
        "wchar": written["wchar"],
        "interval": retention["thin_interval"],
        "thin_after_days": retention["thin_after"] / 86400,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, default=1.0, help="simulated hours (default 1)")
    parser.add_argument("--rate", type=float, default=2000.0, help="frames per capture second")
    parser.add_argument("--keep", type=Path, help="work (and keep the database) here")
    parser.add_argument("--batch-seconds", type=float, help="override database.batch_seconds")
    parser.add_argument("--batch-rows", type=int, help="override database.batch_rows")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="flightwatch-disk-", dir="/var/tmp"))
    workdir.mkdir(parents=True, exist_ok=True)
    db_path = workdir / "busy.db"
    for stale in workdir.glob("busy.db*"):
        stale.unlink()
    config = workdir / "busy.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{db_path}"\n', encoding="utf-8")

    from flightwatch.db import connect

    connect(f"sqlite:///{db_path}").dispose()
    empty, _used, _free = file_sizes(db_path)
    print(f"database: {db_path}")
    run = ingest(db_path, config, args.hours, args.rate, args.batch_seconds, args.batch_rows)
    grown, used, _free = file_sizes(db_path)
    stored = position_count(db_path)
    hours = run["capture_s"] / 3600
    per_h = {key: run[key] / hours for key in ("positions", "write_bytes", "wchar", "commits")}
    growth_h = (grown - empty) / hours
    print(
        f"ingest: {run['frames']:,.0f} frames from {run['aircraft']:.0f} aircraft over "
        f"{run['capture_s'] / 60:.1f} capture minutes "
        f"({run['frames'] / run['capture_s']:,.0f} frames/s), replayed in {run['seconds']:.0f} s"
    )
    print(f"  positions stored: {per_h['positions']:,.0f}/h ({stored:,} rows in the table), "
          f"{per_h['commits']:,.0f} commits/h")
    print(f"  disk writes (write_bytes): {per_h['write_bytes'] / MB:,.1f} MB/h = "
          f"{per_h['write_bytes'] * 24 / 1e9:,.2f} GB/day; "
          f"{run['write_bytes'] / max(stored, 1):,.0f} bytes per stored position")
    print(f"  write() calls (wchar): {per_h['wchar'] / MB:,.1f} MB/h; "
          f"cancelled_write_bytes {run['cancelled_write_bytes'] / MB:.1f} MB")
    print(f"  database growth: {growth_h / MB:,.1f} MB/h = {growth_h * 24 / MB:,.0f} MB/day "
          f"unthinned; {(used - empty) / max(stored, 1):.0f} bytes per position in the file")

    thinned = thin(db_path, config)
    _size, used_after, free_after = file_sizes(db_path)
    kept = position_count(db_path)
    compact = compact_bytes(db_path, workdir) - empty
    thin_h = (used_after - empty) / hours
    print(
        f"thinning to one position per {thinned['interval']:.0f} s (applied once data is "
        f"{thinned['thin_after_days']:.0f} days old): {thinned['deleted']:,} of {stored:,} rows "
        f"deleted in {thinned['batches']} batches of <= {thinned['batch_rows']:,} rows "
        f"(or one interval), {thinned['seconds']:.1f} s"
    )
    print(f"  kept {kept:,} rows = {kept / hours:,.0f} positions/h")
    print(f"  thinning's disk writes: {thinned['write_bytes'] / hours / MB:,.1f} MB per hour "
          f"of data = {thinned['write_bytes'] / hours * 24 / 1e9:,.2f} GB/day")
    print(f"  a thinned day in the file: {thin_h * 24 / MB:,.1f} MB/day of pages in use "
          f"({free_after / MB:,.1f} MB now free for new positions); "
          f"compacted {compact / hours * 24 / MB:,.1f} MB/day")
    full_days = thinned["thin_after_days"]
    print(
        f"steady state with the defaults: {growth_h * 24 * full_days / 1e9:,.1f} GB of "
        f"full-rate positions ({full_days:.0f} days) plus {thin_h * 24 / MB:,.1f} MB per "
        f"further day (target < 50 MB/day); disk writes "
        f"{(run['write_bytes'] + thinned['write_bytes']) / hours * 24 / 1e9:,.2f} GB/day"
    )
    if not args.keep:
        for leftover in workdir.glob("*"):
            leftover.unlink()
        workdir.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
