"""``flightwatch import`` of OpenSky state vectors: Parquet against the same rows as CSV.

Builds once an OpenSky states CSV (a row per aircraft per 10 s, as OpenSky's datasets)
of straight cruising flights and the same rows as Parquet (row groups of 50,000 rows,
typed as OpenSky types them). Then, each in a fresh process and taking turns, imports
each into a fresh SQLite database with the product's ``import_archives`` and prints
positions/s, the ratio Parquet / CSV and the peak RSS (Parquet is read a row-group
batch at a time: its peak must not grow with the file).

Prints figures and ratios; never asserts times.

    python benchmarks/import_parquet.py [--aircraft N] [--points N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.import_speed import (  # noqa: E402
    EVERY_S,
    _flights,
    _in_child,
    _settings,
    peak_rss_mb,
)

ROW_EVERY_S = 10.0  # OpenSky's datasets: a state vector per aircraft every 10 s


def make_extracts(csv_path: Path, parquet_path: Path, n_aircraft: int, points: int) -> None:
    from tools.history_writer import opensky_csv, write_opensky_parquet

    rows = opensky_csv(_flights(n_aircraft, points), every_s=ROW_EVERY_S)
    csv_path.write_text(rows, encoding="utf-8")
    write_opensky_parquet(parquet_path, rows, row_group_rows=50_000)


def measure(path: Path, workdir: Path) -> dict[str, float]:
    from flightwatch.daemon.importer import import_archives

    settings = _settings(workdir, path.suffix.lstrip("."))
    began = time.perf_counter()
    summary = import_archives(settings, [path], alerts="store")
    seconds = time.perf_counter() - began
    return {"positions": summary.positions_stored, "malformed": summary.malformed,
            "positions_per_s": summary.positions_stored / seconds,
            "peak_rss_mb": peak_rss_mb()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--aircraft", type=int, default=200)
    parser.add_argument("--points", type=int, default=3_000,
                        help=f"track length in {EVERY_S:g} s steps (a row every "
                             f"{ROW_EVERY_S:g} s)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs of each")
    parser.add_argument("--keep", type=Path, help="keep the extracts and databases here")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="flightwatch-parquet-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    csv_path = workdir / f"states_{args.aircraft}x{args.points}.csv"
    parquet_path = csv_path.with_suffix(".parquet")
    if not parquet_path.exists():
        print("building the extracts ...", flush=True)
        _in_child(make_extracts, csv_path, parquet_path, args.aircraft, args.points)
    print(f"CSV {csv_path.stat().st_size / 1e6:.1f} MB, "
          f"Parquet {parquet_path.stat().st_size / 1e6:.1f} MB")
    runs: dict[str, list[dict[str, float]]] = {"csv": [], "parquet": []}
    for _ in range(args.rounds):
        for name, path in (("csv", csv_path), ("parquet", parquet_path)):
            runs[name].append(_in_child(measure, path, workdir))
    for name, results in runs.items():
        first = results[0]
        print(f"{name:8s} {int(first['positions']):,} positions ({int(first['malformed'])} "
              f"malformed): median "
              f"{statistics.median(r['positions_per_s'] for r in results):,.0f} positions/s, "
              f"peak RSS {max(r['peak_rss_mb'] for r in results):.0f} MB")
    ratio = (statistics.median(r["positions_per_s"] for r in runs["parquet"])
             / statistics.median(r["positions_per_s"] for r in runs["csv"]))
    print(f"Parquet / CSV speed: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
