"""What an aggregator (or an SBS feed) may tell us about one aircraft, and why an item is
refused.

Every value in an aggregator's answer is attacker-controlled: an item with a value no
aircraft can have (a latitude of 1e308, an altitude of a million feet, a time in the
year 3000) is refused alone, with a reason that is counted per source, and the rest of
the answer is used. An answer listing more aircraft than any receiver hears is cut at
:data:`MAX_AIRCRAFT`, the rest counted, not parsed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

#: An area query of 250 NM over Europe's busiest sky lists ~2,000 aircraft; ADS-B
#: Exchange's whole world ~12,000.
MAX_AIRCRAFT = 20_000
MAX_TEXT = 64  # a callsign has 8 characters, a registration 10, a type 4
EARLIEST = 946_684_800.0  # 2000-01-01: no ADS-B aggregator before
MAX_AHEAD_S = 300.0  # clocks drift; an item minutes ahead of the answer is invented
MAX_AGE_S = 3_600.0  # an item an hour older than the answer tracks nothing live

# Wider than any aircraft (Mode S encodes -1,000 to 126,700 ft, ±32,000 ft/min); a
# value outside is not a fast aircraft but a broken or hostile source.
RANGES: dict[str, tuple[float, float, str]] = {
    "lat": (-90.0, 90.0, "position out of range"),
    "lon": (-180.0, 180.0, "position out of range"),
    "altitude_ft": (-2_000.0, 130_000.0, "altitude out of range"),
    "ground_speed_kt": (0.0, 2_500.0, "speed out of range"),
    "track_deg": (0.0, 360.0, "track out of range"),
    "vertical_rate_fpm": (-40_000.0, 40_000.0, "vertical rate out of range"),
}

MALFORMED = "malformed"
NOT_FINITE = "not a finite number"
BAD_ADDRESS = "not a 24-bit address"
TIME = "time out of range"
TEXT = "text too long"
BAD_TEXT = "text not valid Unicode"
TOO_MANY = "over the aircraft limit of an answer"


class Rejected(ValueError):
    """One item refused; ``reason`` is one of the counted reasons above."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def check_range(field: str, value: float | None) -> float | None:
    """``value`` unchanged when it is plausible for ``field``; :class:`Rejected` if not."""
    if value is None:
        return None
    low, high, reason = RANGES[field]
    if not low <= value <= high:
        raise Rejected(reason, f"{field}={value!r}")
    return value


def check_time(seconds: float, answer_time: float) -> float:
    """An item's Unix time, plausible against the answer's own time."""
    if not (EARLIEST <= seconds <= answer_time + MAX_AHEAD_S
            and seconds >= answer_time - MAX_AGE_S):
        raise Rejected(TIME, f"{seconds!r} against the answer's {answer_time!r}")
    return seconds


def check_answer_time(seconds: float, wall_time: float) -> float:
    """The answer's time (``now``, ``time``): not before 2000, not a day ahead of ours."""
    if not EARLIEST <= seconds <= wall_time + 86_400.0:
        raise Rejected(TIME, f"the answer's time {seconds!r}")
    return seconds


def check_text(key: str, value: str) -> str:
    """A text field: at most :data:`MAX_TEXT` characters of valid Unicode. JSON can carry
    a lone surrogate (``"\\ud800"``) that no database can store: the whole batch of
    positions would fail with it."""
    if len(value) > MAX_TEXT:
        raise Rejected(TEXT, f"{key} of {len(value):,} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise Rejected(BAD_TEXT, f"{key}: {exc.reason}") from None
    return value


class Rejections:
    """Refused items of one source by reason, and one example, for its log line and stats."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.example = ""

    def add(self, exc: ValueError, n: int = 1) -> None:
        self.counts[getattr(exc, "reason", MALFORMED)] += n
        self.example = self.example or str(exc)[:200]

    def merge(self, other: Rejections) -> None:
        self.counts.update(other.counts)
        self.example = self.example or other.example

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        """``3 altitude out of range, 1 malformed (e.g. ...)``"""
        parts = ", ".join(f"{n:,} {reason}" for reason, n in self.counts.most_common())
        return f"{parts} (e.g. {self.example})" if self.example else parts


def source_stats(received: int, rejected: Mapping[str, int]) -> dict[str, int]:
    """An aggregator's counters in the shape of a receiver's (``collector.Source.stats``):
    items received as frames, refused items as bad frames, one key per refusal reason."""
    stats = {"frames": received, "bad_frames": sum(rejected.values())}
    stats.update({f"rejected:{reason}": n for reason, n in rejected.items()})
    return stats
