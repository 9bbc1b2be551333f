"""Turning the exceptions users can cause into one clear line and an exit code."""

from __future__ import annotations

EXIT_FAILURE, EXIT_USAGE = 1, 2


def user_error(exc: BaseException) -> tuple[str | None, int]:
    """(message, exit code) for an error a user can act on; (None, 1) for a bug."""
    from flightwatch.alerts.geofence import GeofenceError
    from flightwatch.alerts.notify import NotifierConfigError
    from flightwatch.collector import CollectorError
    from flightwatch.db import DatabaseError
    from flightwatch.db.airports import AirportsError
    from flightwatch.db.engine import DatabaseConfigError
    from flightwatch.db.runways import RunwaysError
    from flightwatch.db.watchlist_file import WatchlistError

    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"{exc.filename}: no such file", EXIT_USAGE
    if isinstance(exc, CollectorError | GeofenceError | WatchlistError | NotifierConfigError
                  | DatabaseConfigError | AirportsError | RunwaysError
                  | IsADirectoryError):
        return str(exc), EXIT_USAGE
    if isinstance(exc, DatabaseError | OSError):
        return str(exc), EXIT_FAILURE
    return None, EXIT_FAILURE
