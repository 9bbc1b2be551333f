"""How a configuration key is declared: its parser, default and help, in one place.

Below every layer (as :mod:`~flightwatch.decoder.redaction` is) so that whichever
package owns a key declares it where its code lives: the settings table, a source type
in :mod:`flightwatch.collector.registry`. A parser takes the raw TOML value and the
configuration file's folder (for relative paths) and raises ValueError with a message
that names what is wrong; the caller prefixes the key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import time as dt_time
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d|w)?\s*$")
_UNIT_SECONDS = {None: 1.0, "ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0,
                 "d": 86400.0, "w": 604800.0}


def parse_duration(value: Any) -> float:
    """Seconds from ``15s``, ``5m``, ``6h``, ``7d``, ``2w`` or a plain number of seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 15s, 6h or 7d")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration such as 15s, 6h or 7d")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds < 0:
        raise ValueError("must not be negative")
    return seconds


# --- value parsers: each takes the raw TOML value (and the config folder) -------------

Parser = Callable[[Any, Path], Any]


def text(value: Any, _base: Path) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {value!r}")
    return value


def whole(value: Any, _base: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {value!r}")
    return value


def positive_whole(value: Any, base: Path) -> int:
    number = whole(value, base)
    if number < 1:
        raise ValueError(f"{number} is not a positive whole number")
    return number


def port(value: Any, base: Path) -> int:
    found = whole(value, base)
    if not 0 < found < 65536:
        raise ValueError(f"{found} is not a TCP port (1-65535)")
    return found


def port_or_off(value: Any, base: Path) -> int:
    return 0 if whole(value, base) == 0 else port(value, base)


def utc_clock(value: Any, base: Path) -> dt_time:
    """``"07:00"`` (or a TOML time, 07:00:00): a time of day, UTC."""
    if isinstance(value, dt_time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    given = text(value, base)
    if not re.fullmatch(r"\d{1,2}:\d{2}", given.strip()):
        raise ValueError(f"{given!r} is not a time of day such as 07:00 (UTC)")
    hour, minute = (int(part) for part in given.strip().split(":"))
    if hour > 23 or minute > 59:
        raise ValueError(f"{given!r} is not a time of day such as 07:00 (UTC)")
    return dt_time(hour, minute)


def timezone(value: Any, base: Path) -> str:
    """An IANA time zone name (``Europe/Minsk``), checked against the system's zone data."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = text(value, base)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone such as Europe/Minsk or UTC") from None
    return name


def number(value: Any, _base: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    return float(value)


def within(low: float, high: float, unit: str) -> Parser:
    """A number above ``low`` and at most ``high``: a threshold where 0, a negative or a
    huge value would silently turn a rule off or make it fire on everything."""

    def parse(value: Any, base: Path) -> float:
        found = number(value, base)
        if not low < found <= high:
            raise ValueError(f"{found:g} is out of range: more than {low:g} and at most "
                             f"{high:g} {unit}")
        return found

    return parse


def latitude(value: Any, base: Path) -> float:
    lat = number(value, base)
    if not -90 <= lat <= 90:
        raise ValueError(f"{lat} is not a latitude (-90 to 90)")
    return lat


def longitude(value: Any, base: Path) -> float:
    lon = number(value, base)
    if not -180 <= lon <= 180:
        raise ValueError(f"{lon} is not a longitude (-180 to 180)")
    return lon


def flag(value: Any, _base: Path) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def duration(value: Any, _base: Path) -> float:
    return parse_duration(value)


def positive_duration(value: Any, base: Path) -> float:
    seconds = duration(value, base)
    if seconds <= 0:
        raise ValueError("must be more than 0 seconds")
    return seconds


def path(value: Any, base: Path) -> Path:
    given = Path(text(value, base)).expanduser()
    return given if given.is_absolute() else base / given


def text_list(value: Any, base: Path) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of text, got {value!r}")
    return list(value)


def path_list(value: Any, base: Path) -> list[Path]:
    return [path(v, base) for v in text_list(value, base)]


def parse_listen(text: str) -> str:
    """``host:port`` (``[::1]:8080`` for IPv6), checked; the web server splits it."""
    text = text.strip()
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is not host:port such as 127.0.0.1:8080")
    return text


def listen(value: Any, base: Path) -> str:
    return parse_listen(text(value, base))


def one_of(*choices: str) -> Parser:
    def parse(value: Any, base: Path) -> str:
        chosen = text(value, base)
        if chosen not in choices:
            raise ValueError(f"{chosen!r} is not one of {', '.join(choices)}")
        return chosen

    return parse


@dataclass(frozen=True)
class Key:
    """One key: how its raw value is read, its value when absent, and the line of help
    the configuration reference shows."""

    parse: Parser
    default: Any
    help: str


def key(parse: Parser, default: Any, help_text: str) -> Key:
    return Key(parse, default, help_text)


def anything(value: Any, _base: Path) -> Any:
    """Any value, as TOML gave it: for keys whose owner checks them when it is built."""
    return value


# --- a frozen dataclass as a settings section ---------------------------------------------

def setting(default: Any, parse: Parser, help_text: str, *, key: str | None = None,
            written: Any = None) -> Any:
    """A dataclass field that is also a configuration key: its default is the field's,
    ``key`` its name in the file when it differs from the field's (``turnaround`` for
    ``turnaround_s``). The dataclass is then the section: :func:`section_keys` gives the
    settings table its keys, :func:`from_section` builds the object from what was read.
    ``written`` is the default as the file would write it, where the field holds it in
    another type (a list for a tuple or a frozenset)."""
    shown = default if written is None else written
    return field(default=default, metadata={"setting": Key(parse, shown, help_text),
                                            "key": key})


def section_keys(cls: type) -> dict[str, Key]:
    """The configuration keys a dataclass declares with :func:`setting`, in field order."""
    return {f.metadata["key"] or f.name: f.metadata["setting"]
            for f in fields(cls) if "setting" in f.metadata}


def from_section(cls: type[T], section: Any, **others: Any) -> T:
    """``cls`` from a parsed section (keys as :func:`section_keys` names them); fields that
    are not keys come from ``others`` or keep their defaults."""
    declared: Any = cls  # a dataclass: mypy has no type for "a dataclass class of T"
    values = {f.name: section[f.metadata["key"] or f.name]
              for f in fields(declared) if "setting" in f.metadata}
    return cls(**values, **others)
