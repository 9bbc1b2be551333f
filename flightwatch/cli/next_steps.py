"""What a replay ends with: where its alert mail went, and three commands to try next.

The demo said "3 notification(s) sent" and stopped; the mail was three ``.eml`` files
in a folder it never named, and a newcomer had to guess the next command. The commands
are written from what the database now holds (the newest alert's aircraft and day) and
as the replay was typed (the program's path, the ``--config`` file), so they work as
printed, from the same folder, on the demo as on any capture.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flightwatch.settings import Settings

#: How much of an aircraft's history the suggested ``history`` prints: the minutes
#: around its newest alert (a touchdown, a border crossing), a screenful.
AROUND_ALERT = timedelta(minutes=2)


def mail_line(settings: Settings) -> str | None:
    """Where the alert mail is, when it is written to files (``alerts.outbox_dir``, no
    SMTP host); None when it goes elsewhere or nothing is there yet."""
    folder = settings["alerts"]["outbox_dir"]
    if folder is None or settings["alerts.email"]["host"] or not Path(folder).is_dir():
        return None
    mails = sorted(Path(folder).glob("*.eml"))
    if not mails:
        return None
    return (f"alert mail: {len(mails)} .eml file(s) in {_shown(Path(folder))}{os.sep} "
            f"(open them with any mail program)")


def next_commands(settings: Settings, config: Path | None) -> list[str]:
    """Three commands on the newest alert's day and aircraft; none without an alert."""
    from flightwatch.db.alert_queries import query_alerts
    from flightwatch.db.reader import open_reader

    with open_reader(settings.database_url) as reader:
        alerts = query_alerts(reader)
    if not alerts:
        return []
    newest = alerts[-1]
    settings_option = ["--config", str(config)] if config is not None else []
    aircraft = (["--registration", newest.registration] if newest.registration
                else ["--icao", newest.icao])
    day = newest.time.strftime("%Y-%m-%d")
    start = newest.time.replace(second=0, microsecond=0)
    commands = [
        ["flights", "--since", day, "--until", day],
        ["history", *aircraft, "--since", _minute(start),
         "--until", _minute(start + AROUND_ALERT)],
        ["map", *aircraft, "--out", "map.html"],
    ]
    return [shlex.join([*_program(), name, *settings_option, *options])
            for name, *options in commands]


def after_replay(settings: Settings, config: Path | None, summary: Any) -> str:
    """The lines printed after a replay's summary (empty when it stored nothing)."""
    if not summary.positions_stored:
        return ""
    lines = [line for line in [mail_line(settings)] if line]
    commands = next_commands(settings, config)
    if commands:
        lines.append("next, try:")
        lines += [f"  {command}" for command in commands]
    return "\n".join(lines)


def _minute(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%MZ")


def _shown(path: Path) -> str:
    """``path`` relative to the current folder when it is inside it, as a user types it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _program() -> list[str]:
    """``flightwatch`` as this process was started: by name when that name on PATH is
    this program, else by the path typed (``.venv/bin/flightwatch``), else through the
    interpreter (``python -m flightwatch``, or a test)."""
    typed = sys.argv[0]
    if Path(typed).name == "flightwatch":
        on_path = shutil.which("flightwatch")
        if on_path is not None and Path(on_path).resolve() == Path(typed).resolve():
            return ["flightwatch"]
        return [typed]
    return [sys.executable, "-m", "flightwatch"]
