"""Secrets kept out of what flightwatch shows or keeps: log lines, error messages, the
outbox's ``last_error``, ``alerts --pending``, ``notify-test``, ``status``, ``check-config``.

Secrets travel in URLs: a webhook's or a database's ``user:password@``, a ``?token=``,
an ``api_key=``, a DSN's ``password=``, and whatever ``${NAME}`` put in from the
environment (a token in a URL's path, where no pattern can find it). :func:`redact` is
the one function every output applies: it masks the first kinds by their shape and the
last by their values, which :func:`expand_env` remembers for the whole process as it
puts them in. (Below every other package, so the database layer, the collectors, the
notifiers and the shell all use the same one.)
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping

MASK = "***"
_MIN_SECRET_CHARS = 4  # shorter values (a chat id "7") would mask ordinary text

_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: ``scheme://user:password@`` (the password masked) or ``scheme://token@`` (all of it).
_USERINFO = re.compile(
    r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^\s:/?#@\[\]]*)"
    r"(?::(?P<password>[^\s/?#@]*))?@")
#: ``token=...`` after ``?``, ``&``, ``;``, a blank or a quote: query parameters and DSN
#: keywords whose name ends in a word that says secret (``access_token``, ``api_key``).
_SECRET_PARAMETER = re.compile(
    r"(?P<lead>(?:^|[?&;\s\"'(,]))(?P<name>[A-Za-z0-9_.\-]*?"
    r"(?:token|secret|passw(?:or)?d|pwd|pass|key|auth|authorization|sig|signature|"
    r"credentials?))=(?P<value>[^&#\s\"',;)]+?)(?=:?(?:[&#\s\"',;)]|$))",
    re.IGNORECASE)

_known: set[str] = set()
_known_sorted: list[str] = []
_lock = threading.Lock()


class EnvReferenceError(ValueError):
    """``${NAME}`` names a variable that is not set; the message names it, not a value."""


def remember_secret(value: str | None) -> None:
    """Mask ``value`` wherever :func:`redact` is applied from now on (this process)."""
    global _known_sorted
    if not value or len(value) < _MIN_SECRET_CHARS:
        return
    with _lock:
        if value not in _known:
            _known.add(value)
            # Longest first, so a secret containing another is masked whole.
            _known_sorted = sorted(_known, key=len, reverse=True)


def _userinfo(match: re.Match[str]) -> str:
    if match.group("password") is not None:
        return f"{match.group('scheme')}{match.group('user')}:{MASK}@"
    return f"{match.group('scheme')}{MASK}@"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with URL passwords, token-like parameters, the values ``${NAME}`` put in
    (and ``secrets``) replaced by ``***``."""
    for secret in sorted((s for s in secrets if len(s) >= _MIN_SECRET_CHARS),
                         key=len, reverse=True):
        text = text.replace(secret, MASK)
    for secret in _known_sorted:
        if secret in text:
            text = text.replace(secret, MASK)
    if "@" in text:
        text = _USERINFO.sub(_userinfo, text)
    if "=" in text:
        text = _SECRET_PARAMETER.sub(
            lambda m: f"{m.group('lead')}{m.group('name')}={MASK}", text)
    return text


def looks_secret(text: str) -> bool:
    """Whether ``text`` holds a secret by its shape (a URL's password, or token, before
    ``@``; a parameter named like a token or a password) written out, not as ``${NAME}``."""
    for match in _USERINFO.finditer(text):
        password = match.group("password")
        if not _reference_or_empty(match.group("user") if password is None else password):
            return True
    return any(not _reference_or_empty(match.group("value"))
               for match in _SECRET_PARAMETER.finditer(text))


def _reference_or_empty(text: str) -> bool:
    return _ENV_REFERENCE.sub("", text) == ""


def expand_env(text: str, env: Mapping[str, str], where: str) -> tuple[str, list[str]]:
    """``text`` with each ``${NAME}`` replaced from ``env``, and the values put in; each is
    remembered as a secret (:func:`remember_secret`). ``where`` names the key in the
    error for a variable that is not set."""
    used: list[str] = []

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if not env.get(name):
            raise EnvReferenceError(f"{where}: env {name} is not set "
                                    f"(referenced as ${{{name}}})")
        used.append(env[name])
        return env[name]

    expanded = _ENV_REFERENCE.sub(value, text)
    for secret in used:
        remember_secret(secret)
    return expanded, used


def has_env_reference(text: str) -> bool:
    return _ENV_REFERENCE.search(text) is not None
