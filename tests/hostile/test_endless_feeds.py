"""A receiver feed that never sends a delimiter, or lines of megabytes: the daemon's memory
stays flat, the garbage is counted, and its other sources keep being served.

``flightwatch run`` as a real process with three sources: a real dump1090 fed real
traffic (Beast), an AVR port that sends endless bytes without a newline, and an SBS
port that sends lines of 2 MB. Memory is the daemon's resident set read from /proc.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.request
from pathlib import Path

import pytest
from integration.daemon_helpers import (
    FIRST,
    PacedFeed,
    count,
    daemon,
    free_port,
    poll,
    traffic,
    wait_connected,
    write_config,
)
from integration.dump1090 import Dump1090Ports
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.integration

MB = 1 << 20
ENDLESS = b"A" * 65536  # AVR: no newline, ever
HUGE_LINE = b"MSG,3," + b"9" * (2 * MB) + b"\n"  # SBS: a 2 MB line, then another


class Flood:
    """Sends ``chunk`` over and over to whoever connects, counting the bytes sent."""

    def __init__(self, chunk: bytes) -> None:
        self.chunk = chunk
        self.sent = 0
        self.stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self._listener.accept()
        with conn:
            while not self.stop.is_set():
                try:
                    conn.sendall(self.chunk)
                except OSError:
                    return
                self.sent += len(self.chunk)

    def close(self) -> None:
        self.stop.set()
        self._listener.close()


def garbage_read(folder: Path, source: str) -> int:
    """The source's garbage bytes in the daemon's latest status snapshot (0 before one)."""
    try:
        snapshot = json.loads((folder / "flightwatch-status.json").read_text())
    except FileNotFoundError:
        return 0
    return int(next((s["garbage_bytes"] for s in snapshot["sources"] if s["name"] == source),
                    0))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_endless_bytes_and_huge_lines_keep_memory_flat_and_the_other_source_served(
        dump1090: Dump1090Ports, tmp_path: Path) -> None:
    avr, sbs = Flood(ENDLESS), Flood(HUGE_LINE)
    metrics_port = free_port()
    config = write_config(
        tmp_path, dump1090.beast_out, database='batch_seconds = "0.5s"\n',
        extra=(f'[[sources]]\ntype = "avr"\nname = "endless"\nhost = "127.0.0.1"\n'
               f'port = {avr.port}\n\n'
               f'[[sources]]\ntype = "sbs"\nname = "huge"\nhost = "127.0.0.1"\n'
               f'port = {sbs.port}\n\n'
               f'[status]\ninterval = "1s"\nmetrics_port = {metrics_port}\n'))
    config.write_text(config.read_text().replace('[status]\ninterval = "1h"\n', ""))
    db = tmp_path / "fw.db"
    try:
        with daemon(config) as run:
            run.wait_for("flightwatch running")
            poll(lambda: avr.sent > 64 * MB and sbs.sent > 64 * MB, "64 MB of each flood sent",
                 timeout=120)
            settled = rss_mb(run.process.pid)
            wait_connected(dump1090, dump1090.beast_out)
            PacedFeed(traffic(5, 6, FIRST)).push(dump1090)
            poll(lambda: count(db) > 0, "positions from the real receiver stored", timeout=30)
            poll(lambda: all(garbage_read(tmp_path, name) > 256 * MB
                             for name in ("endless", "huge")),
                 "256 MB of each flood read, as the daemon's status says", timeout=240)
            grown = rss_mb(run.process.pid) - settled
            snapshot = json.loads((tmp_path / "flightwatch-status.json").read_text())
            with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics") as reply:
                metrics = reply.read().decode()
            run.stop()
        sources = {s["name"]: s for s in snapshot["sources"]}
        # Each flood is dropped as it comes (a line once past collector.framing.
        # MAX_LINE_BYTES) and counted: one bad frame per over-long line, and its bytes.
        endless, huge = sources["endless"], sources["huge"]
        assert (endless["frames"], endless["bad_frames"]) == (0, 1)
        assert endless["garbage_bytes"] > 200 * MB
        assert huge["frames"] == 0 and huge["bad_frames"] > 100
        assert huge["garbage_bytes"] > 2 * MB * huge["bad_frames"] * 0.9
        garbage = {sample.labels["source"]: sample.value
                   for family in text_string_to_metric_families(metrics)
                   for sample in family.samples
                   if sample.name == "flightwatch_source_garbage_bytes_total"}
        assert garbage["endless"] > 200 * MB and garbage["huge"] > 200 * MB
        assert grown < 16, f"RSS grew {grown:.0f} MB while 384 MB more of floods were read"
        assert "Traceback" not in run.log
    finally:
        avr.close()
        sbs.close()
