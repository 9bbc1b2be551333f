"""``flightwatch import`` speed and memory on a large trace archive.

Builds once a globe-history tarball of gzip trace files (500 aircraft x 2,000 points
= 1 million points by default, a point every 5 s, as readsb writes in busy airspace),
and an SBS capture of the same kind of traffic. Then, each in a fresh process:

1. imports the archive with the product's ``import_archives`` (tracker, flights with
   the Belarus fence, watchlist alert rules, SQLite) into a fresh database, and takes
   the peak RSS right after (target < 150 MB: the archive is streamed);
2. inserts the very rows the import stored into another fresh database with a plain
   ``sqlite3`` ``executemany`` in batches of the same size: the floor no importer can
   beat. The ratio import / plain insert is printed (same process, one after the other);
3. replays the SBS capture with ``replay_files`` (already decoded messages, the same
   pipeline): the issue's target is import >= replay, per stored position.

Prints figures and ratios; never asserts times.

    python benchmarks/import_speed.py [--aircraft N] [--points N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

START = datetime(2020, 8, 19, 6, 0, tzinfo=UTC)
EVERY_S = 5.0
_COLUMNS = ("icao", "time", "lat", "lon", "altitude_ft", "ground_speed_kt", "track_deg",
            "vertical_rate_fpm", "on_ground", "source_id")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _flights(n_aircraft: int, points: int, seed: int = 1) -> Iterator[Any]:
    """Straight cruising flights over eastern Europe, each ``points`` points long."""
    from tools.simulate import Flight, destination

    rng = Random(seed)
    duration_s = points * EVERY_S
    for i in range(n_aircraft):
        lat, lon = rng.uniform(48.0, 58.0), rng.uniform(18.0, 36.0)
        speed = rng.uniform(380, 480)
        end = destination(lat, lon, rng.uniform(0, 360), speed * duration_s / 3600)
        altitude = rng.uniform(20000, 39000)
        yield Flight(f"{0x400000 + i * 7:06X}", f"BEN{i}",
                     [(lat, lon, altitude, speed), (*end, altitude, speed)],
                     START + timedelta(seconds=rng.uniform(0, 600)))


def make_archive(path: Path, n_aircraft: int, points: int) -> None:
    """A tarball laid out as readsb's globe history: traces/<xx>/trace_full_<hex>.json."""
    from tools.history_writer import json_bytes, trace_document, trace_path, write_tarball

    write_tarball(path, (
        (trace_path(f.icao), json_bytes(trace_document(f, every_s=EVERY_S), gzipped=True))
        for f in _flights(n_aircraft, points)
    ))


def make_sbs(path: Path, n_aircraft: int, points: int) -> None:
    """The same kind of traffic as decoded BaseStation lines: a position (MSG,3) and a
    velocity (MSG,4) per point, an identification (MSG,1) every 12th."""
    import heapq

    def lines(flight: Any) -> Iterator[tuple[float, str]]:
        t = flight.start_time
        for n in range(points):
            s = flight.state_at(t)
            stamp = datetime.fromtimestamp(t, UTC).strftime("%Y/%m/%d,%H:%M:%S.%f")[:-3]
            head = f"1,1,{flight.icao},1,{stamp},{stamp}"
            if n % 12 == 0:
                yield t, f"MSG,1,{head},{flight.callsign},,,,,,,,,,,0"
            yield t, (f"MSG,3,{head},,{round(s.altitude_ft)},,,{s.lat:.5f},{s.lon:.5f},"
                      f",,0,0,0,0")
            yield t + 0.2, (f"MSG,4,{head},,,{s.ground_speed_kt:.0f},{s.track_deg:.1f},,,"
                            f"{round(s.vertical_rate_fpm)},,,,,0")
            t += EVERY_S

    with open(path, "w", encoding="ascii") as out:
        for _, line in heapq.merge(*(lines(f) for f in _flights(n_aircraft, points, seed=2))):
            out.write(line + "\n")


def _settings(workdir: Path, name: str) -> Any:
    from flightwatch.settings import load_settings

    for stale in workdir.glob(f"{name}.db*"):
        stale.unlink()
    config = workdir / f"{name}.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{workdir / name}.db"\n', encoding="utf-8")
    return load_settings(config, env={})


def plain_insert(source_db: Path, target_db: Path, batch_rows: int) -> tuple[int, float]:
    """The positions the import stored, inserted as rows by bare sqlite3 into a table
    shaped as positions were before they were packed into blocks (same pragmas, same
    batch size): (rows, seconds spent inserting and committing). A yardstick of what
    storing that many rows takes at all."""
    from flightwatch.db.position_reader import tracks
    from flightwatch.db.reader import SqliteReader

    for stale in target_db.parent.glob(f"{target_db.name}*"):
        stale.unlink()
    columns = ", ".join(_COLUMNS)
    insert = (f"INSERT OR IGNORE INTO positions ({columns}) "
              f"VALUES ({', '.join('?' for _ in _COLUMNS)})")
    reader = SqliteReader(str(source_db))
    stored = sorted(((t, icao, *rest) for icao, columns_ in tracks(reader)
                     for t, *rest in zip(*columns_, strict=True)))
    reader.close()
    rows = 0
    seconds = 0.0
    with sqlite3.connect(target_db) as dst:
        dst.execute("PRAGMA journal_mode=WAL")
        dst.execute("PRAGMA synchronous=NORMAL")
        dst.execute("CREATE TABLE positions (icao INTEGER, time INTEGER, lat INTEGER NOT NULL, "
                    "lon INTEGER NOT NULL, altitude_ft INTEGER, ground_speed_kt INTEGER, "
                    "track_deg INTEGER, vertical_rate_fpm INTEGER, on_ground BOOLEAN, "
                    "source_id INTEGER, PRIMARY KEY (icao, time)) WITHOUT ROWID")
        dst.execute("CREATE INDEX ix_positions_time ON positions (time)")
        for start in range(0, len(stored), batch_rows):
            batch = [(icao, t, *rest) for t, icao, *rest in stored[start:start + batch_rows]]
            began = time.perf_counter()
            dst.executemany(insert, batch)
            dst.commit()
            seconds += time.perf_counter() - began
            rows += len(batch)
    return rows, seconds


def measure_import(archive: Path, workdir: Path) -> dict[str, float]:
    from flightwatch.daemon.importer import import_archives

    settings = _settings(workdir, "import")
    began, cpu = time.perf_counter(), time.process_time()
    summary = import_archives(settings, [archive], alerts="store")
    seconds, cpu_s = time.perf_counter() - began, time.process_time() - cpu
    rss = peak_rss_mb()
    rows, plain_s = plain_insert(workdir / "import.db", workdir / "plain.db",
                                 settings["database"]["batch_rows"])
    return {"points": summary.observations, "positions": summary.positions_stored,
            "aircraft": summary.aircraft, "seconds": seconds,
            "positions_per_s": summary.positions_stored / seconds,
            "positions_per_cpu_s": summary.positions_stored / cpu_s, "peak_rss_mb": rss,
            "plain_rows": rows, "plain_per_s": rows / plain_s}


def measure_replay(capture: Path, workdir: Path) -> dict[str, float]:
    from flightwatch.daemon.replay import replay_files

    settings = _settings(workdir, "replay")
    began, cpu = time.perf_counter(), time.process_time()
    summary = replay_files(settings, [capture], fmt="sbs")
    seconds, cpu_s = time.perf_counter() - began, time.process_time() - cpu
    return {"positions": summary.positions_stored, "lines": summary.frames,
            "seconds": seconds, "positions_per_s": summary.positions_stored / seconds,
            "positions_per_cpu_s": summary.positions_stored / cpu_s,
            "peak_rss_mb": peak_rss_mb()}


def _median_run(runs: list[dict[str, float]], key: str) -> dict[str, float]:
    return dict(sorted(runs, key=lambda run: run[key])[len(runs) // 2])


def _in_child(target: Any, *args: Any) -> Any:
    """In a fresh process, so each peak RSS is its own."""
    with multiprocessing.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(target, args)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--aircraft", type=int, default=500)
    parser.add_argument("--points", type=int, default=2_000, help="points per aircraft")
    parser.add_argument("--sbs-aircraft", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs of each")
    parser.add_argument("--keep", type=Path, help="keep the archive and databases here")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="flightwatch-import-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    archive = workdir / f"globe_{args.aircraft}x{args.points}.tar"
    capture = workdir / f"sbs_{args.sbs_aircraft}x{args.points}.sbs"
    if not archive.exists():
        print(f"building {archive.name} ...", flush=True)
        _in_child(make_archive, archive, args.aircraft, args.points)
    if not capture.exists():
        print(f"building {capture.name} ...", flush=True)
        _in_child(make_sbs, capture, args.sbs_aircraft, args.points)
    print(f"archive: {archive} ({archive.stat().st_size / 1e6:.1f} MB, "
          f"{args.aircraft * args.points:,} points); "
          f"capture: {capture.stat().st_size / 1e6:.1f} MB")

    # Taking turns, each in a fresh process: a shared machine's speed drifts over minutes,
    # and the medians of alternating runs compare like with like.
    imports, replays = [], []
    for _ in range(args.rounds):
        imports.append(_in_child(measure_import, archive, workdir))
        replays.append(_in_child(measure_replay, capture, workdir))
    imported = _median_run(imports, "positions_per_s")
    replayed = _median_run(replays, "positions_per_s")
    imported["plain_per_s"] = statistics.median(run["plain_per_s"] for run in imports)
    imported["peak_rss_mb"] = max(run["peak_rss_mb"] for run in imports)
    ratios = [i["positions_per_s"] / r["positions_per_s"]
              for i, r in zip(imports, replays, strict=True)]
    cpu_ratios = [i["positions_per_cpu_s"] / r["positions_per_cpu_s"]
                  for i, r in zip(imports, replays, strict=True)]
    print(f"import: {imported['points']:,} points of {imported['aircraft']:,} aircraft, "
          f"{imported['positions']:,} positions stored in {imported['seconds']:.1f} s = "
          f"{imported['positions_per_s']:,.0f} positions/s "
          f"({imported['positions_per_cpu_s']:,.0f} per CPU second); peak RSS "
          f"{imported['peak_rss_mb']:.0f} MB (target < 150; median and worst of {args.rounds})")
    print(f"plain sqlite3 executemany of the same {imported['plain_rows']:,} rows: "
          f"{imported['plain_per_s']:,.0f} rows/s; import / plain insert = "
          f"{imported['positions_per_s'] / imported['plain_per_s']:.2f}")
    print(f"replay of the SBS capture: {replayed['lines']:,} lines, {replayed['positions']:,} "
          f"positions stored in {replayed['seconds']:.1f} s = "
          f"{replayed['positions_per_s']:,.0f} positions/s "
          f"({replayed['positions_per_cpu_s']:,.0f} per CPU second; peak RSS "
          f"{replayed['peak_rss_mb']:.0f} MB)")
    print(f"import / replay per position (target >= 1): by CPU time "
          f"{statistics.median(cpu_ratios):.2f} (rounds "
          f"{', '.join(f'{r:.2f}' for r in cpu_ratios)}), by wall time "
          f"{statistics.median(ratios):.2f} (rounds {', '.join(f'{r:.2f}' for r in ratios)}; "
          f"a shared machine's load moves these)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
