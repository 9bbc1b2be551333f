"""What the bundled world airports cost: memory and time, before and after.

A Raspberry Pi runs the daemon within a 100 MB peak-RSS budget (issue 11), and every
command is a fresh process. As whole processes (``whole_process.run_process``: the
child's own ``ru_maxrss``), taking turns ``--rounds`` times, this tree against a
baseline (``--baseline``, default ``main``, exported with ``git archive``: the code
before the world set), it measures:

* ``flightwatch replay`` of synthetic traffic (1,000 aircraft at once, as
  benchmarks/throughput.py builds it) into a fresh database, default configuration;
* ``flightwatch --help`` (must not load the world file);
* ``flightwatch airports list --near`` (this tree only: the command is new) and
  ``flightwatch flights --airport UUWW`` (loads the world only to say the code is
  known).

And in this process: the world set's load time and its memory (``tracemalloc``: what
stays, and the peak while reading). It never asserts: the figures go in the report.

    python benchmarks/airports_memory.py [--rounds N] [--frames N] [--baseline REF]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import tracemalloc
from pathlib import Path

from throughput import empty_database, make_tsv
from whole_process import run_process

REPO = Path(__file__).resolve().parents[1]


def export(ref: str, into: Path) -> Path:
    """The tree of ``ref`` as files (symlinks kept: flightwatch/db -> ../db)."""
    archive = subprocess.run(["git", "archive", ref], cwd=REPO, check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="tar")
    return into


def flightwatch(tree: Path, workdir: Path, *args: str) -> tuple[float, float, float]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    env.pop("FLIGHTWATCH_DATABASE_URL", None)
    return run_process([sys.executable, "-m", "flightwatch.cli", *args], workdir, env)


def replay(tree: Path, workdir: Path, capture: Path) -> tuple[float, float, float]:
    db = workdir / "replay.db"
    for stale in workdir.glob("replay.db*"):
        stale.unlink()
    shutil.copyfile(workdir / "empty.db", db)
    return flightwatch(tree, workdir, "replay", "--config", "fw.toml", "--no-progress",
                       str(capture))


def in_process() -> tuple[float, float, float]:
    """(seconds to load, MB kept, MB at the peak) of the bundled world set."""
    sys.path.insert(0, str(REPO))
    from flightwatch.airports import world_paths
    from flightwatch.db.world_airports import WorldAirports

    began = time.perf_counter()
    WorldAirports(*world_paths())
    seconds = time.perf_counter() - began
    tracemalloc.start()
    world = WorldAirports(*world_paths())
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del world
    return seconds, kept / 1e6, peak / 1e6


def show(name: str, runs: list[tuple[float, float, float]]) -> None:
    seconds = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    print(f"{name:<44}{seconds:>8.2f}s{cpu:>8.2f}s{max(r[2] for r in runs):>8.1f} MB",
          flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--frames", type=int, default=300_000)
    parser.add_argument("--aircraft", type=int, default=1_000)
    parser.add_argument("--baseline", default="main", help="git ref before the world set")
    args = parser.parse_args()
    seconds, kept, peak = in_process()
    print(f"world set in process: loaded in {seconds:.3f} s; {kept:.1f} MB kept, "
          f"{peak:.1f} MB at the peak while reading", flush=True)
    for name in ("world_airports.tsv.gz", "world_runways.tsv.gz"):
        print(f"config/{name}: {(REPO / 'config' / name).stat().st_size:,} bytes")
    with tempfile.TemporaryDirectory(prefix="flightwatch-airports-") as tmp:
        workdir = Path(tmp)
        baseline = export(args.baseline, workdir / "baseline")
        capture = workdir / "traffic.tsv"
        make_tsv(capture, args.aircraft, args.frames)
        empty_database(workdir / "empty.db")
        (workdir / "fw.toml").write_text('[database]\nurl = "sqlite:///replay.db"\n',
                                         encoding="utf-8")
        trees = {f"baseline ({args.baseline})": baseline, "this tree": REPO}
        results: dict[str, list[tuple[float, float, float]]] = {}
        for _ in range(args.rounds):
            for label, tree in trees.items():
                for command, run in (
                    ("replay", lambda t=tree: replay(t, workdir, capture)),
                    ("--help", lambda t=tree: flightwatch(t, workdir, "--help")),
                    ("flights --airport UUWW", lambda t=tree: flightwatch(
                        t, workdir, "flights", "--airport", "UUWW", "--config", "fw.toml")),
                ):
                    results.setdefault(f"{label}: {command}", []).append(run())
            results.setdefault("this tree: airports list --near 53.88,28.03", []).append(
                flightwatch(REPO, workdir, "airports", "list", "--near", "53.88,28.03",
                            "--config", "fw.toml"))
        print(f"{args.aircraft:,} aircraft, {args.frames:,} frames; median of "
              f"{args.rounds} (peak RSS: the largest)")
        print(f"{'command':<44}{'seconds':>9}{'CPU':>9}{'peak RSS':>11}")
        for name, runs in sorted(results.items(), key=lambda item: item[0].split(": ")[1]):
            show(name, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
