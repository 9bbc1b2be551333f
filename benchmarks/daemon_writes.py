"""The daemon as a whole process: what ``flightwatch run`` writes to disk, and its peak memory.

``disk_writes.py`` drives the pipeline on the capture's clock; this runs the real daemon
on the wall clock, as a Pi does. A database is pre-filled with history ending now
(``history_fill``: ``--history 7d`` is the default retention's worth, 7 days at full rate
after 7 thinned days, arranged so that no day comes of age for thinning during the run),
then ``flightwatch run`` reads a Beast feed over loopback at real pace (synthetic traffic,
455 aircraft at once, each flight about an hour, about 2,000 frames/s, sent evenly)
with default settings. After
``--warm-up`` minutes, ``/proc/<pid>/io`` write_bytes is read from outside every 10 s for
``--minutes``: MB/h, and the rate of each quarter hour (merges run every 15 min, flight
figures every 10 min, aircraft rows every hour).

With ``--aggregators N`` the daemon also polls N aggregator sources (ADS-B Exchange v2
answers and an aircraft.json, 300 aircraft each, moving, from a local HTTP server), and
with ``--web`` it serves its web page while a client reads it as an open Now page does:
the memory scenario of issue 20. VmHWM (peak RSS) comes from ``/proc/<pid>/status``.
Prints figures only.

    python benchmarks/daemon_writes.py [--history 7d] [--minutes 60] [--warm-up 3]
        [--rate 2000] [--aggregators 3] [--web] [--keep DIR]

Needs Linux and a disk-backed folder; a run takes the history's build (minutes) plus
the warm-up plus ``--minutes`` of wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path
from random import Random
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from history_fill import HistoryPlan, fill  # noqa: E402

MB = 1e6
DAY = 86400
HISTORIES = {"1h": (3600, 0), "1d": (DAY, 0), "7d": (7 * DAY, 7 * DAY)}
LIVE_SEED = 7
AGGREGATOR_AIRCRAFT = 300


def proc_figures(pid: int) -> dict[str, float]:
    """write_bytes from /proc/<pid>/io; VmRSS and VmHWM (MB) from /proc/<pid>/status."""
    io = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
    status = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            status[key] = int(value.split()[0]) / 1024
    return {"write_bytes": float(io["write_bytes"]), **status}


def n_aircraft_for(rate: float) -> int:
    from tools.simulate import Rates

    return max(1, round(rate / Rates(surveillance_s=5.0).per_second()))


def build_capture(path: Path, rate: float, seconds: float, start: datetime) -> list[str]:
    """A Beast file of synthetic traffic; the aircraft's addresses."""
    from tools.capture_writer import write_beast
    from tools.simulate import turnover_flights, turnover_traffic

    n_aircraft = n_aircraft_for(rate)
    with path.open("wb") as out:
        write_beast(turnover_traffic(n_aircraft, seconds, seed=LIVE_SEED, start=start), out)
    return [f.icao for f in turnover_flights(n_aircraft, seconds, seed=LIVE_SEED, start=start)]


def serve_beast(data: bytes, seconds: float) -> tuple[int, threading.Event]:
    """A Beast port (dump1090's 30005) sending ``data`` evenly over ``seconds``."""
    server = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def feed() -> None:
        client, _ = server.accept()
        steps = max(1, int(seconds / 0.05))
        chunk = -(-len(data) // steps)
        began = time.monotonic()
        for n, start in enumerate(range(0, len(data), chunk)):
            client.sendall(data[start:start + chunk])
            time.sleep(max(0.0, began + (n + 1) * 0.05 - time.monotonic()))
        done.set()
        time.sleep(3600)  # open, as a receiver's port stays

    threading.Thread(target=feed, daemon=True).start()
    return int(server.getsockname()[1]), done


class _Aggregators(BaseHTTPRequestHandler):
    """Every path answers with the same moving aircraft (aggregators covering one area
    report the same traffic): an ADS-B Exchange v2 document, or an aircraft.json under
    /aircraft.json."""

    def do_GET(self) -> None:
        fleet = 0
        rng = Random(fleet)
        now = time.time()
        planes = []
        for i in range(AGGREGATOR_AIRCRAFT):
            lat0, lon0 = rng.uniform(51.5, 56.0), rng.uniform(23.5, 32.5)
            speed = rng.uniform(0.0005, 0.002)  # degrees a second
            planes.append({
                "hex": f"{0x700000 + fleet * 1000 + i:06x}", "flight": f"AGG{i:04d}  ",
                "lat": round(lat0 + speed * (now % 600), 5), "lon": round(lon0, 5),
                "alt_baro": 30000 + i, "gs": 430.0, "track": 0.0, "baro_rate": 0,
                "seen_pos": 0.5, "seen": 0.2, "t": "A320", "r": f"XX-{i:04d}"})
        if self.path.startswith("/aircraft.json"):
            body = {"now": now, "messages": 1, "aircraft": planes}
        else:
            body = {"ac": planes, "now": int(now * 1000), "total": len(planes),
                    "ctime": int(now * 1000), "ptime": 5, "msg": "No error"}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: Any) -> None:
        return


def aggregator_config(port: int, count: int) -> str:
    base = f"http://127.0.0.1:{port}"
    tables = [
        f'[[sources]]\ntype = "adsbx"\nprovider = "adsb.lol"\nbase_url = "{base}/lol/"\n',
        f'[[sources]]\ntype = "adsbx"\nprovider = "airplanes.live"\nbase_url = "{base}/live/"\n',
        f'[[sources]]\ntype = "aircraft_json"\nurl = "{base}/aircraft.json"\n',
    ]
    return "\n".join(tables[i % len(tables)].replace('"\n', f'"\nname = "agg{i}"\n', 1)
                     for i in range(count)) + "\n"


def read_pages(url: str, stop: threading.Event) -> None:
    """An open Now page (aircraft every second) and a user browsing every 5 s."""
    import requests

    tick = 0
    while not stop.is_set():
        try:
            requests.get(url + "/api/aircraft", timeout=10)
            if tick % 5 == 0:
                for path in ("/api/alerts", "/api/flights?since=1h", "/"):
                    requests.get(url + path, timeout=30)
        except requests.RequestException:
            pass
        tick += 1
        stop.wait(1.0)


def build_history(db: Path, label: str, live: list[str], end: int, concurrent: int) -> None:
    """History ending at ``end``, its full-rate part starting at the day retention will
    thin next (so no day comes of age during the run)."""
    from flightwatch.alerts.geofence import Geofence
    from flightwatch.db import close, connect

    full_s, thinned_s = HISTORIES[label]
    if label == "7d":  # from the start of the day that is 7 days old by the run's end
        full_s = end - ((end - 7 * DAY) // DAY * DAY)
    plan = HistoryPlan(end=end, full_s=full_s, thinned_s=thinned_s, live=tuple(live),
                       concurrent=concurrent)
    fence = Geofence.from_file(REPO / "config" / "geofences" / "belarus.geojson", "belarus")
    engine = connect(f"sqlite:///{db}")
    counts = fill(engine, plan, fence, progress=lambda line: print(
        f"\r  building {label}: {line}", end="", file=sys.stderr))
    close(engine)
    print(f"\r  built {label}: {counts}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--history", default="7d", choices=sorted(HISTORIES))
    parser.add_argument("--minutes", type=float, default=60.0, help="measured wall minutes")
    parser.add_argument("--warm-up", type=float, default=3.0, help="minutes before measuring")
    parser.add_argument("--rate", type=float, default=2000.0, help="frames per second")
    parser.add_argument("--aggregators", type=int, default=0, help="aggregator sources")
    parser.add_argument("--web", action="store_true", help="serve the web page, and read it")
    parser.add_argument("--keep", type=Path, help="work (and keep the database) here")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="flightwatch-daemon-", dir="/var/tmp"))
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "fw.db"
    for stale in workdir.glob("fw.db*"):
        stale.unlink()
    seconds = (args.warm_up + args.minutes) * 60 + 120
    capture = workdir / "feed.beast"
    print(f"building the feed ({seconds / 60:.0f} min at {args.rate:,.0f} frames/s) ...",
          file=sys.stderr)
    live = build_capture(capture, args.rate, seconds, datetime.now(UTC))
    build_history(db, args.history, live, int(time.time()), n_aircraft_for(args.rate))

    port, _fed = serve_beast(capture.read_bytes(), seconds)
    config = workdir / "flightwatch.toml"
    extra = ""
    pages = None
    if args.aggregators:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Aggregators)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        extra += aggregator_config(server.server_address[1], args.aggregators)
    if args.web:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            web_port = sock.getsockname()[1]
        extra += f'[web]\nlisten = "127.0.0.1:{web_port}"\n'
        pages = f"http://127.0.0.1:{web_port}"
    config.write_text(
        f'[database]\nurl = "sqlite:///{db}"\n\n'
        f'[[sources]]\ntype = "beast"\nhost = "127.0.0.1"\nport = {port}\n\n{extra}',
        encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("FLIGHTWATCH_DATABASE_URL", None)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "flightwatch.cli", "run", "--config", str(config)],
        cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=(workdir / "daemon.log").open("w"))
    stop = threading.Event()
    reader = None
    if pages is not None:
        reader = threading.Thread(target=read_pages, args=(pages, stop), daemon=True)
        reader.start()
    samples: list[tuple[float, dict[str, float]]] = []
    try:
        time.sleep(args.warm_up * 60)
        began = time.monotonic()
        while time.monotonic() - began < args.minutes * 60:
            if daemon.poll() is not None:
                raise SystemExit(f"the daemon exited ({daemon.returncode}); see daemon.log")
            samples.append((time.monotonic() - began, proc_figures(daemon.pid)))
            time.sleep(10.0)
        samples.append((time.monotonic() - began, proc_figures(daemon.pid)))
    finally:
        stop.set()
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
    first, last = samples[0][1], samples[-1][1]
    hours = (samples[-1][0] - samples[0][0]) / 3600
    written = last["write_bytes"] - first["write_bytes"]
    print(f"flightwatch run, {args.history} of history, {n_aircraft_for(args.rate)} aircraft at "
          f"{args.rate:,.0f} frames/s over loopback, {args.aggregators} aggregator source(s), "
          f"web {'on' if args.web else 'off'}: {args.minutes:.0f} min measured after "
          f"{args.warm_up:.0f} min; exit {daemon.returncode}")
    print(f"  DISK WRITES (write_bytes, from outside): {written / hours / MB:,.1f} MB/h = "
          f"{written / hours * 24 / 1e9:,.2f} GB/day")
    quarter = 900.0
    marks = [s for s in samples if s[0] % quarter < 10.0 or s is samples[-1]]
    for (t0, a), (t1, b) in pairwise(marks):
        if t1 > t0:
            print(f"    {t0 / 60:5.1f}-{t1 / 60:5.1f} min: "
                  f"{(b['write_bytes'] - a['write_bytes']) / ((t1 - t0) / 3600) / MB:,.1f} MB/h")
    print(f"  peak RSS (VmHWM): {max(s[1]['VmHWM'] for s in samples):.1f} MB; "
          f"RSS at the end {last['VmRSS']:.1f} MB")
    if not args.keep:
        for leftover in workdir.glob("*"):
            leftover.unlink()
        workdir.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
