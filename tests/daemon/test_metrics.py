"""The metrics endpoint over real HTTP on 127.0.0.1, its text parsed by prometheus_client."""

from __future__ import annotations

import json
import logging
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families

from flightwatch.daemon.metrics import MetricsServer, start_metrics
from flightwatch.daemon.status import SourceStatus, StatusSnapshot

SNAPSHOT = StatusSnapshot(
    time=datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC), positions_total=5_432_100,
    last_position=datetime(2026, 3, 1, 12, 0, 1, tzinfo=UTC), aircraft_24h=120, alerts_24h=2,
    outbox_pending=1, db_size_bytes=432_345_678, daemon=True, pid=42,
    started=datetime(2026, 3, 1, 11, 0, 5, tzinfo=UTC), frames=9_000_000, frames_per_s=812.4,
    bad_frames=12, aircraft_tracked=37, positions_stored=1_204, queued=3,
    sources=(SourceStatus("beast:127.0.0.1:30005", 8_000_000, 700.0, 10, 3),
             SourceStatus('odd "name"\\', 1_000_000, 112.4, 2, 0),
             SourceStatus("adsb.lol", 5_000, 4.2, 7, 0,
                          {"altitude out of range": 4, "not a finite number": 3}, 0)),
)


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return reply.status, reply.headers["Content-Type"], reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


@pytest.fixture
def server() -> Iterator[MetricsServer]:
    current: list[StatusSnapshot | None] = [SNAPSHOT]
    running = MetricsServer(lambda: current[0], "127.0.0.1", 0)
    running.current = current  # type: ignore[attr-defined]
    yield running
    running.stop()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_in_prometheus_text_format(server: MetricsServer) -> None:
    status, content_type, body = get(f"{server.url}/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    values = samples(body.decode())
    expected = {
        "flightwatch_frames_total": 9_000_000, "flightwatch_bad_frames_total": 12,
        "flightwatch_positions_stored_total": 1_204, "flightwatch_aircraft_tracked": 37,
        "flightwatch_positions_in_database": 5_432_100, "flightwatch_aircraft_seen_24h": 120,
        "flightwatch_alerts_24h": 2, "flightwatch_outbox_pending": 1,
        "flightwatch_queue_items": 3, "flightwatch_database_size_bytes": 432_345_678,
        "flightwatch_uptime_seconds": 3600,
        "flightwatch_snapshot_timestamp_seconds": SNAPSHOT.time.timestamp(),
        "flightwatch_last_position_timestamp_seconds": 1772366401,  # 2026-03-01T12:00:01Z
    }
    for name, value in expected.items():
        assert values[(name, ())] == value, name
    by_source = {labels[0][1]: v for (name, labels), v in values.items()
                 if name == "flightwatch_source_frames_total"}
    assert by_source == {"beast:127.0.0.1:30005": 8_000_000, 'odd "name"\\': 1_000_000,
                         "adsb.lol": 5_000}
    assert values[("flightwatch_source_reconnects_total",
                   (("source", "beast:127.0.0.1:30005"),))] == 3
    rejected = {labels: v for (name, labels), v in values.items()
                if name == "flightwatch_source_rejected_total"}
    assert rejected == {(("reason", "altitude out of range"), ("source", "adsb.lol")): 4,
                        (("reason", "not a finite number"), ("source", "adsb.lol")): 3}
    assert any(name == "flightwatch_info" for name, _labels in values)
    if sys.platform == "linux":  # the process collector reads /proc
        assert values[("process_resident_memory_bytes", ())] > 1_000_000


def test_status_json_is_the_snapshot(server: MetricsServer) -> None:
    status, content_type, body = get(f"{server.url}/status.json")
    assert status == 200 and content_type == "application/json"
    assert StatusSnapshot.from_dict(json.loads(body)) == SNAPSHOT


def test_before_the_first_snapshot_and_unknown_paths(server: MetricsServer) -> None:
    server.current[0] = None  # type: ignore[attr-defined]
    status, _type, body = get(f"{server.url}/status.json")
    assert status == 503 and b"no snapshot" in body
    status, _type, body = get(f"{server.url}/metrics")
    names = {name for name, _labels in samples(body.decode())}
    assert "flightwatch_info" in names and "flightwatch_frames_total" not in names
    assert get(f"{server.url}/")[0] == 404


def test_stop_closes_the_port() -> None:
    running = MetricsServer(lambda: SNAPSHOT)
    port = running.port
    assert get(f"http://127.0.0.1:{port}/metrics")[0] == 200
    running.stop()
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("127.0.0.1", port))


def test_off_by_default_and_a_taken_port_does_not_stop_the_daemon(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert start_metrics("127.0.0.1", 0, lambda: SNAPSHOT) is None
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with caplog.at_level(logging.ERROR, logger="flightwatch.daemon.metrics"):
            assert start_metrics("127.0.0.1", port, lambda: SNAPSHOT) is None
    assert f"cannot listen on 127.0.0.1:{port}" in caplog.text


def test_configured_port_serves(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    running = start_metrics("127.0.0.1", port, lambda: SNAPSHOT)
    assert running is not None
    try:
        assert running.port == port
        assert get(f"http://127.0.0.1:{port}/metrics")[0] == 200
    finally:
        running.stop()
