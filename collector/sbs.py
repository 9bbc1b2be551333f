"""SBS / BaseStation CSV framing (dump1090/readsb port 30003): already decoded.

``MSG`` lines become :class:`decoder.Observation`. Other BaseStation records
(SEL, ID, AIR, STA, CLK) are valid but carry nothing we keep: counted and skipped.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, tzinfo

from flightwatch.collector.framing import parse_lines
from flightwatch.collector.plausible import check_range
from flightwatch.decoder import Observation, normalise_icao, utc_from_epoch

_FIELDS = 22
_OTHER_RECORDS = frozenset({"SEL", "ID", "AIR", "STA", "CLK"})
_MSG_TYPES = frozenset("12345678")


def parse(
    buf: bytes,
    counter: Counter[str] | None = None,
    *,
    source: str = "sbs",
    tz: tzinfo = UTC,
    received: float | None = None,
) -> tuple[list[Observation], bytes]:
    """Observations on the complete lines of ``buf`` and the unterminated last line.

    The time is ``received`` (Unix seconds) when given — live feeds, whose
    generated time is the receiver's local clock — else the message's
    date/time-generated fields read in ``tz`` (replay), else its logged fields.
    """
    when = None if received is None else utc_from_epoch(received)

    def line_observation(line: bytes) -> Observation | str | None:
        fields = line.decode("ascii", "replace").split(",")
        if fields[0] in _OTHER_RECORDS:
            return "skipped_records"
        return _observation(fields, source, tz, when)

    return parse_lines(buf, counter, line_observation)


def _observation(
    fields: list[str], source: str, tz: tzinfo, when: datetime | None
) -> Observation | None:
    """None (or ValueError) when the line is not a usable MSG record."""
    if len(fields) < _FIELDS or fields[0] != "MSG" or fields[1] not in _MSG_TYPES:
        return None
    icao = normalise_icao(fields[4])
    if icao is None:
        return None
    time = when or _time(fields[6], fields[7], tz) or _time(fields[8], fields[9], tz)
    if time is None:
        return None
    return Observation(
        icao=icao,
        time=time,
        source=source,
        callsign=fields[10].strip() or None,
        altitude_ft=check_range("altitude_ft", _number(fields[11])),
        ground_speed_kt=check_range("ground_speed_kt", _number(fields[12])),
        track_deg=check_range("track_deg", _number(fields[13])),
        lat=check_range("lat", _number(fields[14])),
        lon=check_range("lon", _number(fields[15])),
        vertical_rate_fpm=check_range("vertical_rate_fpm", _number(fields[16])),
        squawk=fields[17].strip() or None,
        on_ground=_flag(fields[21]),
    )


def _number(text: str) -> float | None:
    """A field's number; ``nan`` and ``inf`` (which ``float`` reads) make the line bad."""
    text = text.strip()
    if not text:
        return None
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _flag(text: str) -> bool | None:
    """BaseStation booleans: "-1" (or "1") true, "0" false, empty unknown."""
    text = text.strip()
    if not text:
        return None
    if text in ("-1", "1"):
        return True
    if text == "0":
        return False
    raise ValueError(f"not a BaseStation flag: {text!r}")


def _time(date: str, clock: str, tz: tzinfo) -> datetime | None:
    """``YYYY/MM/DD`` + ``HH:MM:SS[.fff]`` in ``tz``, as UTC; None when absent."""
    if not date.strip() or not clock.strip():
        return None
    year, month, day = date.strip().split("/")
    hour, minute, second = clock.strip().split(":")
    whole, _, fraction = second.partition(".")
    micro = int((fraction + "000000")[:6]) if fraction else 0
    local = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(whole), micro, tzinfo=tz
    )
    return local.astimezone(UTC)
