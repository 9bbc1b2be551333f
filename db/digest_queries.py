"""What the daily digest reads: the aircraft seen in a period, their positions and alerts,
and the time each spent inside each fence as the flights table keeps it.

The time inside a fence is the flights' own figure (``flight_geofences``, written by
the flight segmenter from consecutive positions both inside), so the digest and
``flights`` never disagree about it. A flight that began before the period or ends
after it counts the share of its time inside that falls within the period.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, Row, select

from flightwatch.db.models import Aircraft, FlightGeofence
from flightwatch.db.position_reader import count as count_positions_between
from flightwatch.db.queries import HistoryRow, history
from flightwatch.db.reader import as_reader


@dataclass(frozen=True, slots=True)
class FenceTime:
    """Time inside one fence within the period; from the flights that overlap it."""

    fence: str
    first_inside: datetime
    last_inside: datetime
    seconds_inside: float


def aircraft_seen(engine: Engine, since: datetime, until: datetime) -> Sequence[Row]:
    """Every aircraft heard in ``[since, until)``: address, identity, first and last seen."""
    with engine.connect() as conn:
        return conn.execute(
            select(Aircraft.icao, Aircraft.registration, Aircraft.aircraft_type,
                   Aircraft.operator, Aircraft.callsign, Aircraft.first_seen, Aircraft.last_seen)
            .where(Aircraft.last_seen >= since, Aircraft.first_seen < until)
        ).all()


def positions_stored(engine: Engine, since: datetime, until: datetime) -> int:
    """Positions of every aircraft in ``[since, until)`` (whole seconds)."""
    return int(count_positions_between(
        as_reader(engine), math.ceil(since.timestamp()), math.ceil(until.timestamp()) - 1))


def tracks(engine: Engine, icaos: list[str], since: datetime,
           until: datetime) -> dict[str, list[HistoryRow]]:
    """Each aircraft's positions in ``[since, until)``, in time order."""
    found: dict[str, list[HistoryRow]] = defaultdict(list)
    if icaos:
        for row in history(engine, icaos=icaos, since=since, until=until):
            if row.time < until:
                found[row.icao].append(row)
    return found


def fence_times(engine: Engine, icaos: list[str], since: datetime,
                until: datetime) -> dict[str, list[FenceTime]]:
    """Per aircraft, the time inside each fence of its flights overlapping the period,
    fences in name order."""
    if not icaos:
        return {}
    table = FlightGeofence
    with engine.connect() as conn:
        rows = conn.execute(
            select(table.icao, table.geofence, table.seconds, table.first_inside,
                   table.last_inside)
            .where(table.icao.in_(icaos), table.last_inside >= since,
                   table.first_inside < until)
            .order_by(table.icao, table.geofence, table.first_inside)
        ).all()
    merged: dict[tuple[str, str], FenceTime] = {}
    for icao, fence, seconds, first_inside, last_inside in rows:
        first, last = max(first_inside, since), min(last_inside, until)
        span = (last_inside - first_inside).total_seconds()
        share = (last - first).total_seconds() / span if span > 0 else 1.0
        part = FenceTime(fence, first, last, seconds * share)
        before = merged.get((icao, fence))
        merged[(icao, fence)] = part if before is None else FenceTime(
            fence, min(before.first_inside, first), max(before.last_inside, last),
            before.seconds_inside + part.seconds_inside)
    out: dict[str, list[FenceTime]] = defaultdict(list)
    for (icao, _fence), time_inside in sorted(merged.items()):
        out[icao].append(time_inside)
    return out
