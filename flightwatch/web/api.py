"""The read-only JSON API behind the pages: ``/api/aircraft``, ``/api/alerts``,
``/api/history``, ``/api/flights`` (plus what the pages draw: fences, borders, settings).

Query parameters mirror the CLI's options and each record carries the CLI's JSON
field names, so ``/api/history?icao=157710&since=7d`` answers what
``flightwatch history --icao 157710 --since 7d --format json`` prints (as one JSON
array, not lines). ``format=csv|geojson|kml`` downloads the same rows through the
CLI's exporters.
"""

from __future__ import annotations

import argparse
import functools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from flightwatch.cli.alerts import ALERT_FIELDS
from flightwatch.cli.common import UsageError
from flightwatch.cli.flights import FLIGHT_FIELDS, write_tracks
from flightwatch.cli.history import HISTORY_FIELDS
from flightwatch.cli.selection import selected_icaos, selection_from
from flightwatch.decoder.safe_text import pattern_source
from flightwatch.output.formats import TRACK_FORMATS, json_record, write
from flightwatch.settings import ALERT_KINDS, Settings
from flightwatch.timeparse import parse_time
from flightwatch.web.live import LIVE_FIELDS, LiveView
from flightwatch.web.pictures import Pictures
from flightwatch.web.stream import SpooledResponse

ALERTS_LIMIT = 500  # the newest this many, unless ?limit= says otherwise
ALERTS_MAX = 10_000
_MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "geojson": "application/geo+json",
    "kml": "application/vnd.google-earth.kml+xml",
}


class BadRequest(Exception):
    """A query parameter the API cannot use: 400 with the message."""


@dataclass
class Api:
    """What the endpoints read: settings, the database, the live view, drawn fences."""

    settings: Settings
    engine: Engine
    live: LiveView
    fences: Sequence[Any]  # alerts.geofence.Geofence

    # --- parameters --------------------------------------------------------------------
    @staticmethod
    def _time(request: Request, name: str) -> datetime | None:
        text = request.query_params.get(name)
        if not text:
            return None
        try:  # a month or day as the end of a window means up to its end, as in the CLI
            return parse_time(text, end=name == "until")
        except ValueError as exc:
            raise BadRequest(f"{name}: {exc}") from None

    @staticmethod
    def _choice(request: Request, name: str, choices: Iterable[str], default: str) -> str:
        value = request.query_params.get(name) or default
        allowed = tuple(choices)
        if value not in allowed:
            raise BadRequest(f"{name}={value!r}: use one of {', '.join(allowed)}")
        return value

    def _selection(self, request: Request) -> argparse.Namespace:
        """The request as the CLI's selection options (``--icao`` may repeat)."""
        params = request.query_params
        icaos = [i for value in params.getlist("icao") for i in value.split(",") if i.strip()]
        return argparse.Namespace(
            icao=icaos or None, registration=params.get("registration") or None,
            callsign=params.get("callsign") or None, since=self._time(request, "since"),
            until=self._time(request, "until"), geofence=params.get("geofence") or None,
        )

    def _fence_name(self, name: str | None) -> str | None:
        known = [f["name"] for f in self.settings.geofences]
        if name is not None and name not in known:
            raise BadRequest(f"geofence={name!r}: no such geofence (known: {', '.join(known)})")
        return name

    # --- endpoints ---------------------------------------------------------------------
    def aircraft(self, _request: Request) -> Response:
        planes = sorted(self.live.aircraft(), key=lambda a: (not a.watched, a.icao))
        return JSONResponse([json_record(a, LIVE_FIELDS) for a in planes])

    def alerts(self, request: Request) -> Response:
        from flightwatch.db.alert_queries import query_alerts

        fmt = self._choice(request, "format", ("json", "csv"), "json")
        kind = request.query_params.get("kind") or None
        if kind is not None:
            self._choice(request, "kind", ALERT_KINDS, kind)
        fence = self._fence_name(request.query_params.get("geofence") or None)
        limit = self._limit(request)
        selection = self._selection(request)
        icaos = selected_icaos(selection, self.engine)
        rows = [
            alert
            for icao in (icaos if icaos is not None else [None])
            for alert in query_alerts(self.engine, since=selection.since, until=selection.until,
                                      icao=icao, kind=kind)
            if fence is None or alert.geofence == fence
        ]
        rows.sort(key=lambda a: a.time)
        return _rows(rows[-limit:], fmt, ALERT_FIELDS, "alerts")

    @staticmethod
    def _limit(request: Request) -> int:
        text = request.query_params.get("limit") or str(ALERTS_LIMIT)
        # isdigit() alone takes "²" (and int() then fails) and 5,000 digits (past
        # Python's limit on converting them): only a few ASCII digits are a limit.
        if not (text.isascii() and text.isdigit() and len(text) <= len(str(ALERTS_MAX))
                and 0 < int(text) <= ALERTS_MAX):
            raise BadRequest(f"limit={text[:20]!r}: a whole number from 1 to {ALERTS_MAX}")
        return int(text)

    def history(self, request: Request) -> Response:
        fmt = self._choice(request, "format", ("json", "csv", *TRACK_FORMATS), "json")
        selection = self._selection(request)
        if selection.icao is None and selection.registration is None \
                and selection.callsign is None:
            raise BadRequest("name the aircraft: icao=HEX, registration=R or callsign=C")
        rows = selection_from(selection, self.settings, self.engine, self.fences)
        return _rows(rows.positions(self.engine), fmt, HISTORY_FIELDS, "history")

    def flights(self, request: Request) -> Response:
        from flightwatch.db.flight_queries import query_flights

        fmt = self._choice(request, "format", ("json", "csv", *TRACK_FORMATS), "json")
        selection = self._selection(request)
        params = request.query_params
        found = query_flights(
            self.engine, icaos=selected_icaos(selection, self.engine),
            callsign=selection.callsign, airport=params.get("airport") or None,
            watched=params.get("watched") in ("1", "true", "yes"),
            geofence=self._fence_name(selection.geofence), since=selection.since,
            until=selection.until,
        )
        if fmt in TRACK_FORMATS:
            return _download(lambda out: write_tracks(self.engine, found, out, fmt),
                             fmt, "flights")
        return _rows(found, fmt, FLIGHT_FIELDS, "flights")

    def geofences(self, _request: Request) -> Response:
        from flightwatch.output.map import fence_geometry

        return JSONResponse({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": f.name}, "geometry": fence_geometry(f)}
            for f in self.fences
        ]})

    # --- places, pictures, reports (flightwatch/web/pictures.py) -------------------------
    def places(self, request: Request) -> Response:
        return JSONResponse(self.pictures.places(
            bounds=tuple(self._number(request, name, low, high) for name, low, high in (  # type: ignore[arg-type]
                ("south", -90, 90), ("west", -540, 540), ("north", -90, 90),
                ("east", -540, 540))),
            zoom=self._number(request, "zoom", 0, 22)))

    def alert_map(self, request: Request) -> Response:
        png = self.pictures.alert_png(int(request.path_params["alert_id"]))
        if png is None:
            return JSONResponse({"error": "no such alert, or nothing to draw"}, status_code=404)
        return Response(png, media_type="image/png")

    def report(self, request: Request) -> Response:
        fmt = self._choice(request, "format", ("html", "json"), "html")
        selection = self._selection(request)
        if selection.icao is None and selection.registration is None:
            raise BadRequest("name the aircraft: registration=R or icao=HEX")
        return self.pictures.report(selection, fmt)

    @staticmethod
    def _number(request: Request, name: str, low: float, high: float) -> float:
        text = request.query_params.get(name, "")
        try:
            value = float(text)
        except ValueError:
            raise BadRequest(f"{name}={text!r}: a number from {low} to {high}") from None
        if not low <= value <= high:
            raise BadRequest(f"{name}={text!r}: a number from {low} to {high}")
        return value

    @functools.cached_property
    def pictures(self) -> Pictures:
        return Pictures(self.settings, self.engine)

    def page_settings(self, _request: Request) -> Response:
        web = self.settings["web"]
        return JSONResponse({
            "tiles_url": web["tiles_url"], "tiles_attribution": web["tiles_attribution"],
            "refresh_s": web["refresh"], "kinds": list(ALERT_KINDS),
            "geofences": [f["name"] for f in self.settings.geofences],
            # What the pages show as escapes: decoder/safe_text.py's one table.
            "shown_as_escapes": pattern_source(),
        })


def _rows(rows: Iterable[Any], fmt: str, fields: Sequence[str], name: str) -> Response:
    if fmt == "json":
        return SpooledResponse(_closing(rows, lambda out: _write_json_array(rows, fields, out)),
                               media_type="application/json", error_status=_error_status)
    return _download(_closing(rows, lambda out: write(rows, out, fmt, fields)), fmt, name)


def _closing(rows: Iterable[Any], writer: Callable[[TextIO], object]) -> Callable[[TextIO], None]:
    """``writer``, then ``rows`` closed however it ended: a generator of rows left
    suspended (the client went) holds its database connection until the garbage
    collector finds it, as the closures around it make a reference cycle."""

    def run(out: TextIO) -> None:
        try:
            writer(out)
        finally:
            close = getattr(rows, "close", None)
            if close is not None:
                close()

    return run


def _write_json_array(rows: Iterable[Any], fields: Sequence[str], out: TextIO) -> None:
    """A JSON array written record by record: a month of positions is never one big list
    of dicts in the Pi's memory (history rows stream from the database)."""
    separator = "["
    for row in rows:
        out.write(separator + json.dumps(json_record(row, fields), ensure_ascii=False,
                                         separators=(",", ":")))
        separator = ","
    out.write("[]" if separator == "[" else "]")


def _download(writer: Callable[[TextIO], object], fmt: str, name: str) -> Response:
    """A file to save, streamed as the CLI's exporter writes it (web/stream.py)."""
    return SpooledResponse(writer, media_type=_MEDIA[fmt], error_status=_error_status,
                           headers={"Content-Disposition":
                                    f'attachment; filename="flightwatch-{name}.{fmt}"'})


def _error_status(exc: BaseException) -> tuple[int, str] | None:
    """The answer to an export that failed before its first byte: a parameter found bad
    only while reading (400), a database that cannot answer now (503); None: a bug."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from flightwatch.db import DatabaseError

    if isinstance(exc, BadRequest | UsageError):
        return 400, str(exc)
    if isinstance(exc, OperationalError | PoolTimeout | DatabaseError):
        return 503, "the database cannot answer now; try again"
    return None


def guarded(endpoint: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """Bad parameters answer 400 with the reason, as the CLI would exit 2."""

    def run(request: Request) -> Response:
        try:
            _check_parameters(request)
            return endpoint(request)
        except (BadRequest, UsageError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    return run


MAX_PARAMETER_CHARS = 1_000
MAX_ICAOS = 1_000  # an IN list of more is past what a page asks for (and SQLite allows)


def _check_parameters(request: Request) -> None:
    """What no parameter may hold: a control character (a NUL no PostgreSQL query takes),
    or more text than any value needs; nor more addresses than one query takes."""
    for name, value in request.query_params.multi_items():
        if len(value) > MAX_PARAMETER_CHARS:
            raise BadRequest(f"{name}: {len(value):,} characters; at most "
                             f"{MAX_PARAMETER_CHARS:,}")
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
            raise BadRequest(f"{name}: control characters are not allowed")
    icaos = sum(len(value.split(",")) for value in request.query_params.getlist("icao"))
    if icaos > MAX_ICAOS:
        raise BadRequest(f"icao: {icaos:,} addresses; at most {MAX_ICAOS:,}")
