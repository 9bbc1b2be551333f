"""What ``replay`` and the daemon's stop leave on disk: the database file and its WAL.

Builds a Beast capture of synthetic traffic (300 aircraft, 200,000 frames by default),
then as whole processes, each on a fresh SQLite database:

1. ``flightwatch replay`` of the capture, to its end;
2. ``flightwatch run`` fed the same capture by a local TCP server, stopped with SIGTERM
   once the capture has been sent and the daemon has had a few seconds to read it.

Prints the size of ``fw.db`` and of ``fw.db-wal`` after each process exited. Target
(issue "Pi-grade resources"): no WAL larger than one page (4,096 bytes) is left.

    python benchmarks/clean_close.py [--frames N] [--aircraft N]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PAGE = 4096
READ_S = 5.0  # after the last byte is sent, time for the daemon to decode and queue it


def build_capture(path: Path, n_frames: int, n_aircraft: int) -> None:
    from tools.capture_writer import write_beast
    from tools.simulate import synthetic_traffic

    with path.open("wb") as out:
        write_beast(synthetic_traffic(n_aircraft=n_aircraft, n_frames=n_frames, seed=3), out)


def sizes(db: Path) -> str:
    wal = db.with_name(db.name + "-wal")
    wal_size = wal.stat().st_size if wal.exists() else 0
    verdict = "ok" if wal_size <= PAGE else "LEFT BEHIND"
    return (f"fw.db {db.stat().st_size / 1e6:,.1f} MB, fw.db-wal {wal_size:,} bytes "
            f"({'absent' if not wal.exists() else 'present'}; target <= {PAGE:,}: {verdict})")


def flightwatch(*args: str, cwd: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("FLIGHTWATCH_DATABASE_URL", None)
    return subprocess.Popen([sys.executable, "-m", "flightwatch.cli", *args], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def serve_once(data: bytes) -> tuple[int, threading.Event]:
    """A Beast feed on a free port: sends ``data`` to the first client, then holds the line."""
    server = socket.create_server(("127.0.0.1", 0))
    sent = threading.Event()

    def run() -> None:
        client, _addr = server.accept()
        client.sendall(data)
        sent.set()
        time.sleep(3600)  # a daemon thread: gone with the benchmark

    threading.Thread(target=run, daemon=True).start()
    return server.getsockname()[1], sent


def replay(workdir: Path, capture: Path) -> str:
    folder = workdir / "replay"
    folder.mkdir()
    (folder / "fw.toml").write_text('[database]\nurl = "sqlite:///fw.db"\n', encoding="utf-8")
    process = flightwatch("replay", "--config", "fw.toml", str(capture), cwd=folder)
    if process.wait() != 0:
        raise SystemExit("flightwatch replay failed")
    return sizes(folder / "fw.db")


def daemon(workdir: Path, capture: Path) -> str:
    folder = workdir / "run"
    folder.mkdir()
    port, sent = serve_once(capture.read_bytes())
    (folder / "fw.toml").write_text(
        '[database]\nurl = "sqlite:///fw.db"\nbatch_seconds = "2s"\n\n'
        '[status]\ninterval = "1h"\n\n'
        f'[[sources]]\ntype = "beast"\nhost = "127.0.0.1"\nport = {port}\n',
        encoding="utf-8",
    )
    process = flightwatch("run", "--config", "fw.toml", cwd=folder)
    if not sent.wait(120):
        process.kill()
        raise SystemExit("the daemon never connected to the feed")
    time.sleep(READ_S)
    process.send_signal(signal.SIGTERM)
    if process.wait(60) != 0:
        raise SystemExit("flightwatch run did not exit 0 on SIGTERM")
    return sizes(folder / "fw.db")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=200_000)
    parser.add_argument("--aircraft", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flightwatch-close-", dir="/var/tmp") as tmp:
        workdir = Path(tmp)
        capture = workdir / "traffic.beast"
        build_capture(capture, args.frames, args.aircraft)
        print(f"capture: {args.frames:,} frames from {args.aircraft} aircraft")
        print(f"after replay exited:          {replay(workdir, capture)}")
        print(f"after run stopped by SIGTERM: {daemon(workdir, capture)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
