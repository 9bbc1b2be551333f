"""Callsigns and registrations with control characters, ANSI escapes, CR/LF or HTML are
stored as received (cut, with a marker, where longer than their column), on SQLite and
PostgreSQL alike, and shown safely: in the terminal table, CSV, KML, the mail (a real
SMTP server), the log line, the webhook (a real HTTP server) and the map (a real
headless Chromium).

The hostile texts reach the database the way an attacker's would: an aircraft.json
answer read by the aggregator source and fed through the pipeline.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from integration.daemon_helpers import SmtpSink, free_port
from pytest_httpserver import HTTPServer
from sqlalchemy import create_engine, text

from flightwatch.alerts.notify import EmailNotifier, PhoneFormat, SmtpSettings
from flightwatch.alerts.notify.chat import AppriseNotifier
from flightwatch.alerts.notify.log import log_alert
from flightwatch.alerts.notify.webhook import WebhookNotifier
from flightwatch.cli import main
from flightwatch.collector.aggregators.aircraft_json import AircraftJsonSource
from flightwatch.daemon.pipeline import build_pipeline
from flightwatch.db import close, connect
from flightwatch.db.alert_record import Alert
from flightwatch.db.queries import HistoryRow
from flightwatch.decoder import csv_text, printable, xml_text
from flightwatch.output.map import render_map
from flightwatch.settings import load_settings

ANSI = "\x1b[2J\x1b[31mPWN"  # clears the screen, turns it red
CRLF = "AB\r\nBcc: x@evil"  # a header, or a log line, of its own
FORMULA = "=HYPERLINK(1)"
HTML = "</script><img id=pwned src=x onerror=alert(1)><!--<script>"
BIDI = "\u202eRA-123"  # shows reversed
ZERO_WIDTH = "RSD\u200b016"  # passes for RSD016, a watched callsign
TAGS = "RA\U000e0041\U000e0042"  # Unicode tag characters: invisible text after RA
CALLSIGNS = {"4B1801": ANSI, "4B1802": CRLF, "4B1803": FORMULA, "4B1804": HTML,
             "4B1805": BIDI, "4B1806": ZERO_WIDTH, "4B1807": TAGS}


def test_printable_neutralises_controls_and_keeps_text() -> None:
    assert printable(ANSI) == "\\x1b[2J\\x1b[31mPWN"
    assert printable(CRLF) == "AB\\r\\nBcc: x@evil"
    assert printable("\x00\x07\x7f\x9b") == "\\x00\\x07\\x7f\\x9b"
    assert printable(BIDI) == "\\u202eRA-123"
    assert printable(ZERO_WIDTH) == "RSD\\u200b016"
    assert printable(TAGS) == "RA\\U000e0041\\U000e0042"
    assert printable("A\u2060B\ufeffC\u00adD\u180eE\ufe0fF") == (
        "A\\u2060B\\ufeffC\\xadD\\u180eE\\ufe0fF")
    assert printable("RA-96016 Ил-96 «Россия»") == "RA-96016 Ил-96 «Россия»"
    assert csv_text(FORMULA) == "'=HYPERLINK(1)"
    assert [csv_text(t) for t in ("+1", "-1", "@SUM(A1)", "SWR123")] == [
        "'+1", "'-1", "'@SUM(A1)", "SWR123"]
    assert xml_text('<a b="c">&\x0c') == "&lt;a b=&quot;c&quot;&gt;&amp;\\x0c"


def fitted(text: str, length: int) -> str:
    """What a column of ``length`` characters keeps: longer text cut to length - 1 and a
    marker (an 8-character callsign column on both backends)."""
    return text if len(text) <= length else text[:length - 1] + "\u2026"


#: The callsigns as the database holds them, and so as history shows them.
STORED = {icao: fitted(callsign.strip(), 8) for icao, callsign in CALLSIGNS.items()}


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Path:
    """A database holding one position of each hostile callsign, stored via an aggregator
    (SQLite and PostgreSQL in turn)."""
    folder = tmp_path_factory.mktemp("shown")
    now = time.time()
    answer = folder / "aircraft.json"
    answer.write_text(json.dumps({"now": now, "aircraft": [
        {"hex": icao.lower(), "flight": callsign, "r": callsign[:10], "lat": 53.9, "lon": 27.6,
         "alt_baro": 30000, "seen_pos": 0.5}
        for icao, callsign in CALLSIGNS.items()]}), encoding="utf-8")
    config = folder / "fw.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n', encoding="utf-8")
    settings = load_settings(config, env={})
    engine = connect(settings.database_url)
    pipeline = build_pipeline(settings, engine)
    for observation in AircraftJsonSource(path=answer).poll():
        pipeline.feed(observation)
    assert pipeline.close()
    close(engine)
    return config


def history(config: Path, fmt: str, capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("FLIGHTWATCH_DATABASE_URL", raising=False)
    capsys.readouterr()
    assert main(["history", "--config", str(config), "--format", fmt]) == 0
    return capsys.readouterr().out


def test_stored_as_received_where_it_fits(hostile_db: Path) -> None:
    url = load_settings(hostile_db, env={}).database_url
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT icao, callsign, registration FROM aircraft")).all()
    engine.dispose()
    # Stripped of surrounding blanks at the edge; cut (with a marker) only where the
    # column is shorter: 8 characters for a callsign, 16 for a registration.
    assert {icao: (callsign, registration) for icao, callsign, registration in stored} == {
        icao: (STORED[icao], fitted(callsign[:10].strip(), 16))
        for icao, callsign in CALLSIGNS.items()}


def test_terminal_table_shows_escapes_not_controls(
        hostile_db: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    out = history(hostile_db, "table", capsys, monkeypatch)
    assert not any(ch in out for ch in "\x1b\r\u202e")
    assert out.count("\n") == len(CALLSIGNS) + 1  # a header and one line per position
    assert "\\x1b[2J\\x1b[3\u2026" in out and "AB\\r\\nBcc\u2026" in out
    assert "RSD\\u200b016" in out and "RA\\U000e0041\\U000e0042" in out
    assert "\u200b" not in out and "\U000e0041" not in out


def test_csv_runs_no_formula_and_holds_no_control(
        hostile_db: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    rows = list(csv.DictReader(io.StringIO(history(hostile_db, "csv", capsys, monkeypatch))))
    callsigns = {row["icao"]: row["callsign"] for row in rows}
    assert callsigns["4B1803"] == "'=HYPERL\u2026"
    assert callsigns["4B1801"] == "\\x1b[2J\\x1b[3\u2026"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows
               for key, cell in row.items() if key == "callsign")


def test_kml_is_well_formed_xml_with_the_text_in_it(
        hostile_db: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    root = ET.fromstring(history(hostile_db, "kml", capsys, monkeypatch))
    names = [e.text for e in root.iter("{http://www.opengis.net/kml/2.2}name")]
    assert f"4B1804 {STORED['4B1804']}" in names  # markup is text, not elements
    assert "4B1801 \\x1b[2J\\x1b[3\u2026" in names


def test_json_keeps_the_text_as_stored_and_escaped(
        hostile_db: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    out = history(hostile_db, "json", capsys, monkeypatch)
    assert "\x1b" not in out and "\r" not in out  # JSON escapes control characters
    assert {json.loads(line)["callsign"] for line in out.splitlines()} == set(STORED.values())


def hostile_alert() -> Alert:
    return Alert(time=datetime(2024, 5, 1, 9, 0, tzinfo=UTC), icao="4B1802", kind="enter",
                 registration=CRLF, callsign=ANSI, geofence="belarus", lat=53.9, lon=27.6,
                 details={"aircraft_type": "A320\r\nX-Injected: yes", "operator": HTML})


def test_mail_headers_cannot_be_injected_and_the_mail_goes_out() -> None:
    port = free_port()
    with SmtpSink(port) as sink:
        EmailNotifier(SmtpSettings(host="127.0.0.1", port=port, sender="fw@pi.example",
                                   recipients=("me@example.org",), timeout=5)
                      ).send(hostile_alert())
    (message,) = sink.messages
    assert set(message.keys()) == {"Subject", "From", "To", "Date", "Message-ID",
                                   "Content-Type", "Content-Transfer-Encoding", "MIME-Version"}
    assert message["Subject"].startswith("[flightwatch] AB\\r\\nBcc: x@evil A320\\r\\nX-Injected")
    body = message.get_content()
    assert "\x1b" not in body and "Callsign:      \\x1b[2J\\x1b[31mPWN" in body


def test_the_log_line_stays_one_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        log_alert(hostile_alert())
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ALERT")]
    assert "\n" not in line and "\r" not in line and "\x1b" not in line


def test_webhook_payload_is_json_with_the_text_as_received(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    WebhookNotifier(httpserver.url_for("/hook")).send(hostile_alert())
    (request, _response) = httpserver.log[0]
    assert b"\x1b" not in request.data and b"\r" not in request.data
    payload = json.loads(request.data)
    assert (payload["registration"], payload["callsign"]) == (CRLF, ANSI)
    assert payload["details"]["operator"] == HTML


def test_chat_text_has_no_control_characters(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/chat", method="POST").respond_with_data("ok")
    AppriseNotifier("apprise:json", f"json://127.0.0.1:{httpserver.port}/chat",
                    PhoneFormat()).send(hostile_alert())
    (request, _response) = httpserver.log[0]
    message = json.loads(request.data)
    text = message["title"] + message["message"]
    assert "\x1b" not in text and "\r" not in text
    assert "AB\\r\\nBcc: x@evil" in text


def test_map_draws_and_runs_no_markup_from_a_callsign(
        tmp_path: Path, executable: Callable[[str, str], str]) -> None:
    chromium = executable("chromium", "chromium")
    when = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    positions = [HistoryRow(icao, when.replace(second=i), 53.9 + i / 100, 27.6 + i / 100,
                            30000, None, None, None, callsign, False, "x")
                 for icao, callsign in CALLSIGNS.items() for i in range(3)]
    page = tmp_path / "map.html"
    page.write_text(render_map(positions, alerts=[hostile_alert()], title=HTML),
                    encoding="utf-8")
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={tmp_path / 'profile'}",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=90, check=True).stdout
    assert 'id="pwned"' not in dom  # no element made from a callsign
    assert dom.count("leaflet-interactive") >= len(CALLSIGNS)  # every track was drawn


def test_invisible_characters_show_in_the_mail_and_the_log_line(
        caplog: pytest.LogCaptureFixture) -> None:
    alert = replace(hostile_alert(), registration="RA-96\u200b016", callsign=ZERO_WIDTH,
                    details={"aircraft_type": "Il-96\U000e0041"})
    port = free_port()
    with SmtpSink(port) as sink:
        EmailNotifier(SmtpSettings(host="127.0.0.1", port=port, sender="fw@pi.example",
                                   recipients=("me@example.org",), timeout=5)).send(alert)
    (message,) = sink.messages
    assert message["Subject"].startswith("[flightwatch] RA-96\\u200b016 Il-96\\U000e0041")
    assert "Callsign:      RSD\\u200b016" in message.get_content()
    with caplog.at_level(logging.INFO):
        log_alert(alert)
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ALERT")]
    assert "RA-96\\u200b016 (4B1802)" in line and "\u200b" not in line
