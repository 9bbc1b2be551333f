"""Peak memory under each hostile input, against the same code fed a normal answer.

Each attack runs in a fresh process (``spawn``), which imports the collector, builds the
source as the daemon does (``make_aggregator`` with default limits, ``TcpSource``) and
takes one poll, or reads a TCP feed until ``--megabytes`` have arrived; printed are its
peak RSS (``VmHWM``), the difference to the baseline process (the same source and a
normal answer of 300 aircraft), and what the source made of the attack. The answers
come from a local HTTP server, the feeds from a local TCP server, both in this process.

    python benchmarks/hostile.py [--megabytes 256]
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import socket
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MB = 1 << 20


def aircraft(n: int, **fields: object) -> list[dict[str, object]]:
    return [{"hex": f"{i + 1:06x}", "lat": 53.0, "lon": 27.0, "alt_baro": 30000,
             "gs": 400, "track": 90.0, "flight": f"TST{i % 9999}", "seen_pos": 1.0, **fields}
            for i in range(n)]


def gzip_bomb(size: int) -> bytes:
    """``[`` + ``size`` blanks + ``]`` gzipped (~1 kB a MB), built without holding it."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
    blanks = b" " * MB
    parts = [packer.compress(b"[")]
    parts += [packer.compress(blanks) for _ in range(size // MB)]
    return b"".join([*parts, packer.compress(b"]"), packer.flush()])


def answers() -> dict[str, tuple[bytes, dict[str, str]]]:
    """Path -> (body, extra headers) for the HTTP server."""
    now = time.time()

    def doc(entries: list[dict[str, object]]) -> bytes:
        return json.dumps({"now": now, "aircraft": entries}).encode()

    hostile = [{"hex": f"{i + 1:06x}", "lat": float("nan"), "alt_baro": 1e300,
                "flight": "\x1b[31m" * 8} for i in range(40_000)]
    return {
        "/normal": (doc(aircraft(300)), {}),
        "/100k": (doc([{"hex": f"{i + 1:06x}", "seen": 1} for i in range(100_000)]), {}),
        "/nan": (doc(hostile), {}),
        "/nested": (b"[" * 200_000 + b"]" * 200_000, {}),
        "/objects": (b'{"aircraft": [' + b"{}," * 2_700_000 + b"{}]}", {}),
        "/bomb": (gzip_bomb(1 << 30), {"Content-Encoding": "gzip"}),
        "/huge": (b'{"aircraft": [' + b" " * (64 * MB) + b"]}", {}),
    }


def serve_http(bodies: dict[str, tuple[bytes, dict[str, str]]]) -> int:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, headers = bodies[self.path]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            for name, value in headers.items():
                self.send_header(name, value)
            if self.path == "/huge":  # no Content-Length: only the cap stops the read
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for i in range(0, len(body), MB):
                    piece = body[i:i + MB]
                    try:
                        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    except OSError:
                        return
                self.wfile.write(b"0\r\n\r\n")
                return
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, *_args: object) -> None:
            pass  # a client hanging up on a refused body is the point

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def serve_tcp(chunks: Callable[[], Iterator[bytes]]) -> int:
    """Sends ``chunks()`` to every client until it hangs up."""
    listener = socket.create_server(("127.0.0.1", 0))

    def client(conn: socket.socket) -> None:
        with conn:
            try:
                for chunk in chunks():
                    conn.sendall(chunk)
            except OSError:
                return

    def accept() -> None:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=client, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener.getsockname()[1]


def forever(chunk: bytes) -> Callable[[], Iterator[bytes]]:
    def chunks() -> Iterator[bytes]:
        while True:
            yield chunk
    return chunks


def poll_once(url: str) -> str:
    """Child: one poll of an aircraft_json source at ``url`` with the daemon's defaults."""
    from flightwatch.collector.aggregators import AggregatorError, make_aggregator

    source = make_aggregator({"type": "aircraft_json", "url": url, "name": "bench"})
    try:
        kept = len(source.poll())
    except AggregatorError as exc:
        return f"poll failed: {type(exc).__name__}: {str(exc)[:70]}"
    refused = {k.removeprefix("rejected:"): v for k, v in source.stats.items()
               if k.startswith("rejected:")}
    return f"{kept:,} kept; refused {refused or 'none'}"


def read_feed(port: int, fmt: str, megabytes: int) -> str:
    """Child: a TcpSource on ``port`` until ``megabytes`` have been read."""
    from flightwatch.collector import TcpSource

    source = TcpSource("127.0.0.1", port, fmt, name="bench")  # type: ignore[arg-type]
    frames = 0

    def read() -> None:
        nonlocal frames
        for _ in source:
            frames += 1

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    while source.stats.get("bytes", 0) < megabytes * MB:
        time.sleep(0.05)
    source.stop()
    thread.join(5)
    stats = source.stats
    return (f"{stats['bytes'] / MB:,.0f} MB read, {frames:,} frames, "
            f"{stats['bad_frames']:,} bad, {stats['garbage_bytes'] / MB:,.0f} MB garbage")


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM: unlike ru_maxrss, not inherited)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def child(target: Callable[..., str], args: tuple[object, ...], out: Connection) -> None:
    logging.disable(logging.WARNING)  # the sources' failing lines: the outcome says it
    outcome = target(*args)
    out.send((outcome, peak_rss_mb()))


def measure(target: Callable[..., str], *args: object) -> tuple[str, float]:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=child, args=(target, args, send))
    process.start()
    result: tuple[str, float] = receive.recv()
    process.join()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--megabytes", type=int, default=256, help="per TCP flood")
    args = parser.parse_args()
    http = f"http://127.0.0.1:{serve_http(answers())}"
    beast_frame = bytes.fromhex("1a33") + bytes(7) + bytes.fromhex("8d4840d6202cc371c32ce0576098")
    feeds = {
        "normal Beast feed": ("beast", forever(beast_frame * 4000)),
        "AVR: endless bytes, no newline": ("avr", forever(b"A" * 65536)),
        "SBS: 2 MB lines": ("sbs", forever(b"MSG,3," + b"9" * (2 * MB) + b"\n")),
        "Beast: escaped markers only": ("beast", forever(b"\x1a\x1a" * 32768)),
    }
    rows = [("normal answer, 300 aircraft", poll_once, (f"{http}/normal",))]
    rows += [(name, poll_once, (f"{http}{path}",)) for name, path in (
        ("100,000 aircraft in one answer", "/100k"),
        ("40,000 NaN/out-of-range/ANSI items", "/nan"),
        ("JSON nested 200,000 deep", "/nested"),
        ("2.7 million empty objects (7.7 MB)", "/objects"),
        ("gzip bomb (1 GB unpacked)", "/bomb"),
        ("64 MB chunked body (cap 8 MB)", "/huge"),
    )]
    rows += [(name, read_feed, (serve_tcp(chunks), fmt, args.megabytes))
             for name, (fmt, chunks) in feeds.items()]
    baseline = {"poll": 0.0, "feed": 0.0}
    print(f"{'attack':<38}{'peak RSS':>10}{'vs normal':>11}  outcome")
    for name, target, target_args in rows:
        outcome, rss = measure(target, *target_args)
        kind = "poll" if target is poll_once else "feed"
        baseline[kind] = baseline[kind] or rss
        print(f"{name:<38}{rss:>7.1f} MB{rss - baseline[kind]:>+8.1f} MB  {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
