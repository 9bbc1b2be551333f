"""Each page in a real headless Chromium against ``flightwatch serve`` on a replayed
database: what it shows, that nothing from the air becomes markup, no console errors."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests
from browser import Page
from site_helpers import WATCHED, XSS, XSS_ICAO, Site

WATCHED_FILL = (0xE3, 0x1A, 0x1C)  # now.js: WATCHED.fillColor


def red_pixels(png: Path) -> int:
    image = pytest.importorskip("PIL.Image", reason="Pillow is needed to read the PNG")
    with image.open(png) as shot:
        colours = shot.convert("RGB").getcolors(maxcolors=1 << 24) or []
    return sum(count for count, colour in colours if colour == WATCHED_FILL)


def watched_marker_painted(page: Page, png: Path, timeout: float = 10.0) -> bool:
    """The watched marker's red is on screen; a loaded machine may paint it a frame late."""
    deadline = time.monotonic() + timeout
    while red_pixels(page.screenshot(png)) <= 50:
        if time.monotonic() > deadline:
            return False
        page.idle(0.2)
    return True


NO_INJECTED_IMAGE = "document.querySelectorAll('img[src=\"x\"], img[src$=\"/x\"]').length"


def test_now_page_shows_the_aircraft_with_the_watched_one_labelled(
    site: Site, page: Page, tmp_path: Path,
) -> None:
    page.open(site.url + "/")
    assert page.wait_for("document.querySelectorAll('path.fw-aircraft').length") == 2
    assert page.evaluate("document.querySelectorAll('path.fw-watched').length") == 1
    label = page.wait_for("document.querySelector('.leaflet-tooltip .fw-label')?.textContent")
    assert label.startswith("RA-01881") and XSS in label and "Moscow Government" in label
    rows = page.evaluate("[...document.querySelectorAll('#watched tbody tr')]"
                         ".map(r => r.textContent)")
    assert len(rows) == 1 and "RA-01881" in rows[0] and XSS in rows[0]
    assert page.evaluate(NO_INJECTED_IMAGE) == 0
    assert page.evaluate("document.querySelectorAll('path.leaflet-interactive').length") >= 3
    assert watched_marker_painted(page, tmp_path / "now.png")
    page.idle(1.5)  # one more refresh: markers are moved, not duplicated
    assert page.evaluate("document.querySelectorAll('path.fw-aircraft').length") == 2
    assert page.errors == []


def test_alerts_page_lists_the_newest_first_and_filters(site: Site, page: Page) -> None:
    alerts = requests.get(site.url + "/api/alerts", timeout=10).json()
    page.open(site.url + "/alerts")
    rows = page.wait_for("[...document.querySelectorAll('tr.fw-alert')]"
                         ".map(r => [...r.cells].map(c => c.textContent))")
    assert len(rows) == len(alerts)
    assert [r[1] for r in rows] == [a["kind"] for a in reversed(alerts)]
    xss_rows = [r for r in rows if XSS_ICAO in r[2]]
    assert xss_rows and all(r[3] == XSS for r in xss_rows)
    assert page.evaluate(NO_INJECTED_IMAGE) == 0

    page.open(site.url + "/alerts?kind=landed&aircraft=RA-96016")
    rows = page.wait_for("[...document.querySelectorAll('tr.fw-alert')]"
                         ".map(r => [...r.cells].map(c => c.textContent))")
    assert [(r[1], r[2], r[5], r[9], r[10]) for r in rows] == [
        ("landed", f"RA-96016 · {WATCHED}", "UMMS", "observed", "live")]
    assert page.evaluate("document.querySelector('select[name=kind]').value") == "landed"
    link = page.evaluate("document.querySelector('tr.fw-alert a').getAttribute('href')")
    assert link.startswith(f"/aircraft?icao={WATCHED}&since=2020-08-19T08%3A14")
    assert page.errors == []


def test_aircraft_page_draws_the_track_with_a_time_slider_and_flights(
    site: Site, page: Page, tmp_path: Path,
) -> None:
    history = requests.get(site.url + "/api/history", params={"icao": WATCHED},
                           timeout=10).json()
    page.open(site.url + "/aircraft?aircraft=RA-96016&since=2020-08-19&until=2020-08-20")
    page.wait_for("document.querySelectorAll('tr.fw-flight').length")
    assert page.evaluate("document.querySelectorAll('path.fw-track').length") >= 1
    assert page.evaluate("Number(document.getElementById('slider').max)") == len(history) - 1
    first = page.evaluate("document.getElementById('moment').textContent")
    assert first.startswith("2020-08-19 09:40:05 UTC · RSD016")
    page.evaluate("var s = document.getElementById('slider'); s.value = s.max;"
                  "s.dispatchEvent(new Event('input'))")
    last = page.evaluate("document.getElementById('moment').textContent")
    assert last.startswith(history[-1]["time"][:19].replace("T", " "))
    flight = page.evaluate("[...document.querySelector('tr.fw-flight').cells]"
                           ".map(c => c.textContent)")
    assert flight[0] == "RSD016" and flight[3] == "UMMS" and flight[8].startswith("belarus ")
    links = page.evaluate("[...document.querySelectorAll('#downloads a')]"
                          ".map(a => a.getAttribute('href'))")
    assert "/api/history?registration=RA-96016&since=2020-08-19&until=2020-08-20&format=kml" \
        in links
    for link in links:
        assert requests.get(site.url + link, timeout=10).status_code == 200
    page.screenshot(tmp_path / "aircraft.png")
    assert page.errors == []


def test_borders_are_drawn_when_there_are_no_tiles(site: Site, page: Page) -> None:
    page.open(site.url + f"/aircraft?icao={WATCHED}")
    assert page.wait_for("document.querySelectorAll('path.fw-border').length") == 6
    assert page.evaluate("document.querySelectorAll('.leaflet-tile').length") == 0
    assert page.errors == []


def test_the_pages_show_invisible_characters_as_the_terminal_does(
        site: Site, page: Page) -> None:
    """decoder/safe_text.py's table reaches the pages through /api/settings: a zero-width
    space in a callsign shows as \\u200b, as in the terminal and the mail, and every range
    the table escapes, at both ends, is written the same way."""
    from flightwatch.decoder.safe_text import HIDDEN, printable

    samples = ["RSD\u200b016", "\u202eRA-123", "RA\U000e0041\U000e0042", "A\x1bB\tC\x9b",
               "Ил-96 «Россия»", *(chr(first) + "|" + chr(last) for first, last in HIDDEN)]
    page.open(site.url + "/")
    page.wait_for("document.querySelectorAll('path.fw-aircraft').length")  # settings read
    shown = page.evaluate(f"{json.dumps(samples)}.map(fw.shown)")
    assert shown[:5] == ["RSD\\u200b016", "\\u202eRA-123", "RA\\U000e0041\\U000e0042",
                         "A\\x1bB\\tC\\x9b", "Ил-96 «Россия»"]
    assert shown == [printable(text) for text in samples]
    assert page.errors == []
