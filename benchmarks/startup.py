"""Start-up cost of each command as a whole process: seconds and peak RSS.

A Raspberry Pi runs every ``flightwatch`` command as a fresh interpreter, so what a
command imports is most of what it costs. Each command below runs ``--runs`` times (5
by default) on a database holding the demo capture; printed: the median wall time, its
ratio to ``python -c pass`` measured alternately in the same run (a shared machine's
speed drifts), the median CPU time (less sensitive to other load) and the peak resident
memory (the child's ``ru_maxrss``). Targets (issue "Pi-grade resources"): ``--help`` and
every query command < 0.3 s and < 40 MB.

    python benchmarks/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from whole_process import run_process

REPO = Path(__file__).resolve().parents[1]
CAPTURE = REPO / "config" / "samples" / "demo_minsk.tsv"

COMMANDS = [
    ["--help"],
    ["history"],
    ["alerts"],
    ["flights"],
    ["watchlist", "list"],
    ["status"],
    ["check-config"],  # loads the fences: not a query command, shown for comparison
]


def measure(argv: list[str], cwd: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in MB) of one run of ``argv``."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("FLIGHTWATCH_DATABASE_URL", None)
    return run_process(argv, cwd, env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flightwatch-startup-") as tmp:
        folder = Path(tmp)
        (folder / "fw.toml").write_text('[database]\nurl = "sqlite:///fw.db"\n', encoding="utf-8")
        flightwatch = [sys.executable, "-m", "flightwatch.cli"]
        measure([*flightwatch, "replay", "--config", "fw.toml", str(CAPTURE)], folder)
        bare = [sys.executable, "-c", "pass"]
        print(f"{'command':<22}{'seconds':>9}{'x bare':>8}{'CPU s':>8}{'peak RSS':>10}")
        for command in [[], *COMMANDS]:
            argv = [*flightwatch, *command] if command else bare
            if command and command != ["--help"]:
                argv += ["--config", "fw.toml"]
            runs, bases = [], []
            for _ in range(args.runs):
                bases.append(measure(bare, folder))
                runs.append(measure(argv, folder))
            seconds = statistics.median(run[0] for run in runs)
            ratio = seconds / statistics.median(run[0] for run in bases)
            cpu = statistics.median(run[1] for run in runs)
            rss = max(run[2] for run in runs)
            name = " ".join(command) or "python -c pass"
            print(f"{name:<22}{seconds:>8.2f}s{ratio:>7.1f}x{cpu:>7.2f}s{rss:>7.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
