"""Make the pictures of docs/pictures.md from the demo capture.

Run from the repository root:  python tools/make_picture_docs.py [--out docs]

Replays config/samples/demo_minsk.tsv with the demo's receiver into a scratch database,
then writes into ``docs/images/``:

- ``map.png``: ``flightwatch map`` of RA-96016's flight, offline (no tiles), screenshot
  by headless Chromium;
- ``alert-landed.png``: the picture stored with the demo's ``landed`` alert;
- ``report.png``: the top of the evidence report (HTML), screenshot by headless Chromium;
- ``web-aircraft.png``: the web page's *Aircraft* view of RA-96016 (``flightwatch serve``,
  no tiles), screenshot by headless Chromium once its scripts have drawn the track;

and the sample report itself into ``docs/samples/`` (Markdown, with its map beside it),
dated as of the end of the capture so the files do not change from run to run. The
screenshots are reduced to 128 or 256 colours (a quarter of the size, no visible change);
the pictures flightwatch draws are written as drawn (64 colours already).
Needs Chromium (``chromium`` on PATH).
"""

from __future__ import annotations

import argparse
import io
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEMO = ROOT / "config" / "samples" / "demo_minsk.tsv"
WATCHED = "157710"  # RA-96016
GENERATED = datetime(2020, 8, 19, 10, 18, 24, tzinfo=UTC)  # the capture's last frame
CONFIG = """[database]
url = "sqlite:///demo.db"

[receiver]
name = "demo"
lat = 53.888
lon = 28.040

[web]
tiles_url = ""
"""


def screenshot(page: Path | str, png: Path, size: str) -> None:
    """A headless Chromium screenshot of a local page (a file or a loopback URL), every
    host name unresolvable. The page's scripts get 15 s of virtual time to fetch and draw
    before the shot (a file's are done at once; a served page asks its API first)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("chromium is not on PATH")
    url = page.as_uri() if isinstance(page, Path) else page
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--user-data-dir={profile}", "--virtual-time-budget=15000",
            f"--screenshot={png}", f"--window-size={size}", url,
        ], check=True, capture_output=True, timeout=120)


def served_screenshot(config: Path, path: str, png: Path, size: str) -> None:
    """``flightwatch serve`` on a free loopback port, and a screenshot of one of its pages."""
    import socket
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "flightwatch", "serve", "--config", str(config),
         "--listen", f"127.0.0.1:{port}"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("flightwatch serve did not start") from None
                time.sleep(0.2)
        screenshot(f"http://127.0.0.1:{port}{path}", png, size)
    finally:
        server.terminate()
        server.wait(10)


def small_png(source: Path | bytes, target: Path, colours: int = 128) -> None:
    """``source`` as a PNG of at most ``colours`` colours, as small as zlib makes it."""
    from PIL import Image

    image = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    image = image.convert("RGB").quantize(colours, method=Image.Quantize.MEDIANCUT)
    image.save(target, format="PNG", optimize=True)
    print(f"{target.relative_to(ROOT)}: {target.stat().st_size:,} bytes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    from flightwatch.alerts.engine import load_fences
    from flightwatch.cli.main import main as flightwatch
    from flightwatch.daemon.replay import replay_files
    from flightwatch.db import connect
    from flightwatch.output.alert_picture import map_layers
    from flightwatch.output.report import read_report, report_markdown
    from flightwatch.settings import load_settings

    images, samples = args.out / "images", args.out / "samples"
    images.mkdir(parents=True, exist_ok=True)
    samples.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        config = folder / "flightwatch.toml"
        config.write_text(CONFIG, encoding="utf-8")
        settings = load_settings(config, env={})
        replay_files(settings, [DEMO])

        with sqlite3.connect(folder / "demo.db") as db:
            [(png,)] = db.execute(
                "SELECT p.png FROM alert_pictures p JOIN alerts a ON a.id = p.alert_id"
                " WHERE a.kind = 'landed'").fetchall()
        (images / "alert-landed.png").write_bytes(png)  # as stored: already 64 colours

        page = folder / "map.html"
        if flightwatch(["map", "--icao", WATCHED, "--out", str(page), "--config",
                        str(config)]) != 0:
            raise SystemExit("flightwatch map failed")
        screenshot(page, folder / "map.png", "1000,700")
        small_png(folder / "map.png", images / "map.png")

        served_screenshot(config, "/aircraft?aircraft=RA-96016&since=2020-08-19"
                          "&until=2020-08-19", folder / "web.png", "1200,800")
        small_png(folder / "web.png", images / "web-aircraft.png")

        engine = connect(settings.database_url)
        layers = map_layers(settings, engine)
        report = read_report(engine, registration="RA-96016", icaos=[WATCHED],
                             since=datetime(2020, 8, 18, tzinfo=UTC),
                             until=datetime(2020, 8, 27, tzinfo=UTC),
                             fences=load_fences(settings.geofences), layers=layers,
                             generated=GENERATED)
        engine.dispose()
        from flightwatch.output.report import report_html

        html = folder / "report.html"
        html.write_text(report_html(report), encoding="utf-8")
        screenshot(html, folder / "report.png", "1100,1000")
        small_png(folder / "report.png", images / "report.png", colours=256)
        markdown = samples / "report-RA-96016.md"
        markdown.write_text(report_markdown(report), encoding="utf-8")
        print(f"{markdown.relative_to(ROOT)}")
        for story in report.flights:
            if story.picture:
                (samples / story.picture_name).write_bytes(story.picture)


if __name__ == "__main__":
    main()
