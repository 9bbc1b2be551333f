"""``database_url``: the hostile suites' database, SQLite and a scratch schema of the real
PostgreSQL in turn. SQLite stores a value of any length in a ``VARCHAR(8)``; PostgreSQL
refuses it, so a text that fits only on SQLite is found only by running both."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pg_scratch import scratch_schema


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'fw.db'}"
        return
    with scratch_schema(request.getfixturevalue("postgres_url"), "fw_hostile") as url:
        yield url
