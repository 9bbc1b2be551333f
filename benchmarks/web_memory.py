"""Memory the web server adds to the daemon: ``flightwatch run`` on the same traffic, once
without and once with ``[web] listen``, while a client reads the pages' API.

Builds a Beast capture of synthetic traffic (300 aircraft, 150,000 frames by default),
then for each scenario starts a real ``flightwatch run`` in a fresh process on a fresh
SQLite database, serves it the capture over TCP (as dump1090's port 30005) evenly over
``--seconds``, and reads the daemon's resident memory (VmRSS, and the peak VmHWM) from
/proc once the feed is done. With the web server on, a client polls /api/aircraft every
second as an open Now page does, and asks for alerts, flights and one aircraft's history
every 5 s. Prints both and the difference; the target (issue 15) is < 30 MB added. No
time is asserted.

With ``--export-mb M``, measures downloads instead: ``flightwatch serve`` over a database
holding one aircraft's history whose CSV export is about M MB, read once and then three
times at once; prints each download's size and the server's peak resident memory
(VmHWM) after each (issue 24: a 68 MB CSV took the server to 272 MB when answers were
built in memory, three at once to 507 MB).

    python benchmarks/web_memory.py [--frames N] [--aircraft N] [--seconds S]
    python benchmarks/web_memory.py --export-mb 68
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
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from throughput import make_capture  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak) of a process, in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found


def serve_capture(data: bytes, seconds: float) -> tuple[int, threading.Event]:
    """A Beast port that sends ``data`` to its first client evenly over ``seconds``."""
    server = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def feed() -> None:
        client, _ = server.accept()
        steps = max(1, int(seconds / 0.05))
        chunk = -(-len(data) // steps)
        for start in range(0, len(data), chunk):
            client.sendall(data[start:start + chunk])
            time.sleep(0.05)
        done.set()
        time.sleep(600)  # keep the connection open: the daemon would only reconnect

    threading.Thread(target=feed, daemon=True).start()
    return server.getsockname()[1], done


def read_pages(url: str, stop: threading.Event, errors: list[str]) -> int:
    """What an open Now page and a browsing user ask for; the number of requests."""
    count = 0
    tick = 0
    while not stop.is_set():
        paths = ["/api/aircraft"]
        if tick % 5 == 0:
            paths += ["/api/alerts", "/api/flights?since=1h", "/", "/static/now.js"]
            planes = requests.get(url + "/api/aircraft", timeout=10).json()
            if planes:
                paths.append(f"/api/history?icao={planes[0]['icao']}&since=1h")
        for path in paths:
            answer = requests.get(url + path, timeout=30)
            count += 1
            if answer.status_code != 200:
                errors.append(f"{path}: {answer.status_code}")
        tick += 1
        stop.wait(1.0)
    return count


def run_once(capture: Path, workdir: Path, seconds: float, web: bool) -> dict[str, Any]:
    name = "with_web" if web else "without_web"
    folder = workdir / name
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("fw.db*"):
        stale.unlink()
    port, fed = serve_capture(capture.read_bytes(), seconds)
    web_port = free_port()
    config = folder / "flightwatch.toml"
    config.write_text(
        '[database]\nurl = "sqlite:///fw.db"\n\n[status]\ninterval = "1h"\n\n'
        f'[[sources]]\ntype = "beast"\nhost = "127.0.0.1"\nport = {port}\n\n'
        + (f'[web]\nlisten = "127.0.0.1:{web_port}"\n' if web else ""),
        encoding="utf-8",
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("FLIGHTWATCH_DATABASE_URL", None)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "flightwatch.cli", "run", "--config", str(config)],
        cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stop = threading.Event()
    errors: list[str] = []
    requests_made: list[int] = []
    try:
        if web:
            url = f"http://127.0.0.1:{web_port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    requests.get(url + "/api/settings", timeout=2)
                    break
                except requests.ConnectionError:
                    if time.monotonic() > deadline or daemon.poll() is not None:
                        raise RuntimeError("the daemon's web server did not answer") from None
                    time.sleep(0.2)
            client = threading.Thread(
                target=lambda: requests_made.append(read_pages(url, stop, errors)))
            client.start()
        if not fed.wait(seconds * 3 + 60):
            raise RuntimeError("the daemon did not read the whole capture")
        time.sleep(3.0)  # the last frames decoded, a few more page reads
        memory = proc_memory_mb(daemon.pid)
    finally:
        stop.set()
        if web:
            client.join(60)
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
    return {"name": name, "rss_mb": memory["VmRSS"], "peak_mb": memory["VmHWM"],
            "requests": sum(requests_made), "errors": errors, "exit": daemon.returncode}


def measure(capture: Path, workdir: Path, seconds: float) -> dict[str, Any]:
    without = run_once(capture, workdir, seconds, web=False)
    with_web = run_once(capture, workdir, seconds, web=True)
    return {"without": without, "with": with_web,
            "added_rss_mb": with_web["rss_mb"] - without["rss_mb"],
            "added_peak_mb": with_web["peak_mb"] - without["peak_mb"]}


CSV_BYTES_PER_POSITION = 96  # measured: one history CSV row of the aircraft below


def fill_history(database: Path, positions: int) -> None:
    """One aircraft's history of ``positions`` positions, a second apart."""
    from datetime import UTC, datetime, timedelta

    from flightwatch.db import Store, close, connect
    from flightwatch.decoder.tracker import Position

    engine = connect(f"sqlite:///{database}")
    store = Store(engine, batch_rows=200_001, batch_seconds=3600.0)
    first = datetime(2024, 5, 1, tzinfo=UTC)
    for i in range(positions):
        store.add_position(Position("4B1899", first + timedelta(seconds=i), 53.0 + i / 1e7,
                                    27.5, 30000.0, 450.0, 90.0, -64.0, False, "BIG1234",
                                    "beast:127.0.0.1:30005"))
        store.maybe_flush()
    store.flush()
    close(engine)


def download(url: str) -> int:
    with requests.get(url, stream=True, timeout=600) as answer:
        answer.raise_for_status()
        return sum(len(chunk) for chunk in answer.iter_content(1 << 16))


def measure_export(workdir: Path, export_mb: float) -> dict[str, Any]:
    """Peak memory of ``flightwatch serve`` answering one, then three CSV downloads."""
    folder = workdir / "export"
    folder.mkdir(parents=True, exist_ok=True)
    fill_history(folder / "fw.db", int(export_mb * 1e6 / CSV_BYTES_PER_POSITION))
    config = folder / "flightwatch.toml"
    config.write_text('[database]\nurl = "sqlite:///fw.db"\n', encoding="utf-8")
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("FLIGHTWATCH_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "flightwatch.cli", "serve", "--config", str(config),
         "--listen", f"127.0.0.1:{port}"],
        cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api/history?icao=4B1899&format=csv"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/api/settings", timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise RuntimeError("flightwatch serve did not answer") from None
                time.sleep(0.2)
        idle = proc_memory_mb(server.pid)["VmRSS"]
        one = download(url)
        after_one = proc_memory_mb(server.pid)["VmHWM"]
        sizes: list[int] = []
        threads = [threading.Thread(target=lambda: sizes.append(download(url)))
                   for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        after_three = proc_memory_mb(server.pid)["VmHWM"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    return {"export_mb": one / 1e6, "three_mb": [size / 1e6 for size in sizes],
            "idle_rss_mb": idle, "peak_after_one_mb": after_one,
            "peak_after_three_mb": after_three, "exit": server.returncode}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=150_000)
    parser.add_argument("--aircraft", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=30.0, help="feed the capture over")
    parser.add_argument("--export-mb", type=float, default=0.0,
                        help="measure CSV downloads of about this size instead")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="flightwatch-web-bench-"))
    if args.export_mb > 0:
        exported = measure_export(workdir, args.export_mb)
        print(f"CSV export of {exported['export_mb']:.1f} MB: serve idle RSS "
              f"{exported['idle_rss_mb']:.1f} MB, peak {exported['peak_after_one_mb']:.1f} MB "
              f"after one download, {exported['peak_after_three_mb']:.1f} MB after three at "
              f"once ({', '.join(f'{mb:.1f}' for mb in exported['three_mb'])} MB); "
              f"exit {exported['exit']}")
        return 0
    capture = workdir / "traffic.beast"
    make_capture(capture, args.aircraft, args.frames)
    result = measure(capture, workdir, args.seconds)
    for run in (result["without"], result["with"]):
        print(f"{run['name']:12} RSS {run['rss_mb']:6.1f} MB  peak {run['peak_mb']:6.1f} MB"
              f"  ({run['requests']} page requests, {len(run['errors'])} errors, "
              f"exit {run['exit']})")
    print(f"the web server adds {result['added_rss_mb']:.1f} MB RSS "
          f"({result['added_peak_mb']:.1f} MB peak); target < 30 MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
