"""The ``airports`` table holds a user's airports only, and a start that changes nothing
writes nothing to it (an SD card is not rewritten at each start)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text

from flightwatch.daemon.pipeline import build_pipeline
from flightwatch.db import connect
from flightwatch.db.airport_queries import stored_airports
from flightwatch.db.airport_table import import_airports, sync_configured_airports
from flightwatch.db.airports import read_airports
from flightwatch.settings import load_settings

CONFIG = Path(__file__).resolve().parents[2] / "config"


class Writes:
    """Statements that change the airports table, as the database driver sees them."""

    def __init__(self, engine: Engine) -> None:
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: object, cursor: object, statement: str, *args: object) -> None:
        words = statement.split()
        if words and words[0].upper() in {"INSERT", "UPDATE", "DELETE"} and \
                "airports" in statement.split("(")[0].lower():
            self.statements.append(words[0].upper())


@pytest.fixture
def writes(engine: Engine) -> Iterator[Writes]:
    yield Writes(engine)


def _rows(engine: Engine) -> dict[str, tuple[object, ...]]:
    with engine.connect() as conn:
        return {r[0]: tuple(r) for r in conn.execute(text("SELECT * FROM airports"))}


def test_an_unchanged_configuration_writes_nothing(engine: Engine, writes: Writes) -> None:
    belarus = read_airports(CONFIG / "airports.csv")
    first = sync_configured_airports(engine, belarus)
    assert (first.added, first.changed, first.removed) == (len(belarus), 0, 0)
    stored = _rows(engine)
    writes.statements.clear()
    again = sync_configured_airports(engine, belarus)
    assert not again.wrote and writes.statements == []
    assert _rows(engine) == stored


def test_only_what_changed_is_written(engine: Engine, writes: Writes) -> None:
    belarus = read_airports(CONFIG / "airports.csv")
    sync_configured_airports(engine, belarus)
    moved = [replace(a, name="Minsk (renamed)") if a.ident == "UMMS" else a
             for a in belarus if a.ident != "UMBB"]
    writes.statements.clear()
    report = sync_configured_airports(engine, moved)
    assert (report.added, report.changed, report.removed) == (0, 1, 1)
    assert sorted(writes.statements) == ["DELETE", "UPDATE"]
    names = {a.ident: a.name for a in stored_airports(engine)}
    assert names["UMMS"] == "Minsk (renamed)" and "UMBB" not in names


def test_imported_rows_stay_and_win(engine: Engine) -> None:
    belarus = read_airports(CONFIG / "airports.csv")
    minsk = next(a for a in belarus if a.ident == "UMMS")
    import_airports(engine, [replace(minsk, name="Minsk (imported)")], "mine.csv")
    sync_configured_airports(engine, belarus)
    sync_configured_airports(engine, [])  # the configuration no longer lists any
    assert [(a.ident, a.name) for a in stored_airports(engine)] == [
        ("UMMS", "Minsk (imported)")]


def test_the_daemon_start_leaves_the_table_alone(tmp_path: Path) -> None:
    """With the default configuration the world set stays in its file: the table stays
    empty; a second start with configured airports rewrites none of its rows (their
    SQLite rowids stay)."""
    database = tmp_path / "fw.db"
    config = tmp_path / "fw.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{database}"\n', encoding="utf-8")
    engine = connect(f"sqlite:///{database}")
    build_pipeline(load_settings(config), engine)
    assert _rows(engine) == {}
    config.write_text(f'[database]\nurl = "sqlite:///{database}"\n\n[alerts]\n'
                      f'airports = ["{CONFIG / "airports.csv"}"]\n', encoding="utf-8")
    build_pipeline(load_settings(config), engine)
    with engine.connect() as conn:
        rowids = {r[0]: r[1] for r in conn.execute(text("SELECT ident, rowid FROM airports"))}
    assert len(rowids) == len(read_airports(CONFIG / "airports.csv"))
    writes = Writes(engine)
    build_pipeline(load_settings(config), engine)
    assert writes.statements == []
    with engine.connect() as conn:
        assert {r[0]: r[1] for r in conn.execute(text("SELECT ident, rowid FROM airports"))} \
            == rowids
    engine.dispose()
