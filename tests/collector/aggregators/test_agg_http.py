"""HttpClient, SourceHealth and NewerOnly against a real local HTTP server."""

from __future__ import annotations

import logging
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from flightwatch.collector.aggregators.errors import (
    AggregatorError,
    BackingOff,
    BadResponse,
    RateLimited,
    SourceUnavailable,
)
from flightwatch.collector.aggregators.health import SourceHealth
from flightwatch.collector.aggregators.http import USER_AGENT, HttpClient, retry_after_seconds
from flightwatch.collector.aggregators.newer import NewerOnly
from flightwatch.decoder import Observation


def make_client(clock, **kwargs) -> HttpClient:
    kwargs.setdefault("timeout", (1.0, 2.0))
    return HttpClient(name="test", clock=clock, sleep=clock.sleep, wall_clock=clock.wall, **kwargs)


def test_500s_then_success_backs_off_exponentially(httpserver, clock):
    for _ in range(2):
        httpserver.expect_ordered_request("/v2/x").respond_with_data("oops", status=500)
    httpserver.expect_ordered_request("/v2/x").respond_with_json({"ac": []})
    client = make_client(clock, retries=3, backoff=0.5)

    assert client.get_json(httpserver.url_for("/v2/x")) == {"ac": []}
    assert clock.sleeps == [0.5, 1.0]
    assert len(httpserver.log) == 3


def test_persistent_500_raises_after_retries(httpserver, clock):
    httpserver.expect_request("/v2/x").respond_with_data("oops", status=503)
    client = make_client(clock, retries=2, backoff=1.0)

    with pytest.raises(SourceUnavailable, match=r"failed 3 times.*HTTP 503.*check the network"):
        client.get_json(httpserver.url_for("/v2/x"))
    assert len(httpserver.log) == 3
    assert clock.sleeps == [1.0, 2.0]


def test_connection_refused_is_source_unavailable(clock):
    with socket.socket() as s:  # a port nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = make_client(clock, retries=1, backoff=0.1)
    with pytest.raises(SourceUnavailable, match="ConnectionError"):
        client.get_json(f"http://127.0.0.1:{port}/aircraft.json")
    assert clock.sleeps == [0.1]


@pytest.fixture
def threaded_server():
    """A server that answers while a slow handler still sleeps (the shared one is serial)."""
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def _slow(request: Request) -> Response:
    time.sleep(2.0)  # well past the 0.5 s read timeout, which a loaded machine still meets
    return Response("{}", content_type="application/json")


def test_read_timeout_is_retried_then_succeeds(threaded_server, clock):
    threaded_server.expect_ordered_request("/slow").respond_with_handler(_slow)
    threaded_server.expect_ordered_request("/slow").respond_with_json({"ok": True})
    client = make_client(clock, retries=1, backoff=0.1, timeout=(1.0, 0.5))

    assert client.get_json(threaded_server.url_for("/slow")) == {"ok": True}
    assert clock.sleeps == [0.1]


def test_read_timeout_without_retries_raises(threaded_server, clock):
    threaded_server.expect_request("/slow").respond_with_handler(_slow)
    client = make_client(clock, retries=0, timeout=(1.0, 0.5))
    with pytest.raises(SourceUnavailable, match="Timeout"):
        client.get_json(threaded_server.url_for("/slow"))


def test_long_retry_after_blocks_calls_until_it_has_passed(httpserver, clock):
    httpserver.expect_ordered_request("/api").respond_with_data(
        "", status=429, headers={"Retry-After": "120"}
    )
    httpserver.expect_ordered_request("/api").respond_with_json({"ok": 1})
    client = make_client(clock)
    url = httpserver.url_for("/api")

    with pytest.raises(RateLimited, match="next request in 120 s") as info:
        client.get_json(url)
    assert info.value.retry_at == clock.now + 120

    clock.advance(100)
    with pytest.raises(RateLimited, match="next request in 20 s"):
        client.get_json(url)
    assert len(httpserver.log) == 1  # the blocked call never reached the server
    assert clock.sleeps == []

    clock.advance(15)  # 5 s left: short enough to sleep through
    assert client.get_json(url) == {"ok": 1}
    assert clock.sleeps == [5.0]


def test_short_opensky_retry_header_is_slept_through(httpserver, clock):
    httpserver.expect_ordered_request("/api").respond_with_data(
        "", status=429, headers={"X-Rate-Limit-Retry-After-Seconds": "7"}
    )
    httpserver.expect_ordered_request("/api").respond_with_json({"ok": 1})
    client = make_client(clock, max_inline_wait=10.0)

    assert client.get_json(httpserver.url_for("/api")) == {"ok": 1}
    assert clock.sleeps == [7.0]


def test_retry_after_forms():
    now = datetime(2024, 6, 3, 16, 0, tzinfo=UTC)
    date = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert retry_after_seconds({"Retry-After": date}, now.timestamp()) == 90
    assert (
        retry_after_seconds({"Retry-After": "30", "X-Rate-Limit-Retry-After-Seconds": "3600"}, 0)
        == 3600
    )
    assert retry_after_seconds({"Retry-After": "soon"}, 0) is None
    assert retry_after_seconds({}, 0) is None


def test_per_host_rate_limit_spaces_requests(httpserver, clock):
    httpserver.expect_request("/a").respond_with_json({})
    client = make_client(clock, min_interval=1.0)
    for _ in range(3):
        client.get_json(httpserver.url_for("/a"))
    assert clock.sleeps == [1.0, 1.0]
    # another host name is another host: no wait for its first request
    other = f"http://localhost:{httpserver.port}/a"  # the server listens on 127.0.0.1
    client.get_json(other)
    assert clock.sleeps == [1.0, 1.0]


def test_user_agent_names_flightwatch(httpserver, clock):
    httpserver.expect_request("/a", headers={"User-Agent": USER_AGENT}).respond_with_json({})
    make_client(clock).get_json(httpserver.url_for("/a"))
    assert USER_AGENT.startswith("flightwatch/")


def test_malformed_json_is_bad_response(httpserver, clock):
    httpserver.expect_request("/a").respond_with_data('{"ac": [', content_type="application/json")
    with pytest.raises(BadResponse, match="is not valid JSON"):
        make_client(clock).get_json(httpserver.url_for("/a"))


def test_404_is_not_retried(httpserver, clock):
    httpserver.expect_request("/a").respond_with_data("no such route", status=404)
    with pytest.raises(AggregatorError, match=r"HTTP 404.*check base_url"):
        make_client(clock, retries=3).get_json(httpserver.url_for("/a"))
    assert len(httpserver.log) == 1


def test_health_logs_state_changes_only_and_backs_off(clock, caplog):
    health = SourceHealth("src", base_delay=10, max_delay=40, clock=clock)
    calls = []

    def failing() -> list[int]:
        calls.append(1)
        raise SourceUnavailable("down")

    caplog.set_level(logging.INFO, logger="flightwatch.collector.aggregators.health")
    for wait in (10, 20, 40, 40):
        with pytest.raises(SourceUnavailable):
            health.run(failing)
        with pytest.raises(BackingOff, match="backing off"):
            health.run(failing)  # inside the window: not even attempted
        clock.advance(wait)
    assert len(calls) == 4
    assert health.run(lambda: [1]) == [1]
    assert health.run(lambda: [2]) == [2]

    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("src: failing: down")
    assert lines[1].startswith("src: recovered after 4 failed polls")


def test_health_waits_for_a_rate_limit_longer_than_its_backoff(clock):
    health = SourceHealth("src", base_delay=10, clock=clock)

    def limited() -> None:
        raise RateLimited("slow down", retry_at=clock.now + 3600)

    with pytest.raises(RateLimited):
        health.run(limited)
    clock.advance(3599)
    with pytest.raises(BackingOff):
        health.run(limited)
    clock.advance(1)
    assert health.run(lambda: 5) == 5


def _obs(icao: str, second: int) -> Observation:
    return Observation(icao=icao, time=datetime(2024, 6, 3, 16, 0, second, tzinfo=UTC), source="t")


def test_newer_only_drops_repeats_and_older():
    fresh = NewerOnly()
    assert len(fresh([_obs("4B1805", 1), _obs("510021", 1), _obs("4B1805", 1)])) == 2
    assert fresh([_obs("4B1805", 1), _obs("510021", 0)]) == []
    assert fresh([_obs("4B1805", 2)]) == [_obs("4B1805", 2)]


def test_newer_only_forgets_silent_aircraft():
    fresh = NewerOnly(forget_after=timedelta(seconds=30))
    fresh([_obs("4B1805", 1)])
    fresh([_obs("510021", 59)])  # 4B1805 is now 58 s behind: forgotten
    assert fresh([_obs("4B1805", 1)]) == [_obs("4B1805", 1)]
