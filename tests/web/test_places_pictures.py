"""Places, alert pictures and the evidence report on the site, in a real headless Chromium
against ``flightwatch serve`` on the replayed demo: what is drawn and credited, that the
pictures are the stored PNGs, and that text from the air stays text in the report."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import requests
from browser import Page
from PIL import Image
from site_helpers import WATCHED, XSS, Site

CREDITS = "document.querySelector('.leaflet-control-attribution').textContent"
NO_INJECTED_IMAGE = "document.querySelectorAll('img[src=\"x\"], img[src$=\"/x\"]').length"


def _stored_pictures(site: Site) -> dict[int, bytes]:
    with sqlite3.connect(site.config.parent / "fw.db") as db:
        return dict(db.execute("SELECT alert_id, png FROM alert_pictures"))


def test_the_now_page_names_towns_airports_and_the_receiver(site: Site, page: Page) -> None:
    page.open(site.url + "/")
    page.wait_for("document.querySelectorAll('path.fw-town').length > 5")
    labels = page.evaluate("[...document.querySelectorAll('.leaflet-tooltip')]"
                           ".map(t => t.textContent)")
    assert "Minsk" in labels and "UMMS" in labels and "receiver demo" in labels
    credits = page.evaluate(CREDITS)
    assert "Places: GeoNames (CC BY 4.0)" in credits and "Airports: OurAirports" in credits
    assert "OpenStreetMap" not in credits  # no tiles configured in the tests
    before = page.evaluate("document.querySelectorAll('path.fw-town').length")
    page.evaluate("document.querySelector('.leaflet-control-zoom-in').click()")
    page.wait_for(f"document.querySelectorAll('path.fw-town').length != {before}")
    assert page.errors == []


def test_places_answer_by_zoom_and_refuse_nonsense(site: Site) -> None:
    view = {"south": 53.0, "west": 26.0, "north": 55.0, "east": 30.0}
    country = requests.get(site.url + "/api/places", params={**view, "zoom": 6}, timeout=10)
    city = requests.get(site.url + "/api/places", params={**view, "zoom": 10}, timeout=10)
    assert country.status_code == city.status_code == 200
    few, many = country.json(), city.json()
    assert {t["name"] for t in few["towns"]} < {t["name"] for t in many["towns"]}
    assert "Minsk" in {t["name"] for t in few["towns"]}
    assert all(t["zoom"] <= 6 for t in few["towns"])
    assert "UMMS" in {a["code"] for a in few["airports"]}
    assert few["receiver"] == {"name": "demo", "lat": 53.888, "lon": 28.04}
    bad = requests.get(site.url + "/api/places", params={**view, "zoom": "x"}, timeout=10)
    assert bad.status_code == 400 and "zoom" in bad.json()["error"]


def test_each_alert_links_its_stored_picture(site: Site, page: Page) -> None:
    stored = _stored_pictures(site)
    assert stored, "the replay stored no picture"
    page.open(site.url + f"/alerts?aircraft={WATCHED}")
    links = page.wait_for("[...document.querySelectorAll('tr.fw-alert a.fw-picture')]"
                          ".map(a => a.getAttribute('href'))")
    assert links and all(link.endswith("/map.png") for link in links)
    for link in links:
        answer = requests.get(site.url + link, timeout=30)
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
        alert_id = int(link.split("/")[3])
        assert answer.content == stored[alert_id]
        assert Image.open(io.BytesIO(answer.content)).size == (800, 600)
    assert page.errors == []


def test_a_picture_is_drawn_from_stored_positions_when_none_was_kept(site: Site) -> None:
    """An alert from before pictures: drawn on request from its positions, not stored."""
    alerts = requests.get(site.url + "/api/alerts", params={"icao": WATCHED, "kind": "landed"},
                          timeout=10).json()
    alert_id = alerts[0]["id"]
    with sqlite3.connect(site.config.parent / "fw.db") as db:
        kept = db.execute("SELECT png FROM alert_pictures WHERE alert_id = ?",
                          (alert_id,)).fetchone()[0]
        db.execute("DELETE FROM alert_pictures WHERE alert_id = ?", (alert_id,))
    try:
        answer = requests.get(f"{site.url}/api/alerts/{alert_id}/map.png", timeout=30)
        assert answer.status_code == 200
        image = Image.open(io.BytesIO(answer.content))
        assert image.size == (800, 600) and answer.content != kept
        assert alert_id not in _stored_pictures(site)  # the site only reads
    finally:
        with sqlite3.connect(site.config.parent / "fw.db") as db:
            db.execute("INSERT INTO alert_pictures (alert_id, png) VALUES (?, ?)",
                       (alert_id, kept))
    missing = requests.get(f"{site.url}/api/alerts/999999/map.png", timeout=10)
    assert missing.status_code == 404


def test_the_report_from_the_aircraft_page_renders_with_text_kept_text(
    site: Site, page: Page, tmp_path: Path,
) -> None:
    page.open(site.url + "/aircraft?aircraft=RA-01881&since=1d")
    link = page.wait_for("document.querySelector('a.fw-report')?.getAttribute('href')")
    assert link.startswith("/api/report?registration=RA-01881")
    answer = requests.get(site.url + link, timeout=60)
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith("attachment; filename=")
    report = tmp_path / "report.html"
    report.write_bytes(answer.content)
    assert b"<script" not in answer.content and XSS.encode() not in answer.content
    page.open(report.as_uri())
    text = page.wait_for("document.body.innerText")
    assert XSS in text  # the callsign from the air, shown as the text it is
    assert page.evaluate(NO_INJECTED_IMAGE) == 0
    assert page.evaluate("document.querySelectorAll('img[src^=\"data:image/png\"]').length") \
        == 1  # one flight, its map inline
    assert page.evaluate("document.querySelectorAll('tbody tr').length") >= 2
    assert "Methods" in text and "first heard" in text
    assert page.errors == []


def test_the_report_as_json(site: Site) -> None:
    answer = requests.get(site.url + "/api/report", params={
        "registration": "RA-96016", "since": "2020-08-18", "until": "2020-08-27",
        "format": "json"}, timeout=60)
    assert answer.status_code == 200
    report = answer.json()
    kinds = [line["kind"] for line in report["timeline"]]
    assert kinds[0] == "first_heard" and "arrival" in kinds and kinds[-1] == "last_heard"
    [arrival] = [line for line in report["timeline"] if line["kind"] == "arrival"]
    assert arrival["grade"] == "observed" and arrival["figures"]["airport"] == "UMMS"
    nameless = requests.get(site.url + "/api/report", timeout=10)
    assert nameless.status_code == 400
