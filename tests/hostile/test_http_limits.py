"""Aggregator answers are attacker-controlled: size cap and overall deadline, on real servers."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from flightwatch.collector.aggregators import make_aggregator
from flightwatch.collector.aggregators.errors import BadResponse, BodyTooLarge, DeadlineExceeded
from flightwatch.collector.aggregators.http import HttpClient


def client(**kwargs: object) -> HttpClient:
    kwargs.setdefault("timeout", (2.0, 5.0))
    return HttpClient(name="hostile", retries=0, sleep=lambda _s: None, **kwargs)  # type: ignore[arg-type]


def test_body_over_the_cap_with_content_length_is_refused(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data(b"[" + b"0," * 600_000 + b"0]")
    with pytest.raises(BodyTooLarge, match="declares 1200003 bytes"):
        client(max_body_bytes=1_000_000).get_json(httpserver.url_for("/big"))


def test_chunked_body_over_the_cap_is_refused_after_reading_about_the_cap(
        httpserver: HTTPServer) -> None:

    def endless() -> Iterator[bytes]:
        while True:  # a server that never stops: only the cap ends the read
            yield b" " * 65536

    httpserver.expect_request("/endless").respond_with_response(
        Response(endless(), content_type="application/json"))
    with pytest.raises(BodyTooLarge, match="sent over 1000000 bytes"):
        client(max_body_bytes=1_000_000).get_json(httpserver.url_for("/endless"))


def test_gzip_bomb_is_capped_on_the_decompressed_size(httpserver: HTTPServer) -> None:
    bomb = gzip.compress(b"[" + b" " * 20_000_000 + b"]")  # ~20 kB on the wire
    httpserver.expect_request("/bomb").respond_with_data(
        bomb, headers={"Content-Encoding": "gzip"}, content_type="application/json")
    with pytest.raises(BodyTooLarge):
        client(max_body_bytes=1_000_000).get_json(httpserver.url_for("/bomb"))


def test_body_under_the_cap_is_parsed(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/ok").respond_with_json({"ac": [], "now": 1})
    assert client(max_body_bytes=1000).get_json(httpserver.url_for("/ok")) == {"ac": [], "now": 1}


def test_deeply_nested_json_is_a_bad_response_not_a_crash(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/deep").respond_with_data(b"[" * 200_000 + b"]" * 200_000)
    with pytest.raises(BadResponse, match="nested too deeply"):
        client().get_json(httpserver.url_for("/deep"))


@pytest.fixture
def trickler() -> Iterator[tuple[str, list[int]]]:
    """A real socket server that answers 200 and then sends one byte every 50 ms, forever
    (each byte restarts a per-read timeout, so only an overall deadline stops it)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    stop = threading.Event()
    sent = [0]

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 100000\r\n\r\n[")
                try:
                    while not stop.is_set():
                        conn.sendall(b" ")
                        sent[0] += 1
                        time.sleep(0.05)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/aircraft.json", sent
    stop.set()
    thread.join(5)
    server.close()


def test_trickling_server_is_abandoned_at_the_deadline(trickler: tuple[str, list[int]]) -> None:
    url, sent = trickler
    with pytest.raises(DeadlineExceeded, match="within the 1 s deadline"):
        client(deadline=1.0, timeout=(2.0, 5.0)).get_json(url)
    # One byte per 50 ms for about the 1 s deadline: far from the 100,000 promised.
    assert 5 <= sent[0] < 200


def test_source_config_sets_cap_and_deadline(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/aircraft.json").respond_with_data(
        json.dumps({"now": 1, "aircraft": [{"hex": "abcdef"}] * 50_000}))
    source = make_aggregator({"type": "aircraft_json", "url": httpserver.url_for("/aircraft.json"),
                              "max_body_mb": 0.5, "deadline": 5})
    with pytest.raises(BodyTooLarge):
        source.poll()
    with pytest.raises(ValueError, match="max_body_mb"):
        make_aggregator({"type": "aircraft_json", "url": "http://x/", "max_body_mb": 0})
