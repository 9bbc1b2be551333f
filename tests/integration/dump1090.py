"""A real dump1090-mutability on loopback, for tests that want a receiver without a dongle.

dump1090 runs with ``--net-only``: frames pushed into its Beast input port come out,
re-encoded, on its Beast, AVR (raw) and SBS (BaseStation) output ports, exactly as on a
Pi where the frames come from the radio. Every port is a free one on 127.0.0.1, so tests
run in parallel with each other and with a real receiver on the same machine.

What comes out (Debian's 1.15~20180310.4a16df3+dfsg-8.1, measured with
one_aircraft_71be34.beast): every Mode-S frame pushed in is forwarded on Beast and AVR,
duplicates included, unchanged when its CRC is good; the SBS port carries one ``MSG``
line per frame that has an SBS meaning (see ``SBS_TYPE_BY_FRAME`` in the tests) and none
for DF17 type codes 23-31. dump1090 drops replies (DF0/4/5/16/20/21) whose recovered
address it has not yet seen in a DF11/17, and frames whose CRC it cannot repair.

Linux only: :func:`wait_accepted` reads ``/proc/net/tcp``.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

BINARY = "dump1090-mutability"
HOST = "127.0.0.1"
_PROC_NET_TCP = Path("/proc/net/tcp")
_TCP_ESTABLISHED = "01"
_TCP_LISTEN = "0A"


class Dump1090Unavailable(RuntimeError):
    """The dump1090 binary is not installed (Debian package dump1090-mutability)."""


@dataclass(frozen=True)
class Dump1090Ports:
    """Where the running dump1090 listens; all on :data:`HOST`."""

    beast_in: int
    beast_out: int
    avr_out: int
    sbs_out: int
    host: str = HOST
    raw_in: int | None = None  # the AVR (``*HEX;``) input port, when asked for

    @property
    def listening(self) -> list[int]:
        """Every port this dump1090 listens on."""
        ports = [self.beast_in, self.beast_out, self.avr_out, self.sbs_out]
        return ports + ([self.raw_in] if self.raw_in is not None else [])


def command(binary: str, ports: Dump1090Ports, heartbeat_s: float = 0.0) -> list[str]:
    """The dump1090 command line: network only, loopback only, no files written.

    Heartbeats are off by default so that frame counts are exact; pass ``heartbeat_s``
    to see them (Beast: a Mode A/C frame of zeros, AVR: ``*0000;``, SBS: an empty line).
    This build has no HTTP server and writes JSON only with ``--write-json``, so it needs
    neither /run nor a config file.
    """
    return [
        binary,
        "--net-only",
        "--quiet",
        "--net-bind-address", ports.host,
        "--net-ri-port", str(ports.raw_in or 0),  # 0 disables the AVR input port
        "--net-bi-port", str(ports.beast_in),
        "--net-bo-port", str(ports.beast_out),
        "--net-ro-port", str(ports.avr_out),
        "--net-sbs-port", str(ports.sbs_out),
        "--net-heartbeat", f"{heartbeat_s:g}",
    ]  # fmt: skip


def _free_ports(count: int) -> list[int]:
    """Ports the kernel handed out just now; held together so that they differ."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in socks]


def _accepts(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1.0).close()
    except OSError:
        return False
    return True


@contextlib.contextmanager
def run_dump1090(
    binary: str | None = None, heartbeat_s: float = 0.0, timeout: float = 10.0,
    raw_input: bool = False,
) -> Iterator[Dump1090Ports]:
    """Start dump1090 on free loopback ports, wait until every port listens, stop it after.
    ``raw_input`` also opens its AVR input port (``ports.raw_in``), as dump1090's default
    30001 is open on a receiver.

    Raises :class:`Dump1090Unavailable` when the binary is missing. A port taken by
    someone else between choosing and binding makes dump1090 exit; it is then started
    again on other ports.
    """
    path = shutil.which(binary or BINARY)
    if path is None:
        raise Dump1090Unavailable(
            f"{binary or BINARY} not found on PATH (apt-get install dump1090-mutability)"
        )
    with tempfile.TemporaryFile() as log:
        for _attempt in range(3):
            beast_in, beast_out, avr_out, sbs_out, raw_in = _free_ports(5)
            ports = Dump1090Ports(beast_in, beast_out, avr_out, sbs_out,
                                  raw_in=raw_in if raw_input else None)
            args = command(path, ports, heartbeat_s)
            process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                if _wait_listening(process, ports, timeout):
                    yield ports
                    return
            finally:
                _stop(process)
        log.seek(0)
        output = log.read().decode(errors="replace")
        raise RuntimeError(f"dump1090 did not start: {' '.join(args)}\n{output}")


def _wait_listening(process: subprocess.Popen[bytes], ports: Dump1090Ports, timeout: float) -> bool:
    """True once all four ports accept connections; False if dump1090 exited first."""
    deadline = time.monotonic() + timeout
    pending = ports.listening
    while pending:
        if process.poll() is not None:
            return False
        if time.monotonic() > deadline:
            raise TimeoutError(f"dump1090 ports {pending} not listening after {timeout} s")
        pending = [port for port in pending if not _accepts(ports.host, port)]
        if pending:
            time.sleep(0.02)
    return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (dump1090 exits 0 on it at once), SIGKILL if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def listening_sockets() -> dict[int, str]:
    """Port -> bound IPv4 address of every listening TCP socket (from /proc/net/tcp)."""
    result: dict[int, str] = {}
    for local, _remote, state, _queue in _proc_net_tcp():
        if state == _TCP_LISTEN:
            address, port = local
            result[port] = address
    return result


def _proc_net_tcp() -> Iterator[tuple[tuple[str, int], tuple[str, int], str, int]]:
    """(local, remote, state, rx_queue) per IPv4 TCP socket; rx_queue of a listener is
    the number of connections waiting in its accept queue."""
    for line in _PROC_NET_TCP.read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, queues = fields[1], fields[2], fields[3], fields[4]
        yield _address(local), _address(remote), state, int(queues.split(":")[1], 16)


def _address(hex_address: str) -> tuple[str, int]:
    host, port = hex_address.split(":")
    return socket.inet_ntoa(bytes.fromhex(host)[::-1]), int(port, 16)


def wait_accepted(sock: socket.socket, timeout: float = 5.0) -> None:
    """Return once the server has accept()ed ``sock``'s connection.

    dump1090 sends output only to clients it has accepted, which its main loop does up
    to ~100 ms after connect() returns; frames pushed before that are not sent to the
    client. The connection is accepted when its server-side socket exists and the
    listener's accept queue is empty.
    """
    client: tuple[str, int] = sock.getsockname()
    server: tuple[str, int] = sock.getpeername()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        table = list(_proc_net_tcp())
        connected = any(
            local == server and remote == client and state == _TCP_ESTABLISHED
            for local, remote, state, _ in table
        )
        queued = sum(
            queue for local, _, state, queue in table if local == server and state == _TCP_LISTEN
        )
        if connected and queued == 0:
            return
        time.sleep(0.005)
    raise TimeoutError(f"server {server} did not accept connection from {client}")


def connect(ports: Dump1090Ports, port: int, timeout: float = 5.0) -> socket.socket:
    """A client of one output port, accepted by dump1090, so it misses no frame."""
    sock = socket.create_connection((ports.host, port), timeout=timeout)
    wait_accepted(sock, timeout)
    return sock


def push_beast(ports: Dump1090Ports, data: bytes) -> None:
    """Send Beast bytes (e.g. a ``.beast`` capture) to dump1090's Beast input and close."""
    with socket.create_connection((ports.host, ports.beast_in), timeout=5.0) as sock:
        sock.sendall(data)


def read_until(
    sock: socket.socket, done: Callable[[bytes], bool], timeout: float = 5.0, quiet: float = 0.2
) -> bytes:
    """Everything ``sock`` receives until ``done(data)`` holds and then ``quiet`` seconds
    pass without a byte (so extra, unexpected output is caught too), or ``timeout``."""
    data = bytearray()
    deadline = time.monotonic() + timeout
    quiet_until: float | None = None
    while True:
        now = time.monotonic()
        if quiet_until is None and done(bytes(data)):
            quiet_until = now + quiet
        end = deadline if quiet_until is None else min(deadline, quiet_until)
        if now >= end:
            return bytes(data)
        sock.settimeout(end - now)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        if not chunk:
            return bytes(data)
        data += chunk
        if quiet_until is not None:
            quiet_until = time.monotonic() + quiet
