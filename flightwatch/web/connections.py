"""The connections the web server keeps: never more than its file descriptors allow, and
only those whose requests arrive in time.

uvicorn, left alone, waits for ever for the rest of a half-sent request and accepts
connections until ``accept()`` fails for want of descriptors: about 1,100 idle
connections made every normal request time out, and asyncio logged every failed
``accept()`` with its traceback (59 MB in 20 s on an SD card). Here

- a request's headers and body must arrive within ``web.request_timeout`` of the
  connection opening (or of the previous answer on a kept-alive connection);
- at most ``web.max_connections`` stay open, fewer when the open-files limit is low: a
  new connection closes the longest-open idle one (no request under way) to make room,
  so a flood of idle connections cannot starve a real request;
- repeated log lines of the server's own loggers come once a minute
  (:class:`RepeatFilter`).
"""

from __future__ import annotations

import asyncio
import logging
import resource
import threading
import time
from collections.abc import Callable
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

#: Descriptors left for everything but web connections (the database, log files,
#: sources, libraries), plus what one accept() round may take before connections are
#: closed: the listen backlog below.
RESERVED_DESCRIPTORS = 64
LISTEN_BACKLOG = 64
_REQUEST_ARRIVED = (h11.DONE, h11.MUST_CLOSE, h11.CLOSED, h11.ERROR)


def connection_limit(configured: int) -> int:
    """``web.max_connections``, lowered to fit under the soft ``RLIMIT_NOFILE``."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return configured
    room = soft - RESERVED_DESCRIPTORS - LISTEN_BACKLOG
    return max(1, min(configured, room))


class LimitedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a request deadline and a connection limit
    (class attributes, set by :func:`protocol_class`)."""

    max_connections = 200
    request_timeout = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._opened = time.monotonic()
        self._deadline: asyncio.TimerHandle | None = None
        self._await_request()
        if len(self.connections) > self.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state in _REQUEST_ARRIVED:
            self._cancel_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state not in _REQUEST_ARRIVED:
            self._await_request()  # kept alive: the next request has the same time

    # --- the request deadline ----------------------------------------------------------
    def _await_request(self) -> None:
        self._cancel_deadline()
        self._deadline = self.loop.call_later(self.request_timeout, self._too_slow)

    def _cancel_deadline(self) -> None:
        deadline = getattr(self, "_deadline", None)
        if deadline is not None:
            deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing() and self.conn.their_state not in _REQUEST_ARRIVED:
            self.transport.abort()

    # --- the connection limit ----------------------------------------------------------
    def _idle(self) -> bool:
        return (self.cycle is None or self.cycle.response_complete) and (
            not self.transport.is_closing())

    def _make_room(self) -> None:
        """Close the longest-open idle connection; this one if every other is busy."""
        idle = [c for c in self.connections
                if c is not self and isinstance(c, LimitedH11Protocol) and c._idle()]
        victim = min(idle, key=lambda c: c._opened) if idle else self
        victim.transport.abort()  # the descriptor is freed now, not after a goodbye


def protocol_class(max_connections: int, request_timeout: float) -> type[LimitedH11Protocol]:
    """The protocol uvicorn builds for each connection, with these limits."""
    return type("WebProtocol", (LimitedH11Protocol,), {
        "max_connections": connection_limit(max_connections),
        "request_timeout": request_timeout,
    })


class RepeatFilter(logging.Filter):
    """Lets a log line through once per ``every_s`` per logger, message and exception
    type; the next one that passes says how many were held back."""

    _MAX_KEYS = 1000

    def __init__(self, every_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.every_s = every_s
        self._clock = clock
        self._next: dict[tuple[Any, ...], float] = {}
        self._held: dict[tuple[Any, ...], int] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        kind = record.exc_info[0] if record.exc_info else None
        key = (record.name, str(record.msg), kind)
        now = self._clock()
        with self._lock:
            if now < self._next.get(key, 0.0):
                self._held[key] = self._held.get(key, 0) + 1
                return False
            if len(self._next) >= self._MAX_KEYS:
                self._next.clear()
            self._next[key] = now + self.every_s
            held = self._held.pop(key, 0)
        if held:
            record.msg = f"{record.msg} ({held:,} more like it held back)"
        return True


#: The loggers a flood of clients can make write: asyncio (accept() failures), uvicorn's
#: (protocol errors, exceptions in the application), and cut-off answers.
FLOOD_PRONE_LOGGERS = ("asyncio", "uvicorn.error", "flightwatch.web.stream")


def quiet_repeats(every_s: float = 60.0) -> None:
    """Put one :class:`RepeatFilter` on each of :data:`FLOOD_PRONE_LOGGERS` (once)."""
    for name in FLOOD_PRONE_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RepeatFilter) for f in logger.filters):
            logger.addFilter(RepeatFilter(every_s))
