"""Every response's security headers, and the login when a password is set.

The pages render whatever came from the air with ``textContent``; the Content
Security Policy is the second wall: scripts only from this server (no inline
script, no eval), nothing framed, no form posting elsewhere, images only from here
and the tile server.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable, MutableMapping
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


class Guard:
    """ASGI middleware: security headers on every answer; basic auth or a bearer token
    when ``password`` is set (any other request gets 401 and nothing else)."""

    def __init__(self, app: App, *, csp: str, username: str, password: str | None) -> None:
        self.app = app
        self.username = username
        self.password = password
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

        if self.password is not None and not self._authorised(scope):
            await send_guarded({"type": "http.response.start", "status": 401, "headers": [
                (b"www-authenticate", b'Basic realm="flightwatch", charset="UTF-8"'),
                (b"content-type", b"text/plain; charset=utf-8"),
            ]})
            await send_guarded({"type": "http.response.body", "body": b"login required\n"})
            return
        await self.app(scope, receive, send_guarded)

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
