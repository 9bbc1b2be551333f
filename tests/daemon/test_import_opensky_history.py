"""``flightwatch import --opensky-history`` against a local server speaking Trino's client
protocol (POST /v1/statement, then GET nextUri pages until FINISHED) and a local
OAuth2 token endpoint. The server answers with the state vectors of known tracks,
typed as Trino sends them, filtered by the SQL it receives; it never calls OpenSky."""

from __future__ import annotations

import itertools
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from test_import import (
    FLIGHTS,
    START,
    UNWATCHED,
    WATCHED,
    assert_imported,
    positions,
    query,
    stored,
)
from werkzeug import Request, Response

from flightwatch.cli import main
from flightwatch.collector.opensky_history import SOURCE
from flightwatch.daemon.importer import ImportSummary, import_opensky_history
from flightwatch.settings import load_settings
from tools.history_writer import (
    OPENSKY_COLUMNS,
    OPENSKY_TYPES,
    opensky_csv,
    opensky_typed_columns,
)
from tools.simulate import Flight

pytest.importorskip("trino")

PASSWORD = "s3cret-Pa55word"  # must never reach a log line or a message
TOKEN = "eyJ.test-access-token.sig"
SINCE = datetime(2020, 8, 18, tzinfo=UTC)
UNTIL = datetime(2020, 8, 20, tzinfo=UTC)
PAGE_ROWS = 120  # rows per protocol page the server sends
_TRINO_TYPES = {"int64": "bigint", "string": "varchar", "bool": "boolean", "float64": "double"}
_TYPES = {name: _TRINO_TYPES[kind] for name, kind in OPENSKY_TYPES.items()}
_WINDOW = re.compile(r"time >= (\d+) AND time < (\d+)")
_HOURS = re.compile(r"hour >= (\d+) AND hour < (\d+)")
_AIRCRAFT = re.compile(r"icao24 IN \(([^)]*)\)")


def trino_rows(flights: tuple[Flight, ...]) -> list[list[Any]]:
    """The known tracks' state vectors as Trino's JSON rows (numbers, booleans, text)."""
    columns = opensky_typed_columns(opensky_csv(flights))
    return [list(row) for row in zip(*columns.values(), strict=True)]


def day_before(rows: list[list[Any]]) -> list[list[Any]]:
    """The same flights a day earlier (every time column moved back)."""
    times = [OPENSKY_COLUMNS.index(n) for n in ("time", "lastposupdate", "lastcontact")]
    return [[v - 86400 if i in times else v for i, v in enumerate(row)] for row in rows]


ROWS = day_before(trino_rows(FLIGHTS)) + trino_rows(FLIGHTS)
_UNBOUNDED = [{"kind": "LONG", "value": 2147483647}]  # varchar's length, as Trino sends it
COLUMNS = [{"name": name, "type": kind,
            "typeSignature": {"rawType": kind,
                              "arguments": _UNBOUNDED if kind == "varchar" else []}}
           for name, kind in _TYPES.items()]


@dataclass
class FakeTrino:
    """Trino's coordinator as its client sees it, with faults to inject."""

    server: HTTPServer
    statements: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    pages: dict[str, list[list[list[Any]]]] = field(default_factory=dict)
    fail_page: Callable[[str, int], int | None] = lambda _query, _page: None
    refuse_tokens: bool = False  # Trino answers 401 whatever the token
    token_requests: list[dict[str, str]] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=itertools.count)

    def install(self) -> None:
        self.server.expect_request("/token", method="POST").respond_with_handler(self.token)
        self.server.expect_request("/v1/statement", method="POST").respond_with_handler(
            self.statement)
        self.server.expect_request(re.compile(r"^/v1/statement/executing/.*"),
                                   method="GET").respond_with_handler(self.page)
        self.server.expect_request(re.compile(r"^/v1/statement/.*"),
                                   method="DELETE").respond_with_data("", status=204)

    def token(self, request: Request) -> Response:
        form = dict(request.form)
        self.token_requests.append(form)
        if form != {"grant_type": "password", "client_id": "trino-client",
                    "username": "researcher", "password": PASSWORD}:
            return Response('{"error":"invalid_grant"}', status=401)
        return _json({"access_token": TOKEN, "expires_in": 300, "token_type": "Bearer"})

    def statement(self, request: Request) -> Response:
        sql = request.get_data(as_text=True)
        self.statements.append(sql)
        self.headers.append(dict(request.headers))
        if self.refuse_tokens or request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return Response("Unauthorized", status=401)
        first, stop = map(int, _WINDOW.search(sql).groups())  # type: ignore[union-attr]
        wanted = set(re.findall(r"'([0-9a-f]{6})'", _AIRCRAFT.search(sql).group(1)))  # type: ignore[union-attr]
        rows = [r for r in ROWS if first <= r[0] < stop and r[1] in wanted]
        query_id = f"q{next(self._ids)}"
        self.pages[query_id] = [rows[i:i + PAGE_ROWS] for i in range(0, len(rows), PAGE_ROWS)]
        return _json({"id": query_id, "infoUri": self.server.url_for(f"/ui/{query_id}"),
                      "nextUri": self._next(query_id, 0), "stats": {"state": "QUEUED"}})

    def page(self, request: Request) -> Response:
        _, query_id, number = request.path.rsplit("/", 2)
        index = int(number)
        status = self.fail_page(query_id, index)
        if status is not None:
            return Response("coordinator trouble", status=status)
        pages = self.pages[query_id]
        body: dict[str, Any] = {"id": query_id, "infoUri": self.server.url_for("/ui"),
                                "columns": COLUMNS, "stats": {"state": "RUNNING"}}
        if index < len(pages):
            body["data"] = pages[index]
            body["nextUri"] = self._next(query_id, index + 1)
        else:
            body["stats"] = {"state": "FINISHED"}
        return _json(body)

    def _next(self, query_id: str, index: int) -> str:
        return self.server.url_for(f"/v1/statement/executing/{query_id}/{index}")


def _json(body: object) -> Response:
    return Response(json.dumps(body), content_type="application/json")


@pytest.fixture
def trino(httpserver: HTTPServer) -> FakeTrino:
    fake = FakeTrino(httpserver)
    fake.install()
    return fake


def config_for(folder: Path, server: HTTPServer) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "flightwatch.toml"
    path.write_text(
        '[database]\nurl = "sqlite:///fw.db"\nbatch_seconds = "1s"\n'
        '[alerts]\noutbox_dir = "mail"\n'
        f'[opensky_history]\nhost = "127.0.0.1"\nport = {server.port}\nhttp_scheme = "http"\n'
        f'token_url = "{server.url_for("/token")}"\nusername = "researcher"\n'
        "page_rows = 50\n",
        encoding="utf-8")
    return path


def run_history(config: Path, password: str = PASSWORD, **options: Any) -> ImportSummary:
    options.setdefault("since", SINCE)
    options.setdefault("until", UNTIL)
    return import_opensky_history(load_settings(config), [WATCHED, UNWATCHED.lower()],
                                  env={"OPENSKY_PASSWORD": password}, **options)


def test_two_days_asked_a_day_at_a_time(trino: FakeTrino, tmp_path: Path,
                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    config = config_for(tmp_path / "a", trino.server)
    summary = run_history(config)
    assert summary.members == 2 and not summary.bad and summary.malformed == 0
    assert summary.aircraft == 2 and "2 day(s) imported" in summary.render()
    # the SQL: needed columns only, hour partitions and times bounded, the aircraft, in order
    day = int(SINCE.timestamp())
    for sql, start in zip(trino.statements, (day, day + 86400), strict=True):
        assert sql.startswith(f"SELECT {', '.join(OPENSKY_COLUMNS)} FROM state_vectors_data4 ")
        assert _HOURS.search(sql).groups() == (str(start), str(start + 86400))  # type: ignore[union-attr]
        assert _WINDOW.search(sql).groups() == (str(start), str(start + 86400))  # type: ignore[union-attr]
        assert f"icao24 IN ('{WATCHED}', '{UNWATCHED.lower()}')" in sql
        assert sql.endswith("ORDER BY time")
    headers = trino.headers[0]
    assert headers["X-Trino-Catalog"] == "minio" and headers["X-Trino-Schema"] == "osky"
    assert headers["X-Trino-User"] == "researcher"
    assert len(trino.token_requests) == 1  # the token is reused while it is valid
    # both days' flights and alerts, the second day's exactly as the CSV import checks them
    flights = query(config, "SELECT icao, first_seen, arrival_airport FROM flights "
                            "ORDER BY first_seen")
    assert len(flights) == 4 and [f[2] for f in flights if f[0] == WATCHED] == ["UMMS"] * 2
    alerts = query(config, "SELECT kind, retrospective FROM alerts")
    assert sorted(alerts) == sorted([("approaching", 1), ("enter", 1), ("landed", 1)] * 2)
    assert {name for (name,) in query(config, "SELECT name FROM sources")} == {SOURCE}
    assert PASSWORD not in caplog.text and PASSWORD not in summary.render()
    # idempotent: both days are recorded, nothing is asked again
    again = run_history(config)
    assert again.already_imported == 2 and again.members == 0 and len(trino.statements) == 2


def test_one_day_stores_what_the_csv_import_checks(trino: FakeTrino, tmp_path: Path) -> None:
    config = config_for(tmp_path / "a", trino.server)
    day = START.replace(hour=0, minute=0)
    summary = run_history(config, since=day, until=day + timedelta(days=1))
    assert summary.members == 1
    assert_imported(config, SOURCE)


def test_a_refused_token_is_a_clear_error(trino: FakeTrino, tmp_path: Path,
                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    config = config_for(tmp_path / "a", trino.server)
    summary = run_history(config, password="wrong")
    assert summary.members == 0 and len(summary.bad) == 1
    assert "refused the credentials" in summary.bad[0] and "OPENSKY_PASSWORD" in summary.bad[0]
    assert trino.statements == []


def test_trino_401_is_a_clear_error_and_the_cli_fails(
    trino: FakeTrino, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = config_for(tmp_path / "a", trino.server)
    trino.refuse_tokens = True
    monkeypatch.setenv("OPENSKY_PASSWORD", PASSWORD)
    code = main(["import", "--opensky-history", "--icao", WATCHED, "--since", "2020-08-19",
                 "--until", "2020-08-20", "--no-progress", "--config", str(config)])
    out = capsys.readouterr()
    assert code == 1
    assert "refused researcher's token (error 401)" in out.out
    assert "historical database" in out.out and PASSWORD not in out.out + out.err


def test_a_503_mid_pagination_is_retried(trino: FakeTrino, tmp_path: Path) -> None:
    failed: set[tuple[str, int]] = set()

    def once(query_id: str, page: int) -> int | None:
        if page == 2 and (query_id, page) not in failed:
            failed.add((query_id, page))
            return 503
        return None

    trino.fail_page = once
    config = config_for(tmp_path / "a", trino.server)
    summary = run_history(config)
    assert failed and summary.members == 2 and not summary.bad
    clean = config_for(tmp_path / "clean", trino.server)
    trino.fail_page = lambda _q, _p: None
    run_history(clean)
    assert stored(config) == stored(clean)


def test_a_500_mid_pagination_loses_nothing_and_resumes(trino: FakeTrino,
                                                        tmp_path: Path) -> None:
    trino.fail_page = lambda query_id, page: 500 if (query_id, page) == ("q1", 3) else None
    config = config_for(tmp_path / "a", trino.server)
    summary = run_history(config)
    assert summary.members == 1 and len(summary.bad) == 1
    assert "failed or stopped answering (error 500" in summary.bad[0]
    assert "run the same command again" in summary.bad[0]
    first_day = len(positions(config))
    assert first_day > 100
    resumed = run_history(config)  # the server is fine again for q2
    assert resumed.already_imported == 1 and resumed.members == 1 and not resumed.bad
    clean = config_for(tmp_path / "clean", trino.server)
    run_history(clean)
    got, want = stored(config), stored(clean)
    assert {k: v for k, v in got.items() if k != "fences"} == (
        {k: v for k, v in want.items() if k != "fences"})
    # The re-read day continues the flight the failed run had stored (as a restarted
    # daemon does): its time in the fence may miss the one 10 s interval at the join.
    for (icao, seconds), (icao_clean, seconds_clean) in zip(
            got["fences"], want["fences"], strict=True):
        assert icao == icao_clean and 0 <= seconds_clean - seconds <= 10


def test_the_cli_needs_a_window_and_aircraft() -> None:
    assert main(["import", "--opensky-history", "--icao", WATCHED]) == 2
    assert main(["import", "--opensky-history", "--since", "2020-08-19",
                 "--until", "2020-08-20"]) == 2
    assert main(["import", "--icao", WATCHED, "x.csv"]) == 2


def test_watched_asks_for_the_watchlist(trino: FakeTrino, tmp_path: Path) -> None:
    config = config_for(tmp_path / "a", trino.server)
    day = START.replace(hour=0, minute=0)
    summary = import_opensky_history(
        load_settings(config), [], watched=True, since=day, until=day + timedelta(days=1),
        env={"OPENSKY_PASSWORD": PASSWORD})
    assert summary.members == 1 and not summary.bad
    (sql,) = trino.statements
    assert f"'{WATCHED}'" in sql and f"'{UNWATCHED.lower()}'" not in sql  # not on the list
    assert sql.count("'") // 2 > 100  # the bundled watchlist's aircraft
    icaos = {f"{row[0]:06X}" for row in positions(config)}
    assert icaos == {WATCHED}
