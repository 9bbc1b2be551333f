"""TcpSource against real sockets on 127.0.0.1: reconnects, backoff logging, stop."""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from integration.dump1090 import Dump1090Ports, push_beast
from source_helpers import collect

from flightwatch.collector import Format, TcpSource, beast
from flightwatch.decoder import Frame, Observation

HOST = "127.0.0.1"


class ScriptedServer:
    """Serves one payload per connection, closing after each; may go away in between.

    ``down_between`` closes the listener after each connection and reopens it on the
    same port that many seconds later, so the client meets refused connections.
    """

    def __init__(self, payloads: Sequence[bytes], down_between: float = 0.0, port: int = 0) -> None:
        self.payloads = list(payloads)
        self.down_between = down_between
        self._listener = self._listen(port)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @staticmethod
    def _listen(port: int) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, port))
        listener.listen()
        return listener

    def _serve(self) -> None:
        for index, payload in enumerate(self.payloads):
            conn, _ = self._listener.accept()
            going_down = self.down_between and index + 1 < len(self.payloads)
            if going_down:  # before the drop: a quick reconnect must find the port closed
                self._listener.close()
            with conn:
                conn.sendall(payload)
            if going_down:
                time.sleep(self.down_between)
                self._listener = self._listen(self.port)
        self._listener.close()

    def join(self) -> None:
        self._thread.join(5)


def fast(port: int, fmt: str = "beast", **options: object) -> TcpSource:
    settings: dict[str, object] = {
        "backoff_initial": 0.02,
        "backoff_max": 0.1,
        "poll_interval": 0.1,
        **options,
    }
    return TcpSource(HOST, port, fmt, **settings)  # type: ignore[arg-type]


def test_reconnect_mid_frame_yields_every_complete_frame_once(
    capture: Callable[[str], Path], caplog: pytest.LogCaptureFixture
) -> None:
    data = capture("one_aircraft_71be34.beast").read_bytes()
    everything, _ = beast.parse(data)
    cut_at = len(data) // 2 + 5
    before, in_flight = beast.parse(data[:cut_at])
    assert len(in_flight) > 5  # the connection drops inside a frame
    lost = len(before)  # index of the frame in flight

    server = ScriptedServer([data[:cut_at], data[cut_at:]], down_between=0.3)
    source = fast(server.port)
    with caplog.at_level(logging.INFO, logger="flightwatch.collector.tcp"):
        records = collect(source, len(everything) - 1)
    server.join()
    frames = [f for f in records if isinstance(f, Frame)]

    expected = [h for h, _t, _s in everything[:lost] + everything[lost + 1 :]]
    assert [f.hex for f in frames] == expected
    assert [f.mlat_ticks for f in frames] == [
        t for _h, t, _s in everything[:lost] + everything[lost + 1 :]
    ]
    stats = source.stats
    assert stats["reconnects"] == 1
    assert stats["bad_frames"] == 1  # the frame in flight
    assert stats["bytes"] == len(data)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "connection lost" in warnings[0]  # not one per refusal
    assert any(
        "connected" in r.getMessage() and "retries" in r.getMessage() for r in caplog.records
    )


def test_a_receiver_that_stays_down_logs_once_and_is_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    source = fast(port, "avr", backoff_max=0.05)
    records: list[Frame | Observation] = []
    consumer = threading.Thread(target=lambda: records.extend(source), daemon=True)
    with caplog.at_level(logging.INFO, logger="flightwatch.collector.tcp"):
        consumer.start()
        deadline = time.monotonic() + 10
        while source._backoff.failures < 5 and time.monotonic() < deadline:  # retried a while
            time.sleep(0.02)
        server = ScriptedServer([b"*5D71BE3409274B;\n"], port=port)
        deadline = time.monotonic() + 5
        while not records and time.monotonic() < deadline:
            time.sleep(0.02)
        source.stop()
        consumer.join(5)
        server.join()
    assert [r.hex for r in records if isinstance(r, Frame)] == ["5D71BE3409274B"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("cannot connect" in w for w in warnings) == 1
    connected = next(r.getMessage() for r in caplog.records if "connected to" in r.getMessage())
    retries = re.search(r"after (\d+) retries", connected)
    assert retries is not None and int(retries.group(1)) >= 5


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A receiver that accepts and then sends nothing."""
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen()
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    thread.join(5)
    for conn in accepted:
        conn.close()
    listener.close()


def test_stop_is_prompt_while_waiting_for_data(silent_server: int) -> None:
    source = TcpSource(HOST, silent_server, "beast")  # default 1 s poll interval
    threading.Timer(0.3, source.stop).start()
    began = time.monotonic()
    assert list(source) == []
    assert time.monotonic() - began < 1.5


def test_sbs_live_feed_is_stamped_with_receive_time() -> None:
    line = (
        b"MSG,3,1,1,4CA2D6,1,2008/11/28,14:53:50.594,2008/11/28,14:58:51.153,"
        b",37000,,,51.45735,-1.02826,,,0,0,0,0\r\n"
    )
    server = ScriptedServer([line * 2])
    source = fast(server.port, "sbs", clock=lambda: 1_700_000_000.0)
    observations = collect(source, 2)
    server.join()
    assert [(o.icao, o.altitude_ft) for o in observations if isinstance(o, Observation)] == [
        ("4CA2D6", 37000.0),
        ("4CA2D6", 37000.0),
    ]
    assert {o.time for o in observations} == {datetime.fromtimestamp(1_700_000_000, UTC)}


@pytest.mark.integration
@pytest.mark.parametrize("dump1090", [{"heartbeat_s": 0.1}], indirect=True)
def test_reads_beast_avr_and_sbs_from_a_real_dump1090(
    dump1090: Dump1090Ports, capture: Callable[[str], Path]
) -> None:
    data = capture("one_aircraft_71be34.beast").read_bytes()
    pushed, _ = beast.parse(data)
    # What dump1090 sends on for this capture (tests/integration/test_dump1090_fixture.py).
    wanted = {"beast": len(pushed), "avr": len(pushed), "sbs": 904}
    ports: dict[Format, int] = {
        "beast": dump1090.beast_out,
        "avr": dump1090.avr_out,
        "sbs": dump1090.sbs_out,
    }
    sources = {fmt: TcpSource(dump1090.host, ports[fmt], fmt, poll_interval=0.1) for fmt in ports}
    results: dict[str, list[Frame | Observation]] = {}
    threads = [
        threading.Thread(target=lambda f=fmt: results.update({f: collect(sources[f], wanted[f])}))
        for fmt in sources
    ]
    for thread in threads:
        thread.start()
    # Heartbeats (counted apart from frames) show that dump1090 has accepted each client.
    deadline = time.monotonic() + 5
    while any(s.stats["bytes"] == 0 for s in sources.values()) and time.monotonic() < deadline:
        time.sleep(0.02)
    push_beast(dump1090, data)
    for thread in threads:
        thread.join(15)

    frames = results["beast"]
    assert [(f.hex, f.mlat_ticks) for f in frames if isinstance(f, Frame)] == [
        (h, t) for h, t, _s in pushed
    ]
    assert [f.hex for f in results["avr"] if isinstance(f, Frame)] == [h for h, _t, _s in pushed]
    observations = [o for o in results["sbs"] if isinstance(o, Observation)]
    assert len(observations) == 904 and {o.icao for o in observations} == {"71BE34"}
    assert any(o.has_position for o in observations)
    for source in sources.values():
        assert source.stats["bad_frames"] == 0
