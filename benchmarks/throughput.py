"""End-to-end replay throughput against bare pyModeS, peak memory, and bytes per position.

Builds a Beast capture of synthetic traffic (1,000 aircraft at once, 500,000 frames by
default, valid DF17/DF4/DF5 with correct CRCs) once, then for each of two scenarios
(without alert rules; with the watchlist and the full-resolution Belarus border) in a
fresh process:

1. replays it with ``flightwatch.daemon.replay.replay_files`` through the whole pipeline
   (framing, decoding, tracking, flights, SQLite storage) into a fresh database, and
   takes the process's peak RSS and the database's growth;
2. measures the ratio: the same capture through a fresh pipeline and through a bare
   ``pyModeS.PipeDecoder`` (the baseline), alternating every 10,000 frames, so both
   see the same machine. A shared VM's speed drifts by tens of percent over a minute;
   run one after the other, the two halves of a ratio measured different machines.

It prints ratios against the baseline, never asserts times. Targets (issue 11):
end-to-end / bare >= 1.0; peak RSS < 100 MB with 1,000 aircraft; <= 60 bytes per
stored position (the positions table and its indexes); alert rules add <= 10 %.

    python benchmarks/throughput.py [--frames N] [--aircraft N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flightwatch.daemon.pipeline import Pipeline
    from flightwatch.settings import Settings

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def make_capture(path: Path, n_aircraft: int, n_frames: int) -> None:
    from tools.capture_writer import write_beast
    from tools.simulate import synthetic_traffic

    with open(path, "wb") as out:
        write_beast(synthetic_traffic(n_aircraft=n_aircraft, n_frames=n_frames, seed=1), out)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def database_bytes(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        freelist = conn.execute("PRAGMA freelist_count").fetchone()[0]
    return int((pages - freelist) * size)


def positions_bytes(path: Path) -> int:
    """Bytes of the positions table and its indexes (SQLite's dbstat), free space in
    their pages included."""
    with sqlite3.connect(path) as conn:
        return int(conn.execute(
            "SELECT sum(pgsize) FROM dbstat WHERE name = 'positions' OR name IN "
            "(SELECT name FROM sqlite_master WHERE tbl_name = 'positions')").fetchone()[0])


def fresh_database(workdir: Path, name: str) -> Path:
    """A new, empty SQLite database at the current schema."""
    from flightwatch.db import connect

    db_path = workdir / f"{name}.db"
    for stale in workdir.glob(f"{name}.db*"):
        stale.unlink()
    connect(f"sqlite:///{db_path}").dispose()
    return db_path


def fresh_pipeline(
    workdir: Path, name: str, with_alerts: bool
) -> tuple[Settings, Pipeline, Path, int]:
    """A pipeline writing to an empty SQLite database, its settings, the database, and
    the database's size when empty. A database made beforehand (by the parent process,
    as a daemon opens the database it has used for months) is kept: creating one loads
    alembic, which is no part of running."""
    from flightwatch.daemon.alerting import build_alerting
    from flightwatch.daemon.pipeline import build_pipeline
    from flightwatch.db import connect
    from flightwatch.settings import load_settings

    db_path = workdir / f"{name}.db"
    if not db_path.exists():
        fresh_database(workdir, name)
    config = workdir / f"{name}.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{db_path}"\n', encoding="utf-8")
    settings = load_settings(config, env={})
    engine = connect(settings.database_url)
    alerting = build_alerting(settings, engine) if with_alerts else None
    pipeline = build_pipeline(settings, engine, alerting=alerting)
    return settings, pipeline, db_path, database_bytes(db_path)


def run_pipeline(capture: Path, workdir: Path, name: str, with_alerts: bool) -> dict[str, float]:
    """The product's own replay of the whole capture: rate, memory, database growth."""
    from flightwatch.daemon.replay import replay_files

    settings, pipeline, db_path, empty_bytes = fresh_pipeline(workdir, name, with_alerts)
    began = time.perf_counter()
    summary = replay_files(settings, [capture], fmt="beast", pipeline=pipeline)
    seconds = time.perf_counter() - began
    stored = summary.positions_stored
    return {
        "frames": summary.frames,
        "seconds": seconds,
        "frames_per_s": summary.frames / seconds,
        "positions": stored,
        "aircraft": summary.aircraft,  # all lost at the replay's end, as live a minute later
        "bytes_per_position": (database_bytes(db_path) - empty_bytes) / max(stored, 1),
        "positions_bytes_per_position": positions_bytes(db_path) / max(stored, 1),
        "peak_rss_mb": peak_rss_mb(),
    }


def interleaved_ratio(capture: Path, workdir: Path, name: str, with_alerts: bool,
                      slice_frames: int = 10_000) -> dict[str, float]:
    """End-to-end and bare decoding of the same frames, taking turns every ``slice_frames``.

    Each side keeps its state across slices (the pipeline its tracks and batches, the
    bare decoder its CPR pairs), so the sums are whole runs of the capture.
    """
    from pyModeS import PipeDecoder

    from flightwatch.collector import open_capture
    from flightwatch.daemon.pipeline import freeze_startup_objects
    from flightwatch.decoder import Frame

    messages = [(f.hex, f.time) for f in open_capture(capture, "beast") if isinstance(f, Frame)]
    fresh_database(workdir, name)
    _settings, pipeline, _db, _empty = fresh_pipeline(workdir, name, with_alerts)
    items = iter(open_capture(capture, "beast"))
    feed, bare = pipeline.feed, PipeDecoder().decode
    freeze_startup_objects()  # as replay_files does
    e2e_s = bare_s = 0.0
    for start in range(0, len(messages), slice_frames):
        began = time.perf_counter()
        for item in itertools.islice(items, slice_frames):
            feed(item)
        middle = time.perf_counter()
        for message, t in messages[start : start + slice_frames]:
            bare(message, timestamp=t)
        e2e_s += middle - began
        bare_s += time.perf_counter() - middle
    began = time.perf_counter()
    pipeline.close()
    e2e_s += time.perf_counter() - began
    frames = len(messages)
    return {"ratio": bare_s / e2e_s, "frames_per_s": frames / e2e_s,
            "bare_frames_per_s": frames / bare_s}


def measure(capture: Path, workdir: Path, name: str, with_alerts: bool,
            rounds: int = 3) -> dict[str, Any]:
    """One scenario in a fresh process: the product's replay for memory and storage, then
    ``rounds`` interleaved ratio measurements (the median is reported). Peak RSS is taken
    after the replay, before the ratio runs hold every frame in memory."""
    result: dict[str, Any] = dict(run_pipeline(capture, workdir, name, with_alerts))
    runs = [interleaved_ratio(capture, workdir, name, with_alerts) for _ in range(rounds)]
    ratios = [run["ratio"] for run in runs]
    result.update(
        ratio=statistics.median(ratios),
        ratios=",".join(f"{r:.2f}" for r in ratios),
        frames_per_s=statistics.median(run["frames_per_s"] for run in runs),
        bare_frames_per_s=statistics.median(run["bare_frames_per_s"] for run in runs),
        replay_frames_per_s=result["frames_per_s"],
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=500_000)
    parser.add_argument("--aircraft", type=int, default=1_000)
    parser.add_argument("--keep", type=Path, help="keep the capture and databases here")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="flightwatch-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    capture = workdir / f"synthetic_{args.aircraft}ac_{args.frames}.beast"
    if not capture.exists():
        print(f"building {capture.name} ...", flush=True)
        # In a child process, so generating the capture does not count in our peak RSS.
        child = multiprocessing.get_context("spawn").Process(
            target=make_capture, args=(capture, args.aircraft, args.frames))
        child.start()
        child.join()
    print(f"capture: {capture} ({capture.stat().st_size / 1e6:.1f} MB)")

    for name in ("plain", "alerts"):
        fresh_database(workdir, name)
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(1, maxtasksperchild=1) as pool:
        plain = pool.apply(measure, (capture, workdir, "plain", False))
    with spawn.Pool(1, maxtasksperchild=1) as pool:
        alerts = pool.apply(measure, (capture, workdir, "alerts", True))

    print(f"frames: {plain['frames']:,}; aircraft: {plain['aircraft']:,}")
    for label, run in (("no alert rules", plain), ("watchlist + Belarus", alerts)):
        print(f"{label}: end-to-end {run['frames_per_s']:,.0f} frames/s, bare pyModeS "
              f"PipeDecoder {run['bare_frames_per_s']:,.0f} frames/s, taking turns in the "
              f"same process: ratio {run['ratio']:.2f} (median of {run['ratios']}; "
              f"target >= 1.0); 'flightwatch replay' alone {run['replay_frames_per_s']:,.0f} "
              f"frames/s; peak RSS {run['peak_rss_mb']:.0f} MB (target < 100)")
    # From the ratios: each is against a baseline run alongside it, so machine drift
    # between the two scenarios' processes cancels out.
    overhead = plain["ratio"] / alerts["ratio"] - 1
    print(f"alert rules overhead: {overhead:+.1%} of end-to-end time (target <= +10 %); "
          f"ratios {plain['ratio']:.2f} -> {alerts['ratio']:.2f}")
    print(f"positions stored: {plain['positions']:,}; the positions table and its index "
          f"{plain['positions_bytes_per_position']:.0f} bytes/position (target <= 60); "
          f"database growth {plain['bytes_per_position']:.0f} bytes/position incl. "
          f"aircraft, callsigns and flights (a short capture: 1,000 aircraft's rows "
          f"spread over few positions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
