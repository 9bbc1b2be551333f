"""OpenSky Network ``/states/all`` over a bounding box, OAuth2 client credentials.

Credentials come from the environment (``OPENSKY_CLIENT_ID`` / ``OPENSKY_CLIENT_SECRET``);
without them the source polls anonymously with a tenth of the credits. The token
lives 30 minutes; it is reused until a minute before it expires and fetched again
once when the API answers 401.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from flightwatch.collector import plausible
from flightwatch.collector.aggregators.errors import AuthError, BadResponse
from flightwatch.collector.aggregators.health import SourceHealth
from flightwatch.collector.aggregators.http import Clock, HttpClient
from flightwatch.collector.aggregators.newer import NewerOnly
from flightwatch.collector.plausible import Rejected, Rejections
from flightwatch.decoder import Observation, normalise_icao, utc_from_epoch

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://opensky-network.org/api"
DEFAULT_TOKEN_URL = (
    "https://auth.opensky-network.org/auth/realms/opensky-network/protocol/openid-connect/token"
)
ENV_CLIENT_ID = "OPENSKY_CLIENT_ID"
ENV_CLIENT_SECRET = "OPENSKY_CLIENT_SECRET"

_FT_PER_M = 1 / 0.3048
_KT_PER_MS = 3600 / 1852
_FPM_PER_MS = 60 / 0.3048
_TOKEN_REFRESH_EARLY = 60.0  # seconds before expiry a token is replaced
_CLIENT_REFUSED = (f"check {ENV_CLIENT_ID}/{ENV_CLIENT_SECRET} (an API client from your "
                   "OpenSky account page), or unset both to poll anonymously")

Account = Literal["anonymous", "registered", "feeder"]
DAILY_ALLOWANCE: dict[str, int] = {"anonymous": 400, "registered": 4000, "feeder": 8000}

BBox = tuple[float, float, float, float]  # (lamin, lomin, lamax, lomax)


def bbox_with_margin(bounds: Sequence[float], margin_deg: float) -> BBox:
    """OpenSky's (lamin, lomin, lamax, lomax) from shapely-style (minx, miny, maxx, maxy)."""
    minx, miny, maxx, maxy = bounds
    return (max(-90.0, miny - margin_deg), max(-180.0, minx - margin_deg),
            min(90.0, maxy + margin_deg), min(180.0, maxx + margin_deg))


@dataclass(frozen=True)
class CreditEstimate:
    """What polling one box at one interval costs per day, against the allowance."""

    area_sq_deg: float
    credits_per_call: int
    calls_per_day: int
    credits_per_day: int
    allowance: int
    account: str
    warning: str | None

    @property
    def line(self) -> str:
        """One line for ``check-config``."""
        text = (f"OpenSky: {self.area_sq_deg:.0f} sq° box, {self.credits_per_call} credit(s) "
                f"a call, {self.calls_per_day} calls/day = {self.credits_per_day} of "
                f"{self.allowance} daily credits ({self.account})")
        return f"{text}. WARNING: {self.warning}" if self.warning else text


def credits_per_call(area_sq_deg: float) -> int:
    """OpenSky's price of one ``/states/all`` call by box area (square degrees)."""
    for limit, credits in ((25, 1), (100, 2), (400, 3)):
        if area_sq_deg <= limit:
            return credits
    return 4


def estimate_daily_credits(bbox: BBox, interval_s: float,
                           account: Account = "anonymous") -> CreditEstimate:
    """Daily credit use of polling ``bbox`` every ``interval_s`` seconds (pure)."""
    lamin, lomin, lamax, lomax = bbox
    area = abs(lamax - lamin) * abs(lomax - lomin)
    per_call = credits_per_call(area)
    calls = math.ceil(86400 / interval_s)
    per_day = calls * per_call
    allowance = DAILY_ALLOWANCE[account]
    warning = None
    if per_day > allowance:
        min_interval = math.ceil(86400 * per_call / allowance)
        warning = (f"{per_day} credits/day exceeds the {account} allowance of {allowance}; "
                   f"set interval to at least {min_interval} s, shrink the box")
        warning += (" or set OPENSKY_CLIENT_ID/OPENSKY_CLIENT_SECRET"
                    if account == "anonymous" else "")
    return CreditEstimate(area, per_call, calls, per_day, allowance, account, warning)


class TokenProvider:
    """OAuth2 token from OpenSky's Keycloak, cached until shortly before it expires.

    ``form`` is the grant: client credentials for the REST API (``OpenSkySource``),
    the password grant for the historical database. ``refused`` tells the user what to
    check when the endpoint refuses it.
    """

    def __init__(self, client: HttpClient, token_url: str, form: Mapping[str, str],
                 refused: str, clock: Clock = time.monotonic) -> None:
        self._client = client
        self._url = token_url
        self._form = dict(form)
        self._refused = refused
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0

    def token(self) -> str:
        if self._token is None or self._clock() >= self._expires_at - _TOKEN_REFRESH_EARLY:
            self._fetch()
        assert self._token is not None
        return self._token

    def invalidate(self) -> None:
        self._token = None

    def _fetch(self) -> None:
        try:
            body = self._client.request_json("POST", self._url, data=self._form)
        except AuthError as exc:
            raise AuthError(f"OpenSky refused the credentials at {self._url}; "
                            f"{self._refused}") from exc
        token = body.get("access_token") if isinstance(body, Mapping) else None
        if not isinstance(token, str) or not token:
            raise BadResponse(f"OpenSky token endpoint {self._url} returned no access_token")
        lifetime = body.get("expires_in", 1800)
        if not isinstance(lifetime, int | float) or isinstance(lifetime, bool):
            lifetime = 1800
        self._token = token
        self._expires_at = self._clock() + float(lifetime)
        log.debug("OpenSky token obtained, valid %.0f s", lifetime)


class OpenSkySource:
    """Polls ``/states/all`` for one bounding box."""

    def __init__(self, bbox: BBox, *, name: str = "opensky", base_url: str = DEFAULT_BASE_URL,
                 interval: float = 60.0, token_url: str = DEFAULT_TOKEN_URL,
                 client_id: str | None = None, client_secret: str | None = None,
                 account: Account | None = None, client: HttpClient | None = None,
                 clock: Clock = time.monotonic) -> None:
        self.name = name
        self.interval = interval
        self.bbox = bbox
        self.account: Account = account or ("registered" if client_id else "anonymous")
        self.base_url = base_url.rstrip("/")
        self._client = client or HttpClient(name=name, clock=clock)
        self._tokens = (
            TokenProvider(self._client, token_url, {"grant_type": "client_credentials",
                                                    "client_id": client_id,
                                                    "client_secret": client_secret},
                          _CLIENT_REFUSED, clock)
            if client_id and client_secret else None
        )
        self._health = SourceHealth(name, base_delay=interval, clock=clock)
        self._fresh = NewerOnly()
        self.credits_remaining: int | None = None

    @property
    def authenticated(self) -> bool:
        return self._tokens is not None

    def credit_estimate(self) -> CreditEstimate:
        """Daily credits this source will use, for ``check-config``."""
        return estimate_daily_credits(self.bbox, self.interval, self.account)

    def cancel(self) -> None:
        """Abandon a poll under way and any later one (the daemon stops)."""
        self._client.cancel()

    def poll(self) -> list[Observation]:
        """New state vectors since the last poll; :class:`AggregatorError` on failure."""
        return self._health.run(self._poll)

    def _poll(self) -> list[Observation]:
        body = self._states()
        remaining = self._client.last_headers.get("X-Rate-Limit-Remaining")
        if remaining is not None and remaining.isdigit():
            self.credits_remaining = int(remaining)
        observations, rejected = parse_states(body, self.name)
        self._health.count(len(observations) + rejected.total, rejected)
        if rejected.total:
            log.warning("%s: skipped %d state vectors: %s; kept %d", self.name,
                        rejected.total, rejected.summary(), len(observations))
        return self._fresh(observations)

    @property
    def stats(self) -> Mapping[str, int]:
        return self._health.stats

    def _states(self) -> object:
        lamin, lomin, lamax, lomax = self.bbox
        params = {"lamin": lamin, "lomin": lomin, "lamax": lamax, "lomax": lomax,
                  "extended": 1}  # adds the emitter category (index 17)
        url = f"{self.base_url}/states/all"
        if self._tokens is None:
            try:
                return self._client.get_json(url, params=params)
            except AuthError as exc:
                raise AuthError(f"{self.name}: anonymous access refused ({exc}); set "
                                f"{ENV_CLIENT_ID}/{ENV_CLIENT_SECRET}") from exc
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self._tokens.token()}"}
            try:
                return self._client.get_json(url, params=params, headers=headers)
            except AuthError:
                if attempt:
                    break
                log.debug("%s: 401 with a cached token, fetching a new one", self.name)
                self._tokens.invalidate()
        raise AuthError(f"{self.name}: the API refused a fresh token; check that the "
                        f"{ENV_CLIENT_ID}/{ENV_CLIENT_SECRET} client may use the REST API")


def parse_states(body: object, source: str,
                 wall_clock: Clock = time.time) -> tuple[list[Observation], Rejections]:
    """``{"time": s, "states": [[...], ...] | null}`` to (observations, what was refused).

    A ``time`` before 2000 or a day ahead of the wall clock makes the whole answer bad;
    state vectors past :data:`plausible.MAX_AIRCRAFT` are counted, not parsed.
    """
    if not isinstance(body, Mapping):
        raise BadResponse(f"{source}: answer is {type(body).__name__}, not a JSON object")
    states = body.get("states")
    rejected = Rejections()
    if states is None:
        return [], rejected
    if not isinstance(states, list):
        raise BadResponse(f"{source}: 'states' is {type(states).__name__}, not a list")
    answer_time = body.get("time")
    if isinstance(answer_time, bool) or not isinstance(answer_time, int | float):
        answer_time = wall_clock()
    try:
        answer_time = plausible.check_answer_time(float(answer_time), wall_clock())
    except Rejected as exc:
        raise BadResponse(f"{source}: {exc}") from exc
    if len(states) > plausible.MAX_AIRCRAFT:
        rejected.add(Rejected(plausible.TOO_MANY, f"{len(states):,} state vectors"),
                     len(states) - plausible.MAX_AIRCRAFT)
    observations: list[Observation] = []
    for state in states[:plausible.MAX_AIRCRAFT]:
        try:
            observations.append(observation_from_state(state, source, answer_time))
        except ValueError as exc:
            rejected.add(exc)
    return observations, rejected


def observation_from_state(state: object, source: str, answer_time: float) -> Observation:
    """One OpenSky state vector (a JSON array by index) to an Observation.

    Time is ``time_position`` (when the position was received), or ``last_contact``
    when there is no position: never the poll time; it must be plausible against the
    answer's ``time``.
    """
    if not isinstance(state, list) or len(state) < 17:
        raise ValueError(f"state is not a 17+ element array: {str(state)[:60]}")
    if not isinstance(state[0], str):
        raise ValueError(f"icao24={str(state[0])[:40]!r}")
    icao = normalise_icao(state[0])
    if icao is None:
        raise Rejected(plausible.BAD_ADDRESS, f"icao24={state[0][:40]!r}")
    lon = plausible.check_range("lon", _num(state, 5))
    lat = plausible.check_range("lat", _num(state, 6))
    if (lat is None) != (lon is None):
        raise ValueError(f"{icao}: only one of latitude/longitude")
    seen = _num(state, 3) if lat is not None else None
    if seen is None:
        seen = _num(state, 4)
    if seen is None:
        raise ValueError(f"{icao}: neither time_position nor last_contact")
    plausible.check_time(seen, answer_time)
    on_ground = state[8]
    if not isinstance(on_ground, bool):
        raise ValueError(f"{icao}: on_ground={on_ground!r}")

    extra: dict[str, object] = {}
    geo = _num(state, 13)
    if geo is not None:
        extra["geo_altitude_ft"] = plausible.check_range("altitude_ft", geo * _FT_PER_M)
    if isinstance(state[2], str) and state[2]:
        extra["origin_country"] = plausible.check_text("origin_country", state[2])
    if isinstance(state[16], int) and not isinstance(state[16], bool):
        extra["position_source"] = state[16]
    if len(state) > 17 and isinstance(state[17], int) and not isinstance(state[17], bool):
        extra["category"] = state[17]

    baro, speed, rate = _num(state, 7), _num(state, 9), _num(state, 11)
    return Observation(
        icao=icao,
        time=utc_from_epoch(seen),
        source=source,
        lat=lat,
        lon=lon,
        altitude_ft=plausible.check_range(
            "altitude_ft", None if baro is None else baro * _FT_PER_M),
        ground_speed_kt=plausible.check_range(
            "ground_speed_kt", None if speed is None else speed * _KT_PER_MS),
        track_deg=plausible.check_range("track_deg", _num(state, 10)),
        vertical_rate_fpm=plausible.check_range(
            "vertical_rate_fpm", None if rate is None else rate * _FPM_PER_MS),
        callsign=_str(state, 1),
        squawk=_str(state, 14),
        on_ground=on_ground,
        extra=extra,
    )


def _num(state: list[object], index: int) -> float | None:
    value = state[index]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"field {index}={str(value)[:40]!r} is not a number")
    if not math.isfinite(value):
        raise Rejected(plausible.NOT_FINITE, f"field {index}={value!r}")
    return float(value)


def _str(state: list[object], index: int) -> str | None:
    value = state[index]
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"field {index}={str(value)[:40]!r} is not a string")
    return plausible.check_text(f"field {index}", value.strip()) or None
