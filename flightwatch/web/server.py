"""Running the site: in the foreground (``flightwatch serve``) or beside the daemon
(``flightwatch run`` with ``[web] listen``), on uvicorn.

Loopback needs no login. Beyond loopback the server refuses to start unless env
FLIGHTWATCH_WEB_PASSWORD is set (basic auth, or the same value as a bearer token)
or ``[web] allow_public = true`` says a network without it is intended.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Engine

from flightwatch.settings import ConfigError, Settings
from flightwatch.web.guard import PASSWORD_ENV
from flightwatch.web.live import LiveView, WatchedMarker

log = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0
STOP_GRACE_S = 1  # seconds requests under way at a stop get


def split_listen(listen: str) -> tuple[str, int]:
    """``127.0.0.1:8080`` -> ("127.0.0.1", 8080); ``[::1]:8080`` -> ("::1", 8080)."""
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_exposure(settings: Settings, listen: str, env: Mapping[str, str] | None = None) -> None:
    """Refuse to serve the history beyond loopback with no login, unless told to."""
    environ = os.environ if env is None else env
    host, _port = split_listen(listen)
    web = settings["web"]
    if is_loopback(host) or environ.get(PASSWORD_ENV) or web["allow_public"]:
        return
    raise ConfigError([
        f"web.listen: {listen} is reachable beyond this machine; set env {PASSWORD_ENV} "
        "(HTTP basic auth as user web.username, or a bearer token), or set "
        "web.allow_public = true to serve without a login"
    ])


def marker_for(settings: Settings, engine: Engine) -> WatchedMarker:
    """Who counts as watched: the watchlist table and the callsign prefixes the rules use."""
    from flightwatch.alerts.engine import callsign_prefixes
    from flightwatch.settings import bundled

    prefixes = callsign_prefixes(settings["watchlist"]["callsign_prefixes"],
                                 bundled("callsign_prefixes.csv"))
    return WatchedMarker(engine, prefixes)


def make_server(settings: Settings, engine: Engine, live: LiveView, listen: str) -> Any:
    """A uvicorn server for the site (not started), quiet: no access log."""
    import uvicorn

    from flightwatch.alerts.engine import load_fences
    from flightwatch.web.app import build_app

    host, port = split_listen(listen)
    app = build_app(settings, engine, live, load_fences(settings.geofences))
    # A page still loading (a slow client) gets a second at a stop, not all it wants: the
    # daemon promises to exit within 5 s.
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                            lifespan="off", server_header=False, proxy_headers=False,
                            timeout_graceful_shutdown=STOP_GRACE_S)
    return uvicorn.Server(config)


def serve_forever(settings: Settings, engine: Engine, live: LiveView, listen: str) -> bool:
    """``flightwatch serve``: until SIGINT/SIGTERM; False when it could not listen."""
    check_exposure(settings, listen)
    server = make_server(settings, engine, live, listen)
    log.info("flightwatch web pages on http://%s/", listen)
    try:
        server.run()
    except SystemExit:  # uvicorn exits when it cannot bind (its log says why)
        return False
    return bool(server.started)


def start_in_thread(
    settings: Settings, engine: Engine, live: LiveView, listen: str
) -> Callable[[], None]:
    """Serve beside the daemon; returns the function that stops the server.

    A server that cannot listen (port taken) is logged and left out: the daemon
    goes on collecting, as with any optional part that fails.
    """
    server = make_server(settings, engine, live, listen)

    def run() -> None:
        with contextlib.suppress(SystemExit):  # cannot listen: logged by uvicorn, seen below
            server.run()

    thread = threading.Thread(target=run, name="web", daemon=True)
    thread.start()
    for _ in range(int(START_TIMEOUT_S / 0.05)):
        if server.started or not thread.is_alive():
            break
        thread.join(0.05)
    if server.started:
        log.info("flightwatch web pages on http://%s/", listen)
    else:
        log.error("web: could not serve on %s; the daemon goes on without its web pages",
                  listen)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=STOP_GRACE_S + 0.2)  # a daemon thread: not waited for at exit

    return stop
