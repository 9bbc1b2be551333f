"""An optional HTTP endpoint on loopback: Prometheus metrics and the status snapshot as JSON.

``GET /metrics`` is the Prometheus text format (prometheus-client renders it,
and adds the process's memory, CPU and open files); ``GET /status.json`` is
:meth:`StatusSnapshot.to_dict`, which ``flightwatch status`` reads. Both serve
the latest snapshot the status job took, so a scrape never touches the
database or the decoding thread. Off unless ``status.metrics_port`` is set;
binds to ``status.metrics_host`` (127.0.0.1): there is no authentication.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from flightwatch import __version__
from flightwatch.daemon.status import StatusSnapshot

log = logging.getLogger(__name__)

SnapshotProvider = Callable[[], StatusSnapshot | None]

# (attribute of StatusSnapshot, metric name, help); counters get ``_total`` on the wire.
_COUNTERS = (
    ("frames", "flightwatch_frames", "Mode-S frames read from every source since start"),
    ("bad_frames", "flightwatch_bad_frames", "malformed or cut frames since start"),
    ("positions_stored", "flightwatch_positions_stored",
     "positions written to the database since start"),
)
_GAUGES = (
    ("aircraft_tracked", "flightwatch_aircraft_tracked", "aircraft tracked now"),
    ("positions_total", "flightwatch_positions_in_database", "positions kept in the database"),
    ("aircraft_24h", "flightwatch_aircraft_seen_24h", "aircraft seen in the last 24 hours"),
    ("alerts_24h", "flightwatch_alerts_24h", "alerts raised in the last 24 hours"),
    ("outbox_pending", "flightwatch_outbox_pending", "notifications not yet delivered"),
    ("queued", "flightwatch_queue_items", "frames and observations waiting to be decoded"),
    ("db_size_bytes", "flightwatch_database_size_bytes", "database size on disk"),
    ("uptime_s", "flightwatch_uptime_seconds", "seconds since the daemon started"),
)
_SOURCE_COUNTERS = (
    ("frames", "flightwatch_source_frames", "frames read from this source"),
    ("bad_frames", "flightwatch_source_bad_frames", "bad frames from this source"),
    ("reconnects", "flightwatch_source_reconnects", "reconnections of this source"),
    ("garbage_bytes", "flightwatch_source_garbage_bytes",
     "bytes from this source that were no frame (dropped)"),
)


class SnapshotCollector:
    """Turns the latest snapshot into metric families at each scrape."""

    def __init__(self, provider: SnapshotProvider) -> None:
        self.provider = provider

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily("flightwatch_info", "flightwatch version", labels=["version"])
        info.add_metric([__version__], 1.0)
        yield info
        snapshot = self.provider()
        if snapshot is None:
            return
        yield GaugeMetricFamily("flightwatch_snapshot_timestamp_seconds",
                                "when these values were taken (Unix time)",
                                value=snapshot.time.timestamp())
        if snapshot.last_position is not None:
            yield GaugeMetricFamily("flightwatch_last_position_timestamp_seconds",
                                    "time of the newest stored position (Unix time)",
                                    value=snapshot.last_position.timestamp())
        for attr, name, text in _COUNTERS:
            value = getattr(snapshot, attr)
            if value is not None:
                yield CounterMetricFamily(name, text, value=value)
        for attr, name, text in _GAUGES:
            value = getattr(snapshot, attr)
            if value is not None:
                yield GaugeMetricFamily(name, text, value=value)
        for attr, name, text in _SOURCE_COUNTERS:
            family = CounterMetricFamily(name, text, labels=["source"])
            for source in snapshot.sources:
                family.add_metric([source.name], getattr(source, attr))
            yield family
        rejected = CounterMetricFamily("flightwatch_source_rejected",
                                       "aggregator items refused, by reason",
                                       labels=["source", "reason"])
        for source in snapshot.sources:
            for reason, count in source.rejected.items():
                rejected.add_metric([source.name, reason], count)
        yield rejected


def build_registry(provider: SnapshotProvider) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(SnapshotCollector(provider))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._reply(200, CONTENT_TYPE_LATEST, generate_latest(self.server.registry))
        elif path == "/status.json":
            snapshot = self.server.provider()
            if snapshot is None:
                self._reply(503, "application/json", b'{"error": "no snapshot yet"}\n')
            else:
                body = json.dumps(snapshot.to_dict()).encode() + b"\n"
                self._reply(200, "application/json", body)
        else:
            self._reply(404, "text/plain; charset=utf-8", b"try /metrics or /status.json\n")

    def _reply(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("metrics: %s " + format, self.address_string(), *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], provider: SnapshotProvider) -> None:
        self.provider = provider
        self.registry = build_registry(provider)
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)


class MetricsServer:
    """The endpoint in a daemon thread; ``port`` 0 picks a free one (tests)."""

    def __init__(self, provider: SnapshotProvider, host: str = "127.0.0.1", port: int = 0):
        self._server = _Server((host, port), provider)  # binds now: OSError if taken
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics",
                                        daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start_metrics(host: str, port: int, provider: SnapshotProvider) -> MetricsServer | None:
    """The configured endpoint, or None when off (port 0) or the port cannot be had.

    An optional part fails alone: a taken port is logged and the daemon goes on.
    """
    if port == 0:
        return None
    if not _is_loopback(host):
        log.warning("status.metrics_host %s is not loopback: metrics and status are served "
                    "without authentication to anyone who can reach it", host)
    try:
        server = MetricsServer(provider, host, port)
    except OSError as exc:
        log.error("metrics endpoint off: cannot listen on %s:%d (%s); "
                  "change status.metrics_port", host, port, exc)
        return None
    log.info("metrics on %s/metrics", server.url)
    return server


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
