"""What the web tests share: captures of now, configurations, and a real
``flightwatch serve`` on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import requests
from integration.daemon_helpers import free_port

from flightwatch.db import close, connect

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "config" / "samples" / "demo_minsk.tsv"
WATCHED = "157710"  # RA-96016 in the demo
#: Markup that fits a callsign's 8 characters (longer text is stored cut, db/types.py):
#: made into HTML it would show a bold X, rendered as text it shows itself.
XSS = "<b>X</b>"
XSS_ICAO = "140759"  # RA-01881 on the shipped watchlist
OTHER_ICAO = "4CA9D4"  # not watched


def sbs_line(icao: str, when: datetime, lat: float, lon: float, callsign: str = "",
             altitude_ft: int = 3000) -> str:
    """A BaseStation MSG,3 record with position, altitude and callsign (dump1090 :30003)."""
    day, clock = when.strftime("%Y/%m/%d"), when.strftime("%H:%M:%S.%f")[:-3]
    fields = ["MSG", "3", "1", "1", icao, "1", day, clock, day, clock, callsign,
              str(altitude_ft), "180", "90", f"{lat:.5f}", f"{lon:.5f}", "0", "", "", "", "",
              "0"]
    return ",".join(fields) + "\n"


def write_config(folder: Path, extra: str = "", web: str = "", tiles: str = "") -> Path:
    """SQLite beside the file, created empty (``serve`` reads, it creates none), the demo's
    receiver, ``tiles`` (none), a 1 s refresh; ``web`` lines go into ``[web]``, ``extra``
    TOML after it."""
    config = folder / "flightwatch.toml"
    config.write_text(
        '[database]\nurl = "sqlite:///fw.db"\n\n'
        '[receiver]\nname = "demo"\nlat = 53.888\nlon = 28.040\n\n'
        '[tracker]\nexpire_after = "6h"\n\n'
        f'[web]\ntiles_url = "{tiles}"\nrefresh = "1s"\n{web}\n' + extra,
        encoding="utf-8",
    )
    close(connect(f"sqlite:///{folder / 'fw.db'}"))
    return config


@dataclass
class Site:
    url: str
    config: Path
    process: subprocess.Popen[str]


def wait_answering(url: str, process: subprocess.Popen[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited {process.returncode}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def start_serve(config: Path, env: dict[str, str] | None = None) -> Site:
    port = free_port()
    environ = dict(os.environ, PYTHONPATH=str(REPO), **(env or {}))
    environ.pop("FLIGHTWATCH_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "flightwatch.cli", "serve", "--config", str(config),
         "--listen", f"127.0.0.1:{port}"],
        cwd=config.parent, env=environ, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    wait_answering(url + "/api/settings", process)
    return Site(url, config, process)


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
