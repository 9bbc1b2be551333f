"""The documentation's configuration and command references are the code, rendered: a
setting or an option changed without `python tools/docs_reference.py --write` fails here."""

from __future__ import annotations

import argparse

from tools import docs_reference


def test_the_reference_pages_are_what_the_code_generates() -> None:
    stale = docs_reference.stale()
    assert stale == [], (
        f"stale: {', '.join(p.name for p in stale)}: run python tools/docs_reference.py --write")


def test_every_key_is_on_the_configuration_page_with_its_default() -> None:
    page = docs_reference.CONFIG_PAGE.read_text(encoding="utf-8")
    assert "## `[alerts.email]`" in page and "## `[[sources]]`" in page
    assert "| `alerts.cooldown` | 6h |" in page
    assert "| `detection.turnaround` | 1d |" in page
    assert "| `geofences[].buffer_km` | 0 |" in page


def test_every_command_and_option_of_the_parser_is_on_the_commands_page() -> None:
    from flightwatch.cli.main import build_parser

    page = docs_reference.CLI_PAGE.read_text(encoding="utf-8")

    def walk(parser: argparse.ArgumentParser, prog: str) -> None:
        assert f"`{prog}`" in page, prog
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk(child, f"{prog} {name}")
            elif action.option_strings and action.dest not in ("help",):
                assert f"`{', '.join(action.option_strings)}" in page, (
                    prog, action.option_strings)

    walk(build_parser(), "flightwatch")
    assert "`flightwatch db copy`" in page and "| `--to URL` |" in page
