"""``engine``: the same test on SQLite and on a scratch schema of the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_scratch import scratch_schema
from sqlalchemy import Engine

from flightwatch.db import connect


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
