"""``engine``: the same test on SQLite and on a scratch schema of the real PostgreSQL;
``engine_at_0003``: the same, with the schema of revision 0003 (migration tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from pg_scratch import scratch_schema
from sqlalchemy import Engine

from flightwatch.db import connect, open_engine
from flightwatch.db.engine import _alembic_config


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        made = connect(f"sqlite:///{tmp_path / 'fw.db'}")
        yield made
        made.dispose()
        return
    with scratch_schema(request.getfixturevalue("postgres_url")) as url:
        made = connect(url)
        try:
            yield made
        finally:
            made.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_at_0003(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database left at revision 0003, as an install of before compact positions,
    imports and landing evidence has it."""
    if request.param == "sqlite":
        made = open_engine(f"sqlite:///{tmp_path / 'fw.db'}")
        command.upgrade(_alembic_config(made), "0003")
        yield made
        made.dispose()
        return
    with scratch_schema(request.getfixturevalue("postgres_url")) as url:
        made = open_engine(url)
        command.upgrade(_alembic_config(made), "0003")
        try:
            yield made
        finally:
            made.dispose()
