"""Real parts for notifier tests: a SQLite file, an SMTP server (aiosmtpd), a TLS cert."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import Engine

from flightwatch.db import connect
from flightwatch.db.alert_record import Alert

UTC = dt.UTC
ALERT_TIME = dt.datetime(2026, 11, 25, 10, 15, 30, tzinfo=UTC)
# Recording time used by tests that drive the worker's clock.
T0 = dt.datetime(2026, 11, 25, 10, 16, 0, tzinfo=UTC)

IL96 = Alert(
    time=ALERT_TIME,
    icao="157710",
    kind="enter",
    registration="RA-96016",
    callsign="RSD016",
    geofence="belarus",
    lat=53.90123,
    lon=27.55,
    altitude_ft=12000.0,
    ground_speed_kt=432.0,
    track_deg=271.5,
    matched_by="icao",
    sources=("beast:127.0.0.1:30005",),
    details={"operator": "Rossiya", "aircraft_type": "Il-96-300PU",
             "category": "Governments", "group": "RU_STATE_TRANSPORT_RSD"},
)


AlertFactory = Callable[..., Alert]


@pytest.fixture
def make_alert() -> AlertFactory:
    """The sample alert (RA-96016 entering Belarus), with any fields changed."""

    def make(**changes: Any) -> Alert:
        return replace(IL96, **changes)

    return make


@pytest.fixture
def t0() -> dt.datetime:
    """When the tests record alerts and start the worker's clock."""
    return T0


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'flightwatch.db'}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = connect(db_url)
    yield engine
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def free_port() -> Callable[[], int]:
    """``free_port()``: a loopback port nobody listens on (yet)."""
    return _free_port


@dataclass
class Mailbox:
    """What the SMTP server accepted: one envelope per message."""

    envelopes: list[Any] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    on_data: Callable[[], None] | None = None  # runs just before the server answers 250

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        if self.on_data is not None:
            self.on_data()
        return "250 OK: queued"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(e.content, policy=email.policy.default)  # type: ignore[misc]
            for e in self.envelopes
        ]


@dataclass
class SmtpServer:
    port: int
    mailbox: Mailbox
    controller: Controller


SmtpFactory = Callable[..., SmtpServer]


@pytest.fixture
def smtp_server() -> Iterator[SmtpFactory]:
    """Start an aiosmtpd server on 127.0.0.1 (``port`` to choose it); stopped after the test."""
    started: list[Controller] = []

    def start(port: int | None = None, **kwargs: Any) -> SmtpServer:
        mailbox = Mailbox()
        controller = Controller(mailbox, hostname="127.0.0.1", port=port or _free_port(),
                                **kwargs)
        controller.start()
        started.append(controller)
        return SmtpServer(controller.port, mailbox, controller)

    yield start
    for controller in started:
        controller.stop()


@dataclass(frozen=True)
class Tls:
    server: ssl.SSLContext
    client: ssl.SSLContext
    cert_file: Path  # the certificate, also the CA a client trusts
    key_file: Path


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A self-signed certificate for 127.0.0.1; the client context trusts only it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (folder / "cert.pem").write_bytes(cert_pem)
    (folder / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return Tls(server, client, folder / "cert.pem", folder / "key.pem")


def _password_checker(user: str, password: str) -> Callable[..., AuthResult]:
    def check(server: Any, session: Any, envelope: Any, mechanism: str,
              auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == user.encode() and auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False)

    return check


@pytest.fixture
def password_checker() -> Callable[[str, str], Callable[..., AuthResult]]:
    """``password_checker(user, password)``: an aiosmtpd authenticator accepting only them."""
    return _password_checker
