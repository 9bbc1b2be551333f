"""tools/play_capture.py: the first hour's receiver without a dongle plays a capture into a
real dump1090 at the capture's own pace (docs/first-hour.md)."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime
from datetime import time as time_of_day
from pathlib import Path

import pytest
from integration.dump1090 import run_dump1090, wait_accepted

from flightwatch.collector import beast
from tools import play_capture

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "config" / "samples" / "demo_minsk.tsv"


def demo_lines(start: str, seconds: float) -> list[str]:
    """The demo capture's lines from ``start`` (its own ISO times) for ``seconds``."""
    first = datetime.fromisoformat(start).replace(tzinfo=UTC)
    chosen = []
    for line in DEMO.read_text(encoding="ascii").splitlines():
        at = datetime.fromisoformat(line.split("\t")[0]).replace(tzinfo=UTC)
        if 0 <= (at - first).total_seconds() < seconds:
            chosen.append(line)
    return chosen


def test_from_skips_to_a_time_of_the_capture_day() -> None:
    frames = list(play_capture.capture_frames(DEMO, time_of_day(10, 14, 45)))
    times = [datetime.fromtimestamp(f.time, UTC) for f in frames]
    # config/samples/README.md: the capture runs until 10:18:24; the touchdown is at 10:14:45
    assert times[0].time() >= time_of_day(10, 14, 45)
    assert times[-1].strftime("%H:%M:%S") == "10:18:24"
    everything = sum(1 for _ in play_capture.capture_frames(DEMO, None))
    assert everything == 9764 > len(frames) > 0  # the README's 9,764 frames


def test_a_receiver_with_no_radio_serves_the_frames_at_their_pace(
    dump1090_binary: str, tmp_path: Path
) -> None:
    lines = demo_lines("2020-08-19T10:14:40", seconds=3.0)
    capture = tmp_path / "three_seconds.tsv"
    capture.write_text("\n".join(lines) + "\n", encoding="ascii")
    span = (datetime.fromisoformat(lines[-1].split("\t")[0])
            - datetime.fromisoformat(lines[0].split("\t")[0])).total_seconds()
    sent = [line.split("\t")[1] for line in lines]

    with run_dump1090(dump1090_binary, raw_input=True) as ports:
        assert ports.raw_in is not None
        with socket.create_connection((ports.host, ports.beast_out), timeout=5) as out:
            wait_accepted(out)
            began = time.monotonic()
            code = play_capture.main([str(capture), "--port", str(ports.raw_in)])
            took = time.monotonic() - began
            assert code == 0
            heard = _read_beast(out, len(sent))

    # Every frame, as recorded. dump1090 holds a new address's first frame until its
    # second arrives, so the order of the first ones may differ.
    assert sorted(h.upper() for h in heard) == sorted(sent)
    assert took >= span * 0.95  # spread as recorded, not pushed at once


def _read_beast(sock: socket.socket, count: int) -> list[str]:
    """The hex of the first ``count`` Mode-S frames dump1090 sends on its Beast port."""
    buffer = b""
    frames: list[str] = []
    deadline = time.monotonic() + 10
    while len(frames) < count and time.monotonic() < deadline:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        raw, buffer = beast.parse(buffer + chunk)
        frames += [message[0] for message in raw]
    return frames


def test_nothing_listening_is_said_plainly(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SystemExit, match="start dump1090-mutability --net-only first"):
        play_capture.connect("127.0.0.1", port, patience=0.5)
