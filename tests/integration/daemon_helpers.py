"""The daemon as a real subprocess, fed by a real dump1090 at the pace of the air.

- :class:`DaemonProcess` runs ``python -m flightwatch.cli run --config FILE`` with the repo
  on ``PYTHONPATH``, collects its log lines and waits for one.
- :class:`PacedFeed` pushes timed frames into dump1090's Beast input as they fall due on
  the wall clock (the daemon stamps frames on arrival, so the pace is what it sees) and
  remembers what it sent and when.
- :func:`reference_positions` replays frames through the same pipeline configuration
  into a fresh database: what the daemon must have stored for them.
- :func:`stored_positions` reads the daemon's SQLite file with the ``sqlite3`` module.

Traffic is synthetic (decoder.simulate): airborne positions every ~2 s per aircraft, so
with ``store_interval = "0s"`` every accepted position is stored and no two fall into the
same second (the positions table keeps whole seconds).
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import io
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from random import Random
from typing import Any

from integration.dump1090 import (
    Dump1090Ports,
    _free_ports,
    _proc_net_tcp,
    _wait_listening,
    command,
)
from stored_positions import stored_count, stored_rows

from tools.capture_writer import write_beast
from tools.encoder import airborne_position, airborne_velocity, identification
from tools.simulate import Flight, destination

REPO = Path(__file__).resolve().parents[2]
TimedFrame = tuple[float, str]

WATCHED = "157710"  # RA-96016 in the shipped config/watchlist.csv
#: 2024-05-01T09:00:00Z: the first whole second of the synthetic traffic the tests feed.
FIRST = 1714554000.0
#: How soon after SIGTERM the daemon must have exited (the README promises 5 s).
EXIT_WITHIN_S = 5.0
#: Frames of whole capture seconds are sent this far into a wall-clock second.
PHASE = 0.1
WARM_UP = 4  # positions 0.2 s apart before the first whole second
BELARUS = (52.0, 55.5, 24.5, 30.5)  # lat_min, lat_max, lon_min, lon_max, well inside


def flight_frames(flight: Flight, first: float, seconds: float) -> list[TimedFrame]:
    """One frame a second of each kind, in step: a position (even, odd, ...) at
    ``first + k``, a velocity at ``+ 0.5`` and an identification every 5 s at ``+ 0.25``;
    before them, in the second before ``first``, a burst of :data:`WARM_UP` positions.

    pyModeS holds an aircraft's first positions back until enough of them agree (about
    five); the burst gets it there in one second instead of five, and none of the burst
    comes out: the first position decoded is the one at ``first + 1``. From then on a
    position exactly every second never puts two of one aircraft into the same whole
    second (the positions table's resolution), neither on the capture's clock nor on
    the daemon's as long as a frame reaches it less than ``1 - PHASE`` s late.
    """
    out: list[TimedFrame] = []
    for j in range(WARM_UP):
        t = first - 1 + 0.2 * j
        state = flight.state_at(t)
        out.append((t, airborne_position(flight.icao, state.lat, state.lon, state.altitude_ft,
                                         odd=j % 2 == 1)))
    ident = identification(flight.icao, flight.callsign)
    for k in range(int(seconds)):
        t = first + k
        state = flight.state_at(t)
        out.append((t, airborne_position(flight.icao, state.lat, state.lon,
                                         state.altitude_ft, odd=k % 2 == 1)))
        v = flight.state_at(t + 0.5)
        out.append((t + 0.5, airborne_velocity(flight.icao, v.ground_speed_kt, v.track_deg,
                                               v.vertical_rate_fpm)))
        if k % 5 == 0:
            out.append((t + 0.25, ident))
    return out


def traffic(n_aircraft: int, seconds: float, first: float, seed: int = 1) -> list[TimedFrame]:
    """``seconds`` of frames from ``n_aircraft`` unwatched aircraft over Belarus, starting
    at Unix time ``first`` (a whole second)."""
    rng = Random(seed)
    lat_min, lat_max, lon_min, lon_max = BELARUS
    flights = []
    for i in range(n_aircraft):
        lat, lon = rng.uniform(lat_min, lat_max), rng.uniform(lon_min, lon_max)
        speed = rng.uniform(250, 480)
        end = destination(lat, lon, rng.uniform(0, 360), speed * (seconds + 60) / 3600)
        altitude = rng.uniform(5000, 38000)
        flights.append(Flight(f"A{i:05X}", f"TST{i}", [(lat, lon, altitude, speed),
                                                       (*end, altitude, speed)], utc(first - 1)))
    return merge(*(flight_frames(f, first, seconds) for f in flights))


def over_minsk(first: float, seconds: float, icao: str = WATCHED,
               callsign: str = "RSD016") -> list[TimedFrame]:
    """An aircraft (by default RA-96016, watched) flying east over Minsk, inside Belarus
    from its first frame."""
    flight = Flight(icao, callsign, [(53.90, 27.30, 20000, 300), (53.90, 28.20, 20000, 300)],
                    utc(first - 1))
    return flight_frames(flight, first, seconds)


def merge(*streams: Iterable[TimedFrame]) -> list[TimedFrame]:
    return sorted((f for s in streams for f in s), key=lambda f: f[0])


# --- the daemon ----------------------------------------------------------------------


def write_config(folder: Path, beast_port: int, database: str = "", extra: str = "",
                 tracker: str = "") -> Path:
    """A config for the daemon under test: one Beast source, every position stored,
    ``database`` (``tracker``) lines added to ``[database]`` (``[tracker]``) and ``extra``
    TOML appended."""
    config = folder / "flightwatch.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///fw.db"\n{database}\n'
        f'[tracker]\nstore_interval = "0s"\n{tracker}\n'
        '[status]\ninterval = "1h"\n\n'
        f'[[sources]]\ntype = "beast"\nhost = "127.0.0.1"\nport = {beast_port}\n\n'
        f"{extra}",
        encoding="utf-8",
    )
    return config


class DaemonProcess:
    """``flightwatch run`` in a subprocess; stderr collected line by line."""

    def __init__(self, config: Path) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
        env.pop("FLIGHTWATCH_DATABASE_URL", None)
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flightwatch.cli", "run", "--config", str(config)],
            cwd=config.parent, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
        )
        self._reader = threading.Thread(target=self._collect, daemon=True)
        self._reader.start()

    def _collect(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    @property
    def log(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def matching(self, pattern: str) -> list[str]:
        regex = re.compile(pattern)
        with self._changed:
            return [line for line in self.lines if regex.search(line)]

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 30.0) -> list[str]:
        """The first ``count`` log lines matching ``pattern``; fails with the log on timeout."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [line for line in self.lines if regex.search(line)]
                if len(found) >= count:
                    return found[:count]
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(
                        f"no {count} log line(s) matching {pattern!r} within {timeout} s; "
                        f"log:\n" + "\n".join(self.lines)
                    )
                self._changed.wait(min(left, 0.2))

    def send(self, sig: signal.Signals) -> float:
        """Send ``sig``; the monotonic time it was sent."""
        sent = time.monotonic()
        self.process.send_signal(sig)
        return sent

    def wait(self, timeout: float = 20.0) -> int:
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code

    def stop(self) -> None:
        """Make sure the process is gone (test teardown)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._reader.join(5)


@contextlib.contextmanager
def daemon(config: Path) -> Iterator[DaemonProcess]:
    process = DaemonProcess(config)
    try:
        yield process
    finally:
        process.stop()


def wait_connected(ports: Dump1090Ports, port: int, timeout: float = 30.0) -> None:
    """Return once dump1090 has accept()ed a client on ``port`` (so it forwards to it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        table = list(_proc_net_tcp())
        accepted = any(
            local == (ports.host, port) and state == "01" for local, _r, state, _q in table
        )
        waiting = sum(q for local, _r, state, q in table if local == (ports.host, port)
                      and state == "0A")
        if accepted and waiting == 0:
            return
        time.sleep(0.02)
    raise AssertionError(f"no client accepted on port {port} within {timeout} s")


# --- feeding dump1090 ----------------------------------------------------------------


@dataclass
class Sent:
    frame: TimedFrame
    wall: float  # time.monotonic() when the frame's batch was sent


class PacedFeed:
    """Frames pushed into dump1090 as they fall due: frame time ``t`` goes out at
    ``wall0 + (t - t0)``. Frames that fall due while nothing is pushed (a feed that
    is down) are skipped, as a receiver's frames are lost while its network is."""

    def __init__(self, timed: Sequence[TimedFrame], tick: float = 0.02) -> None:
        self.frames = list(timed)
        self.t0 = self.frames[0][0]
        self.wall0: float | None = None
        self.next = 0
        self.sent: list[Sent] = []
        self.tick = tick

    def now(self) -> float:
        """The frame time falling due now (the first frame's before the first push)."""
        if self.wall0 is None:
            return self.t0
        return self.t0 + time.monotonic() - self.wall0

    def due_index(self, now: float) -> int:
        assert self.wall0 is not None
        limit = self.t0 + (now - self.wall0)
        index = self.next
        while index < len(self.frames) and self.frames[index][0] <= limit:
            index += 1
        return index

    def push(self, ports: Dump1090Ports, until: float | None = None,
             stop: threading.Event | None = None) -> None:
        """Push frames as they fall due, up to frame time ``until`` (default: all) or
        until ``stop`` is set; frames already overdue when this starts are skipped."""
        if self.wall0 is None:
            # Whole capture seconds go out PHASE into a wall-clock second.
            time.sleep((PHASE - time.time() + self.t0) % 1.0)
            self.wall0 = time.monotonic()
        self.next = self.due_index(time.monotonic() - self.tick)
        end = self.frames[-1][0] if until is None else until
        with socket.create_connection((ports.host, ports.beast_in), timeout=5.0) as sock:
            while self.next < len(self.frames) and self.frames[self.next][0] <= end:
                if stop is not None and stop.is_set():
                    return
                now = time.monotonic()
                upto = self.due_index(now)
                batch = [f for f in self.frames[self.next:upto] if f[0] <= end]
                if batch:
                    out = io.BytesIO()
                    write_beast(batch, out, origin=self.t0)
                    sock.sendall(out.getvalue())
                    self.sent.extend(Sent(f, now) for f in batch)
                    self.next += len(batch)
                time.sleep(self.tick)

    def sent_frames(self, before: float | None = None) -> list[TimedFrame]:
        """Frames sent (before monotonic time ``before``)."""
        return [s.frame for s in self.sent if before is None or s.wall < before]


# --- reading and predicting the database ---------------------------------------------

Track = list[tuple[float, float]]
Positions = dict[str, list[tuple[int, float, float]]]


def stored_positions(db: Path) -> Positions:
    """ICAO -> [(unix second, lat, lon)] in time order, from the SQLite file (raw: the
    address and coordinates are stored as integers, see db/encoding.py)."""
    out: dict[str, list[tuple[int, float, float]]] = {}
    for icao, when, lat, lon, *_rest in stored_rows(db):
        out.setdefault(f"{icao:06X}", []).append((when, lat / 1e5, lon / 1e5))
    return out


def tracks(positions: Positions) -> dict[str, Track]:
    """Just the (lat, lon) sequence of each aircraft."""
    return {icao: [(lat, lon) for _t, lat, lon in rows] for icao, rows in positions.items()}


def reference_positions(
    config: Path, timed: Sequence[TimedFrame], folder: Path
) -> Positions:
    """What the daemon's pipeline stores for ``timed`` frames (with their own times),
    replayed directly into a fresh SQLite file in ``folder``."""
    from flightwatch.daemon.pipeline import build_pipeline
    from flightwatch.db import connect
    from flightwatch.decoder import Frame
    from flightwatch.settings import load_settings

    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "reference.db"
    settings = load_settings(config, env={})
    pipeline = build_pipeline(settings, connect(f"sqlite:///{db}"))
    for t, message in timed:
        pipeline.feed(Frame(message, t, "reference"))
    assert pipeline.close()
    return stored_positions(db)


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def sqlite_value(db: Path, sql: str) -> object:
    return query(db, sql)[0][0]


def len_rows(positions: Positions) -> int:
    return sum(map(len, positions.values()))


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])



def poll(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Wait until ``condition()`` holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def alerts_config(smtp_port: int, events: str = '["first_seen_inside", "enter"]') -> str:
    """``[alerts]`` for mail to a local SMTP server, retried after a second."""
    return (
        f'[alerts]\nevents = {events}\nretry_first = "1s"\nretry_max = "2s"\n\n'
        f'[alerts.email]\nhost = "127.0.0.1"\nport = {smtp_port}\ntimeout = "3s"\n'
        'recipients = ["ops@example.org"]\n\n'
    )


class SmtpSink:
    """A real SMTP server (aiosmtpd) on loopback that keeps every message it accepts."""

    def __init__(self, port: int) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[EmailMessage] = []
        sink = self

        class Handler:
            async def handle_DATA(self, _server: object, _session: object,
                                  envelope: Any) -> str:
                message = email.message_from_bytes(envelope.content, policy=email.policy.default)
                sink.messages.append(message)
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.controller.stop()


def outbox_status(db: Path) -> list[tuple[str, str, int]]:
    """(channel, status, attempts) of every outbox row, oldest first."""
    return query(db, "SELECT channel, status, attempts FROM outbox ORDER BY id")


def wal_bytes(db: Path) -> int:
    """Size of the database's write-ahead log; 0 when there is none."""
    wal = db.with_name(db.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def count(db: Path, table: str = "positions") -> int:
    if table == "positions":
        return stored_count(db)
    value = sqlite_value(db, f"SELECT count(*) FROM {table}")
    assert isinstance(value, int)
    return value


class Receiver:
    """A dump1090 that can be taken down and brought back on the same ports, as a Pi's
    receiver (or the network to it) goes away and comes back."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.ports = Dump1090Ports(*_free_ports(4))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(command(self.binary, self.ports),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        if not _wait_listening(self.process, self.ports, timeout=10.0):
            raise RuntimeError(f"dump1090 did not start again on {self.ports}")

    def down(self, sig: signal.Signals = signal.SIGTERM) -> None:
        assert self.process is not None
        self.process.send_signal(sig)
        self.process.wait(10)

    def __enter__(self) -> Receiver:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def wait_delivered(port: int, timeout: float = 10.0) -> None:
    """Return once nothing sent through ``port`` waits in a socket queue on either side
    (what dump1090 forwarded there has been read by its client), three polls in a row."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 3:
        if time.monotonic() > deadline:
            raise AssertionError(f"data on port {port} not read within {timeout} s")
        busy = False
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            ports = {int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16)}
            tx, rx = (int(q, 16) for q in fields[4].split(":"))
            busy = busy or (port in ports and (tx or rx) > 0)
        quiet = 0 if busy else quiet + 1
        time.sleep(0.05)


class StuckServer:
    """A TCP server on loopback that accepts every connection, sends ``greeting`` and then
    one byte of ``trickle`` every ``every`` seconds (nothing if empty), and never closes:
    a hostile or broken aggregator, a receiver feed that went quiet, an SMTP server that
    accepted and never answers."""

    def __init__(self, greeting: bytes = b"", trickle: bytes = b"", every: float = 2.0) -> None:
        self.greeting, self.trickle, self.every = greeting, trickle, every
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.connections = 0
        self.sent = 0
        self._stop = threading.Event()
        self._clients: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._accept, daemon=True)]

    def __enter__(self) -> StuckServer:
        self._threads[0].start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self.listener.close()
        for client in self._clients:
            with contextlib.suppress(OSError):
                client.close()
        for thread in self._threads:
            thread.join(5)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            self._clients.append(client)
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, client: socket.socket) -> None:
        try:
            if self.greeting:
                client.sendall(self.greeting)
                self.sent += len(self.greeting)
            for byte in self.trickle:
                if self._stop.wait(self.every):
                    return
                client.sendall(bytes((byte,)))
                self.sent += 1
            self._stop.wait()
        except OSError:
            return
