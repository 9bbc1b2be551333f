"""What clients cannot do to the site and the daemon behind it, with real sockets against
a real uvicorn: hang up in the middle of an answer, read it too slowly, send half a
request and wait, open more connections than the process has file descriptors.

- a client that hangs up gives back the database connection its answer used, and the
  next request is answered in full at once;
- under ``flightwatch run`` the web pages read through their own connection pool: clients
  reading slowly never hold up the writer, and SIGTERM still stops the daemon (exit 0);
- a request whose headers (or body) do not arrive within ``web.request_timeout`` is cut
  off; idle connections beyond ``web.max_connections`` (kept below the descriptor limit)
  make room for new ones, so a flood of them neither starves a normal request nor
  fills the log.
"""

from __future__ import annotations

import contextlib
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from integration.daemon_helpers import REPO, DaemonProcess, free_port, poll
from site_helpers import sbs_line
from stored_positions import stored_count

from flightwatch.db import Store, close, connect
from flightwatch.decoder.tracker import Position
from flightwatch.settings import load_settings
from flightwatch.web.live import DatabaseView
from flightwatch.web.server import marker_for, start_in_thread

BIG = "4B1899"
BIG_POSITIONS = 120_000  # ~20 MB of JSON: more than loopback's socket buffers hold
T0 = datetime(2024, 5, 1, tzinfo=UTC)


def fill(url: str, positions: int = BIG_POSITIONS) -> None:
    """One aircraft's long history, written as the daemon writes it."""
    engine = connect(url)
    store = Store(engine, batch_rows=positions + 1, batch_seconds=3600.0)
    for i in range(positions):
        store.add_position(Position(BIG, T0 + timedelta(seconds=i), 53.0 + i / 1e6, 27.5,
                                    30000.0, 450.0, 90.0, 0.0, False, "BIG1", "beast:x"))
    assert store.flush()
    close(engine)


@pytest.fixture(scope="module")
def big_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("big")
    config = folder / "fw.toml"
    config.write_text('[database]\nurl = "sqlite:///fw.db"\n'
                      '[web]\nrequest_timeout = "3s"\n', encoding="utf-8")
    fill(load_settings(config, env={}).database_url)
    return config


@dataclass
class InProcessSite:
    url: str
    port: int
    engine: object


@pytest.fixture
def site_in_process(big_config: Path) -> Iterator[InProcessSite]:
    """The site served by uvicorn in a thread of this process, as ``run`` serves it, on an
    engine the test can ask how many connections are checked out."""
    settings = load_settings(big_config, env={})
    engine = connect(settings.database_url)
    port = free_port()
    live = DatabaseView(engine, marker_for(settings, engine), 60.0)
    stop = start_in_thread(settings, engine, live, f"127.0.0.1:{port}")
    try:
        yield InProcessSite(f"http://127.0.0.1:{port}", port, engine)
    finally:
        stop()
        engine.dispose()  # type: ignore[attr-defined]


def request_line(port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


def test_clients_hanging_up_give_their_database_connections_back(
        site_in_process: InProcessSite) -> None:
    path = f"/api/history?icao={BIG}"
    for _ in range(15):
        with socket.create_connection(("127.0.0.1", site_in_process.port), timeout=30) as sock:
            sock.sendall(request_line(site_in_process.port, path))
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")  # the answer is under way
        # ... and the client is gone.

    pool = site_in_process.engine.pool  # type: ignore[attr-defined]
    poll(lambda: pool.checkedout() == 0, "every connection back in the pool", timeout=15)
    began = time.monotonic()
    answer = requests.get(site_in_process.url + path, timeout=60)
    assert answer.status_code == 200 and len(answer.json()) == BIG_POSITIONS
    assert time.monotonic() - began < 20  # not after a 30 s wait for a pooled connection


def test_half_a_request_is_cut_off_after_the_request_timeout(
        site_in_process: InProcessSite) -> None:
    with socket.create_connection(("127.0.0.1", site_in_process.port), timeout=30) as sock:
        began = time.monotonic()
        sock.sendall(b"GET /api/settings HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line
        for _ in range(10):  # a header every second keeps no connection alive
            time.sleep(1.0)
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break
        sock.settimeout(15)
        try:
            rest = sock.recv(4096)
        except ConnectionResetError:
            rest = b""
        assert rest == b"" or rest.startswith(b"HTTP/1.1 408")
        assert time.monotonic() - began < 3 + 3  # request_timeout, and some slack


def sbs_feed(lines: list[str], stop: threading.Event) -> int:
    """A BaseStation port (dump1090's 30003) that sends ``lines``, four a second."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        server.settimeout(30)
        client, _ = server.accept()
        with client, contextlib.suppress(OSError):  # the daemon stopped: the feed ends
            for line in lines:
                if stop.is_set():
                    break
                client.sendall(line.encode())
                time.sleep(0.25)
            stop.wait(120)
        server.close()

    threading.Thread(target=serve, daemon=True).start()
    return int(server.getsockname()[1])


def positions_of(db: Path, icao: str) -> int:
    return stored_count(db, icaos=[int(icao, 16)])


def test_slow_readers_of_the_pages_never_hold_up_the_daemons_writer(tmp_path: Path) -> None:
    fill(f"sqlite:///{tmp_path / 'fw.db'}")
    now = datetime.now(UTC)
    # Four a second, 5 m apart; live, a position is timed by its arrival and one per
    # aircraft and second is kept: about one a second is stored.
    lines = [sbs_line("4B1801", now + timedelta(seconds=i), 53.9, 27.4 + i / 20_000, "SWR1")
             for i in range(2000)]
    stop = threading.Event()
    port, web = sbs_feed(lines, stop), free_port()
    config = tmp_path / "fw.toml"
    config.write_text(
        '[database]\nurl = "sqlite:///fw.db"\nbatch_seconds = "1s"\n'
        '[tracker]\nstore_interval = "0s"\n[status]\ninterval = "1h"\n'
        f'[web]\nlisten = "127.0.0.1:{web}"\n'
        f'[[sources]]\ntype = "sbs"\nhost = "127.0.0.1"\nport = {port}\n', encoding="utf-8")
    readers: list[socket.socket] = []
    process = DaemonProcess(config)
    try:
        process.wait_for("flightwatch web pages on", timeout=60)
        poll(lambda: positions_of(tmp_path / "fw.db", "4B1801") > 0, "the first positions")
        for _ in range(20):  # each asks for 20 MB and reads none of it
            sock = socket.create_connection(("127.0.0.1", web), timeout=30)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(request_line(web, f"/api/history?icao={BIG}"))
            readers.append(sock)
        time.sleep(3.0)  # the answers are under way, stuck in full socket buffers
        before = positions_of(tmp_path / "fw.db", "4B1801")
        time.sleep(6.0)
        assert positions_of(tmp_path / "fw.db", "4B1801") >= before + 3  # ~1 a second
        sent = process.send(signal.SIGTERM)
        assert process.wait(30) == 0
        assert time.monotonic() - sent < 15  # systemd's TimeoutStopSec
    finally:
        stop.set()
        for sock in readers:
            sock.close()
        process.stop()


def serve_with_few_descriptors(config: Path, port: int, limit: int) -> subprocess.Popen[bytes]:
    """``flightwatch serve`` whose process may open only ``limit`` files (``ulimit -n``)."""
    def lower_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    return subprocess.Popen(
        [sys.executable, "-m", "flightwatch.cli", "serve", "--config", str(config),
         "--listen", f"127.0.0.1:{port}"],
        cwd=config.parent, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        preexec_fn=lower_limit)


def test_more_idle_connections_than_descriptors_neither_starve_nor_flood(
        big_config: Path) -> None:
    port = free_port()
    server = serve_with_few_descriptors(big_config, port, limit=256)
    log = bytearray()
    reader = threading.Thread(target=lambda: log.extend(server.stderr.read()),  # type: ignore[union-attr]
                              daemon=True)
    reader.start()
    idle: list[socket.socket] = []
    try:
        poll(lambda: _answers(port), "the server answering", timeout=60)
        for _ in range(400):  # more than the 256 descriptors the server may open
            try:
                idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            except OSError:
                break
        time.sleep(1.0)
        began = time.monotonic()
        answer = requests.get(f"http://127.0.0.1:{port}/api/settings", timeout=10)
        assert answer.status_code == 200
        assert time.monotonic() - began < 5
        time.sleep(5.0)  # what a flood of accept() errors would have written by now
    finally:
        for sock in idle:
            sock.close()
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        reader.join(10)
    assert len(log) < 20_000, bytes(log[-2000:]).decode(errors="replace")


def _answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/api/settings", timeout=2).ok
    except requests.RequestException:
        return False
