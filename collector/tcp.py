"""TCP client for a dump1090/readsb output port, reconnecting for as long as it runs.

Frames (and SBS observations, whose own time is the receiver's local clock) are
stamped with the wall-clock time of the read that completed them.
Across a reconnect only the frame in flight is lost (counted in ``bad_frames``):
the parser's tail is dropped and the new stream resynchronises on its own.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping

from flightwatch.collector.framing import Format
from flightwatch.collector.source import Backoff, Framer
from flightwatch.decoder import Frame, Observation

log = logging.getLogger(__name__)

_RECV_BYTES = 64 * 1024


class TcpSource:
    """A receiver's TCP output port as a :class:`collector.Source`.

    ``poll_interval`` is the socket timeout: the longest ``stop()`` waits to be
    seen. Reconnects wait ``backoff_initial`` doubling up to ``backoff_max``;
    the delay resets once a connection delivers data.
    """

    def __init__(
        self,
        host: str,
        port: int,
        fmt: Format,
        *,
        name: str | None = None,
        connect_timeout: float = 5.0,
        poll_interval: float = 1.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.host = host
        self.port = port
        self.name = name or f"{fmt}:{host}:{port}"
        self._framer = Framer(fmt, self.name)
        self._connect_timeout = connect_timeout
        self._poll_interval = poll_interval
        self._backoff = Backoff(backoff_initial, backoff_max)
        self._clock = clock
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None

    @property
    def stats(self) -> Mapping[str, int]:
        return dict(self._framer.counter)

    def stop(self) -> None:
        """End iteration within ``poll_interval``; safe from any thread."""
        self._stopped.set()
        with self._lock:
            if self._sock is not None:
                with contextlib.suppress(OSError):
                    self._sock.shutdown(socket.SHUT_RDWR)

    def __iter__(self) -> Iterator[Frame | Observation]:
        connected_before = False
        while not self._stopped.is_set():
            sock = self._connect()
            if sock is None:
                continue
            if connected_before:
                self._framer.counter["reconnects"] += 1
            connected_before = True
            try:
                reason = yield from self._read(sock)
            finally:
                with self._lock:
                    self._sock = None
                sock.close()
                self._framer.drop_partial()
            if not self._stopped.is_set():
                # A connection that delivered nothing is part of a failure streak: quiet.
                level = logging.WARNING if self._backoff.failures == 0 else logging.DEBUG
                log.log(level, "%s: connection lost (%s); reconnecting", self.name, reason)
                self._stopped.wait(self._backoff.failed())

    def _connect(self) -> socket.socket | None:
        """A connected socket, or None after waiting out a failed attempt."""
        address = f"{self.host}:{self.port}"
        try:
            sock = socket.create_connection((self.host, self.port), self._connect_timeout)
        except OSError as exc:
            delay = self._backoff.failed()
            if self._backoff.failures == 1:
                log.warning(
                    "%s: cannot connect to %s (%s); retrying, at most every %.0f s",
                    self.name,
                    address,
                    exc,
                    self._backoff.maximum,
                )
            self._stopped.wait(delay)
            return None
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        # A receiver that vanished without closing (power cut, Wi-Fi gone) is noticed in
        # about 90 s instead of the kernel's default two hours. A quiet night with no
        # aircraft is no reason to reconnect, so silence alone is not used.
        for option, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3)):
            if hasattr(socket, option):
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)
        sock.settimeout(self._poll_interval)
        with self._lock:
            self._sock = sock
        if self._stopped.is_set():  # stop() ran before the socket was registered
            sock.shutdown(socket.SHUT_RDWR)
        failures = self._backoff.failures
        log.info(
            "%s: connected to %s%s",
            self.name,
            address,
            f" after {failures} retries" if failures else "",
        )
        return sock

    def _read(self, sock: socket.socket) -> Generator[Frame | Observation, None, str]:
        """Yield records until the connection ends; return why it ended."""
        framer = self._framer
        while not self._stopped.is_set():
            try:
                chunk = sock.recv(_RECV_BYTES)
            except TimeoutError:
                continue
            except OSError as exc:
                return str(exc) or type(exc).__name__
            if not chunk:
                return "closed by the receiver"
            records = framer.feed(chunk, received=self._clock())
            if records:
                self._backoff.succeeded()
            yield from records
        return "stopped"
