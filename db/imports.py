"""The members of archives ``flightwatch import`` has finished, so an interrupted import
resumes where it stopped and a repeated one skips what it already holds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, Table, select

from flightwatch.db.models import ImportedMember
from flightwatch.db.store import dialect_insert

_IMPORTS: Table = ImportedMember.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Finished:
    """One member written to the database with everything it produced."""

    member: str
    size: int
    positions: int


def finished_members(engine: Engine, source: str, window: str) -> dict[str, tuple[int, str]]:
    """member -> (size, alerts mode) of what was imported from ``source`` with ``window``."""
    table = _IMPORTS.c
    stmt = select(table.member, table.size, table.alerts).where(
        table.source == source, table.time_window == window
    )
    with engine.connect() as conn:
        return {row.member: (row.size, row.alerts) for row in conn.execute(stmt)}


def record_finished(
    engine: Engine, source: str, window: str, alerts: str, members: Iterable[Finished]
) -> None:
    """Remember members whose positions, flights and alerts are committed."""
    now = datetime.now(UTC)
    rows = [
        {"source": source, "member": m.member, "time_window": window, "size": m.size,
         "alerts": alerts, "positions": m.positions, "finished_at": now}
        for m in members
    ]
    if not rows:
        return
    stmt = dialect_insert(engine, _IMPORTS)
    upsert = stmt.on_conflict_do_update(
        index_elements=[_IMPORTS.c.source, _IMPORTS.c.member, _IMPORTS.c.time_window],
        set_={k: stmt.excluded[k] for k in ("size", "alerts", "positions", "finished_at")},
    )
    with engine.begin() as conn:
        conn.execute(upsert, rows)
