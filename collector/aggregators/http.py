"""The HTTP client every aggregator source polls through: one session per source, with
timeouts, retries, a per-host rate limiter, the wait a 429 asks for, a body cap and an
overall deadline, and a cancel for the daemon's stop.

What it raises is the tree in :mod:`flightwatch.collector.aggregators.errors`; the JSON
it returns is decoded within :mod:`flightwatch.collector.aggregators.json_budget`.
"""

from __future__ import annotations

import contextlib
import email.utils
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3

from flightwatch.collector.aggregators.errors import (
    AggregatorError,
    AuthError,
    BodyTooLarge,
    Cancelled,
    DeadlineExceeded,
    RateLimited,
    SourceUnavailable,
)
from flightwatch.collector.aggregators.json_budget import decode_answer

Clock = Callable[[], float]
Sleep = Callable[[float], None]


def _version() -> str:
    try:
        return metadata.version("flightwatch")
    except metadata.PackageNotFoundError:
        return "dev"


USER_AGENT = f"flightwatch/{_version()} (ADS-B monitoring; +https://github.com/flightwatch)"


#: Default cap on one response body: a busy adsb.lol circle is ~300 kB, so 8 MB leaves
#: room for 20,000 aircraft yet keeps a hostile answer from filling a Pi's memory.
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
#: Default overall deadline of one request: the read timeout restarts with every byte,
#: so only this stops a server that trickles one byte a second.
DEFAULT_DEADLINE = 60.0
_CHUNK = 64 * 1024
_RETRY, _RETRY_NOW = "retry", "retry now"


def retry_after_seconds(headers: Mapping[str, str], now_epoch: float) -> float | None:
    """Seconds to wait from a 429's headers, or None when none is given.

    OpenSky sends ``X-Rate-Limit-Retry-After-Seconds``; everyone else the standard
    ``Retry-After`` (seconds or an HTTP date). The longer of the two wins.
    """
    waits: list[float] = []
    opensky = headers.get("X-Rate-Limit-Retry-After-Seconds")
    standard = headers.get("Retry-After")
    for value in (opensky, standard):
        if value is None:
            continue
        try:
            waits.append(max(0.0, float(value)))
            continue
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        if when.tzinfo is not None:
            waits.append(max(0.0, when.timestamp() - now_epoch))
    return max(waits) if waits else None


class RateLimiter:
    """At most one request per ``min_interval`` seconds to one host (adsb.fi: 1/s)."""

    def __init__(self, min_interval: float, clock: Clock = time.monotonic,
                 sleep: Sleep = time.sleep) -> None:
        self.min_interval = min_interval
        self._clock = clock
        self._sleep = sleep
        self._last: float | None = None

    def wait(self) -> None:
        if self._last is not None:
            remaining = self._last + self.min_interval - self._clock()
            if remaining > 0:
                self._sleep(remaining)
        self._last = self._clock()


@dataclass
class HttpClient:
    """One ``requests.Session`` for one source, with timeouts, retries and limits.

    * 5xx answers, connection errors and timeouts are retried ``retries`` times with
      exponential backoff (``backoff``, then doubling, at most ``max_backoff`` seconds).
    * A 429 sets ``not_before``: a short wait (≤ ``max_inline_wait``) is slept through
      and the request retried; a longer one raises :class:`RateLimited`, and every call
      before the deadline raises again without touching the network.
    * Requests to one host are spaced by the per-host :class:`RateLimiter`.
    * A body over ``max_body_bytes`` (after decompression) is refused after reading at
      most that much (:class:`BodyTooLarge`); a request whose retries and bodies take
      longer than ``deadline`` seconds in all is abandoned (:class:`DeadlineExceeded`).

    ``clock`` (monotonic seconds), ``sleep`` and ``wall_clock`` are injectable so tests
    check waits without waiting; the default sleep ends early when :meth:`cancel` is
    called, as does a read waiting for a slow or trickling server.
    """

    name: str
    timeout: tuple[float, float] = (5.0, 20.0)
    retries: int = 3
    backoff: float = 1.0
    max_backoff: float = 30.0
    max_inline_wait: float = 10.0
    min_interval: float = 0.0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    deadline: float = DEFAULT_DEADLINE
    headers: Mapping[str, str] = field(default_factory=dict)
    clock: Clock = time.monotonic
    sleep: Sleep | None = None
    wall_clock: Clock = time.time
    session: requests.Session = field(default_factory=requests.Session)
    not_before: float = 0.0
    last_headers: Mapping[str, str] = field(default_factory=dict)
    _limiters: dict[str, RateLimiter] = field(default_factory=dict)
    _cancelled: threading.Event = field(default_factory=threading.Event)
    _reading: requests.Response | None = None

    def __post_init__(self) -> None:
        if self.sleep is None:
            self.sleep = self._pause
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = "application/json"
        self.session.headers.update(self.headers)

    def cancel(self) -> None:
        """Abandon the request under way and any later one (called from another thread when
        the daemon stops). The socket being read is shut down, so a read waiting on a
        trickling server returns at once instead of at the deadline."""
        self._cancelled.set()
        response = self._reading
        sock = getattr(getattr(response, "raw", None), "connection", None)
        sock = getattr(sock, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.session.close()

    def _pause(self, seconds: float) -> None:
        self._cancelled.wait(seconds)

    def _check_cancelled(self, url: str) -> None:
        if self._cancelled.is_set():
            raise Cancelled(f"{self.name}: {_short(url)} abandoned: stopping")

    def get_json(self, url: str, *, params: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None) -> Any:
        return self.request_json("GET", url, params=params, headers=headers)

    def request_json(self, method: str, url: str, *, params: Mapping[str, Any] | None = None,
                     data: Mapping[str, str] | None = None,
                     headers: Mapping[str, str] | None = None) -> Any:
        """The decoded JSON body of a 2xx answer; an :class:`AggregatorError` otherwise."""
        body = self._send(method, url, params, data, headers)
        return decode_answer(body, f"{self.name}: {_short(url)}",
                             "check base_url points at the API, not a web page")

    def read_file(self, path: Path) -> bytes:
        """A local answer (aircraft.json on disk) under the same cap as a downloaded one."""
        with path.open("rb") as f:
            body = f.read(self.max_body_bytes + 1)
        if len(body) > self.max_body_bytes:
            raise BodyTooLarge(self._too_large_message(str(path), "is over "
                                                       f"{self.max_body_bytes} bytes"))
        return body

    def _send(self, method: str, url: str, params: Mapping[str, Any] | None,
              data: Mapping[str, str] | None,
              headers: Mapping[str, str] | None) -> bytes:
        """The body of a 2xx answer, read within the cap and the deadline."""
        host = urlsplit(url).netloc
        give_up_at = self.clock() + self.deadline
        attempt = 0
        while True:
            self._check_cancelled(url)
            self._respect_not_before()
            self._limiter(host).wait()
            self._check_cancelled(url)
            try:
                response = self.session.request(method, url, params=params, data=data,
                                                headers=headers, timeout=self.timeout,
                                                stream=True)
                self._reading = response
                try:
                    with response:
                        body = self._answer(response, url, give_up_at)
                finally:
                    self._reading = None
                self._check_cancelled(url)  # what a shut socket cut short is no answer
                if isinstance(body, bytes):
                    return body
                if body == _RETRY_NOW:
                    if attempt < self.retries:
                        attempt += 1
                        continue
                    raise RateLimited(self._rate_limited_message(), self.not_before)
            except (requests.ConnectionError, requests.Timeout,
                    urllib3.exceptions.HTTPError) as exc:
                self._check_cancelled(url)
                problem = f"{type(exc).__name__}: {exc}"
            else:
                problem = f"HTTP {response.status_code}"
            if self.clock() >= give_up_at:
                raise DeadlineExceeded(self._late_message(url))
            if attempt >= self.retries:
                raise SourceUnavailable(
                    f"{self.name}: {_short(url)} failed {attempt + 1} times ({problem}); "
                    "check the network and the provider's status; it will be retried"
                )
            self._wait(min(self.backoff * 2**attempt, self.max_backoff))
            attempt += 1

    def _answer(self, response: requests.Response, url: str, give_up_at: float) -> bytes | str:
        """The body of a 2xx answer; ``_RETRY_NOW`` after a short 429, ``_RETRY`` after a
        5xx; raises for the rest."""
        self.last_headers = response.headers
        status = response.status_code
        if status == 429:
            if self._note_429(response):
                return _RETRY_NOW
            raise RateLimited(self._rate_limited_message(), self.not_before)
        if status in (401, 403):
            raise AuthError(f"{self.name}: {_short(url)} answered HTTP {status}")
        if status >= 500:
            return _RETRY
        if status >= 400:
            head = self._read_body(response, url, give_up_at, limit=200)
            raise AggregatorError(
                f"{self.name}: {_short(url)} answered HTTP {status}: "
                f"{head.decode('utf-8', 'replace')!r}; check base_url and the source's "
                "settings"
            )
        return self._read_body(response, url, give_up_at, limit=None)

    def _read_body(self, response: requests.Response, url: str, give_up_at: float,
                   limit: int | None) -> bytes:
        """At most ``limit`` bytes (None: the whole body, or BodyTooLarge past the cap).

        ``read1`` returns whatever one socket read brings, so the deadline is checked
        between reads however slowly the bytes come.
        """
        cap = self.max_body_bytes
        declared = response.headers.get("Content-Length", "")
        if limit is None and declared.isdigit() and int(declared) > cap:
            raise BodyTooLarge(self._too_large_message(url, f"declares {int(declared)} bytes"))
        parts: list[bytes] = []
        size = 0
        while True:
            self._check_cancelled(url)
            if self.clock() >= give_up_at:
                raise DeadlineExceeded(self._late_message(url))
            chunk = response.raw.read1(_CHUNK, decode_content=True)
            if not chunk:
                return b"".join(parts)
            parts.append(chunk)
            size += len(chunk)
            if limit is not None and size >= limit:
                return b"".join(parts)[:limit]
            if size > cap:
                raise BodyTooLarge(self._too_large_message(url, f"sent over {cap} bytes"))

    def _too_large_message(self, url: str, what: str) -> str:
        return (f"{self.name}: {_short(url)} {what}, more than max_body_mb allows; "
                "refused unread (raise max_body_mb or shrink the query area)")

    def _late_message(self, url: str) -> str:
        return (f"{self.name}: {_short(url)} did not answer within the {self.deadline:.0f} s "
                "deadline; abandoned (the server is slow or trickling bytes)")

    def _wait(self, seconds: float) -> None:
        assert self.sleep is not None  # set in __post_init__
        self.sleep(seconds)

    def _limiter(self, host: str) -> RateLimiter:
        limiter = self._limiters.get(host)
        if limiter is None:
            limiter = RateLimiter(self.min_interval, self.clock, self._wait)
            self._limiters[host] = limiter
        return limiter

    def _respect_not_before(self) -> None:
        remaining = self.not_before - self.clock()
        if remaining <= 0:
            return
        if remaining > self.max_inline_wait:
            raise RateLimited(self._rate_limited_message(), self.not_before)
        self._wait(remaining)

    def _note_429(self, response: requests.Response) -> bool:
        """Record the wait a 429 asks for; True when it is short enough to sleep through."""
        wait = retry_after_seconds(response.headers, self.wall_clock())
        if wait is None:
            wait = 60.0  # no hint: a minute is polite and short enough to recover quickly
        self.not_before = max(self.not_before, self.clock() + wait)
        return wait <= self.max_inline_wait

    def _rate_limited_message(self) -> str:
        wait = max(0.0, self.not_before - self.clock())
        return (f"{self.name}: rate limited by the provider; next request in {wait:.0f} s "
                "(lengthen the source's interval or shrink its area if this recurs)")


def _short(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"
