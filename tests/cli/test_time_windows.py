"""``--since``/``--until`` take a month and a day as well as ISO times and relative ones;
as ``--until`` a month or day means up to its end (issue 21: ``--since 2020-08`` was
"not a time")."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cli_helpers import DEMO_CONFIG, Demo, run

from flightwatch.timeparse import parse_time

NOW = datetime(2020, 8, 19, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "start", "end"), [
    ("2020-08", datetime(2020, 8, 1, tzinfo=UTC), datetime(2020, 9, 1, tzinfo=UTC)),
    ("2020-12", datetime(2020, 12, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC)),
    ("2020-08-19", datetime(2020, 8, 19, tzinfo=UTC), datetime(2020, 8, 20, tzinfo=UTC)),
    ("2020-02-29", datetime(2020, 2, 29, tzinfo=UTC), datetime(2020, 3, 1, tzinfo=UTC)),
    # a time of day is an instant, the same as start and as end
    ("2020-08-19T10:14Z", datetime(2020, 8, 19, 10, 14, tzinfo=UTC),
     datetime(2020, 8, 19, 10, 14, tzinfo=UTC)),
    ("2020-08-19T13:14+03:00", datetime(2020, 8, 19, 10, 14, tzinfo=UTC),
     datetime(2020, 8, 19, 10, 14, tzinfo=UTC)),
    ("2h", datetime(2020, 8, 19, 10, 0, tzinfo=UTC), datetime(2020, 8, 19, 10, 0, tzinfo=UTC)),
])
def test_periods_and_instants(text: str, start: datetime, end: datetime) -> None:
    assert parse_time(text, NOW) == start
    assert parse_time(text, NOW, end=True) == end


@pytest.mark.parametrize("text", ["2020-13", "2020-02-30", "August", "2020-8"])
def test_not_a_time_names_the_forms(text: str) -> None:
    with pytest.raises(ValueError, match=f"{text!r} is not a time"):
        parse_time(text, NOW)


def alert_kinds(capsys: pytest.CaptureFixture[str], *window: str) -> list[str]:
    code, out, err = run(capsys, "alerts", *window, "--format", "json", "--config", DEMO_CONFIG)
    assert code == 0, err
    return [json.loads(line)["kind"] for line in out.splitlines()]


# The demo's alerts: approaching 09:40, enter 09:47, landed 10:14 on 19 August 2020.
@pytest.mark.parametrize(("window", "kinds"), [
    (["--since", "2020-08", "--until", "2020-08"], ["approaching", "enter", "landed"]),
    (["--since", "2020-08-19", "--until", "2020-08-19"], ["approaching", "enter", "landed"]),
    (["--since", "2020-08-19T09:45Z", "--until", "2020-08-19"], ["enter", "landed"]),
    (["--until", "2020-08-18"], []),
    (["--since", "2020-08-20"], []),
    (["--since", "2020-07", "--until", "2020-07"], []),
])
def test_alerts_in_a_month_or_a_day_of_the_demo(
    in_demo: Demo, capsys: pytest.CaptureFixture[str], window: list[str], kinds: list[str]
) -> None:
    assert alert_kinds(capsys, *window) == kinds


def test_flights_and_history_take_the_same_forms(
    in_demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "flights", "--since", "2020-08", "--until", "2020-08",
                       "--format", "csv", "--config", DEMO_CONFIG)
    assert code == 0 and len(out.splitlines()) == 5  # the header and the demo's 4 flights
    code, out, _ = run(capsys, "history", "--registration", "RA-96016", "--since",
                       "2020-08-19", "--until", "2020-08-19", "--format", "json",
                       "--columns", "time", "--config", DEMO_CONFIG)
    times = [json.loads(line)["time"] for line in out.splitlines()]
    assert code == 0 and times[0].startswith("2020-08-19T09:40")
    assert times[-1].startswith("2020-08-19T10:18")


def test_a_bad_time_is_the_commands_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run(capsys, "flights", "--since", "2020-8")
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.startswith("usage: flightwatch flights")
    assert "'2020-8' is not a time: use 2020-08, 2020-08-19" in err
