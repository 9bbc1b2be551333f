"""pyModeS adapter: raw frames in, ``Observation``s out.

pyModeS' ``PipeDecoder`` does the hard parts (CRC, CPR even/odd pairing,
local decoding against the last good position, phantom rejection). This
module only maps its result dicts onto flightwatch's record and keeps the
counters a user sees in the replay summary and status line.

It also skips work whose result would be thrown away, judged from a frame's first
bytes before pyModeS sees it: downlink formats nothing uses (DF11 all-call replies,
DF0/16 air-air, DF24 extended length), and, when asked to, an aircraft's repeated
velocity and identification squitters arriving within a set interval of the last
one decoded, and airborne positions its caller says it does not want (the tracker
would not store them and nobody follows the aircraft closely). pyModeS goes on decoding
such an aircraft's positions against its last decoded one (local CPR), so the positions
that are decoded come out the same; after a silence that would leave pyModeS without a
recent enough reference, the newest skipped position is decoded first, as it would have
been. DF4/5/20/21 replies whose address (recovered from
their parity, the cheap part of pyModeS' ``Message``) the caller does not want, an
aircraft not tracked and not watched, are not decoded either.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pyModeS import DecodeError, Message, PipeDecoder

from flightwatch.decoder.observation import Frame, Observation

log = logging.getLogger(__name__)

_REPLY_DFS = frozenset((4, 5, 20, 21))
_SQUITTER_DFS = frozenset((17, 18))
_DECODED_DFS = _REPLY_DFS | _SQUITTER_DFS
# First hex bytes (DF in the top five bits, either case) of the frames skipped outright,
# and of the squitters whose repeats may be skipped.
_SKIPPED_FIRST_BYTES = frozenset(
    text for df in range(32) if df not in _DECODED_DFS for low in range(8)
    for text in (f"{df << 3 | low:02X}", f"{df << 3 | low:02x}")
)
_SQUITTER_FIRST_BYTES, _REPLY_FIRST_BYTES = (frozenset(
    text for df in dfs for low in range(8)
    for text in (f"{df << 3 | low:02X}", f"{df << 3 | low:02x}")
) for dfs in (_SQUITTER_DFS, _REPLY_DFS))
_VELOCITY, _IDENTIFICATION, _POSITION = "v", "i", "p"
# pyModeS decodes a lone position against the aircraft's last decoded one for this long
# (local CPR); positions are skipped only well within it, so the next one still decodes.
_LOCAL_REFERENCE_S = 30.0
_SKIP_WITHIN_S = 20.0
_FORGET_EVERY_S = 60.0  # how often the last-decoded times of departed aircraft are pruned
_utc = datetime.fromtimestamp  # with UTC: utc_from_epoch without a call on the hot path


@dataclass(slots=True)
class DecodeStats:
    """Counters since start; cheap to update on the hot path."""

    frames: int = 0
    observations: int = 0
    bad_crc: int = 0
    malformed: int = 0
    ignored: int = 0
    skipped: int = 0  # repeats within the interval, unwanted positions and replies


class ModeSDecoder:
    """Stateful decoder for one stream of frames (one clock).

    ``surface_ref`` is the receiver position (lat, lon) or an airport ICAO code:
    surface positions need it (CPR surface decoding has a 90 degree ambiguity).
    """

    def __init__(
        self,
        surface_ref: tuple[float, float] | str | None = None,
        state_ttl_s: float = 300.0,
        *,
        velocity_every_s: float = 0.0,
        identification_every_s: float = 0.0,
        position_wanted: Callable[[str, datetime], bool] | None = None,
        reply_wanted: Callable[[str], bool] | None = None,
    ) -> None:
        self._pipe = PipeDecoder(surface_ref=surface_ref, eviction_ttl=state_ttl_s,
                                 local_ref_window=_LOCAL_REFERENCE_S)
        self.stats = DecodeStats()
        self._every = {_VELOCITY: velocity_every_s, _IDENTIFICATION: identification_every_s}
        self._skip_repeats = velocity_every_s > 0 or identification_every_s > 0
        self._position_wanted = position_wanted
        self._reply_wanted = reply_wanted
        self._decoded_at: dict[str, float] = {}  # address + kind -> time last decoded
        self._last_skipped: dict[str, Frame] = {}  # address -> newest position skipped
        self._forget_at = 0.0

    def decode(self, frame: Frame) -> Observation | None:
        """The observation a frame carries, or None for frames with nothing to keep."""
        stats = self.stats
        stats.frames += 1
        message = frame.hex
        first = message[:2]
        if first in _SKIPPED_FIRST_BYTES and len(message) in (14, 28):
            stats.ignored += 1
            return None
        key = None
        if first in _SQUITTER_FIRST_BYTES and len(message) == 28:
            kind = _squitter_kind(message)
            if kind == _POSITION:
                if self._position_wanted is not None:
                    address = message[2:8]
                    key = address + _POSITION
                    fixed = self._decoded_at.get(key)
                    if (fixed is not None and 0 <= frame.time - fixed < _SKIP_WITHIN_S
                            and not self._position_wanted(address, _utc(frame.time, UTC))):
                        self._last_skipped[address] = frame
                        stats.skipped += 1
                        return None
                    if self._last_skipped:
                        self._refresh_reference(address, fixed, frame.time)
            elif kind is not None and self._skip_repeats:
                key = message[2:8] + kind
                last = self._decoded_at.get(key)
                if last is not None and 0 <= frame.time - last < self._every[kind]:
                    stats.skipped += 1
                    return None
        elif first in _REPLY_FIRST_BYTES and self._reply_wanted is not None:
            try:
                address = Message(message).icao
            except DecodeError:
                address = None  # decoded below, and counted as malformed
            if address is not None and not self._reply_wanted(address):
                stats.skipped += 1
                return None
        obs = self._decode(frame)
        if obs is not None and key is not None and (obs.lat is not None or key[-1] != _POSITION):
            self._note_decoded(key, frame.time)
        return obs

    def _refresh_reference(self, address: str, fixed: float | None, now: float) -> None:
        """Before decoding a position heard after a silence: if pyModeS' reference (the
        last position decoded) is too old for local CPR but the newest skipped position
        is not, decode that one first (its result unused), so this position decodes as
        it would have with every frame decoded."""
        skipped = self._last_skipped.pop(address, None)
        if (skipped is not None and fixed is not None
                and now - skipped.time < _LOCAL_REFERENCE_S <= now - fixed):
            self._pipe.decode(skipped.hex, timestamp=skipped.time)

    def _decode(self, frame: Frame) -> Observation | None:
        stats = self.stats
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

    def _note_decoded(self, key: str, when: float) -> None:
        decoded_at = self._decoded_at
        decoded_at[key] = when
        if when >= self._forget_at:  # bounded by the aircraft heard in the last minute
            self._forget_at = when + _FORGET_EVERY_S
            for old in [k for k, t in decoded_at.items() if when - t > _FORGET_EVERY_S]:
                del decoded_at[old]
            skipped = self._last_skipped
            for gone in [a for a, f in skipped.items() if when - f.time > _FORGET_EVERY_S]:
                del skipped[gone]

    @property
    def pipe_stats(self) -> dict[str, int]:
        """pyModeS' own counters (CPR pairs pending, positions rejected, ...)."""
        return dict(self._pipe.stats)


def _squitter_kind(message: str) -> str | None:
    """What a DF17/18 squitter carries, from its type code: an airborne position, a
    velocity, an identification, or (None) anything else."""
    try:
        typecode = int(message[8:10], 16) >> 3
    except ValueError:  # not hex: pyModeS calls it malformed
        return None
    if 9 <= typecode <= 18 or 20 <= typecode <= 22:
        return _POSITION
    if typecode == 19:
        return _VELOCITY
    if 1 <= typecode <= 4:
        return _IDENTIFICATION
    return None


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
        category = get("category")
        extra: dict[str, object] | None = (
            {"category": f"{'DCBA'[typecode - 1]}{category}"} if category else None)
        return Observation(icao, when, source, callsign=callsign, downlink_format=df,
                           extra=extra)
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
