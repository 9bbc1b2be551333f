"""``flightwatch map`` on the demo capture replayed into SQLite: what the page carries,
that it needs no network for anything but tiles, and that a real headless Chromium
draws the tracks (a map with no tracks is the control)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import run

from flightwatch.alerts.geofence import Geofence
from flightwatch.daemon.replay import replay_files
from flightwatch.output.map import (
    ALTITUDE_BANDS,
    GROUND,
    UNKNOWN_ALTITUDE,
    altitude_band,
    track_runs,
)
from flightwatch.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "config" / "samples" / "demo_minsk.tsv"
BELARUS = REPO / "config" / "geofences" / "belarus.geojson"
WATCHED = "157710"  # RA-96016 in the demo (config/samples/README.md)
BAND_COLOURS = [band.colour for _, band in ALTITUDE_BANDS] + [GROUND.colour]


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """config/demo.toml's settings on a fresh SQLite database holding the demo replay."""
    folder = tmp_path_factory.mktemp("map")
    config = folder / "flightwatch.toml"
    config.write_text(
        '[database]\nurl = "sqlite:///fw.db"\n\n'
        '[receiver]\nname = "demo"\nlat = 53.888\nlon = 28.040\n',
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("FLIGHTWATCH_DATABASE_URL", raising=False)
        replay_files(load_settings(config), [DEMO])
        yield config


def page_data(page: str) -> dict[str, Any]:
    found = re.search(
        r'<script type="application/json" id="flightwatch-data">(.*?)</script>', page, re.S
    )
    assert found, "the page carries no map data"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def make_map(
    capsys: pytest.CaptureFixture[str], config: Path, out: Path, *selection: str
) -> dict[str, Any]:
    code, _out, err = run(capsys, "map", *selection, "--out", str(out), "--config", str(config))
    assert code == 0, err
    return page_data(out.read_text(encoding="utf-8"))


def history(capsys: pytest.CaptureFixture[str], config: Path, *selection: str) -> list[Any]:
    code, out, err = run(capsys, "history", *selection, "--format", "json",
                         "--config", str(config))
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def drawn_points(data: dict[str, Any]) -> set[tuple[float, float]]:
    return {tuple(point) for track in data["tracks"] for point in track["points"]}


def rounded(rows: list[Any]) -> set[tuple[float, float]]:
    return {(round(r["lat"], 5), round(r["lon"], 5)) for r in rows}


# --- colouring and cutting tracks ---------------------------------------------------

def test_altitude_bands_follow_the_legend() -> None:
    assert altitude_band(35_000, False).colour == ALTITUDE_BANDS[0][1].colour
    assert altitude_band(30_000, None) == ALTITUDE_BANDS[0][1]
    assert altitude_band(29_975, None) == ALTITUDE_BANDS[1][1]
    assert altitude_band(1_000, False) == ALTITUDE_BANDS[-1][1]
    assert altitude_band(-1_000, False) == ALTITUDE_BANDS[-1][1]
    assert altitude_band(700, True) == GROUND
    assert altitude_band(None, False) == UNKNOWN_ALTITUDE
    assert len({band.colour for _, band in ALTITUDE_BANDS} | {GROUND.colour}) == 6


class Row:
    def __init__(self, icao: str, minute: float, lat: float, alt: int | None,
                 ground: bool = False) -> None:
        self.icao, self.lat, self.lon = icao, lat, 28.0
        self.time = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minute)
        self.altitude_ft, self.on_ground, self.callsign = alt, ground, "RSD016"


def test_runs_join_at_band_changes_and_break_at_gaps_and_aircraft() -> None:
    rows = [
        Row(WATCHED, 0, 54.0, 33_000), Row(WATCHED, 1, 54.1, 31_000),
        Row(WATCHED, 2, 54.2, 25_000),  # descends into the next band: the lines join
        Row(WATCHED, 3, 54.3, 600, ground=True),
        Row(WATCHED, 30, 54.4, 600, ground=True),  # 27 min later: a new track, no join
        Row("3C6DD4", 30.5, 55.0, 38_000),  # another aircraft
    ]
    runs = track_runs(rows)
    assert [(r.icao, r.band) for r in runs] == [
        (WATCHED, ALTITUDE_BANDS[0][1]), (WATCHED, ALTITUDE_BANDS[1][1]), (WATCHED, GROUND),
        (WATCHED, GROUND), ("3C6DD4", ALTITUDE_BANDS[0][1]),
    ]
    assert [[lat for lat, _ in r.points] for r in runs] == [
        [54.0, 54.1, 54.2], [54.2, 54.3], [54.3], [54.4], [55.0],
    ]
    assert runs[0].start == rows[0].time and runs[0].end == rows[2].time


# --- the command on the demo --------------------------------------------------------

def test_map_of_the_watched_arrival(
    capsys: pytest.CaptureFixture[str], demo_config: Path, tmp_path: Path
) -> None:
    data = make_map(capsys, demo_config, tmp_path / "map.html", "--icao", WATCHED.lower())
    positions = history(capsys, demo_config, "--icao", WATCHED)
    assert len(positions) > 100
    assert drawn_points(data) == rounded(positions)
    assert {t["label"].split(":")[0] for t in data["tracks"]} == {f"RSD016 ({WATCHED})"}
    # From FL330 down to the runway at UMMS (config/samples/README.md).
    legend = [band["label"] for band in data["legend"]]
    assert legend[0] == ALTITUDE_BANDS[0][1].label and legend[-1] == GROUND.label
    # The alerts are those `flightwatch alerts` lists for the aircraft: approaching,
    # enter, landed at UMMS (config/samples/README.md).
    code, out, err = run(capsys, "alerts", "--icao", WATCHED, "--format", "json",
                       "--config", str(demo_config))
    assert code == 0, err
    listed = [json.loads(line) for line in out.splitlines()]
    assert [a["kind"] for a in listed] == ["approaching", "enter", "landed"]
    popups = [dict(a["rows"]) for a in data["alerts"]]
    assert [p["alert"] for p in popups] == ["approaching", "enter", "landed"]
    assert [(a["lat"], a["lon"]) for a in data["alerts"]] == [(a["lat"], a["lon"]) for a in listed]
    assert popups[2]["airport"] == "UMMS" and popups[2]["aircraft"] == "RA-96016"
    assert [f["name"] for f in data["fences"]] == ["belarus"]
    assert any(a["label"].startswith("UMMS ") for a in data["airports"])
    (south, west), (north, east) = data["view"]
    assert south <= 53.89 and north >= 54.84 and west <= 28.05 and east >= 32.57


def test_selection_is_that_of_history(
    capsys: pytest.CaptureFixture[str], demo_config: Path, tmp_path: Path
) -> None:
    by_icao = make_map(capsys, demo_config, tmp_path / "a.html", "--icao", WATCHED)
    by_registration = make_map(capsys, demo_config, tmp_path / "b.html",
                               "--registration", "ra 96016")
    assert by_registration["tracks"] == by_icao["tracks"]

    inside = make_map(capsys, demo_config, tmp_path / "c.html", "--icao", WATCHED,
                      "--geofence", "belarus", "--since", "2020-08-19T09:30:00Z",
                      "--until", "2020-08-19T10:00:00Z")
    expected = history(capsys, demo_config, "--icao", WATCHED, "--geofence", "belarus",
                       "--since", "2020-08-19T09:30:00Z", "--until", "2020-08-19T10:00:00Z")
    assert 0 < len(expected) < len(history(capsys, demo_config, "--icao", WATCHED))
    assert drawn_points(inside) == rounded(expected)
    fence = Geofence.from_file(BELARUS)
    assert all(fence.contains(lat, lon) for lat, lon in drawn_points(inside))
    assert [dict(a["rows"])["alert"] for a in inside["alerts"]] == ["approaching", "enter"]

    everyone = make_map(capsys, demo_config, tmp_path / "d.html", "--callsign", "DLH*")
    assert {t["label"].split(":")[0] for t in everyone["tracks"]} == {"DLH1447 (3C6DD4)"}
    assert everyone["alerts"] == []  # nobody watched: no alerts


def test_nothing_matching_still_writes_the_fences(
    capsys: pytest.CaptureFixture[str], demo_config: Path, tmp_path: Path
) -> None:
    out = tmp_path / "empty.html"
    code, _, err = run(capsys, "map", "--registration", "RA-00000", "--out", str(out),
                       "--config", str(demo_config))
    assert code == 0
    assert "no aircraft known with registration RA-00000" in err
    data = page_data(out.read_text(encoding="utf-8"))
    assert data["tracks"] == [] and data["alerts"] == [] and data["legend"] == []
    assert [f["name"] for f in data["fences"]] == ["belarus"]
    fence = Geofence.from_file(BELARUS)
    min_lon, min_lat, max_lon, max_lat = fence.bounds
    assert data["view"] == [[min_lat, min_lon], [max_lat, max_lon]]


@pytest.mark.parametrize(("argv", "message"), [
    (["--icao", "XYZ"], "not a 24-bit ICAO address"),
    (["--geofence", "nowhere"], "no such geofence in the configuration (known: belarus)"),
])
def test_bad_selection_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], demo_config: Path, tmp_path: Path,
    argv: list[str], message: str,
) -> None:
    out = tmp_path / "map.html"
    code, _, err = run(capsys, "map", *argv, "--out", str(out), "--config", str(demo_config))
    assert code == 2 and message in err
    assert not out.exists()


class _References(HTMLParser):
    """Every URL the page's markup asks the browser to load, and its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.scripts = 0
        self.styles = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.scripts += tag == "script"
        self.styles += tag == "style"
        if tag in ("script", "img", "iframe", "source") and values.get("src"):
            self.loads.append(f"{tag} src={values['src']}")
        if tag == "link" and values.get("href"):
            self.loads.append(f"link href={values['href']}")


def test_page_loads_nothing_from_the_network(
    capsys: pytest.CaptureFixture[str], demo_config: Path, tmp_path: Path
) -> None:
    out = tmp_path / "map.html"
    make_map(capsys, demo_config, out, "--icao", WATCHED)
    page = out.read_text(encoding="utf-8")
    parser = _References()
    parser.feed(page)
    assert parser.loads == []
    assert parser.scripts == 3 and parser.styles == 2  # Leaflet, data, drawing; 2 styles
    assert "Leaflet 1.9.3" in page  # inlined, not linked
    # The only network address the script will use is the tile server's.
    urls = set(re.findall(r"https?://[^\s\"'<>\\)]+", page))
    tile_hosts = {u for u in urls if "{z}" in u}
    assert tile_hosts == {"https://tile.openstreetmap.org/{z}/{x}/{y}.png"}


# --- a real browser ------------------------------------------------------------------

def screenshots(chromium: str, pages: list[Path]) -> list[Path]:
    """PNGs of the pages from Chromium headless, taken side by side, offline: every host
    name fails to resolve, so no tile (nor anything else) is fetched."""
    runs = []
    for page in pages:
        png = page.with_suffix(".png")
        command = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={page.with_suffix('.profile')}", f"--screenshot={png}",
            "--window-size=1200,800", page.as_uri(),
        ]
        runs.append((png, subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.PIPE)))
    for png, process in runs:
        try:
            _, err = process.communicate(timeout=90)
        finally:
            process.kill()
        assert process.returncode == 0 and png.is_file(), err.decode(errors="replace")[-2000:]
    return [png for png, _ in runs]


def colour_counts(png: Path) -> dict[str, int]:
    image_module = pytest.importorskip("PIL.Image", reason="Pillow is needed to read the PNG")
    with image_module.open(png) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 24)
    found = {rgb: count for count, rgb in colours}
    return {
        colour: found.get(tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5)), 0)
        for colour in (*BAND_COLOURS, "#e7298a")
    }


def test_chromium_draws_the_tracks_offline(
    capsys: pytest.CaptureFixture[str], demo_config: Path, tmp_path: Path,
    executable: Callable[[str, str], str],
) -> None:
    chromium = executable("chromium", "chromium")
    tracks, control = tmp_path / "tracks.html", tmp_path / "control.html"
    make_map(capsys, demo_config, tracks, "--icao", WATCHED)
    make_map(capsys, demo_config, control, "--icao", "000001")  # nothing stored: no tracks
    counts = {png.stem: colour_counts(png) for png in screenshots(chromium, [tracks, control])}
    # The legend's swatches are 18x4 pixels; the tracks are hundreds of pixels a band.
    drawn = {colour: n for colour, n in counts["tracks"].items() if n > 200}
    assert set(BAND_COLOURS[:4]) <= set(drawn), counts["tracks"]
    assert all(counts["control"][colour] == 0 for colour in BAND_COLOURS), counts["control"]
    # Both pages did draw: the fence's border is there with and without tracks.
    assert counts["tracks"]["#e7298a"] > 300 and counts["control"]["#e7298a"] > 300
