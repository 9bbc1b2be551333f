"""The time parser behind every ``--since``/``--until`` and the API's ``since``/``until``:
whatever the text, a time from 1970 to 2199 or a ValueError saying why (fuzzed with
Hypothesis), and the CLI turns the error into exit 2 with that message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from cli.cli_helpers import run
from hypothesis import given, settings
from hypothesis import strategies as st

from flightwatch.timeparse import EARLIEST, LATEST, parse_time

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FUZZ = settings(max_examples=500, deadline=None, derandomize=True, database=None)

relative = st.builds(lambda n, unit: f"{n}{unit}", st.integers(0, 10**30),
                     st.sampled_from(["s", "m", "min", "h", "d", "w"]))
offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
iso = st.builds(lambda when, zone: when.replace(tzinfo=zone).isoformat(),
                st.datetimes(), offsets)  # naive, from year 1 to 9999
texts = st.one_of(st.text(), relative, iso, st.text("0123456789", min_size=1, max_size=6000)
                  .map(lambda digits: digits + "d"))


def check(text: str) -> None:
    try:
        value = parse_time(text, NOW)
    except ValueError as exc:
        assert str(exc)  # a reason, for the 400 or the exit-2 line
        return
    assert value.tzinfo is not None and EARLIEST <= value < LATEST


@FUZZ
@given(texts)
def test_any_text_is_a_time_in_range_or_a_value_error(text: str) -> None:
    check(text)


@pytest.mark.parametrize("text", [
    "99999999d", "0001-01-01T00:00+23:59", "9999-12-31T23:59-23:59", "1" * 5001 + "d",
    "²d", "1969-12-31", "2200-01-01",
])
def test_what_once_overflowed_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ValueError, match=r"out of range|is not a time"):
        parse_time(text, NOW)


def test_times_in_range_are_read_as_ever() -> None:
    assert parse_time("7d", NOW) == NOW - timedelta(days=7)
    assert parse_time("2020-08-19T14:30Z", NOW) == datetime(2020, 8, 19, 14, 30, tzinfo=UTC)
    assert parse_time("2020-08-19T16:30+02:00", NOW) == datetime(2020, 8, 19, 14, 30,
                                                                  tzinfo=UTC)


@pytest.mark.parametrize("option", ["--since", "--until"])
@pytest.mark.parametrize("command", ["alerts", "history", "flights"])
def test_the_cli_exits_2_naming_the_option(
        capsys: pytest.CaptureFixture[str], command: str, option: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        run(capsys, command, option, "99999999d")
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: '99999999d' is out of range" in err
    assert "Traceback" not in err
