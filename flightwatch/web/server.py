"""Running the site: in the foreground (``flightwatch serve``) or beside the daemon
(``flightwatch run`` with ``[web] listen``), on uvicorn.

Loopback needs no login. Beyond loopback the server refuses to start unless env
FLIGHTWATCH_WEB_PASSWORD is set (basic auth, or the same value as a bearer token)
or ``[web] allow_public = true`` says a network without it is intended.

Beside the daemon the site reads through an engine of its own: a page's queries never
wait for (nor take) a connection the daemon's writer needs. Connections from clients
are bounded by web/connections.py.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from flightwatch.settings import ConfigError, Settings
from flightwatch.web.guard import PASSWORD_ENV, AllowedHosts
from flightwatch.web.live import LiveView, WatchedMarker

if TYPE_CHECKING:
    from flightwatch.decoder.tracker import Tracker

log = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0
#: uvicorn's wait for answers under way at a stop: a page still loading (a slow
#: client) gets a second, not all it wants; the daemon promises to exit within 5 s.
STOP_GRACE_S = 1


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
    from flightwatch.web.connections import LISTEN_BACKLOG, protocol_class, quiet_repeats

    host, port = split_listen(listen)
    web = settings["web"]
    app = build_app(settings, engine, live, load_fences(settings.geofences),
                    hosts=AllowedHosts.for_listen(host, web["allowed_hosts"]))
    config = uvicorn.Config(
        # log_config=None: uvicorn's lines go to flightwatch's log, through its redaction.
        app, host=host, port=port, log_level="warning", access_log=False, lifespan="off",
        log_config=None,
        server_header=False, proxy_headers=False, backlog=LISTEN_BACKLOG,
        http=protocol_class(web["max_connections"], web["request_timeout"]),
        timeout_graceful_shutdown=STOP_GRACE_S,
    )
    quiet_repeats()  # after uvicorn.Config: it sets up its loggers
    return uvicorn.Server(config)


def serve_forever(settings: Settings, engine: Engine, live: LiveView, listen: str) -> bool:
    """``flightwatch serve``: until SIGINT/SIGTERM (a clean stop); False when it could
    not listen."""
    check_exposure(settings, listen)
    server = make_server(settings, engine, live, listen)
    log.info("flightwatch web pages on http://%s/", listen)
    with _stop_signals_end_cleanly(server):
        try:
            server.run()
        except SystemExit:  # uvicorn exits when it cannot bind (its log says why)
            # ...in its words: say ours, as a newcomer who left `serve` or `run` going
            # in another terminal needs to read it (both take 127.0.0.1:8080).
            log.error("web: could not serve on %s: is another flightwatch serve or run "
                      "using it? Stop it, or choose another address with --listen", listen)
            return False
    return bool(server.started)


@contextlib.contextmanager
def _stop_signals_end_cleanly(server: Any) -> Iterator[None]:
    """uvicorn stops on SIGTERM/SIGINT, then raises the signal again for the handler it
    found, which by default kills the process (exit 143): a stop asked for is not a
    failure. So the handler it finds only asks the server to stop (which also covers a
    signal arriving before uvicorn puts in its own)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(_signum: int, _frame: object) -> None:
        server.should_exit = True

    stops = (signal.SIGTERM, signal.SIGINT)
    previous = {sig: signal.signal(sig, stop) for sig in stops}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve_beside_daemon(settings: Settings, tracker: Tracker, listen: str) -> Callable[[], None]:
    """``flightwatch run`` with ``[web] listen``: the site on an engine (and so a connection
    pool) of its own, live aircraft from the daemon's tracker; returns its stop."""
    from flightwatch.db import open_engine
    from flightwatch.web.live import TrackerView

    engine = open_engine(settings.database_url)  # the daemon has brought the schema up
    stop_server = start_in_thread(settings, engine, TrackerView(
        tracker, marker_for(settings, engine)), listen)

    def stop() -> None:
        stop_server()
        engine.dispose()

    return stop


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
