"""End-to-end replay throughput against bare pyModeS, peak memory, and bytes per position.

Builds a capture of synthetic traffic (1,000 aircraft at once, 500,000 frames by default,
valid DF17/DF4/DF5 with correct CRCs, two positions a second per aircraft) as
``time<TAB>hex`` lines, and an empty database at the current schema (a daemon opens the
database it has used for months: creating one loads Alembic, no part of running). Then,
as whole processes, start-up included, taking turns ``--rounds`` times:

* ``flightwatch replay`` of the capture into a fresh copy of that database, with the
  default configuration: the watchlist and the full-resolution Belarus border loaded;
  and the same without alert rules (no watchlist, no events);
* ``benchmarks/bare_pymodes.py``: one ``pyModeS.PipeDecoder`` decoding every frame of
  the same file (the baseline).

Each ratio is the baseline's time over flightwatch's in one pair of runs, so a shared
machine's drift between pairs cancels out; the median is reported. Also printed: peak
RSS of ``flightwatch replay`` (1,000 aircraft tracked), bytes per stored position (the
positions table and its index), and the WAL left beside the database. It never asserts
times. Targets (issue 11): throughput >= 1.0x bare pyModeS; peak RSS < 100 MB; <= 60
bytes per position; no WAL over a page.

    python benchmarks/throughput.py [--frames N] [--aircraft N] [--rounds N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from whole_process import run_process

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SCENARIOS = {
    "watchlist + Belarus": "",
    "no alert rules": "\n[watchlist]\nfiles = []\n\n[alerts]\nevents = []\n",
}


def make_capture(path: Path, n_aircraft: int, n_frames: int) -> None:
    """Synthetic traffic as a Beast recording (the web-memory benchmark's feed)."""
    from tools.capture_writer import write_beast
    from tools.simulate import synthetic_traffic

    with open(path, "wb") as out:
        write_beast(synthetic_traffic(n_aircraft=n_aircraft, n_frames=n_frames, seed=1), out)


def make_tsv(path: Path, n_aircraft: int, n_frames: int) -> None:
    """The same traffic as ``time<TAB>hex`` lines: a format both sides read alike."""
    from tools.capture_writer import write_tsv
    from tools.simulate import synthetic_traffic

    with open(path, "w", encoding="ascii", newline="\n") as out:
        write_tsv(synthetic_traffic(n_aircraft=n_aircraft, n_frames=n_frames, seed=1), out)


def empty_database(path: Path) -> None:
    """A database at the current schema with nothing in it, made in a child process so
    Alembic is not counted anywhere."""
    subprocess.run([sys.executable, "-c", "import sys; from flightwatch.db import connect, "
                    "close; close(connect(sys.argv[1]))", f"sqlite:///{path}"],
                   check=True, cwd=REPO)


def positions_bytes(path: Path) -> tuple[int, int]:
    """(stored positions, bytes of the pages that hold them: the log, the chunks and their
    indexes in SQLite's dbstat, free space in their pages included)."""
    from flightwatch.db.position_reader import count
    from flightwatch.db.reader import SqliteReader

    reader = SqliteReader(str(path))
    stored = count(reader)
    reader.close()
    with sqlite3.connect(path) as conn:
        size = conn.execute(
            "SELECT sum(pgsize) FROM dbstat WHERE name IN (SELECT name FROM sqlite_master "
            "WHERE tbl_name IN ('position_log', 'position_chunks'))").fetchone()[0]
    return int(stored), int(size)


def measure(capture: Path, workdir: Path, name: str, extra_config: str,
            rounds: int = 3) -> dict[str, Any]:
    """Whole-process pairs, flightwatch then the baseline, ``rounds`` times."""
    template = workdir / "empty.db"
    if not template.exists():
        empty_database(template)
    slug = "".join(c if c.isalnum() else "_" for c in name)
    db = workdir / f"{slug}.db"
    config = workdir / f"{slug}.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{db}"\n{extra_config}', encoding="utf-8")
    replay = [sys.executable, "-m", "flightwatch.cli", "replay", "--config", str(config),
              "--no-progress", str(capture)]
    bare = [sys.executable, str(REPO / "benchmarks" / "bare_pymodes.py"), str(capture)]
    pairs = []
    for _ in range(rounds):
        for stale in workdir.glob(f"{slug}.db*"):
            stale.unlink()
        shutil.copyfile(template, db)
        pairs.append((run_process(replay, REPO), run_process(bare, REPO)))
    positions, size = positions_bytes(db)
    wal = db.with_name(db.name + "-wal")
    ratios = [b[0] / e[0] for e, b in pairs]
    return {
        "frames": sum(1 for _ in capture.open(encoding="ascii")),
        "positions": positions,
        "positions_bytes_per_position": size / max(positions, 1),
        "wal_bytes": wal.stat().st_size if wal.exists() else 0,
        "ratio": statistics.median(ratios),
        "ratios": ",".join(f"{r:.2f}" for r in ratios),
        "cpu_ratio": statistics.median(b[1] / e[1] for e, b in pairs),
        "seconds": statistics.median(e[0] for e, _ in pairs),
        "bare_seconds": statistics.median(b[0] for _, b in pairs),
        "peak_rss_mb": max(e[2] for e, _ in pairs),
        "bare_peak_rss_mb": max(b[2] for _, b in pairs),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=500_000)
    parser.add_argument("--aircraft", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the capture and databases here")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="flightwatch-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    capture = workdir / f"synthetic_{args.aircraft}ac_{args.frames}.tsv"
    if not capture.exists():
        print(f"building {capture.name} ...", flush=True)
        make_tsv(capture, args.aircraft, args.frames)
    print(f"capture: {capture} ({capture.stat().st_size / 1e6:.1f} MB)", flush=True)
    results = {name: measure(capture, workdir, name, extra, args.rounds)
               for name, extra in SCENARIOS.items()}
    first = next(iter(results.values()))
    print(f"frames: {first['frames']:,}; aircraft: {args.aircraft:,}; whole processes, "
          f"start-up included, {args.rounds} pairs each")
    for name, run_ in results.items():
        print(f"{name}: flightwatch replay {run_['seconds']:.2f} s, bare pyModeS PipeDecoder "
              f"{run_['bare_seconds']:.2f} s: throughput ratio {run_['ratio']:.2f} (median of "
              f"{run_['ratios']}; by CPU time {run_['cpu_ratio']:.2f}; target >= 1.0); "
              f"peak RSS {run_['peak_rss_mb']:.0f} MB (target < 100; bare "
              f"{run_['bare_peak_rss_mb']:.0f} MB); WAL left {run_['wal_bytes']:,} B")
    plain, rules = results["no alert rules"], results["watchlist + Belarus"]
    print(f"alert rules overhead: {plain['ratio'] / rules['ratio'] - 1:+.1%} of end-to-end "
          f"time (ratios {plain['ratio']:.2f} -> {rules['ratio']:.2f})")
    print(f"positions stored: {first['positions']:,}; the position tables and their indexes "
          f"{first['positions_bytes_per_position']:.0f} bytes/position (target <= 60)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
