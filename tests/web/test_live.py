"""``flightwatch run`` with ``[web] listen``: the daemon, fed BaseStation lines over TCP as
from dump1090's port 30003, serves the Now page from its own tracker; a real Chromium
sees a new position within the page's refresh interval."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from browser import Page
from integration.daemon_helpers import DaemonProcess, count, daemon, free_port, poll
from site_helpers import OTHER_ICAO, XSS, XSS_ICAO, sbs_line, write_config

REFRESH_S = 1.0
PICKUP_SLACK_S = 2.0  # TCP, queue, decode; a shared 2-core machine


class SbsFeed:
    """A BaseStation TCP port the daemon connects to; ``send`` writes lines to it."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.client: socket.socket | None = None
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.client, _ = self.server.accept()

    def send(self, *lines: str) -> None:
        poll(lambda: self.client is not None, "the daemon to connect to the SBS port")
        assert self.client is not None
        self.client.sendall("".join(lines).encode("utf-8"))

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        self.server.close()


@pytest.fixture
def feed() -> Iterator[SbsFeed]:
    sbs = SbsFeed()
    yield sbs
    sbs.close()


def daemon_config(folder: Path, feed: SbsFeed, web_port: int, web: str = "") -> Path:
    return write_config(
        folder,
        f'[[sources]]\ntype = "sbs"\nhost = "127.0.0.1"\nport = {feed.port}\n\n'
        '[status]\ninterval = "1h"\n',
        web=f'listen = "127.0.0.1:{web_port}"\n{web}',
    )


def position(icao: str, lat: float, lon: float, callsign: str = "") -> str:
    return sbs_line(icao, datetime.now(UTC), lat, lon, callsign)


WATCHED_MARKERS = "document.querySelectorAll('path.fw-watched').length"


def test_the_now_page_follows_the_pipeline(
    tmp_path: Path, feed: SbsFeed, page: Page,
) -> None:
    web_port = free_port()
    url = f"http://127.0.0.1:{web_port}"
    with daemon(daemon_config(tmp_path, feed, web_port)) as run:
        run.wait_for(r"web pages on http://127\.0\.0\.1:\d+/")
        feed.send(position(OTHER_ICAO, 53.70, 27.90, "DLH12A"))
        page.open(url + "/")
        assert page.wait_for("document.querySelectorAll('path.fw-aircraft').length") == 1
        assert page.evaluate(WATCHED_MARKERS) == 0

        pushed = time.monotonic()
        feed.send(position(XSS_ICAO, 53.90, 27.50, XSS))
        page.wait_for(WATCHED_MARKERS, timeout=REFRESH_S + PICKUP_SLACK_S)
        picked_up = time.monotonic() - pushed
        label = page.wait_for("document.querySelector('.leaflet-tooltip .fw-label')"
                              "?.textContent")
        assert label.startswith("RA-01881") and XSS in label
        assert page.evaluate("document.querySelectorAll('img').length") == 0

        pushed = time.monotonic()  # climbing, ~200 m further east
        feed.send(sbs_line(XSS_ICAO, datetime.now(UTC), 53.90, 27.503, XSS, altitude_ft=3500))
        page.wait_for("document.querySelector('.leaflet-tooltip .fw-label')"
                      ".textContent.endsWith('3500 ft')", timeout=REFRESH_S + PICKUP_SLACK_S)
        moved = time.monotonic() - pushed
        assert page.evaluate("document.querySelectorAll('path.fw-aircraft').length") == 2
        assert page.errors == []

        run.send(signal.SIGTERM)
        assert run.wait() == 0
        with pytest.raises(requests.ConnectionError):
            requests.get(url + "/api/aircraft", timeout=2)
    print(f"new aircraft shown {picked_up:.2f} s, move shown {moved:.2f} s after the push "
          f"(refresh {REFRESH_S:.0f} s)")


def test_a_taken_port_leaves_the_daemon_running_without_pages(
    tmp_path: Path, feed: SbsFeed,
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken, \
            daemon(daemon_config(tmp_path, feed, taken.getsockname()[1])) as run:
        run.wait_for("web: could not serve on 127.0.0.1:")
        feed.send(position(OTHER_ICAO, 53.70, 27.90))
        run.wait_for("flightwatch running")
        run.send(signal.SIGTERM)
        assert run.wait() == 0
    assert count(tmp_path / "fw.db") == 1  # collecting went on


def test_run_refuses_to_serve_beyond_loopback_without_a_login(
    tmp_path: Path, feed: SbsFeed,
) -> None:
    config = daemon_config(tmp_path, feed, free_port())
    config.write_text(config.read_text(encoding="utf-8").replace(
        'listen = "127.0.0.1:', 'listen = "0.0.0.0:'), encoding="utf-8")
    process = DaemonProcess(config)
    assert process.wait() == 2
    assert "web.listen: 0.0.0.0:" in process.log and "FLIGHTWATCH_WEB_PASSWORD" in process.log
    assert feed.client is None  # refused before any source started
