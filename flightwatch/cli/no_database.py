"""Commands that only read never create a database; where there is none, they say so.

A query run without ``--config`` after the demo used to create an empty database in the
current folder and print ``(no rows)``: a newcomer saw nothing and no reason. Now it
stops with ``no database at PATH`` and the configuration that does have one, when one
is near: a TOML file in the current folder or the demo's ``config/demo.toml``.
"""

from __future__ import annotations

import os
from pathlib import Path

from flightwatch.cli.common import UsageError
from flightwatch.settings import DATABASE_URL_ENV, ConfigError, Settings, load_settings

#: The demo's configuration, relative to a checkout's root folder.
DEMO_CONFIG = Path("config", "demo.toml")


def database_missing(settings: Settings) -> str | None:
    """The configured SQLite file's path where it does not exist, else None. Other
    databases (PostgreSQL) live on a server that an administrator creates, and a folder
    that does not exist is the engine's to report (``database.url``): they pass."""
    from flightwatch.db.reader import sqlite_file

    path = sqlite_file(settings.database_url)
    if path is None or os.path.isfile(path) or not Path(path).parent.is_dir():
        return None
    return os.path.abspath(path)


def require_database(settings: Settings) -> None:
    """Stop (exit 2) where the configured SQLite file does not exist."""
    path = database_missing(settings)
    if path is not None:
        raise UsageError(f"no database at {path} ({_hint(settings)})")


def _hint(settings: Settings) -> str:
    if os.environ.get(DATABASE_URL_ENV):
        return f"{DATABASE_URL_ENV} names it"
    other = _config_with_database(settings.path)
    if other is not None:
        return f"did you mean --config {other}?"
    return "is it another --config FILE? `flightwatch run`, `replay` and `import` create one"


def _config_with_database(current: Path | None) -> Path | None:
    """A configuration near the current folder, other than ``current``, whose database
    exists; failing that, any TOML file in the current folder."""
    candidates = [p for p in sorted(Path().glob("*.toml")) if p.is_file()]
    if DEMO_CONFIG.is_file():
        candidates.append(DEMO_CONFIG)
    if current is not None:
        candidates = [p for p in candidates if p.resolve() != current.resolve()]
    for candidate in candidates:
        if _database_exists(candidate):
            return candidate
    in_folder = [p for p in candidates if p.parent == Path()]
    return in_folder[0] if in_folder else None


def _database_exists(config: Path) -> bool:
    from flightwatch.db.reader import sqlite_file

    try:
        settings = load_settings(config)
    except ConfigError:
        return False
    path = sqlite_file(settings.database_url)
    return path is not None and os.path.isfile(path)
