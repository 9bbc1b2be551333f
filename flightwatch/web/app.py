"""The Starlette application: three pages, their scripts, Leaflet, and the JSON API.

Nothing is fetched from a CDN: Leaflet comes from the ``xstatic-leaflet`` package,
as for ``flightwatch map``, and the pages' own scripts and styles from ``static/``.
Only GET and HEAD are routed, so no request can change anything.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import xstatic.pkg.leaflet
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.responses import FileResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from flightwatch.settings import Settings, bundled
from flightwatch.web.api import Api, guarded
from flightwatch.web.guard import PASSWORD_ENV, AllowedHosts, Guard, content_security_policy
from flightwatch.web.live import LiveView

STATIC = Path(__file__).resolve().parent / "static"
PAGES = {"/": "now.html", "/alerts": "alerts.html", "/aircraft": "aircraft.html"}


def build_app(
    settings: Settings, engine: Engine, live: LiveView, fences: list[Any],
    env: dict[str, str] | None = None, hosts: AllowedHosts | None = None,
) -> Guard:
    """The whole site; ``fences`` are the loaded geofences it draws and filters by, ``hosts``
    the Host names it answers (None: any)."""
    api = Api(settings, engine, live, fences)
    borders = bundled("borders.geojson")
    routes = [
        *(Route(path, _file(STATIC / name, "text/html; charset=utf-8"))
          for path, name in PAGES.items()),
        Route("/api/aircraft", guarded(api.aircraft)),
        Route("/api/alerts", guarded(api.alerts)),
        Route("/api/history", guarded(api.history)),
        Route("/api/flights", guarded(api.flights)),
        Route("/api/fences", guarded(api.geofences)),
        Route("/api/settings", guarded(api.page_settings)),
        Route("/api/borders", _file(borders, "application/geo+json")),
        Route("/api/places", guarded(api.places)),
        Route("/api/alerts/{alert_id:int}/map.png", guarded(api.alert_map)),
        Route("/api/report", guarded(api.report)),
        Mount("/static", StaticFiles(directory=STATIC)),
        Mount("/leaflet", StaticFiles(directory=xstatic.pkg.leaflet.BASE_DIR)),
    ]
    web = settings["web"]
    environ = os.environ if env is None else env
    return Guard(
        Starlette(routes=routes), csp=content_security_policy(web["tiles_url"]),
        username=web["username"], password=environ.get(PASSWORD_ENV) or None, hosts=hosts,
    )


def _file(path: Path, media_type: str) -> Any:
    async def serve(_request: Any) -> FileResponse:
        return FileResponse(path, media_type=media_type)

    return serve
