"""The two records that flow through flightwatch: raw frames and decoded observations.

Every source yields one or the other; everything downstream speaks only these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from string import hexdigits

_HEX_DIGITS = frozenset(hexdigits)


@dataclass(slots=True)
class Frame:
    """One raw Mode-S message as received (not frozen: a frozen dataclass costs ~2 µs more
    to build, and every frame is built once and never changed).

    ``time`` is seconds since the Unix epoch (UTC) on the source's own clock:
    the receive time for live sources, the capture's clock on replay.
    """

    hex: str  # upper-case, 14 or 28 hex digits
    time: float
    source: str
    signal: int | None = None  # Beast signal byte, where the format has one
    mlat_ticks: int | None = None  # 48-bit 12 MHz counter, where the format has one


@dataclass(slots=True)
class Observation:
    """What one message or one state vector says about one aircraft at one moment.

    Fields a message does not carry are ``None``. ``icao`` is always six
    upper-case hex digits. ``verified`` is False for an address recovered from
    the parity of a DF4/5/20/21 reply that has not been seen in clear yet: such
    an address may be the product of a corrupted frame. ``extra`` holds what a
    source knows beyond these fields (an aggregator's geometric altitude).
    Not frozen, like ``Frame``: one is built per message on the hot path.
    """

    icao: str
    time: datetime
    source: str
    lat: float | None = None
    lon: float | None = None
    altitude_ft: float | None = None
    ground_speed_kt: float | None = None
    track_deg: float | None = None
    vertical_rate_fpm: float | None = None
    callsign: str | None = None
    squawk: str | None = None
    on_ground: bool | None = None
    registration: str | None = None
    aircraft_type: str | None = None
    downlink_format: int | None = None
    verified: bool = True
    extra: dict[str, object] | None = field(default=None, compare=False)

    @property
    def has_position(self) -> bool:
        return self.lat is not None and self.lon is not None


def utc_from_epoch(seconds: float) -> datetime:
    """A timezone-aware UTC datetime from Unix seconds."""
    return datetime.fromtimestamp(seconds, UTC)


def normalise_icao(value: str) -> str | None:
    """Six upper-case hex digits, or None when ``value`` is not a 24-bit ICAO address.

    Accepts the forms seen in the wild: lower case, surrounding blanks, and
    readsb's ``~`` prefix for non-ICAO (TIS-B, anonymous) addresses, which
    is rejected because it does not name an airframe.
    """
    text = value.strip()
    if len(text) != 6 or not all(c in _HEX_DIGITS for c in text):
        return None
    return text.upper()


_OPENSKY_CATEGORIES = {2: "A1", 3: "A2", 4: "A3", 5: "A4", 6: "A5", 7: "A6", 8: "A7"}


def emitter_category(value: object) -> str | None:
    """The ADS-B emitter category as readsb writes it (``A5``: heavy), from readsb's text,
    OpenSky's number (2 light .. 8 rotorcraft) or pyModeS' (type code, category) pair
    already written so; None when unknown."""
    if isinstance(value, int) and not isinstance(value, bool):
        return _OPENSKY_CATEGORIES.get(value)
    if isinstance(value, str) and len(value) == 2 and value[0] in "ABCD" and value[1] in "01234567":
        return value
    return None
