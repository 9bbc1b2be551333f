"""pyModeS adapter: raw frames in, ``Observation``s out.

pyModeS' ``PipeDecoder`` does the hard parts (CRC, CPR even/odd pairing,
local decoding against the last good position, phantom rejection). This
module only maps its result dicts onto flightwatch's record and keeps the
counters a user sees in the replay summary and status line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from pyModeS import PipeDecoder

from flightwatch.decoder.observation import Frame, Observation

log = logging.getLogger(__name__)

_REPLY_DFS = frozenset((4, 5, 20, 21))
_SQUITTER_DFS = frozenset((17, 18))
_utc = datetime.fromtimestamp  # with UTC: utc_from_epoch without a call on the hot path


@dataclass(slots=True)
class DecodeStats:
    """Counters since start; cheap to update on the hot path."""

    frames: int = 0
    observations: int = 0
    bad_crc: int = 0
    malformed: int = 0
    ignored: int = 0


class ModeSDecoder:
    """Stateful decoder for one stream of frames (one clock).

    ``surface_ref`` is the receiver position (lat, lon) or an airport ICAO code:
    surface positions need it (CPR surface decoding has a 90 degree ambiguity).
    """

    def __init__(
        self,
        surface_ref: tuple[float, float] | str | None = None,
        state_ttl_s: float = 300.0,
    ) -> None:
        self._pipe = PipeDecoder(surface_ref=surface_ref, eviction_ttl=state_ttl_s)
        self.stats = DecodeStats()

    def decode(self, frame: Frame) -> Observation | None:
        """The observation a frame carries, or None for frames with nothing to keep."""
        stats = self.stats
        stats.frames += 1
        result = self._pipe.decode(frame.hex, timestamp=frame.time)
        df = result.get("df")
        if df is None:
            stats.malformed += 1
            return None
        if df in _SQUITTER_DFS:
            if result.get("crc_valid") is not True:
                stats.bad_crc += 1
                return None
            obs = _from_squitter(result, frame)
        elif df in _REPLY_DFS:
            obs = _from_reply(result, frame, df)
        else:
            obs = None
        if obs is None:
            stats.ignored += 1
            return None
        stats.observations += 1
        return obs

    @property
    def pipe_stats(self) -> dict[str, int]:
        """pyModeS' own counters (CPR pairs pending, positions rejected, ...)."""
        return dict(self._pipe.stats)


def _from_squitter(result: dict, frame: Frame) -> Observation | None:
    """One constructor call per type code and no intermediate dict: this runs for nearly
    every frame."""
    typecode = result.get("typecode")
    if typecode is None:
        return None
    get = result.get
    icao, when, source, df = result["icao"], _utc(frame.time, UTC), frame.source, result["df"]
    if 9 <= typecode <= 18 or 20 <= typecode <= 22:
        return Observation(icao, when, source, lat=get("latitude"), lon=get("longitude"),
                           altitude_ft=get("altitude"), on_ground=False, downlink_format=df)
    if typecode == 19:
        return Observation(icao, when, source, ground_speed_kt=get("groundspeed"),
                           track_deg=get("track"), vertical_rate_fpm=get("vertical_rate"),
                           downlink_format=df)
    if 5 <= typecode <= 8:
        return Observation(icao, when, source, lat=get("latitude"), lon=get("longitude"),
                           ground_speed_kt=get("groundspeed"), track_deg=get("track"),
                           on_ground=True, downlink_format=df)
    if 1 <= typecode <= 4:
        callsign = (get("callsign") or "").strip("_ #") or None
        return Observation(icao, when, source, callsign=callsign, downlink_format=df)
    if typecode == 28 and get("squawk"):
        return Observation(icao, when, source, squawk=get("squawk"), downlink_format=df)
    return None


def _from_reply(result: dict, frame: Frame, df: int) -> Observation:
    """DF4/5/20/21: altitude or squawk, address recovered from parity (so unverified)."""
    verified = bool(result.get("icao_verified"))
    callsign = result.get("callsign") if verified else None
    return Observation(
        icao=result["icao"],
        time=_utc(frame.time, UTC),
        source=frame.source,
        altitude_ft=result.get("altitude"),
        squawk=result.get("squawk"),
        callsign=callsign.strip("_ #") or None if callsign else None,
        downlink_format=df,
        verified=verified,
    )
