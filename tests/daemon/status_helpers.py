"""Shared parts of the status, metrics and digest tests: configs, the demo replay, SMTP."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from flightwatch.daemon.replay import ReplaySummary, replay_files
from flightwatch.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "config" / "samples" / "demo_minsk.tsv"


def write_config(folder: Path, db: Path, extra: str = "", name: str = "fw.toml") -> Path:
    """A config on ``db`` with the demo's receiver at Minsk (surface positions decode)."""
    path = folder / name
    path.write_text(
        f'[database]\nurl = "sqlite:///{db}"\n\n'
        '[receiver]\nname = "demo"\nlat = 53.888\nlon = 28.040\n\n' + extra,
        encoding="utf-8",
    )
    return path


def replay_demo(folder: Path) -> tuple[Settings, ReplaySummary]:
    """The demo capture (RA-96016 lands at UMMS) replayed into ``folder``/demo.db."""
    settings = load_settings(write_config(folder, folder / "demo.db"))
    return settings, replay_files(settings, [DEMO])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    envelopes: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 OK: queued"

    def messages(self, subject_contains: str = "") -> list[EmailMessage]:
        found = [
            email.message_from_bytes(e.content, policy=email.policy.default)
            for e in self.envelopes
        ]
        return [m for m in found if subject_contains in str(m["Subject"])]  # type: ignore[misc]


@contextmanager
def smtp_server(port: int | None = None) -> Iterator[tuple[int, Mailbox]]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port or free_port())
    controller.start()
    try:
        yield controller.port, mailbox
    finally:
        controller.stop()
