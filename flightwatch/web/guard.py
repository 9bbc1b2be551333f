"""Every response's security headers, the Host check, and the login when a password is set.

The pages render whatever came from the air with ``textContent``; the Content
Security Policy is the second wall: scripts only from this server (no inline
script, no eval), nothing framed, no form posting elsewhere, images only from here
and the tile server.

The Host check stops DNS rebinding: a web page on ``evil.example`` whose name is made to
resolve to 127.0.0.1 could otherwise read the password-less loopback site through the
visitor's browser. Such a request names ``evil.example`` in its Host header, so only the
names the site is known by are answered: the listen address (``localhost`` too on
loopback; on a wildcard address, any IP address and this machine's name) and
``web.allowed_hosts``. An IP address in Host cannot be a rebinding.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

PASSWORD_ENV = "FLIGHTWATCH_WEB_PASSWORD"


def tiles_origin(tiles_url: str) -> str:
    """``https://*.tile.example.org`` for ``https://{s}.tile.example.org/{z}/{x}/{y}.png``."""
    if not tiles_url:
        return ""
    parts = urlsplit(tiles_url.replace("{s}", "SUBDOMAIN"))
    host = parts.netloc.replace("SUBDOMAIN", "*")
    return f"{parts.scheme}://{host}" if parts.scheme in ("http", "https") and host else ""


def content_security_policy(tiles_url: str) -> str:
    images = " ".join(filter(None, ("'self'", "data:", tiles_origin(tiles_url))))
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; connect-src 'self'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class AllowedHosts:
    """The names a Host header may carry (lower case, no port); ``any_address``: any IP
    address too (a wildcard listen address: which of the machine's is not known)."""

    names: frozenset[str]
    any_address: bool = False

    @classmethod
    def for_listen(cls, host: str, configured: Iterable[str] = ()) -> AllowedHosts:
        """From ``[web] listen``'s host and ``web.allowed_hosts``."""
        names = {_bare(name) for name in configured} | {_bare(host)}
        wildcard = host in ("", "0.0.0.0", "::")
        if wildcard or host == "localhost" or _is_loopback_address(host):
            names |= _LOOPBACK_NAMES
        if wildcard:
            machine = socket.gethostname().lower()
            names |= {machine, f"{machine}.local", socket.getfqdn().lower()}
        return cls(frozenset(names), any_address=wildcard)

    def allows(self, host_header: str) -> bool:
        name = _bare(host_header)
        if name in self.names:
            return True
        return self.any_address and _is_address(name)


def _bare(host: str) -> str:
    """``Example.org:8080`` -> ``example.org``; ``[::1]:8080`` -> ``::1``; a final dot off."""
    host = host.strip().lower()
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _is_loopback_address(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class Guard:
    """ASGI middleware: security headers on every answer; 400 for a Host the site is not
    known by (``hosts``); basic auth or a bearer token when ``password`` is set (any other
    request gets 401 and nothing else)."""

    def __init__(self, app: App, *, csp: str, username: str, password: str | None,
                 hosts: AllowedHosts | None = None) -> None:
        self.app = app
        self.username = username
        self.password = password
        self.hosts = hosts
        self.headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cache-control", b"no-store"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        if self.hosts is not None and not self._known_host(scope):
            await send_guarded({"type": "http.response.start", "status": 400, "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
            ]})
            await send_guarded({"type": "http.response.body",
                                "body": b"unknown Host: see web.allowed_hosts\n"})
            return
        if self.password is not None and not self._authorised(scope):
            await send_guarded({"type": "http.response.start", "status": 401, "headers": [
                (b"www-authenticate", b'Basic realm="flightwatch", charset="UTF-8"'),
                (b"content-type", b"text/plain; charset=utf-8"),
            ]})
            await send_guarded({"type": "http.response.body", "body": b"login required\n"})
            return
        await self.app(scope, receive, send_guarded)

    def _known_host(self, scope: Scope) -> bool:
        assert self.hosts is not None
        host = dict(scope.get("headers", [])).get(b"host")
        # No Host at all: HTTP/1.0 from a script, never a browser (rebinding needs one).
        return host is None or self.hosts.allows(host.decode("latin-1"))

    def _authorised(self, scope: Scope) -> bool:
        assert self.password is not None
        header = dict(scope.get("headers", [])).get(b"authorization", b"").decode("latin-1")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return hmac.compare_digest(value.strip().encode(), self.password.encode())
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user.encode(), self.username.encode()) & hmac.compare_digest(
            password.encode(), self.password.encode())
