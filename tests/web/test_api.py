"""The JSON API against a database filled by replaying captures: the same answers as
the CLI's JSON output (and the same files as its exports), read-only, strict headers."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from cli.cli_helpers import run
from site_helpers import OTHER_ICAO, WATCHED, XSS, XSS_ICAO, Site

JSON_QUERIES = [
    ("history", {"icao": WATCHED}, ["--icao", WATCHED]),
    ("history", {"registration": "RA-96016", "since": "2020-08-19T10:00:00Z"},
     ["--registration", "RA-96016", "--since", "2020-08-19T10:00:00Z"]),
    ("history", {"icao": WATCHED, "geofence": "belarus"}, ["--icao", WATCHED,
                                                           "--geofence", "belarus"]),
    ("history", {"callsign": "RSD*"}, ["--callsign", "RSD*"]),
    ("alerts", {}, []),
    ("alerts", {"icao": WATCHED, "kind": "landed"}, ["--icao", WATCHED, "--kind", "landed"]),
    ("flights", {}, []),
    ("flights", {"geofence": "belarus", "until": "2020-08-20"},
     ["--geofence", "belarus", "--until", "2020-08-20"]),
]


def cli_lines(capsys: pytest.CaptureFixture[str], site: Site, *argv: str) -> list[Any]:
    code, out, err = run(capsys, *argv, "--config", str(site.config))
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.parametrize(("endpoint", "params", "options"), JSON_QUERIES)
def test_json_answers_are_the_cli_json_output(
    site: Site, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    endpoint: str, params: dict[str, str], options: list[str],
) -> None:
    monkeypatch.chdir(site.config.parent)
    expected = cli_lines(capsys, site, endpoint, *options, "--format", "json")
    answer = requests.get(f"{site.url}/api/{endpoint}", params=params, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == expected
    assert expected, "a query that finds nothing proves little"


@pytest.mark.parametrize(("endpoint", "fmt"), [
    ("history", "csv"), ("history", "geojson"), ("history", "kml"),
    ("flights", "csv"), ("flights", "geojson"), ("flights", "kml"), ("alerts", "csv"),
])
def test_downloads_are_the_cli_exports(
    site: Site, capsys: pytest.CaptureFixture[str], endpoint: str, fmt: str,
) -> None:
    selection = ["--icao", WATCHED] if endpoint != "alerts" else []
    code, expected, err = run(capsys, endpoint, *selection, "--format", fmt,
                              "--config", str(site.config))
    assert code == 0, err
    params = {"format": fmt, "icao": WATCHED} if endpoint != "alerts" else {"format": fmt}
    answer = requests.get(f"{site.url}/api/{endpoint}", params=params, timeout=30)
    assert answer.status_code == 200
    assert answer.text == expected
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="flightwatch-{endpoint}.{fmt}"')


def test_live_aircraft_from_the_database_with_who_they_are(site: Site) -> None:
    planes = requests.get(f"{site.url}/api/aircraft", timeout=10).json()
    by_icao = {p["icao"]: p for p in planes}
    assert set(by_icao) == {XSS_ICAO, OTHER_ICAO}  # the demo's aircraft are years old
    watched = by_icao[XSS_ICAO]
    assert watched["watched"] is True and watched["matched_by"] == "icao"
    assert (watched["registration"], watched["operator"]) == ("RA-01881", "Moscow Government")
    assert watched["callsign"] == XSS  # data, untouched: pages render it as text
    assert by_icao[OTHER_ICAO]["watched"] is False
    assert planes[0]["icao"] == XSS_ICAO  # watched first
    assert watched["lon"] == pytest.approx(27.40 + 55 / 600, abs=1e-4)  # its latest position


def test_alerts_filters_and_limit(site: Site) -> None:
    def get(**params: str) -> list[dict[str, Any]]:
        answer = requests.get(f"{site.url}/api/alerts", params=params, timeout=10)
        assert answer.status_code == 200, answer.text
        return list(answer.json())

    everything = get()
    assert {a["geofence"] for a in everything} == {"belarus"}
    assert get(geofence="belarus") == everything
    assert get(registration="RA-96016") == [a for a in everything if a["icao"] == WATCHED]
    assert get(registration="XX-00000") == []
    assert get(limit="1") == everything[-1:]  # the newest
    assert [a["callsign"] for a in get(icao=XSS_ICAO)] and all(
        a["callsign"] == XSS for a in get(icao=XSS_ICAO))


@pytest.mark.parametrize(("path", "reason"), [
    ("/api/history", "name the aircraft"),
    ("/api/history?icao=XYZ", "not a 24-bit ICAO address"),
    ("/api/history?icao=157710&since=yesterday", "since"),
    ("/api/history?icao=157710&format=xlsx", "format"),
    ("/api/alerts?kind=crash", "kind"),
    ("/api/alerts?limit=0", "limit"),
    ("/api/flights?geofence=mars", "no such geofence"),
])
def test_bad_parameters_answer_400_with_the_reason(site: Site, path: str, reason: str) -> None:
    answer = requests.get(site.url + path, timeout=10)
    assert answer.status_code == 400
    assert reason in answer.json()["error"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["/api/alerts", "/api/aircraft", "/", "/static/now.js"])
def test_nothing_writes(site: Site, method: str, path: str) -> None:
    answer = requests.request(method, site.url + path, data=b"{}", timeout=10)
    assert answer.status_code == 405


@pytest.mark.parametrize("path", ["/", "/alerts", "/aircraft", "/api/aircraft",
                                  "/static/common.js", "/leaflet/leaflet.js"])
def test_every_answer_carries_a_strict_policy(site: Site, path: str) -> None:
    answer = requests.get(site.url + path, timeout=10)
    assert answer.status_code == 200
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe" not in policy
    assert "frame-ancestors 'none'" in policy
    assert answer.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/", "/alerts", "/aircraft"])
def test_pages_load_nothing_from_elsewhere(site: Site, path: str) -> None:
    page = requests.get(site.url + path, timeout=10).text
    assert "http" not in page and "//" not in page.replace("<!--", "")


def test_nothing_found_is_an_empty_array(site: Site) -> None:
    for path in ("/api/history?icao=000001", "/api/flights?icao=000001",
                 "/api/alerts?icao=000001", "/api/history?registration=XX-00000"):
        answer = requests.get(site.url + path, timeout=10)
        assert (answer.status_code, answer.json()) == (200, [])
