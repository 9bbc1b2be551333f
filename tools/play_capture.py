"""Play a recorded capture into a receiver's raw input, at the capture's own pace.

Without a dongle, ``dump1090-mutability --net-only`` is a receiver with no radio: the
frames pushed into its raw (AVR) input port, 30001, come out of its Beast, AVR and SBS
ports (30005, 30002, 30003) as if it had heard them, stamped with the time they arrive.
This script pushes a capture's frames there as far apart as they were recorded, so
``flightwatch run`` sees aircraft fly at their own speed, as a Pi beside an antenna
would (faster, their positions would imply impossible speeds and be rejected).

Run from the repository root (the first hour without a dongle, docs/first-hour.md):

    .venv/bin/python tools/play_capture.py config/samples/demo_minsk.tsv --from 10:05

``--from`` skips to a UTC time of the capture's day: the demo's watched Il-96 is then
already inside Belarus and lands ten minutes later. Any format ``flightwatch replay``
reads works; the capture must carry a clock (not plain AVR).
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from datetime import time as time_of_day
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flightwatch.decoder import Frame  # noqa: E402

RAW_INPUT_PORT = 30001  # dump1090's default --net-ri-port
CONNECT_PATIENCE_S = 15.0  # dump1090 started in the same breath needs a moment to listen
REPORT_EVERY_S = 60.0


def capture_frames(path: Path, start: time_of_day | None) -> Iterator[Frame]:
    """The capture's frames in file order, from ``start`` (UTC time of day) on."""
    from flightwatch.collector.replay import open_capture

    for record in open_capture(path):
        if not isinstance(record, Frame):
            continue  # SBS captures hold decoded observations: nothing to push
        if start is None or datetime.fromtimestamp(record.time, UTC).time() >= start:
            yield record


def avr_line(frame: Frame) -> bytes:
    """The frame as dump1090's raw input takes it: ``*HEX;`` and a newline."""
    return f"*{frame.hex};\n".encode("ascii")


def play(
    frames: Iterable[Frame],
    send: Callable[[bytes], object],
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] = time.sleep,
    report: Callable[[int, Frame], object] = lambda _sent, _frame: None,
) -> int:
    """Send each frame when as much time has passed since the first as on the capture's
    clock; ``report`` hears of progress once a minute. Returns the frames sent."""
    sent = 0
    first_capture = first_wall = last_report = 0.0
    for frame in frames:
        if sent == 0:
            first_capture, first_wall = frame.time, clock()
            last_report = first_wall
        delay = (frame.time - first_capture) - (clock() - first_wall)
        if delay > 0:
            sleep(delay)
        send(avr_line(frame))
        sent += 1
        if clock() - last_report >= REPORT_EVERY_S:
            last_report = clock()
            report(sent, frame)
    return sent


def connect(host: str, port: int, patience: float = CONNECT_PATIENCE_S) -> socket.socket:
    """A connection to the receiver's raw input, retried while it starts listening."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return socket.create_connection((host, port), timeout=5.0)
        except OSError as exc:
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"play_capture: nothing listens on {host}:{port} ({exc}); start "
                    "dump1090-mutability --net-only first") from exc
            time.sleep(0.5)


def _time_of_day(text: str) -> time_of_day:
    try:
        return time_of_day.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time of day such as 10:05") from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("capture", type=Path, help="a capture flightwatch replay reads")
    parser.add_argument("--from", dest="start", type=_time_of_day, metavar="HH:MM",
                        help="skip to this UTC time of the capture's day")
    parser.add_argument("--host", default="127.0.0.1", help="the receiver (127.0.0.1)")
    parser.add_argument("--port", type=int, default=RAW_INPUT_PORT,
                        help=f"its raw (AVR) input port ({RAW_INPUT_PORT})")
    args = parser.parse_args(argv)

    def report(sent: int, frame: Frame) -> None:
        at = datetime.fromtimestamp(frame.time, UTC).strftime("%H:%M:%S")
        print(f"play_capture: {sent:,} frames sent, the capture at {at} UTC", flush=True)

    with connect(args.host, args.port) as sock:
        print(f"play_capture: playing {args.capture} into {args.host}:{args.port}", flush=True)
        try:
            sent = play(capture_frames(args.capture, args.start), sock.sendall, report=report)
        except KeyboardInterrupt:
            return 130
        except OSError as exc:
            print(f"play_capture: the receiver hung up: {exc}", file=sys.stderr)
            return 1
    print(f"play_capture: done, {sent:,} frames sent", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
