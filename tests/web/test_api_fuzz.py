"""Whatever a client puts in the query, the API answers 200, or 400 with the reason, never
500 (a traceback in the log): fuzzed with Hypothesis against a real ``flightwatch serve``
over the demo database, plus the requests that once answered 500."""

from __future__ import annotations

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from site_helpers import WATCHED, Site

ENDPOINTS = ["aircraft", "alerts", "history", "flights", "fences", "settings"]
NAMES = ["icao", "registration", "callsign", "since", "until", "geofence", "kind", "limit",
         "format", "airport", "watched", "page"]

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
durations = st.builds(lambda n, unit: f"{n}{unit}", st.integers(0, 10**25),
                      st.sampled_from(["s", "m", "min", "h", "d", "w"]))
iso_times = st.builds(
    lambda day, minutes: f"{day.isoformat()}T00:00{'+' if minutes >= 0 else '-'}"
                         f"{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}",
    st.dates(), st.integers(-(24 * 60 - 1), 24 * 60 - 1))
known = st.sampled_from([WATCHED, "RA-96016", "RSD*", "belarus", "UMMS", "landed", "json",
                         "csv", "kml", "geojson", "1", "10000", "10001", "0", "-1", "²",
                         "\u0663", "1e3", "\x00", "%", "*", "157710,4ca9d4", "true"])
values = st.one_of(text, durations, iso_times, known,
                   st.text("0123456789", min_size=4300, max_size=5100))
queries = st.dictionaries(st.sampled_from(NAMES), values, max_size=4)


def answer_to(site: Site, endpoint: str, params: dict[str, str]) -> requests.Response:
    return requests.get(f"{site.url}/api/{endpoint}", params=params, timeout=60)


def assert_answered(answer: requests.Response) -> None:
    assert answer.status_code in (200, 400), (answer.status_code, answer.text[:300])
    if answer.status_code == 400:
        assert answer.json()["error"]


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(endpoint=st.sampled_from(ENDPOINTS), params=queries)
def test_any_query_is_answered_or_refused_with_a_reason(
        site: Site, endpoint: str, params: dict[str, str]) -> None:
    assert_answered(answer_to(site, endpoint, params))


@pytest.mark.parametrize(("endpoint", "params"), [
    ("alerts", {"since": "99999999d"}),
    ("history", {"icao": WATCHED, "since": "0001-01-01T00:00+23:59"}),
    ("flights", {"until": "9999-12-31T23:59-23:59"}),
    ("alerts", {"limit": "\u00b2"}),
    ("alerts", {"limit": "9" * 5001}),
    ("history", {"callsign": "RSD\x00"}),
    ("flights", {"airport": "UM\x00MS"}),
])
def test_what_once_answered_500_is_refused_with_a_reason(
        site: Site, endpoint: str, params: dict[str, str]) -> None:
    answer = answer_to(site, endpoint, params)
    assert answer.status_code == 400 and answer.json()["error"]
