"""A real mosquitto broker on a free loopback port, and a subscriber that records what it got.

The broker runs from a generated config in a temporary folder (no persistence, so a
restart forgets retained messages, as a broker without a database would). ``stop`` and
``start`` keep the port, so a client sees the same broker go away and come back.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
BINARY = "mosquitto"
_SBIN = Path("/usr/sbin/mosquitto")  # Debian installs it outside a normal user's PATH


def find_mosquitto() -> str | None:
    found = shutil.which(BINARY)
    if found is None and _SBIN.is_file():
        found = str(_SBIN)
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Broker:
    """One mosquitto process; ``users`` (name -> password) turns anonymous access off,
    ``tls`` (certificate file, key file) makes the listener TLS only."""

    def __init__(self, binary: str, folder: Path, users: dict[str, str] | None = None,
                 tls: tuple[Path, Path] | None = None) -> None:
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        # ``user``: as root mosquitto would drop to user mosquitto, who cannot read our files.
        lines = [f"listener {self.port} {HOST}", "persistence false", "log_dest stderr",
                 f"user {getpass.getuser()}"]
        if tls:
            lines += [f"certfile {tls[0]}", f"keyfile {tls[1]}"]
        if users:
            passwords = folder / "passwords"
            passwords.touch()
            for user, password in users.items():
                subprocess.run(["mosquitto_passwd", "-b", str(passwords), user, password],
                               check=True, capture_output=True)
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        else:
            lines.append("allow_anonymous true")
        self.config = folder / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def start(self, timeout: float = 10.0) -> None:
        log = self.folder / "mosquitto.log"
        with open(log, "ab") as stderr:
            self.process = subprocess.Popen([self.binary, "-c", str(self.config)],
                                            stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {log.read_text(errors='replace')}")
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), 0.2):
                return
            time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.port} within {timeout} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@dataclass
class Received:
    topic: str
    payload: bytes
    retain: bool

    def json(self) -> Any:
        return json.loads(self.payload)


@dataclass
class Subscriber:
    """A paho client subscribed to ``topics`` (again after every reconnect)."""

    port: int
    topics: tuple[str, ...]
    messages: list[Received] = field(default_factory=list)
    connected: threading.Event = field(default_factory=threading.Event)
    _client: Any = None

    def start(self) -> Subscriber:
        from paho.mqtt.client import CallbackAPIVersion, Client

        client = Client(CallbackAPIVersion.VERSION2)
        client.on_connect = lambda c, *_args: c.subscribe([(t, 1) for t in self.topics])
        client.on_subscribe = lambda *_args: self.connected.set()
        client.on_disconnect = lambda *_args: self.connected.clear()
        client.on_message = lambda _c, _u, msg: self.messages.append(
            Received(msg.topic, msg.payload, bool(msg.retain)))
        client.reconnect_delay_set(0.1, 0.5)
        client.connect(HOST, self.port)
        client.loop_start()
        self._client = client
        if not self.connected.wait(5):
            raise RuntimeError("subscriber did not connect and subscribe")
        return self

    def on(self, topic: str) -> list[Received]:
        return [m for m in self.messages if m.topic == topic]

    def wait_for(self, count: int, topic: str, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.on(topic)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.on(topic)

    def stop(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
