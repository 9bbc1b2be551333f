"""Beast frames in UDP datagrams: a feeder that sends its Beast output to this station
over UDP instead of serving it on a TCP port.

The listener binds ``host:port`` and reads datagrams, each holding whole Beast frames
(a frame never spans two datagrams: a cut one is counted bad, and the next datagram
starts clean). UDP has no connection to lose, so there is nothing to reconnect: a port
that cannot be bound (taken, not ours) is retried with backoff until it can, one log
line per streak. Frames are stamped with the wall clock of the datagram, as a TCP
feed's are.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from flightwatch.collector.registry import Fences, SourceType
from flightwatch.decoder import keys as parse

if TYPE_CHECKING:
    from flightwatch.collector.source import Source
    from flightwatch.decoder import Frame, Observation

log = logging.getLogger(__name__)

#: The largest UDP payload: a datagram is read whole or not at all.
_DATAGRAM_BYTES = 65535
DEFAULT_PORT = 30005


class BeastUdpSource:
    """Datagrams of Beast frames on ``host:port`` as a :class:`collector.Source`.

    ``poll_interval`` is the socket timeout: the longest ``stop()`` waits to be seen.
    ``port`` 0 binds a free port (tests), readable as :attr:`port` once bound.
    """

    def __init__(self, host: str, port: int, *, name: str | None = None,
                 poll_interval: float = 1.0, backoff_initial: float = 1.0,
                 backoff_max: float = 60.0, clock: Callable[[], float] = time.time) -> None:
        from flightwatch.collector.source import Backoff, Framer

        self.host = host
        self.port = port
        self.name = name or f"beast_udp:{host}:{port}"
        self._framer = Framer("beast", self.name)
        self._poll_interval = poll_interval
        self._backoff = Backoff(backoff_initial, backoff_max)
        self._clock = clock
        self._stopped = threading.Event()
        self._bound = threading.Event()
        self._sock: socket.socket | None = None

    @property
    def stats(self) -> Mapping[str, int]:
        return dict(self._framer.counter)

    def wait_bound(self, timeout: float) -> bool:
        """True once the port is bound (datagrams sent before that are not received)."""
        return self._bound.wait(timeout)

    def stop(self) -> None:
        """End iteration within ``poll_interval``; safe from any thread."""
        self._stopped.set()

    def __iter__(self) -> Iterator[Frame | Observation]:
        while not self._stopped.is_set():
            sock = self._bind()
            if sock is None:
                continue
            try:
                yield from self._read(sock)
            finally:
                sock.close()
                self._bound.clear()

    def _bind(self) -> socket.socket | None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            delay = self._backoff.failed()
            if self._backoff.failures == 1:
                log.warning("%s: cannot listen on %s:%s (%s); retrying, at most every %.0f s",
                            self.name, self.host, self.port, exc, self._backoff.maximum)
            self._stopped.wait(delay)
            return None
        sock.settimeout(self._poll_interval)
        self.port = sock.getsockname()[1]
        failures = self._backoff.succeeded()
        log.info("%s: listening on %s:%s%s", self.name, self.host, self.port,
                 f" after {failures} retries" if failures else "")
        self._bound.set()
        return sock

    def _read(self, sock: socket.socket) -> Iterator[Frame | Observation]:
        framer = self._framer
        while not self._stopped.is_set():
            try:
                datagram = sock.recv(_DATAGRAM_BYTES)
            except TimeoutError:
                continue
            except OSError as exc:
                log.warning("%s: reading failed (%s); listening again", self.name, exc)
                return
            records = framer.feed(datagram, received=self._clock())
            framer.drop_partial()  # the rest of a cut frame never comes
            yield from records


def _build(table: Mapping[str, Any], _fences: Fences) -> Source:
    return BeastUdpSource(table["host"], table["port"], name=table["name"])


SOURCE_TYPES = (
    SourceType(
        "beast_udp", "receiver", "Beast binary frames sent to this station in UDP datagrams",
        {"host": parse.key(parse.text, "127.0.0.1",
                           "beast_udp: address to listen on (0.0.0.0: every interface)"),
         "port": parse.key(parse.port, None, "beast_udp: UDP port to listen on (30005)")},
        _build, DEFAULT_PORT,
        default_name=lambda table: f"beast_udp:{table['host']}:{table['port']}",
    ),
)
