"""Guess a capture's format from its first bytes, so ``replay --format auto`` just works."""

from __future__ import annotations

import os
import re
from collections import Counter

from flightwatch.collector import beast
from flightwatch.collector.framing import Format
from flightwatch.collector.source import CollectorError

#: How much of a file the guess looks at.
SNIFF_BYTES = 64 * 1024
_SNIFF_LINES = 50

_LINE_PATTERNS: dict[Format, re.Pattern[bytes]] = {
    "avr": re.compile(rb"(\*|@[0-9A-Fa-f]{12})[0-9A-Fa-f]{14}([0-9A-Fa-f]{14})?;"),
    "sbs": re.compile(rb"(MSG,[1-8]|SEL|ID|AIR|STA|CLK),.*"),
    "csv": re.compile(rb'\d+(\.\d*)?,\s*"?[0-9A-Fa-f]{14}([0-9A-Fa-f]{14})?"?(,.*)?'),
    "tsv": re.compile(rb"\d{4}-\d\d-\d\dT\S+\s+[0-9A-Fa-f]{14}([0-9A-Fa-f]{14})?(\s.*)?"),
}


class CaptureFormatError(CollectorError, ValueError):
    """A capture is empty or in none of the formats flightwatch reads."""


def detect_format(source: str | os.PathLike[str] | bytes, *, name: str | None = None) -> Format:
    """The format of a capture file (a path) or of its first bytes.

    Raises :class:`CaptureFormatError` naming the file (or ``name``) when the
    file is empty or nothing matches.
    """
    if isinstance(source, bytes):
        head, label = source[:SNIFF_BYTES], name or "<bytes>"
    else:
        label = name or os.fspath(source)
        with open(source, "rb") as f:
            head = f.read(SNIFF_BYTES)
    if not head:
        raise CaptureFormatError(f"{label}: the file is empty; there is nothing to replay")
    found = sniff_format(head)
    if found is None:
        raise CaptureFormatError(
            f"{label}: not a capture format flightwatch knows (looked for beast, avr, sbs, "
            f"csv and tsv in the first {len(head)} bytes); pass --format to choose one"
        )
    return found


def sniff_format(head: bytes) -> Format | None:
    """The format the first bytes of a capture are in; None if none fits."""
    if _is_beast(head):
        return "beast"
    lines = [line.strip() for line in head.split(b"\n")[:_SNIFF_LINES]]
    if len(head) == SNIFF_BYTES and len(lines) > 1:
        lines.pop()  # probably cut mid-line
    lines = [line for line in lines if line]
    if not lines:
        return None
    votes = Counter(
        fmt for line in lines for fmt, pattern in _LINE_PATTERNS.items() if pattern.fullmatch(line)
    )
    if not votes:
        return None
    fmt, count = votes.most_common(1)[0]
    return fmt if 2 * count >= len(lines) else None


def _is_beast(head: bytes) -> bool:
    """Mostly well-formed Beast frames: at least one, and under 10% skipped bytes."""
    counter: Counter[str] = Counter()
    frames, _rest = beast.parse(head, counter)
    found = len(frames) + counter["mode_ac"] + counter["status"]
    return found > 0 and counter["garbage_bytes"] * 10 < len(head)
